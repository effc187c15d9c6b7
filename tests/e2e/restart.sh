#!/bin/sh
# End to end: assignments survive a server restart.
. "$(dirname "$0")/lib.sh"

ENTITY=urn:dev:mac:0011223344ff
server_init
pwfile alice 'correct horse battery'
pwfile bob 'hunter2 hunter2'
user_add alice@example.com "$T/alice.pw"
user_add bob@example.com "$T/bob.pw"
server_start
gw_assign "$ENTITY" alice@example.com "$T/alice.pw"
expect_rc 0 "assignment"
kid=$(field keyId "$T/gw.out")
server_stop || fail "cpns-server did not shut down cleanly on SIGTERM"
ok "assigned $kid, server stopped"

server_start
[ "$(assignments_count "$ENTITY")" = 1 ] || fail "assignment lost over the restart"
grep -q "$kid" "$T/assignments.out" || fail "keyId changed over the restart"
GW_KS="$T/bob.ks" gw_assign "$ENTITY" bob@example.com "$T/bob.pw"
expect_rc 4 "other user after restart"
expect_result entityConflict "other user after restart"
gw_assign "$ENTITY" alice@example.com "$T/alice.pw"
expect_rc 0 "same user after restart"
ok "after restart: still assigned, entityConflict for bob, alice re-assigns"
