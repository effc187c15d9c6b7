#!/bin/sh
# tests/e2e/metrics.sh on the PostgreSQL backend (a throwaway cluster).
CPNS_E2E_BACKEND=pg exec sh "$(dirname "$0")/../metrics.sh"
