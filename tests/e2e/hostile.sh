#!/bin/sh
# End to end: garbage bytes and an oversized length prefix close that
# connection without an answer, while other gateways keep being served.
. "$(dirname "$0")/lib.sh"

ENTITY=urn:dev:mac:0011223344ff
server_init
pwfile alice 'correct horse battery'
user_add alice@example.com "$T/alice.pw"
server_start

# peer NAME HEX: sends HEX, expects the server to close without a byte.
peer() {
  "$CPNS_RAWPEER" send "$SERVER_PORT" "$2" 20000 >"$T/peer.out" 2>&1 ||
    fail "$1: $(cat "$T/peer.out")"
  grep -q '^closed after 0 bytes$' "$T/peer.out" || fail "$1: $(cat "$T/peer.out")"
  ok "$1: closed without an answer"
}

peer "garbage" "deadbeef0102030405060708090a0b0c0d0e0f"
peer "not a CpnsPdu tag" "3003020101"
peer "oversized length prefix" "a08400100000"
peer "length above the 4096 limit" "a0821001"
peer "indefinite length" "a080"

gw_assign "$ENTITY" alice@example.com "$T/alice.pw"
expect_rc 0 "gateway after hostile peers"
ok "a gateway is still served"
