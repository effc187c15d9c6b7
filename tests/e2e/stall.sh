#!/bin/sh
# End to end: a stalled peer is timed out by the server while others are
# served, and a stalled server is timed out by the gateway.
. "$(dirname "$0")/lib.sh"

ENTITY=urn:dev:mac:0011223344ff
server_init
pwfile alice 'correct horse battery'
user_add alice@example.com "$T/alice.pw"
server_start --pdu-timeout-ms 1000

# The first octets of a PDU, then silence.
mkfifo "$T/peer.fifo"
"$CPNS_RAWPEER" send "$SERVER_PORT" "a08201" 30000 >"$T/peer.fifo" 2>&1 &
peer_pid=$!
exec 4<"$T/peer.fifo"
IFS= read -r line <&4
[ "$line" = sent ] || fail "rawpeer: $line"

gw_assign "$ENTITY" alice@example.com "$T/alice.pw"
expect_rc 0 "gateway while a peer stalls"
ok "a gateway is served while a peer stalls"

IFS= read -r line <&4
exec 4<&-
peer_rc=0
wait "$peer_pid" || peer_rc=$?
[ "$peer_rc" = 0 ] || fail "stalled peer: $line"
[ "$line" = "closed after 0 bytes" ] || fail "stalled peer: $line"
ok "the server closed the stalled connection"

# A server that accepts and never answers: the gateway gives up.
server_stop
mkfifo "$T/listen.fifo"
"$CPNS_RAWPEER" listen 30000 >"$T/listen.fifo" 2>&1 &
listen_pid=$!
exec 4<"$T/listen.fifo"
IFS= read -r line <&4
SERVER_PORT=${line##*:}
gw_assign "$ENTITY" alice@example.com "$T/alice.pw" --timeout-ms 300
expect_rc 5 "stalled server"
grep -q 'did not answer within 300 ms' "$T/gw.err" || fail "stalled server: $(cat "$T/gw.err")"
cat <&4 >/dev/null
exec 4<&-
wait "$listen_pid"
ok "stalled server: exit 5, $(last_line "$T/gw.err")"

# Nothing listens: network failure, 5.
gw_assign "$ENTITY" alice@example.com "$T/alice.pw"
expect_rc 5 "nothing listening"
ok "nothing listening: exit 5, $(last_line "$T/gw.err")"
