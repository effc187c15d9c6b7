#!/bin/sh
# End to end: a gateway obtains an EUKey, keeps it sealed, and shows it.
. "$(dirname "$0")/lib.sh"

ENTITY=urn:dev:mac:0011223344ff
server_init
pwfile alice 'correct horse battery'
user_add alice@example.com "$T/alice.pw"
server_start

# The gateway's file has no trailing newline, the server's has one: both are
# the same password once the one trailing newline is stripped.
(umask 077 && printf '%s' 'correct horse battery' >"$T/alice-nonl.pw")
gw_assign "$ENTITY" alice@example.com "$T/alice-nonl.pw" --mode pne-pn-gw
expect_rc 0 "assign"
expect_result success "assign"
kid=$(field keyId "$T/gw.out")
printf '%s\n' "$kid" | grep -Eq '^[0-9a-f]{32}$' || fail "keyId '$kid' is not 32 hex digits"
grep -q 'deriving key (Argon2id, 8 KiB, t=1)' "$T/gw.err" || fail "no progress line on stderr"
[ -f "$T/gw.dk" ] || fail "device key was not created"
[ "$(stat -c %a "$T/gw.ks")" = 600 ] || fail "key store mode is not 0600"
[ "$(stat -c %a "$T/gw.dk")" = 600 ] || fail "device key mode is not 0600"
ok "assign: success, keyId $kid"

"$CPNS_GATEWAY" show --keystore "$T/gw.ks" --device-key "$T/gw.dk" >"$T/show.out" 2>&1 ||
  fail "show: $(cat "$T/show.out")"
[ "$(field realm "$T/show.out")" = "$REALM" ] || fail "show: realm"
[ "$(field entity "$T/show.out")" = "$ENTITY" ] || fail "show: entity"
[ "$(field user "$T/show.out")" = alice@example.com ] || fail "show: user"
[ "$(field mode "$T/show.out")" = pne-pn-gw ] || fail "show: mode"
[ "$(field keyId "$T/show.out")" = "$kid" ] || fail "show: keyId"
field time "$T/show.out" | grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' || fail "show: time"
grep -q '^eukey:' "$T/show.out" && fail "show prints the EUKey without --reveal-key"
"$CPNS_GATEWAY" show --keystore "$T/gw.ks" --device-key "$T/gw.dk" --reveal-key >"$T/show.out" 2>&1 ||
  fail "show --reveal-key"
field eukey "$T/show.out" | grep -Eq '^[0-9a-f]{64}$' || fail "show --reveal-key: eukey"
ok "show: realm, entity, user, mode, keyId, time; eukey only with --reveal-key"

[ "$(assignments_count "$ENTITY")" = 1 ] || fail "server does not list the assignment"
grep -q "$kid" "$T/assignments.out" || fail "server lists another keyId"
ok "server lists the assignment"

# Another device key does not open the key store: local error, 7. (assign
# creates the new device key before it fails to connect to port 1.)
"$CPNS_GATEWAY" assign --server 127.0.0.1:1 --entity-id "$ENTITY" --user alice@example.com \
  --password-file "$T/alice.pw" --keystore "$T/unused.ks" --device-key "$T/other.dk" \
  >/dev/null 2>&1
[ -f "$T/other.dk" ] || fail "assign did not create the device key"
rc=0
"$CPNS_GATEWAY" show --keystore "$T/gw.ks" --device-key "$T/other.dk" >"$T/show.out" 2>&1 || rc=$?
[ "$rc" = 7 ] || fail "show with another device key: exit $rc, want 7"
ok "another device key does not open the key store (exit 7): $(cat "$T/show.out")"

# A key store that cannot be written is found before anything is sent.
GW_KS="$T/missing-dir/gw.ks" gw_assign urn:dev:mac:0011223344dd alice@example.com "$T/alice.pw"
expect_rc 7 "key store in a missing directory"
[ "$(assignments_count urn:dev:mac:0011223344dd)" = 0 ] || fail "assigned although unstorable"
ok "unwritable key store: exit 7 before contacting the server"

# Usage errors: 2.
rc=0
"$CPNS_GATEWAY" assign --server 127.0.0.1:1 >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "missing options: exit $rc, want 2"
gw_assign 'not-a-urn' alice@example.com "$T/alice.pw"
expect_rc 2 "invalid Entity ID"
gw_assign "$ENTITY" 'alice@@example.com' "$T/alice.pw"
expect_rc 2 "invalid User ID"
"$CPNS_GATEWAY" --help | grep -q 'Exit status' || fail "--help lacks the exit codes"
ok "usage errors exit 2"
