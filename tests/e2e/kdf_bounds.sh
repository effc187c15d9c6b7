#!/bin/sh
# End to end: a gateway refuses KDF parameters outside its bounds (§7):
# above its maximums (a server must not exhaust it), for both suites, and,
# for suite 1, below its minimums (a server impostor must not get a proof
# that is cheap to attack offline); suite 2 needs no minimum. The server
# prefers suite 1: a gateway that allows it (--allow-suite1) runs suite 1,
# a default one suite 2.
. "$(dirname "$0")/lib.sh"

ENTITY=urn:dev:mac:0011223344ff
ENTITY2=urn:dev:mac:0011223344fe
"$CPNS_SERVER" init --db "$DB" --key-file "$T/server.key" --ops 1 --mem-kib 8 \
  --suites 1,2 >"$T/init.out" 2>&1 || fail "init --suites 1,2: $(cat "$T/init.out")"
pwfile carol 'correct horse battery'
pwfile dave 'correct horse battery'
user_add carol@example.com "$T/carol.pw" 1 1024
user_add dave@example.com "$T/dave.pw" 2 8
server_start

# refused NAME: the last gw_assign refused the parameters before deriving or storing.
refused() {
  grep -q 'deriving key' "$T/gw.err" && fail "$1: the gateway ran Argon2id anyway"
  [ ! -e "$T/gw.ks" ] || fail "$1: a key store was written"
}

for opts in "" --allow-suite1; do
  suite=2
  [ -z "$opts" ] || suite=1
  # shellcheck disable=SC2086
  gw_assign "$ENTITY" carol@example.com "$T/carol.pw" --max-mem-kib 512 $opts
  expect_rc 6 "suite $suite, memory above --max-mem-kib"
  grep -q 'max-mem-kib 512' "$T/gw.err" || fail "message does not name the bound: $(cat "$T/gw.err")"
  refused "suite $suite, memory above --max-mem-kib"
  ok "suite $suite, memLimitKiB 1024 > --max-mem-kib 512: exit 6, $(last_line "$T/gw.err")"

  # shellcheck disable=SC2086
  gw_assign "$ENTITY" dave@example.com "$T/dave.pw" --max-ops 1 $opts
  expect_rc 6 "suite $suite, ops above --max-ops"
  refused "suite $suite, ops above --max-ops"
  ok "suite $suite, opsLimit 2 > --max-ops 1: exit 6"
done

# Suite 2 under the gateway's default minimums: accepted, since an impostor
# choosing cheap parameters learns nothing it could test guesses against.
GW_RC=0
"$CPNS_GATEWAY" assign --server "127.0.0.1:$SERVER_PORT" --entity-id "$ENTITY2" \
  --user dave@example.com --password-file "$T/dave.pw" --keystore "$T/gw.ks" \
  --device-key "$T/gw.dk" >"$T/gw.out" 2>"$T/gw.err" || GW_RC=$?
expect_rc 0 "suite 2, t=2, 8 KiB under the default minimums"
[ "$(field suite "$T/gw.out")" = 2 ] || fail "suite $(field suite "$T/gw.out"), want 2"
rm -f "$T/gw.ks"
ok "suite 2, t=2, 8 KiB under the default (suite-1) minimums: accepted"

# Suite 1 from here on.
GW_OPTS=--allow-suite1

# The gateway's own defaults (opsLimit >= 3, memLimitKiB >= 65536), without
# the helper's lowered minimums: what a server impostor would ask for.
GW_RC=0
"$CPNS_GATEWAY" assign --server "127.0.0.1:$SERVER_PORT" --entity-id "$ENTITY" \
  --user dave@example.com --password-file "$T/dave.pw" --keystore "$T/gw.ks" \
  --device-key "$T/gw.dk" --allow-suite1 >"$T/gw.out" 2>"$T/gw.err" || GW_RC=$?
expect_rc 6 "t=2, 8 KiB under the default minimums"
for want in 't=2, 8 KiB' 'below' 'min-ops 3' 'min-mem-kib 65536'; do
  grep -q -- "$want" "$T/gw.err" || fail "message lacks '$want': $(cat "$T/gw.err")"
done
refused "default minimums"
ok "t=2, 8 KiB under the defaults: exit 6, $(last_line "$T/gw.err")"

gw_assign "$ENTITY" dave@example.com "$T/dave.pw" --min-ops 3
expect_rc 6 "ops below --min-ops"
grep -q 'min-ops 3' "$T/gw.err" || fail "message does not name the bound: $(cat "$T/gw.err")"
refused "ops below --min-ops"
ok "opsLimit 2 < --min-ops 3: exit 6"

gw_assign "$ENTITY" carol@example.com "$T/carol.pw" --min-mem-kib 2048
expect_rc 6 "memory below --min-mem-kib"
grep -q 'min-mem-kib 2048' "$T/gw.err" || fail "message does not name the bound: $(cat "$T/gw.err")"
grep -q '1024 KiB' "$T/gw.err" || fail "message does not name the server's memory: $(cat "$T/gw.err")"
refused "memory below --min-mem-kib"
ok "memLimitKiB 1024 < --min-mem-kib 2048: exit 6"

gw_assign "$ENTITY" carol@example.com "$T/carol.pw" --min-ops 5 --max-ops 4
expect_rc 2 "--min-ops above --max-ops"
grep -q 'min-ops 5 is above --max-ops 4' "$T/gw.err" || fail "unclear usage error: $(cat "$T/gw.err")"
ok "--min-ops 5 --max-ops 4: exit 2"

gw_assign "$ENTITY" carol@example.com "$T/carol.pw" --max-mem-kib 1024
expect_rc 0 "memory at the bound"
ok "memLimitKiB 1024 = --max-mem-kib 1024: accepted"

rm -f "$T/gw.ks"
gw_assign "$ENTITY2" dave@example.com "$T/dave.pw" --min-ops 2 --min-mem-kib 8
expect_rc 0 "at the minimums"
ok "opsLimit 2 = --min-ops 2, memLimitKiB 8 = --min-mem-kib 8: accepted"
