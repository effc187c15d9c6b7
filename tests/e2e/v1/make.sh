#!/bin/sh
# Makes the schema-1 fixture of tests/e2e/upgrade.sh with the programs of
# the release before schema 2 (3934e41), built elsewhere:
#   git archive 3934e41 | tar -x -C /tmp/v1 && (cd /tmp/v1 && autoreconf -fi &&
#     ./configure && make examples/cpns-server examples/cpns-gateway)
#   tests/e2e/v1/make.sh /tmp/v1/examples
# Writes server.db, server.key (users alice and bob, Argon2id t=1, 8 KiB,
# passwords in *.pw) and assignments.txt (alice's entity, as that release
# listed it) beside this script.
set -eu
bin=$1
out=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d)
trap 'kill $spid 2>/dev/null; rm -rf "$T"' EXIT
"$bin/cpns-server" init --db "$T/server.db" --key-file "$T/server.key"
for u in alice bob; do
  "$bin/cpns-server" user add --db "$T/server.db" --user "$u@example.com" \
    --password-file "$out/$u.pw" --ops 1 --mem-kib 8
done
mkfifo "$T/log"
"$bin/cpns-server" serve --db "$T/server.db" --key-file "$T/server.key" \
  --listen 127.0.0.1:0 --realm example.com --fake-ops 1 --fake-mem-kib 8 2>"$T/log" &
spid=$!
port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p;T;q' <"$T/log")
"$bin/cpns-gateway" assign --server "127.0.0.1:$port" --entity-id urn:dev:mac:0011223344aa \
  --user alice@example.com --password-file "$out/alice.pw" --keystore "$T/gw.ks" \
  --device-key "$T/gw.dk"
kill -TERM $spid
wait $spid
"$bin/cpns-server" assignments --db "$T/server.db" >"$out/assignments.txt"
cp "$T/server.db" "$T/server.key" "$out/"
[ ! -e "$T/server.db-wal" ] || echo "make.sh: a WAL file is left; fixture incomplete" >&2
