#!/bin/sh
# tests/e2e/defaults.sh on the PostgreSQL backend (a throwaway cluster).
CPNS_E2E_BACKEND=pg exec sh "$(dirname "$0")/../defaults.sh"
