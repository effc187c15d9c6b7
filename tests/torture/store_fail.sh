#!/bin/sh
# Torture: the database becomes unwritable while the server runs (its file
# size limit, RLIMIT_FSIZE, lowered to 0 with prlimit: every write to a
# regular file fails with EFBIG, for root too and on any file system). The
# gateway gets serverError and writes no key store; once the limit is back
# the same server serves again, without a restart.
. "$(dirname "$0")/lib.sh"

command -v prlimit >/dev/null 2>&1 || { echo "SKIP: prlimit (util-linux) not installed"; exit 77; }

CYCLES=$(long_or_short 5 2)

server_init
pwfile alice 'correct horse battery'
user_add alice@example.com "$T/alice.pw"
server_start
gw_assign urn:dev:mac:00aa00000000 alice@example.com "$T/alice.pw"
expect_rc 0 "before the fault"
fsize=$(prlimit --pid "$SERVER_PID" --fsize --output SOFT --noheadings | tr -d ' ')
[ -n "$fsize" ] || fail "cannot read the server's RLIMIT_FSIZE"

cycle=1
while [ $cycle -le "$CYCLES" ]; do
  entity=$(printf 'urn:dev:mac:00bb%08x' $cycle)
  prlimit --pid "$SERVER_PID" --fsize=0: || fail "prlimit cannot lower the file size limit"
  GW_KS="$T/fault$cycle.ks" gw_assign "$entity" alice@example.com "$T/alice.pw"
  expect_rc 4 "store failure, cycle $cycle"
  expect_result serverError "store failure, cycle $cycle"
  [ ! -e "$T/fault$cycle.ks" ] || fail "cycle $cycle: a key store was written on serverError"
  kill -0 "$SERVER_PID" 2>/dev/null || fail "cycle $cycle: the server died of the store failure"
  ok "cycle $cycle, fault: exit $GW_RC, $(last_line "$T/gw.err"); no key store"

  prlimit --pid "$SERVER_PID" --fsize="$fsize": || fail "prlimit cannot restore the limit"
  GW_KS="$T/ok$cycle.ks" gw_assign "$entity" alice@example.com "$T/alice.pw"
  expect_rc 0 "after the fault, cycle $cycle"
  [ -s "$T/ok$cycle.ks" ] || fail "cycle $cycle: no key store after success"
  kid=$(field keyId "$T/gw.out")
  [ "$(assignments_count "$entity")" = 1 ] || fail "cycle $cycle: assignment not listed"
  grep -q "^keyId: $kid\$" "$T/assignments.out" || fail "cycle $cycle: another keyId listed"
  ok "cycle $cycle, fault gone: the same server assigns $entity (keyId $kid)"
  cycle=$((cycle + 1))
done
server_stop || fail "cpns-server did not stop cleanly"
errors=$(grep -c '^database: ' "$T/server.log")
db_integrity_ok
ok "cycles $CYCLES: serverError and no key store under the fault, served after it;" \
  "$errors database error line(s) logged, e.g. $(grep -m1 '^database: ' "$T/server.log")"
