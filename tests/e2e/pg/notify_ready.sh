#!/bin/sh
# tests/e2e/notify_ready.sh on the PostgreSQL backend (a throwaway cluster).
CPNS_E2E_BACKEND=pg exec sh "$(dirname "$0")/../notify_ready.sh"
