#!/bin/sh
# End to end: a gateway refuses KDF parameters above its bounds (§7).
. "$(dirname "$0")/lib.sh"

ENTITY=urn:dev:mac:0011223344ff
server_init
pwfile carol 'correct horse battery'
pwfile dave 'correct horse battery'
user_add carol@example.com "$T/carol.pw" 1 1024
user_add dave@example.com "$T/dave.pw" 2 8
server_start

gw_assign "$ENTITY" carol@example.com "$T/carol.pw" --max-mem-kib 512
expect_rc 6 "memory above --max-mem-kib"
grep -q 'max-mem-kib 512' "$T/gw.err" || fail "message does not name the bound: $(cat "$T/gw.err")"
grep -q 'deriving key' "$T/gw.err" && fail "the gateway ran Argon2id anyway"
[ ! -e "$T/gw.ks" ] || fail "a key store was written"
ok "memLimitKiB 1024 > --max-mem-kib 512: exit 6, $(last_line "$T/gw.err")"

gw_assign "$ENTITY" dave@example.com "$T/dave.pw" --max-ops 1
expect_rc 6 "ops above --max-ops"
ok "opsLimit 2 > --max-ops 1: exit 6"

gw_assign "$ENTITY" carol@example.com "$T/carol.pw" --max-mem-kib 1024
expect_rc 0 "memory at the bound"
ok "memLimitKiB 1024 = --max-mem-kib 1024: accepted"
