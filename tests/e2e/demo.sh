#!/bin/sh
# End to end: scripts/demo.sh, the README's first command, runs through with
# the default KDF parameters and shows a successful assignment.
# SQLite only: scripts/demo.sh makes its own SQLite database.
E2E_SQLITE_ONLY="scripts/demo.sh uses its own SQLite file"
. "$(dirname "$0")/lib.sh"

CPNS_SERVER="$CPNS_SERVER" CPNS_GATEWAY="$CPNS_GATEWAY" \
  sh "$(dirname "$0")/../../scripts/demo.sh" >"$T/demo.out" 2>&1 || {
  cat "$T/demo.out"
  fail "scripts/demo.sh failed"
}
cat "$T/demo.out"
grep -q '^result: success$' "$T/demo.out" || fail "demo: no success"
grep -q 'deriving key (Argon2id, 64 MiB, t=3)' "$T/demo.out" || fail "demo: not the default KDF"
grep -q '^assignment took ' "$T/demo.out" || fail "demo: no wall time"
grep -q '^keyId: ' "$T/demo.out" || fail "demo: no keyId"
grep -q '^suite: 2$' "$T/demo.out" || fail "demo: not suite 2"
grep -q '^user: alice@example.com$' "$T/demo.out" && grep -q '^suites: 2,1$' "$T/demo.out" ||
  fail "demo: alice not enrolled for both suites"
ok "demo runs end to end"
