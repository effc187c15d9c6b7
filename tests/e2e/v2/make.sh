#!/bin/sh
# Makes the schema-2 fixture of tests/e2e/upgrade.sh with the programs of
# the last release before schema 3 (8a609c0), built elsewhere:
#   git archive 8a609c0 | tar -x -C /tmp/v2 && (cd /tmp/v2 && autoreconf -fi &&
#     ./configure && make examples/cpns-server examples/cpns-gateway)
#   tests/e2e/v2/make.sh /tmp/v2/examples
# Writes server.db, server.key (users alice and bob, Argon2id t=1, 8 KiB
# as the enrollment defaults, passwords in *.pw), assignments.txt (alice's
# entity, as that release listed it) and one lockout row (bob, one failure)
# beside this script.
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
"$bin/cpns-gateway" assign --server "127.0.0.1:$port" --entity-id urn:dev:mac:0011223344aa \
  --user alice@example.com --password-file "$out/alice.pw" --keystore "$T/gw.ks" \
  --device-key "$T/gw.dk" --min-ops 1 --min-mem-kib 8
"$bin/cpns-gateway" assign --server "127.0.0.1:$port" --entity-id urn:dev:mac:0011223344bb \
  --user bob@example.com --password-file "$out/alice.pw" --keystore "$T/gw2.ks" \
  --device-key "$T/gw2.dk" --min-ops 1 --min-mem-kib 8 || true
kill -TERM $spid
wait $spid
"$bin/cpns-server" assignments --db "$T/server.db" >"$out/assignments.txt"
cp "$T/server.db" "$T/server.key" "$out/"
[ ! -e "$T/server.db-wal" ] || echo "make.sh: a WAL file is left; fixture incomplete" >&2
