#!/bin/sh
# A complete EUKey assignment on loopback, as a new user would run it:
# set up a CPNS Server, enroll a user, serve, assign a key to a gateway with
# protocol version 2, suite 2 (OPAQUE-3DH, RFC 9807) and the default KDF
# parameters (Argon2id, 64 MiB, t=3), show it, stop.
#
# Usage: scripts/demo.sh   (after building; from the top build directory)
# Programs: $CPNS_SERVER / $CPNS_GATEWAY, else examples/ under $CPNS_BUILDDIR
# (default: the current directory), else examples/ beside this script (an
# in-tree build), else the installed ones in $PATH.
set -u

find_prog() {
  for dir in "${CPNS_BUILDDIR:-.}/examples" "$(dirname "$0")/../examples"; do
    if [ -x "$dir/$1" ] && [ ! -d "$dir/$1" ]; then
      echo "$dir/$1"
      return 0
    fi
  done
  command -v "$1" || {
    echo "demo: cannot find $1: build first (or set CPNS_BUILDDIR)" >&2
    exit 1
  }
}

SERVER=${CPNS_SERVER:-$(find_prog cpns-server)} || exit 1
GATEWAY=${CPNS_GATEWAY:-$(find_prog cpns-gateway)} || exit 1
DIR=$(mktemp -d "${TMPDIR:-/tmp}/cpns-demo.XXXXXX") || exit 1
SERVER_PID=
DRAIN_PID=

cleanup() {
  if [ -n "$SERVER_PID" ]; then
    kill -TERM "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
  fi
  [ -z "$DRAIN_PID" ] || wait "$DRAIN_PID" 2>/dev/null
  rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

step() {
  printf '\n== %s\n' "$*"
}

# run CMD...: shows a command, then runs it; stops the demo if it fails.
run() {
  printf '$ %s\n' "$*"
  "$@" || {
    echo "demo: command failed (exit $?)" >&2
    exit 1
  }
}

now_ms() {
  # GNU date prints nanoseconds; elsewhere whole seconds are close enough.
  ms=$(date +%s%3N 2>/dev/null)
  case $ms in
  *N) echo $(($(date +%s) * 1000)) ;;
  *) echo "$ms" ;;
  esac
}

echo "libcpns demo: EUKey assignment for a PN GW, on 127.0.0.1 (files in $DIR)"

step "1. Create the CPNS Server's database and key file (suites 2, then 1)"
run "$SERVER" init --db "$DIR/server.db" --key-file "$DIR/server.key"

step "2. Enroll user alice@example.com (password from a file; a record per suite, default Argon2id parameters)"
printf '%s\n' 'correct horse battery staple' >"$DIR/alice.pw"
chmod 600 "$DIR/alice.pw"
run "$SERVER" user add --db "$DIR/server.db" --key-file "$DIR/server.key" \
  --user alice@example.com --password-file "$DIR/alice.pw"

step "3. Serve on 127.0.0.1, port chosen by the system"
mkfifo "$DIR/server.fifo"
printf '$ %s serve --db %s --key-file %s --listen 127.0.0.1:0 --realm example.com &\n' \
  "$SERVER" "$DIR/server.db" "$DIR/server.key"
"$SERVER" serve --db "$DIR/server.db" --key-file "$DIR/server.key" \
  --listen 127.0.0.1:0 --realm example.com 2>"$DIR/server.fifo" &
SERVER_PID=$!
exec 3<"$DIR/server.fifo"
PORT=
n=0
while [ $n -lt 100 ] && IFS= read -r line <&3; do
  printf 'server: %s\n' "$line"
  case $line in
  *"listening on "*)
    PORT=$(printf '%s\n' "$line" | sed -n 's/.*listening on .*:\([0-9][0-9]*\).*/\1/p')
    break
    ;;
  esac
  n=$((n + 1))
done
[ -n "$PORT" ] || {
  echo "demo: the server did not start" >&2
  exit 1
}
# The server's log lines follow, prefixed, while the demo goes on.
sed -u 's/^/server: /' <&3 &
DRAIN_PID=$!
exec 3<&-

step "4. The gateway asks for its EUKey (suite 2, OPAQUE-3DH; Argon2id with the server's default parameters)"
start=$(now_ms)
run "$GATEWAY" assign --server "127.0.0.1:$PORT" --entity-id urn:dev:mac:0011223344ff \
  --user alice@example.com --password-file "$DIR/alice.pw" \
  --keystore "$DIR/gateway.keystore" --device-key "$DIR/gateway.devkey"
end=$(now_ms)
elapsed=$((end - start))
printf 'assignment took %d.%03d s (wall time, including Argon2id)\n' \
  $((elapsed / 1000)) $((elapsed % 1000))

step "5. What the gateway keeps in its sealed key store"
run "$GATEWAY" show --keystore "$DIR/gateway.keystore" --device-key "$DIR/gateway.devkey"

step "6. What the server recorded"
run "$SERVER" assignments --db "$DIR/server.db"

step "7. Stop the server"
printf '$ kill -TERM %s\n' "$SERVER_PID"
kill -TERM "$SERVER_PID"
wait "$SERVER_PID"
rc=$?
SERVER_PID=
wait "$DRAIN_PID" 2>/dev/null
DRAIN_PID=
[ "$rc" = 0 ] || {
  echo "demo: the server exited with status $rc" >&2
  exit 1
}
printf '\ndemo complete: the gateway holds an EUKey assigned by the CPNS Server.\n'
