#!/bin/sh
# End to end: serve --config FILE. A file alone starts the server; the
# command line wins over it; each kind of fault stops serve with FILE:LINE
# (or FILE) and why, before anything is opened.
. "$(dirname "$0")/lib.sh"

ENTITY=urn:dev:mac:0011223344bb
server_init
pwfile alice 'correct horse battery'
user_add alice@example.com "$T/alice.pw"

# conf NAME: $T/NAME.conf from standard input, mode 0600.
conf() {
  (umask 077 && cat >"$T/$1.conf") || fail "cannot write $T/$1.conf"
}

conf good <<EOF2
# cpns-server test configuration
[serve]
db = $DB
key-file = $T/server.key
listen = 127.0.0.1:0
realm = $REALM   ; inline comment
source-burst = 50
EOF2
server_start_args --config "$T/good.conf"
gw_assign "$ENTITY" alice@example.com "$T/alice.pw"
expect_rc 0 "configuration file only"
server_stop || fail "serve did not stop cleanly"
ok "started from the configuration file alone, assignment made"

# The command line wins: the file's address is in use (this server's own
# port, taken by a first server), the command line's is free.
server_start_args --config "$T/good.conf"
first_port=$SERVER_PORT
first_pid=$SERVER_PID
sed "s/^listen = .*/listen = 127.0.0.1:$first_port/" "$T/good.conf" | conf taken
"$CPNS_SERVER" serve --config "$T/taken.conf" >"$T/taken.out" 2>&1 &&
  fail "second server on the same port started"
grep -q "cannot listen on 127.0.0.1:$first_port" "$T/taken.out" ||
  fail "taken port: $(cat "$T/taken.out")"
DRAIN_PID_FIRST=$DRAIN_PID
SERVER_PID=
DRAIN_PID=
server_start_args --config "$T/taken.conf" --listen 127.0.0.1:0
[ "$SERVER_PORT" != "$first_port" ] || fail "command line --listen not used"
gw_assign "$ENTITY" alice@example.com "$T/alice.pw"
expect_rc 0 "command line over the file"
server_stop || fail "second serve did not stop cleanly"
SERVER_PID=$first_pid
DRAIN_PID=$DRAIN_PID_FIRST
server_stop || fail "first serve did not stop cleanly"
ok "--listen on the command line wins over the file's"

# Missing required option: named, with where it may come from.
printf '[serve]\nrealm = example.com\n' | conf partial
"$CPNS_SERVER" serve --config "$T/partial.conf" >"$T/partial.out" 2>&1
rc=$?
[ $rc = 2 ] || fail "missing --db: exit status $rc, want 2"
grep -q "missing --db (on the command line or in the configuration file)" "$T/partial.out" ||
  fail "missing --db: $(cat "$T/partial.out")"

# refused NAME WANT WHAT: serve --config $T/NAME.conf fails (status 1) and
# says WANT (a grep -F string) on stderr, nothing on stdout.
refused() {
  "$CPNS_SERVER" serve --config "$T/$1.conf" --db "$DB" --key-file "$T/server.key" \
    --listen 127.0.0.1:0 --realm "$REALM" >"$T/$1.out" 2>"$T/$1.err"
  rc=$?
  [ $rc = 1 ] || fail "$3: exit status $rc, want 1 ($(cat "$T/$1.err"))"
  grep -qF "$2" "$T/$1.err" || fail "$3: stderr '$(cat "$T/$1.err")', want '$2'"
  [ ! -s "$T/$1.out" ] || fail "$3: wrote on stdout"
  echo "  $3: $(head -n 1 "$T/$1.err")"
}

printf '[serve]\nsource-rate = 5\nsource-brust = 5\n' | conf unknown
refused unknown "$T/unknown.conf:3: unknown key \"source-brust\"" "unknown key"
printf '[serve]\nops = 3\n' | conf other
refused other "$T/other.conf:2: unknown key \"ops\" (not an option of serve)" "other command's key"
printf '[serve]\nconfig = /etc/passwd\n' | conf nested
refused nested "$T/nested.conf:2: unknown key \"config\"" "config in a config"
printf '[serve]\n\n[server]\nlisten = 127.0.0.1:0\n' | conf section
refused section "$T/section.conf:4: unknown section [server] (only [serve])" "unknown section"
printf 'listen = 127.0.0.1:0\n' | conf nosection
refused nosection "$T/nosection.conf:1: listen outside a section" "key outside a section"
printf '[serve]\nmax-conns = 0\n' | conf zero
refused zero "$T/zero.conf:2: max-conns: expected a number from 1 to 1000000, got \"0\"" "value out of range"
printf '[serve]\nsource-burst = 12x\n' | conf junk
refused junk "$T/junk.conf:2: source-burst: expected a number from 1 to 1000000, got \"12x\"" "bad number"
printf '[serve]\nrealm =\n' | conf empty
refused empty "$T/empty.conf:2: realm: empty value" "empty value"
printf '[serve]\nfake-ops = 3\n' | conf removed
refused removed "$T/removed.conf:2: fake-ops was removed" "removed option"
printf '[serve]\nsource-burst = 5\n# again\nsource-burst = 6\n' | conf dup
refused dup "$T/dup.conf:4: duplicate key \"source-burst\"" "duplicate key"
printf '[serve]\nsource-burst 5\n' | conf syntax
refused syntax "$T/syntax.conf:2: syntax error" "syntax error"
printf '[serve\nsource-burst = 5\n' | conf bracket
refused bracket "$T/bracket.conf:1: syntax error" "unclosed section"
printf '[serve]\nsource-rate = 5\n  source-burst = 5\n' | conf indent
refused indent "$T/indent.conf:3: line starts with white space" "indented line"
{ printf '[serve]\n# '; head -c 300 /dev/zero | tr '\0' x; printf '\n'; } | conf long
refused long "$T/long.conf:2: line longer than 180 characters" "long line"
{ printf '[serve]\n'; i=0; while [ $i -lt 1000 ]; do
  printf '# padding padding padding padding padding padding padding padding\n'
  i=$((i + 1))
done; } | conf big
refused big "$T/big.conf: larger than 65536 octets" "file too large"
printf '[serve]\nsource-burst = 5\n' | conf open
chmod 0602 "$T/open.conf"
refused open "$T/open.conf: refused: others may write it" "writable by others"
refused missing "$T/missing.conf: cannot open" "no such file"
mkdir "$T/dir.conf"
refused dir "$T/dir.conf: not a regular file" "a directory"
ok "each fault named with FILE:LINE (or FILE) and refused"
