#!/bin/sh
# tests/e2e/allow_suite1.sh on the PostgreSQL backend (a throwaway cluster).
CPNS_E2E_BACKEND=pg exec sh "$(dirname "$0")/../allow_suite1.sh"
