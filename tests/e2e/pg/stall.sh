#!/bin/sh
# tests/e2e/stall.sh on the PostgreSQL backend (a throwaway cluster).
CPNS_E2E_BACKEND=pg exec sh "$(dirname "$0")/../stall.sh"
