#!/bin/sh
# End to end: a wrong password and an unknown user fail the same way.
. "$(dirname "$0")/lib.sh"

ENTITY=urn:dev:mac:0011223344ff
server_init
pwfile alice 'correct horse battery'
pwfile wrong 'incorrect horse'
user_add alice@example.com "$T/alice.pw"
# Unknown users get a fake challenge with the enrollment defaults, which
# alice was enrolled with: the whole gateway output can be compared.
server_start

gw_assign "$ENTITY" alice@example.com "$T/wrong.pw"
expect_rc 3 "wrong password"
expect_result authenticationFailed "wrong password"
wrong_msg=$(last_line "$T/gw.err")
sed -e '/^created device key /d' -e 's/ in [0-9.]* s$//' "$T/gw.err" >"$T/wrong.err"
cp "$T/gw.out" "$T/wrong.out"
[ ! -e "$T/gw.ks" ] || fail "a key store was written after a failure"
ok "wrong password: exit 3, $wrong_msg"

gw_assign "$ENTITY" mallory@example.com "$T/wrong.pw"
expect_rc 3 "unknown user"
expect_result authenticationFailed "unknown user"
unknown_msg=$(last_line "$T/gw.err")
[ "$unknown_msg" = "$wrong_msg" ] ||
  fail "unknown user says '$unknown_msg', wrong password says '$wrong_msg'"
sed -e '/^created device key /d' -e 's/ in [0-9.]* s$//' "$T/gw.err" | cmp -s - "$T/wrong.err" ||
  fail "stderr differs between unknown user and wrong password"
cmp -s "$T/gw.out" "$T/wrong.out" || fail "stdout differs between unknown user and wrong password"
[ ! -e "$T/gw.ks" ] || fail "a key store was written after a failure"
ok "unknown user: same exit code, result and message"

[ "$(assignments_count "$ENTITY")" = 0 ] || fail "a failed exchange left an assignment"
gw_assign "$ENTITY" alice@example.com - <"$T/alice.pw"
expect_rc 0 "right password after failures"
ok "right password (from standard input) still works"
