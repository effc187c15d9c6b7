#!/bin/sh
# End to end: the enrollment defaults stored by init are what user add uses
# and what an unknown User ID's challenge carries; other parameters warn.
. "$(dirname "$0")/lib.sh"

: "${CPNS_MSG:=$CPNS_BUILDDIR/examples/cpns-msg}"
[ -x "$CPNS_MSG" ] || fail "missing program $CPNS_MSG"

# hexstr STRING: the octets of STRING in hex.
hexstr() {
  printf '%s' "$1" | od -An -tx1 | tr -d ' \n'
}

# challenge_for USER: sends a first KeyRequest for USER and decodes the
# server's KeyChallenge into $T/challenge.txt.
challenge_for() {
  ent=urn:dev:mac:0011223344ff
  body="800101"
  body="${body}81$(printf '%02x' ${#ent})$(hexstr "$ent")"
  body="${body}82$(printf '%02x' ${#1})$(hexstr "$1")"
  body="${body}830100"
  body="${body}8420$(printf '%064d' 7)"
  body="${body}a5030a0101"
  len=$((${#body} / 2))
  "$CPNS_RAWPEER" ask "$SERVER_PORT" "a0$(printf '%02x' $len)$body" 10000 >"$T/ask.out" ||
    fail "no challenge for $1: $(cat "$T/ask.out")"
  sed -n 's/^received //p' "$T/ask.out" | "$CPNS_MSG" decode --hex - >"$T/challenge.txt" ||
    fail "the answer for $1 does not decode: $(cat "$T/challenge.txt")"
  grep -q '^pdu: keyChallenge$' "$T/challenge.txt" ||
    fail "the answer for $1 is no challenge: $(cat "$T/challenge.txt")"
}

server_init 2 16
grep -q 'created database' "$T/init.out" || fail "init said: $(cat "$T/init.out")"
pwfile alice 'correct horse battery'
pwfile bob 'hunter2 hunter2'

# Enrolled with the defaults: no warning.
user_add alice@example.com "$T/alice.pw"
[ ! -s "$T/useradd.err" ] || fail "user add with the defaults warned: $(cat "$T/useradd.err")"
# Other parameters: enrolled, with a warning naming the defaults.
user_add bob@example.com "$T/bob.pw" 1 8
grep -q 'warning: .*bob@example.com.*ops 1, mem-kib 8.*defaults (ops 2, mem-kib 16).*distinguishable' \
  "$T/useradd.err" || fail "no warning for non-default parameters: $(cat "$T/useradd.err")"
ok "user add: defaults silently, others with a warning ($(cut -c1-60 "$T/useradd.err")...)"

"$CPNS_SERVER" user list --db "$DB" >"$T/list.out" 2>&1 || fail "user list: $(cat "$T/list.out")"
sed -n '1,2p' "$T/list.out" | tr '\n' ' ' | grep -q '^default-ops: 2 default-mem-kib: 16 $' ||
  fail "user list does not show the defaults: $(cat "$T/list.out")"
tr '\n' ' ' <"$T/list.out" | grep -q 'user: alice@example.com suites: 2,1 ops: 2 mem-kib: 16 defaults: yes ' ||
  fail "alice not listed with the defaults: $(cat "$T/list.out")"
tr '\n' ' ' <"$T/list.out" | grep -q 'user: bob@example.com suites: 2,1 ops: 1 mem-kib: 8 defaults: no ' ||
  fail "bob not marked: $(cat "$T/list.out")"
ok "user list shows the defaults and marks bob"

# Choosing other defaults on an existing database is refused.
"$CPNS_SERVER" init --db "$DB" --key-file "$T/other.key" --ops 3 --mem-kib 16 \
  >"$T/reinit.out" 2>&1 && fail "init changed the defaults of an existing database"
grep -q 'ops 2, mem-kib 16' "$T/reinit.out" || fail "init said: $(cat "$T/reinit.out")"
[ ! -e "$T/other.key" ] || fail "a refused init created a key file"
ok "init on an existing database keeps its defaults"

# The removed serve options say why.
"$CPNS_SERVER" serve --db "$DB" --key-file "$T/server.key" --listen 127.0.0.1:0 \
  --realm "$REALM" --fake-ops 1 >"$T/fake.out" 2>&1
[ $? = 2 ] || fail "serve --fake-ops: not a usage error"
grep -q -- '--fake-ops was removed.*init --ops' "$T/fake.out" || fail "serve said: $(cat "$T/fake.out")"
ok "serve --fake-ops: usage error naming init --ops"

# expect_kdf USER OPS MEM_KIB: USER's challenge offers these parameters.
expect_kdf() {
  challenge_for "$1"
  if ! grep -q "^kdfParams.opsLimit: $2\$" "$T/challenge.txt" ||
    ! grep -q "^kdfParams.memLimitKiB: $3\$" "$T/challenge.txt"; then
    fail "$1's challenge, want t=$2, $3 KiB: $(cat "$T/challenge.txt")"
  fi
}

server_start
expect_kdf mallory@example.com 2 16
expect_kdf alice@example.com 2 16
expect_kdf bob@example.com 1 8
ok "challenges: unknown user and alice t=2, 16 KiB (the stored defaults); bob 8 KiB"

gw_assign urn:dev:mac:0011223344ff alice@example.com "$T/alice.pw"
expect_rc 0 "alice with the defaults"
ok "alice gets her key"
