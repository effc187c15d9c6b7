#!/bin/sh
# End to end: a locked-out User ID stays locked through a flood of first
# KeyRequests for random User IDs (issue 8: ~70,000 used to push it out of
# the in-memory table), sent from many loopback addresses so that the
# per-source budget does not stop them.
#
#   lockout_flood.sh [COUNT [TABLE]]
#
# COUNT requests (default 20000, or $FLOOD_COUNT) against a server holding
# at most TABLE User IDs in memory (default 4096, or $FLOOD_TABLE): `make
# check` floods five times past a small table; `make torture`
# (TORTURE_LONG=1) runs 100000 against the default table of 65536.
. "$(dirname "$0")/lib.sh"

if [ "${TORTURE_LONG:-0}" = 1 ]; then
  COUNT=${1:-${FLOOD_COUNT:-100000}}
  TABLE=${2:-${FLOOD_TABLE:-65536}}
else
  COUNT=${1:-${FLOOD_COUNT:-20000}}
  TABLE=${2:-${FLOOD_TABLE:-4096}}
fi
: "${CPNS_FLOOD:=$CPNS_BUILDDIR/tests/e2e/flood}"
[ -x "$CPNS_FLOOD" ] || { echo "missing program $CPNS_FLOOD" >&2; exit 99; }

ENTITY=urn:dev:mac:0011223344ff
server_init
pwfile alice 'correct horse battery'
pwfile wrong 'incorrect horse'
user_add alice@example.com "$T/alice.pw"
# A long back-off: the test does not depend on how fast it runs. 2048
# sources of burst 100 cover the flood without touching the budget.
server_start --lockout-base-ms 600000 --lockout-table "$TABLE" \
  --max-conns 1024

lock_out "$ENTITY" alice@example.com "$T/wrong.pw"
gw_assign "$ENTITY" alice@example.com "$T/alice.pw"
expect_result tryLater "after 5 failures"
ok "alice locked after 5 failures"

"$CPNS_FLOOD" "$SERVER_PORT" "$COUNT" 256 2048 >"$T/flood.out" 2>"$T/flood.err" ||
  fail "flood: $(cat "$T/flood.err")"
figures=$(cat "$T/flood.out")
echo "flood: $figures (table $TABLE)"
challenges=$(printf '%s\n' "$figures" | sed -n 's/.* challenge \([0-9]*\) .*/\1/p')
[ "$challenges" -gt "$TABLE" ] || fail "flood: only $challenges challenges, not past the table ($TABLE)"

gw_assign "$ENTITY" alice@example.com "$T/alice.pw"
expect_rc 4 "after the flood"
expect_result tryLater "after the flood"
ok "alice still locked after $challenges flood attempts (table $TABLE)"
