#!/bin/sh
# End to end: the per-source budget of first KeyRequests. One source that
# sends more than its burst gets tryLater for the excess; another source is
# served meanwhile.
. "$(dirname "$0")/lib.sh"
: "${CPNS_FLOOD:=$CPNS_BUILDDIR/tests/e2e/flood}"
[ -x "$CPNS_FLOOD" ] || { echo "missing program $CPNS_FLOOD" >&2; exit 99; }

ENTITY=urn:dev:mac:0011223344ff
server_init
pwfile alice 'correct horse battery'
user_add alice@example.com "$T/alice.pw"
# 1 per second refill: the excess stays refused however slowly this runs.
server_start --source-rate 1 --source-burst 50

# flood's one source is 127.1.0.0 (16 connections at a time at most).
"$CPNS_FLOOD" "$SERVER_PORT" 150 8 1 >"$T/flood.out" 2>"$T/flood.err" ||
  fail "flood: $(cat "$T/flood.err")"
figures=$(cat "$T/flood.out")
echo "one source: $figures"
challenges=$(printf '%s\n' "$figures" | sed -n 's/.* challenge \([0-9]*\) .*/\1/p')
later=$(printf '%s\n' "$figures" | sed -n 's/.* tryLater \([0-9]*\) .*/\1/p')
[ "$later" -ge 50 ] || fail "one source: only $later tryLater of 150 (burst 50)"
[ "$challenges" -ge 50 ] || fail "one source: only $challenges served (burst 50)"

# The gateway comes from 127.0.0.1: its own budget.
gw_assign "$ENTITY" alice@example.com "$T/alice.pw"
expect_rc 0 "another source"
ok "$later of 150 refused from one source, another source served"
