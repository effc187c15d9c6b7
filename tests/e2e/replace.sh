#!/bin/sh
# End to end: a second assignment for the same entity and user replaces the
# key; an entity bound to another user is refused with entityConflict.
. "$(dirname "$0")/lib.sh"

ENTITY=urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66
server_init
pwfile alice 'correct horse battery'
pwfile bob 'hunter2 hunter2'
user_add alice@example.com "$T/alice.pw"
user_add bob@example.com "$T/bob.pw"
server_start

gw_assign "$ENTITY" alice@example.com "$T/alice.pw"
expect_rc 0 "first assignment"
kid1=$(field keyId "$T/gw.out")
gw_assign "$ENTITY" alice@example.com "$T/alice.pw"
expect_rc 0 "second assignment"
kid2=$(field keyId "$T/gw.out")
[ -n "$kid1" ] && [ "$kid1" != "$kid2" ] || fail "keyId did not change ($kid1, $kid2)"
[ "$(assignments_count "$ENTITY")" = 1 ] || fail "server lists more than one row for $ENTITY"
grep -q "$kid2" "$T/assignments.out" || fail "server does not list the new keyId"
grep -q "$kid1" "$T/assignments.out" && fail "server still lists the old keyId"
"$CPNS_GATEWAY" show --keystore "$T/gw.ks" --device-key "$T/gw.dk" >"$T/show.out" ||
  fail "show"
[ "$(field keyId "$T/show.out")" = "$kid2" ] || fail "key store does not hold the new key"
ok "second assignment replaces the key ($kid1 -> $kid2), one row"

GW_KS="$T/bob.ks" gw_assign "$ENTITY" bob@example.com "$T/bob.pw"
expect_rc 4 "entity of another user"
expect_result entityConflict "entity of another user"
[ ! -e "$T/bob.ks" ] || fail "a key store was written after entityConflict"
grep -q "$kid2" "$T/assignments.out" || fail "conflict changed the assignment"
[ "$(assignments_count "$ENTITY")" = 1 ] || fail "conflict added a row"
ok "entity bound to another user: exit 4, entityConflict"
