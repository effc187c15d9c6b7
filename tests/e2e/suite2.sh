#!/bin/sh
# End to end, suite 2 (OPAQUE-3DH, PROTOCOL.md §5.2): a server made by init
# (suites 2 then 1) and a gateway with its defaults (version 2, suite 2
# only) assign a key; a wrong password and an unknown User ID are found by
# the gateway itself (exit 3) and no ke3 reaches the server, which still
# counts each as a failure: 5 of them lock the User ID out (tryLater).
. "$(dirname "$0")/lib.sh"

ENTITY=urn:dev:mac:0011223344ff
server_init
pwfile alice 'correct horse battery'
pwfile wrong 'incorrect horse'
user_add alice@example.com "$T/alice.pw"
"$CPNS_SERVER" user list --db "$DB" >"$T/list.out" 2>&1 || fail "user list: $(cat "$T/list.out")"
grep -q '^suites: 2,1$' "$T/list.out" || fail "user list: alice lacks a record: $(cat "$T/list.out")"
# A long first back-off: the test does not depend on how fast it runs.
server_start --lockout-base-ms 600000

# exchange_lines USER: the server's log lines of USER's exchanges. Read once
# the server stopped: it logs an exchange when it sees the gateway close,
# which may come after the gateway exited.
exchange_lines() {
  grep "^exchange .* user=$1 " "$T/server.log"
}

gw_assign "$ENTITY" alice@example.com "$T/alice.pw"
expect_rc 0 "suite 2 assign"
expect_result success "suite 2 assign"
[ "$(field suite "$T/gw.out")" = 2 ] || fail "the gateway used suite $(field suite "$T/gw.out")"
[ "$(assignments_count "$ENTITY")" = 1 ] || fail "server does not list the assignment"
"$CPNS_GATEWAY" show --keystore "$T/gw.ks" --device-key "$T/gw.dk" >"$T/show.out" 2>&1 ||
  fail "show: $(cat "$T/show.out")"
[ "$(field keyId "$T/show.out")" = "$(field keyId "$T/gw.out")" ] || fail "show: keyId"
ok "suite 2: success, keyId $(field keyId "$T/gw.out"), key stored and shown"

# Wrong password: the gateway finds out from KE2 and sends no ke3 (the
# server's log, checked at the end, shows no answer to it).
rm -f "$T/gw.ks"
gw_assign "$ENTITY" alice@example.com "$T/wrong.pw"
expect_rc 3 "suite 2, wrong password"
expect_result authenticationFailed "suite 2, wrong password"
wrong_msg=$(last_line "$T/gw.err")
[ ! -e "$T/gw.ks" ] || fail "a key store was written after a failure"
ok "suite 2, wrong password: exit 3, $wrong_msg"

gw_assign "$ENTITY" mallory@example.com "$T/wrong.pw"
expect_rc 3 "suite 2, unknown user"
expect_result authenticationFailed "suite 2, unknown user"
[ "$(last_line "$T/gw.err")" = "$wrong_msg" ] ||
  fail "unknown user says '$(last_line "$T/gw.err")', wrong password says '$wrong_msg'"
ok "suite 2, unknown user: exit 3, the same message"

# Lockout: the wrong password above was failure 1; four more, then even the
# right password gets tryLater. (An attempt whose close the server has not
# seen yet counts already: lockout.h, attempts in flight.)
n=2
while [ $n -le 5 ]; do
  gw_assign "$ENTITY" alice@example.com "$T/wrong.pw"
  expect_rc 3 "alice: failure $n"
  n=$((n + 1))
done
gw_assign "$ENTITY" alice@example.com "$T/alice.pw"
expect_rc 4 "suite 2, after 5 failures"
expect_result tryLater "suite 2, after 5 failures"
ok "suite 2: 5 failures without ke3 lock the User ID out (tryLater, exit 4)"

server_stop || fail "cpns-server did not stop cleanly"
exchange_lines alice@example.com >"$T/alice.log"
[ "$(wc -l <"$T/alice.log")" = 7 ] || fail "server log, alice: $(cat "$T/alice.log")"
sed -n 1p "$T/alice.log" | grep -q ' result=success suite=2 ' ||
  fail "server log, alice's success: $(sed -n 1p "$T/alice.log")"
# Failures 1..5: the server sent a KeyChallenge with KE2 and got no ke3, so it
# never answered with a KeyDelivery: no result on the wire.
[ "$(sed -n 2,6p "$T/alice.log" | grep -c ' suite=2 .*closed=')" = 5 ] ||
  fail "server log, alice's failures (a ke3 was answered?): $(sed -n 2,6p "$T/alice.log")"
sed -n 7p "$T/alice.log" | grep -q ' result=tryLater ' ||
  fail "server log, alice locked out: $(sed -n 7p "$T/alice.log")"
exchange_lines mallory@example.com | grep -q ' suite=2 .*closed=' ||
  fail "server log, unknown user: $(exchange_lines mallory@example.com)"
ok "server log: suite 2 used; no KeyDelivery after KE2 for a wrong password or an unknown user"
