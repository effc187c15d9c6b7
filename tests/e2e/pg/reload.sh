#!/bin/sh
# tests/e2e/reload.sh on the PostgreSQL backend (a throwaway cluster).
CPNS_E2E_BACKEND=pg exec sh "$(dirname "$0")/../reload.sh"
