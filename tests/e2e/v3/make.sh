#!/bin/sh
# Makes the schema-3 fixture of tests/e2e/upgrade.sh with the programs of
# the last release before schema 4 (18d04b9), built elsewhere:
#   git archive 18d04b9 | tar -x -C /tmp/v3 && (cd /tmp/v3 && autoreconf -fi &&
#     ./configure && make examples/cpns-server examples/cpns-gateway)
#   tests/e2e/v3/make.sh /tmp/v3/examples
# Writes server.db, server.key (users alice and bob, Argon2id t=1, 8 KiB,
# suites 2,1, passwords in *.pw) and assignments.txt beside this script:
# alice's Entity ...aa and bob's ...bb are bound, then bob is deleted, which
# that release allowed, leaving his binding behind for whoever is enrolled
# as bob next (the upgrade to 4 revokes it).
set -eu
bin=$1
out=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d)
trap 'kill $spid 2>/dev/null; rm -rf "$T"' EXIT
"$bin/cpns-server" init --db "$T/server.db" --key-file "$T/server.key" --ops 1 --mem-kib 8
for u in alice bob; do
  "$bin/cpns-server" user add --db "$T/server.db" --key-file "$T/server.key" \
    --user "$u@example.com" --password-file "$out/$u.pw"
done
mkfifo "$T/log"
"$bin/cpns-server" serve --db "$T/server.db" --key-file "$T/server.key" \
  --listen 127.0.0.1:0 --realm example.com 2>"$T/log" &
spid=$!
port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p;T;q' <"$T/log")
cat "$T/log" >/dev/null &
for u in alice:aa bob:bb; do
  "$bin/cpns-gateway" assign --server "127.0.0.1:$port" --entity-id "urn:dev:mac:00112233${u#*:}00" \
    --user "${u%:*}@example.com" --password-file "$out/${u%:*}.pw" --keystore "$T/${u%:*}.ks" \
    --device-key "$T/${u%:*}.dk" --min-ops 1 --min-mem-kib 8
done
kill -TERM $spid
wait $spid
"$bin/cpns-server" user del --db "$T/server.db" --user bob@example.com
"$bin/cpns-server" assignments --db "$T/server.db" >"$out/assignments.txt"
cp "$T/server.db" "$T/server.key" "$out/"
[ ! -e "$T/server.db-wal" ] || echo "make.sh: a WAL file is left; fixture incomplete" >&2
