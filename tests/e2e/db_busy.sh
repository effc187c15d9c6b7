#!/bin/sh
# End to end: credential lookups do not wait for a database lock held by
# another process (here a write transaction, the lock SQLite lets another
# process hold while the server runs in WAL mode): first KeyRequests are
# answered at once (suite 1), and the server serves normally once the lock
# is gone. Suite 2 counts each attempt as a failure before KE2 leaves
# (PROTOCOL.md §6): with the database locked that write fails, so a suite-2
# request gets serverError, never a KE2.
# SQLite only: PostgreSQL has no database-wide write lock to hold.
E2E_SQLITE_ONLY="holds the SQLite file's write lock"
. "$(dirname "$0")/lib.sh"
: "${CPNS_FLOOD:=$CPNS_BUILDDIR/tests/e2e/flood}"
: "${CPNS_DBHOLD:=$CPNS_BUILDDIR/tests/e2e/dbhold}"
for prog in "$CPNS_FLOOD" "$CPNS_DBHOLD"; do
  [ -x "$prog" ] || { echo "missing program $prog" >&2; exit 99; }
done

ENTITY=urn:dev:mac:0011223344ff
server_init
"$CPNS_SERVER" suites --db "$DB" --set 1,2 >"$T/suites.out" 2>&1 ||
  fail "suites --set 1,2: $(cat "$T/suites.out")"
pwfile alice 'correct horse battery'
user_add alice@example.com "$T/alice.pw"
server_start

mkfifo "$T/hold.in" "$T/hold.out" || fail "mkfifo"
"$CPNS_DBHOLD" "$T/server.db" <"$T/hold.in" >"$T/hold.out" 2>"$T/hold.err" &
HOLD_PID=$!
exec 4>"$T/hold.in" 5<"$T/hold.out"
IFS= read -r line <&5 || line=
[ "$line" = held ] || fail "dbhold: $(cat "$T/hold.err")"

# Suite 1: the lookups answer at once; the failures these attempts leave
# wait for the store (up to its 5 s busy timeout) but nobody waits for them.
CPNS_FLOOD_ALLOW_SUITE1=1 "$CPNS_FLOOD" "$SERVER_PORT" 20 4 4 >"$T/flood.out" 2>"$T/flood.err" ||
  fail "flood: $(cat "$T/flood.err")"
figures=$(cat "$T/flood.out")
echo "while locked: $figures"
case $figures in
*" challenge 20 "*) ;;
*) fail "while locked: not every request got its challenge" ;;
esac
seconds=$(printf '%s\n' "$figures" | sed -n 's/.* seconds \([0-9]*\)\..*/\1/p')
[ "$seconds" -lt 2 ] || fail "while locked: lookups took $seconds s"
ok "20 lookups answered in under 2 s while another process held a write lock"

# Suite 2: the failure each KE2 waits for cannot be committed (busy
# timeout): serverError instead, no KE2.
"$CPNS_FLOOD" "$SERVER_PORT" 2 2 1 >"$T/flood2.out" 2>"$T/flood2.err" ||
  fail "flood (suite 2): $(cat "$T/flood2.err")"
figures=$(cat "$T/flood2.out")
echo "suite 2 while locked: $figures"
case $figures in
*" challenge 0 tryLater 0 other 2 unanswered 0 "*) ;;
*) fail "suite 2 while locked: want no KE2, an answer (serverError) to each" ;;
esac
ok "suite 2 while locked: serverError, no KE2 without its committed failure"

exec 4>&- 5<&-
wait "$HOLD_PID" || fail "dbhold did not end cleanly"
gw_assign "$ENTITY" alice@example.com "$T/alice.pw"
expect_rc 0 "after the lock"
ok "assigned once the lock was gone"
