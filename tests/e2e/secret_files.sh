#!/bin/sh
# End to end: password files, the server key file and the gateway's device
# key are refused when group or others may access them, or when they are
# symbolic links (opened with O_NOFOLLOW); "-" (standard input) is exempt.
. "$(dirname "$0")/lib.sh"

ENTITY=urn:dev:mac:0011223344ff
server_init
pwfile alice 'correct horse battery'

# user_add_rc PWFILE: `cpns-server user add` for alice; exit status in RC.
user_add_rc() {
  RC=0
  "$CPNS_SERVER" user add --db "$DB" --key-file "$T/server.key" \
    --user alice@example.com --password-file "$1" >"$T/useradd.out" 2>&1 || RC=$?
}

cp "$T/alice.pw" "$T/open.pw" && chmod 644 "$T/open.pw"
user_add_rc "$T/open.pw"
[ "$RC" = 1 ] || fail "user add, password file mode 0644: exit $RC, want 1"
grep -q 'accessible by group or others (mode 644)' "$T/useradd.out" ||
  fail "user add, mode 0644: unclear message: $(cat "$T/useradd.out")"
ok "user add: password file mode 0644 refused, exit 1: $(cat "$T/useradd.out")"

ln -s "$T/alice.pw" "$T/link.pw"
user_add_rc "$T/link.pw"
[ "$RC" = 1 ] || fail "user add, symlinked password file: exit $RC, want 1"
grep -q 'symbolic link' "$T/useradd.out" ||
  fail "user add, symlink: unclear message: $(cat "$T/useradd.out")"
ok "user add: symlinked password file refused, exit 1"

RC=0
"$CPNS_SERVER" user add --db "$DB" --key-file "$T/server.key" --user alice@example.com --password-file - \
  --ops 1 --mem-kib 8 <"$T/open.pw" >"$T/useradd.out" 2>&1 || RC=$?
[ "$RC" = 0 ] || fail "user add from standard input: exit $RC: $(cat "$T/useradd.out")"
ok "user add: password from standard input accepted"

server_start

gw_assign "$ENTITY" alice@example.com "$T/open.pw"
expect_rc 7 "gateway, password file mode 0644"
grep -q 'accessible by group or others (mode 644)' "$T/gw.err" ||
  fail "gateway, mode 0644: unclear message"
ok "gateway: password file mode 0644 refused, exit 7"

chmod 640 "$T/open.pw"
gw_assign "$ENTITY" alice@example.com "$T/open.pw"
expect_rc 7 "gateway, password file mode 0640"
ok "gateway: password file mode 0640 refused, exit 7"

gw_assign "$ENTITY" alice@example.com "$T/link.pw"
expect_rc 7 "gateway, symlinked password file"
grep -q 'symbolic link' "$T/gw.err" || fail "gateway, symlink: unclear message"
ok "gateway: symlinked password file refused, exit 7"
[ "$(assignments_count "$ENTITY")" = 0 ] || fail "a refused password file led to an assignment"

(umask 077 && head -c 32 /dev/urandom >"$T/real.dk")
ln -s "$T/real.dk" "$T/link.dk"
GW_DK="$T/link.dk" gw_assign "$ENTITY" alice@example.com "$T/alice.pw"
expect_rc 7 "gateway, symlinked device key"
grep -q 'device key' "$T/gw.err" || fail "gateway, device key symlink: unclear message"
ok "gateway: symlinked device key refused, exit 7: $(last_line "$T/gw.err")"

chmod 644 "$T/real.dk"
GW_DK="$T/real.dk" gw_assign "$ENTITY" alice@example.com "$T/alice.pw"
expect_rc 7 "gateway, device key mode 0644"
ok "gateway: device key mode 0644 refused, exit 7: $(last_line "$T/gw.err")"
[ ! -e "$T/gw.ks" ] || fail "a key store was written"

gw_assign "$ENTITY" alice@example.com - <"$T/open.pw"
expect_rc 0 "password from standard input"
ok "gateway: password from standard input (whatever the file's mode) accepted"

# The server key file: a symbolic link is refused before serving.
ln -s "$T/server.key" "$T/link.key"
RC=0
"$CPNS_SERVER" serve --db "$DB" --key-file "$T/link.key" --listen 127.0.0.1:0 \
  --realm "$REALM" >"$T/serve.out" 2>&1 </dev/null || RC=$?
[ "$RC" = 1 ] || fail "serve, symlinked key file: exit $RC, want 1"
grep -q 'symbolic link' "$T/serve.out" || fail "serve, symlink: unclear message: $(cat "$T/serve.out")"
ok "serve: symlinked key file refused, exit 1"
