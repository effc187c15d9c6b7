#!/bin/sh
# Torture: the database becomes unwritable while the server runs (its file
# size limit, RLIMIT_FSIZE, lowered to 0 with prlimit: every write to a
# regular file fails with EFBIG, for root too and on any file system). The
# gateway gets serverError and writes no key store; once the limit is back
# the same server serves again, without a restart.
. "$(dirname "$0")/lib.sh"

command -v prlimit >/dev/null 2>&1 || { echo "SKIP: prlimit (util-linux) not installed"; exit 77; }

CYCLES=$(long_or_short 5 2)
# Under each fault, concurrent gateways for a while too: none may be
# acknowledged (that would be a key delivered without being stored).
LOAD_CLIENTS=$(long_or_short 16 4)
LOAD_SECONDS=$(long_or_short 3 1)
LOAD_USERS=4

server_init
pwfile alice 'correct horse battery'
user_add alice@example.com "$T/alice.pw"
pwfile load 'torture load password'
i=0
while [ $i -lt $LOAD_USERS ]; do
  user_add "load$i@example.com" "$T/load.pw"
  i=$((i + 1))
done
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
  server_alive || fail "cycle $cycle: the server died of the store failure"
  : >"$T/fault.acks"
  "$CPNS_LOADGEN" --port "$SERVER_PORT" --users $LOAD_USERS --password-file "$T/load.pw" \
    --clients "$LOAD_CLIENTS" --round "$cycle" --acks "$T/fault.acks" \
    --seconds "$LOAD_SECONDS" >"$T/loadgen.out" 2>&1 || fail "loadgen: $(cat "$T/loadgen.out")"
  [ ! -s "$T/fault.acks" ] || fail "cycle $cycle: assignments acknowledged under the fault"
  server_alive || fail "cycle $cycle: the server died under load"
  ok "cycle $cycle, fault: exit $GW_RC, $(last_line "$T/gw.err"); no key store;" \
    "$LOAD_CLIENTS clients for $LOAD_SECONDS s: $(cat "$T/loadgen.out")"

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
