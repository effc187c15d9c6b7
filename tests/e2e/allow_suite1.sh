#!/bin/sh
# End to end: a gateway offers suite 1 only when told (--allow-suite1,
# PROTOCOL.md §7). Against a server that enables suite 1 only (init
# --suites 1) the default gateway fails with a clear error and the allowed
# one succeeds with suite 1; against a server that closes on a version-2
# request (as one of an earlier release does) only the allowed gateway
# connects again with a version-1 request.
. "$(dirname "$0")/lib.sh"

: "${CPNS_MSG:=$CPNS_BUILDDIR/examples/cpns-msg}"
ENTITY=urn:dev:mac:0011223344ff
"$CPNS_SERVER" init --db "$DB" --key-file "$T/server.key" --ops 1 --mem-kib 8 \
  --suites 1 >"$T/init.out" 2>&1 || fail "init --suites 1: $(cat "$T/init.out")"
pwfile alice 'correct horse battery'
pwfile wrong 'incorrect horse'
user_add alice@example.com "$T/alice.pw"
"$CPNS_SERVER" user list --db "$DB" >"$T/list.out" 2>&1 || fail "user list: $(cat "$T/list.out")"
grep -q '^enabled-suites: 1$' "$T/list.out" || fail "user list, server suites: $(cat "$T/list.out")"
grep -q '^suites: 1$' "$T/list.out" || fail "user list, alice's records: $(cat "$T/list.out")"
"$CPNS_SERVER" suites --db "$DB" >"$T/suites.out" 2>&1 || fail "suites: $(cat "$T/suites.out")"
[ "$(cat "$T/suites.out")" = "suites: 1" ] || fail "suites: $(cat "$T/suites.out")"
for bad in 3 2,2 2, 1,2,1 ''; do
  rc=0
  "$CPNS_SERVER" suites --db "$DB" --set "$bad" >"$T/suites.out" 2>&1 || rc=$?
  [ "$rc" = 2 ] || fail "suites --set '$bad': exit $rc, want 2"
  grep -q 'each once: 2,1, 1,2, 2 or 1' "$T/suites.out" || fail "suites --set '$bad': $(cat "$T/suites.out")"
done
rc=0
"$CPNS_SERVER" init --db "$DB" --key-file "$T/other.key" --suites 2,1 >"$T/init.out" 2>&1 ||
  rc=$?
[ "$rc" = 1 ] || fail "init --suites 2,1 on the suite-1 database: exit $rc"
grep -q 'already exists with suites 1; not changed (cpns-server suites)' "$T/init.out" ||
  fail "init said: $(cat "$T/init.out")"
[ ! -e "$T/other.key" ] || fail "init made a key file for a database it refused"
ok "init --suites 1: user add makes a suite-1 record only; suites shows it, refuses bad lists; init keeps it"
server_start

gw_assign "$ENTITY" alice@example.com "$T/alice.pw"
expect_rc 4 "suite 2 only, against a suite-1 server"
expect_result unsupportedSuite "suite 2 only, against a suite-1 server"
grep -q -- '--allow-suite1' "$T/gw.err" || fail "no hint at --allow-suite1: $(cat "$T/gw.err")"
[ ! -e "$T/gw.ks" ] || fail "a key store was written after a failure"
ok "default gateway against a suite-1 server: exit 4, unsupportedSuite, names --allow-suite1"

gw_assign "$ENTITY" alice@example.com "$T/wrong.pw" --allow-suite1
expect_rc 3 "suite 1, wrong password"
expect_result authenticationFailed "suite 1, wrong password"
gw_assign "$ENTITY" alice@example.com "$T/alice.pw" --allow-suite1
expect_rc 0 "--allow-suite1 against a suite-1 server"
[ "$(field suite "$T/gw.out")" = 1 ] || fail "suite $(field suite "$T/gw.out"), want 1"
[ "$(assignments_count "$ENTITY")" = 1 ] || fail "server does not list the assignment"
ok "--allow-suite1 against a suite-1 server: success with suite 1 (wrong password: exit 3)"
server_stop || fail "cpns-server did not stop cleanly"

# hangup_start N: a peer that closes each of N connections after reading one
# request; its port in SERVER_PORT, its output on descriptor 4.
hangup_start() {
  rm -f "$T/hangup.fifo"
  mkfifo "$T/hangup.fifo" || fail "mkfifo"
  "$CPNS_RAWPEER" hangup "$1" 30000 >"$T/hangup.fifo" 2>&1 &
  HANGUP_PID=$!
  exec 4<"$T/hangup.fifo"
  IFS= read -r line <&4
  SERVER_PORT=${line##*:}
}

# request_version N: the version of the N-th request the peer received.
request_version() {
  sed -n "${1}s/^request //p" "$T/hangup.out" >"$T/request.hex"
  "$CPNS_MSG" decode --hex "$T/request.hex" >"$T/request.txt" 2>&1 ||
    fail "request $1 does not decode: $(cat "$T/request.txt")"
  sed -n 's/^ *version: //p' "$T/request.txt" | head -n 1
}

hangup_start 1
gw_assign "$ENTITY" alice@example.com "$T/alice.pw"
cat <&4 >"$T/hangup.out"
exec 4<&-
wait "$HANGUP_PID" || fail "rawpeer hangup: $(cat "$T/hangup.out")"
expect_rc 5 "suite 2 only, server closes"
grep -q -- '--allow-suite1' "$T/gw.err" || fail "no hint at --allow-suite1: $(cat "$T/gw.err")"
[ "$(request_version 1)" = 2 ] || fail "first request: $(cat "$T/request.txt")"
ok "default gateway, server closes on version 2: exit 5, one request, names --allow-suite1"

hangup_start 2
gw_assign "$ENTITY" alice@example.com "$T/alice.pw" --allow-suite1
cat <&4 >"$T/hangup.out"
exec 4<&-
wait "$HANGUP_PID" || fail "rawpeer hangup: no second connection: $(cat "$T/hangup.out")"
grep -q 'retrying with a version-1 request' "$T/gw.err" || fail "no fall back: $(cat "$T/gw.err")"
expect_rc 5 "--allow-suite1, server closes twice"
[ "$(request_version 1)" = 2 ] || fail "first request: $(cat "$T/request.txt")"
[ "$(request_version 2)" = 1 ] || fail "second request: $(cat "$T/request.txt")"
grep -q 'Suite 2\|suite 2\|opaque' "$T/request.txt" &&
  fail "the version-1 request offers suite 2: $(cat "$T/request.txt")"
ok "--allow-suite1, server closes on version 2: connects again with a version-1 request"
