#!/bin/sh
# End to end: a lockout survives a clean stop (SIGTERM) and a crash
# (kill -9), and its back-off still ends after a restart. Suite 1 first,
# whose failures are answered (authenticationFailed) only once stored; then
# suite 2, where the gateway learns the verdict from KE2 alone: the server
# commits the attempt as a failure before KE2 leaves (cpns-server(1),
# Lockout: what a crash can lose).
. "$(dirname "$0")/lib.sh"

ENTITY=urn:dev:mac:0011223344ff
server_init
"$CPNS_SERVER" suites --db "$DB" --set 1 >"$T/suites.out" 2>&1 ||
  fail "suites --set 1: $(cat "$T/suites.out")"
GW_OPTS=--allow-suite1
pwfile alice 'correct horse battery'
pwfile bob 'hunter2 hunter2'
pwfile wrong 'incorrect horse'
user_add alice@example.com "$T/alice.pw"
user_add bob@example.com "$T/bob.pw"

# server_kill: kill -9, as a crash; the last answers were already durable.
server_kill() {
  kill -KILL "$SERVER_PID"
  wait "$SERVER_PID" 2>/dev/null
  SERVER_PID=
  wait "$DRAIN_PID" 2>/dev/null
  DRAIN_PID=
}

# A long back-off: alice's block cannot end while the test runs.
LONG="--lockout-base-ms 600000"
server_start $LONG
lock_out "$ENTITY" alice@example.com "$T/wrong.pw"
gw_assign "$ENTITY" alice@example.com "$T/alice.pw"
expect_result tryLater "after 5 failures"
server_stop || fail "cpns-server did not shut down cleanly on SIGTERM"
server_start $LONG
gw_assign "$ENTITY" alice@example.com "$T/alice.pw"
expect_rc 4 "after SIGTERM and restart"
expect_result tryLater "after SIGTERM and restart"
ok "locked after SIGTERM and restart"

# A crash right after the answers: each failure was stored before the
# gateway was told about it, so none is lost.
server_kill
server_start $LONG
gw_assign "$ENTITY" alice@example.com "$T/alice.pw"
expect_result tryLater "after kill -9 and restart"
ok "locked after kill -9 and restart"

# Back-off expiry across a crash: bob, one failure with threshold 1 and a
# 2 s back-off. Waiting for the clock is what is tested here.
now_ms() { echo $(($(date +%s%N) / 1000000)); }
SHORT="--lockout-threshold 1 --lockout-base-ms 2000"
server_kill
server_start $SHORT
t0=$(now_ms)
GW_KS="$T/bob.ks" gw_assign "$ENTITY" bob@example.com "$T/wrong.pw"
expect_rc 3 "bob's failure"
server_kill
server_start $SHORT
GW_KS="$T/bob.ks" gw_assign "$ENTITY" bob@example.com "$T/bob.pw"
if [ $(($(now_ms) - t0)) -lt 1900 ]; then
  # Told tryLater only while the block certainly runs (a slow machine may
  # already be past it).
  expect_result tryLater "bob after kill -9, within the back-off"
  ok "bob blocked after kill -9"
fi
tries=0
while [ "$GW_RC" != 0 ]; do
  [ "$(field result "$T/gw.out")" = tryLater ] || fail "bob: $(last_line "$T/gw.err")"
  tries=$((tries + 1))
  [ $tries -le 40 ] || fail "bob still blocked 20 s after a 2 s back-off"
  sleep 0.5
  GW_KS="$T/bob.ks" gw_assign "$ENTITY" bob@example.com "$T/bob.pw"
done
ok "bob's back-off ended after the restart: assigned"

# Suite 2: a wrong guess is known to the gateway from KE2, which the server
# sends only once the failure is committed; a crash right after the 5th
# gateway returned loses none. carol is enrolled with a suite-2 record.
server_kill
"$CPNS_SERVER" suites --db "$DB" --set 2,1 >"$T/suites.out" 2>&1 ||
  fail "suites --set 2,1: $(cat "$T/suites.out")"
pwfile carol 'carol carol carol'
user_add carol@example.com "$T/carol.pw"
GW_OPTS= # the gateway's defaults: suite 2 only
ENTITY2=urn:dev:mac:0011223344fe
server_start $LONG
GW_KS="$T/carol.ks"
export GW_KS
gw_assign "$ENTITY2" carol@example.com "$T/wrong.pw"
expect_rc 3 "carol: failure 1"
i=2
while [ $i -le 5 ]; do
  gw_assign "$ENTITY2" carol@example.com "$T/wrong.pw"
  expect_rc 3 "carol: failure $i"
  i=$((i + 1))
done
server_kill
server_start $LONG
gw_assign "$ENTITY2" carol@example.com "$T/carol.pw"
expect_rc 4 "carol (suite 2) after 5 failures, kill -9 and restart"
expect_result tryLater "carol (suite 2) after 5 failures, kill -9 and restart"
ok "suite 2: locked after 5 failures, kill -9 right after the last and restart"
