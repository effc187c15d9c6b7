#!/bin/sh
# tests/e2e/kdf_bounds.sh on the PostgreSQL backend (a throwaway cluster).
CPNS_E2E_BACKEND=pg exec sh "$(dirname "$0")/../kdf_bounds.sh"
