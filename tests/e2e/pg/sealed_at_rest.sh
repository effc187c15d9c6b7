#!/bin/sh
# tests/e2e/sealed_at_rest.sh on the PostgreSQL backend (a throwaway cluster).
CPNS_E2E_BACKEND=pg exec sh "$(dirname "$0")/../sealed_at_rest.sh"
