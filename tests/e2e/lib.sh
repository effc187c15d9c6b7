# Common functions of the end-to-end tests: sourced by tests/e2e/*.sh.
# Programs talk over loopback (127.0.0.1, port 0); every file lives in a
# temporary directory removed on exit. POSIX sh.
#
# Programs are found through CPNS_SERVER, CPNS_GATEWAY, CPNS_RAWPEER, else
# under CPNS_BUILDDIR (default: the current directory, which is the top build
# directory when run by `make check`).
#
# The server's database is $DB, on the backend CPNS_E2E_BACKEND names:
# sqlite (default) = the file $T/server.db; pg = a throwaway PostgreSQL
# cluster started for this script (tests/pg/cluster.sh) and removed on exit,
# DB its URI. `make check` runs every script on sqlite and, through the
# wrappers in tests/e2e/pg/, on pg. A script that tests something only
# SQLite has sets E2E_SQLITE_ONLY=REASON before sourcing this file: on pg it
# is skipped (77) with that reason.

set -u
: "${CPNS_E2E_BACKEND:=sqlite}"
case $CPNS_E2E_BACKEND in
sqlite | pg) ;;
*)
  echo "CPNS_E2E_BACKEND=$CPNS_E2E_BACKEND: want sqlite or pg" >&2
  exit 99
  ;;
esac
if [ "$CPNS_E2E_BACKEND" = pg ] && [ -n "${E2E_SQLITE_ONLY:-}" ]; then
  echo "SKIP: SQLite only: $E2E_SQLITE_ONLY"
  exit 77
fi

: "${CPNS_BUILDDIR:=$(pwd)}"
: "${CPNS_SERVER:=$CPNS_BUILDDIR/examples/cpns-server}"
: "${CPNS_GATEWAY:=$CPNS_BUILDDIR/examples/cpns-gateway}"
: "${CPNS_RAWPEER:=$CPNS_BUILDDIR/tests/e2e/rawpeer}"

for prog in "$CPNS_SERVER" "$CPNS_GATEWAY" "$CPNS_RAWPEER"; do
  if [ ! -x "$prog" ]; then
    echo "missing program $prog (build first, or set CPNS_BUILDDIR)" >&2
    exit 99
  fi
done

T=$(mktemp -d "${TMPDIR:-/tmp}/cpns-e2e.XXXXXX") || exit 99
SERVER_PID=
SERVER_PORT=
DRAIN_PID=
GW_RC=0
REALM=example.com

server_stop() {
  rc=0
  if [ -n "$SERVER_PID" ]; then
    kill -TERM "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" || rc=$?
    SERVER_PID=
  fi
  if [ -n "$DRAIN_PID" ]; then
    wait "$DRAIN_PID" 2>/dev/null
    DRAIN_PID=
  fi
  return $rc
}

# On exit: a server that does not stop cleanly (crash, sanitizer report)
# fails a test that otherwise passed.
cleanup() {
  status=$?
  if ! server_stop 2>/dev/null && [ "$status" = 0 ]; then
    echo "FAIL: cpns-server did not exit cleanly on SIGTERM" >&2
    tail -n 40 "$T/server.log" >&2
    status=1
  fi
  if [ "$CPNS_E2E_BACKEND" = pg ]; then
    pg_cluster_remove
  fi
  rm -rf "$T"
  exit $status
}
trap cleanup EXIT
trap 'exit 99' HUP INT TERM

if [ "$CPNS_E2E_BACKEND" = pg ]; then
  . "$(dirname "$0")/../pg/cluster.sh"
  pg_cluster_start
  DB=$PG_URI
else
  DB=$T/server.db
fi

# fail MESSAGE: reports, shows what the programs said, ends the test.
fail() {
  echo "FAIL: $*" >&2
  for f in "$T/gw.out" "$T/gw.err" "$T/server.log"; do
    if [ -s "$f" ]; then
      echo "--- $f" >&2
      tail -n 20 "$f" >&2
    fi
  done
  exit 1
}

ok() {
  echo "ok: $*"
}

# field NAME FILE: the value of the first "NAME: value" line.
field() {
  sed -n "s/^$1: //p" "$2" | head -n 1
}

# pwfile NAME PASSWORD: writes $T/NAME.pw with a trailing newline, mode 0600
# (the programs refuse a password file that group or others can access).
pwfile() {
  (umask 077 && printf '%s\n' "$2" >"$T/$1.pw") || fail "cannot write $T/$1.pw"
}

# server_init [OPS MEM_KIB]: database and key file; the enrollment defaults
# (which unknown User IDs are shown too) are small unless given.
server_init() {
  "$CPNS_SERVER" init --db "$DB" --key-file "$T/server.key" \
    --ops "${1:-1}" --mem-kib "${2:-8}" >"$T/init.out" 2>&1 ||
    fail "cpns-server init: $(cat "$T/init.out")"
}

# user_add USER PWFILE [OPS MEM_KIB]: enrolls a user with the database's
# defaults, or with the parameters given; stderr in $T/useradd.err.
user_add() {
  if [ $# -ge 4 ]; then
    set -- "$1" "$2" --ops "$3" --mem-kib "$4"
  else
    set -- "$1" "$2"
  fi
  user=$1
  pw=$2
  shift 2
  "$CPNS_SERVER" user add --db "$DB" --key-file "$T/server.key" --user "$user" \
    --password-file "$pw" "$@" >"$T/useradd.out" 2>"$T/useradd.err" ||
    fail "cpns-server user add $user: $(cat "$T/useradd.out" "$T/useradd.err")"
}

# server_start [SERVE OPTIONS...]: starts `cpns-server serve` on an ephemeral
# port and waits for its "listening on 127.0.0.1:PORT" line (bounded: at
# most 100 lines, or EOF if it dies). The rest of its stderr goes to
# $T/server.log.
server_start() {
  server_start_args --db "$DB" --key-file "$T/server.key" \
    --listen 127.0.0.1:0 --realm "$REALM" "$@"
}

# server_start_args [SERVE OPTIONS...]: server_start with only the options
# given (e.g. --config FILE).
server_start_args() {
  rm -f "$T/server.fifo"
  mkfifo "$T/server.fifo" || fail "mkfifo"
  "$CPNS_SERVER" serve "$@" 2>"$T/server.fifo" &
  SERVER_PID=$!
  exec 3<"$T/server.fifo"
  SERVER_PORT=
  n=0
  while [ $n -lt 100 ] && IFS= read -r line <&3; do
    printf '%s\n' "$line" >>"$T/server.log"
    case $line in
    *"listening on "*)
      SERVER_PORT=$(printf '%s\n' "$line" | sed -n 's/.*listening on .*:\([0-9][0-9]*\).*/\1/p')
      break
      ;;
    esac
    n=$((n + 1))
  done
  [ -n "$SERVER_PORT" ] || fail "cpns-server serve did not report its port"
  # Keep draining its stderr so that its log lines never block it.
  cat <&3 >>"$T/server.log" &
  DRAIN_PID=$!
  exec 3<&-
}

# gw_assign ENTITY USER PWFILE [OPTIONS...]: runs `cpns-gateway assign`
# against the server with the key store $GW_KS (default $T/gw.ks) and device
# key $GW_DK (default $T/gw.dk); stdout in $T/gw.out, stderr in $T/gw.err,
# exit status in GW_RC. It lowers the gateway's KDF minimums to the small
# parameters user_add enrolls with (--min-ops 1 --min-mem-kib 8); then
# $GW_OPTS (unquoted; e.g. --allow-suite1 for a whole test of suite 1);
# OPTIONS come after them and override them.
gw_assign() {
  entity=$1
  user=$2
  pw=$3
  shift 3
  GW_RC=0
  "$CPNS_GATEWAY" assign --server "127.0.0.1:$SERVER_PORT" --entity-id "$entity" \
    --user "$user" --password-file "$pw" --keystore "${GW_KS:-$T/gw.ks}" \
    --device-key "${GW_DK:-$T/gw.dk}" --min-ops 1 --min-mem-kib 8 ${GW_OPTS:-} "$@" \
    >"$T/gw.out" 2>"$T/gw.err" || GW_RC=$?
}

# expect_rc WANT WHAT: checks the last gw_assign's exit status.
expect_rc() {
  [ "$GW_RC" = "$1" ] || fail "$2: exit status $GW_RC, want $1"
}

# expect_result NAME WHAT: checks the "result:" line of the last gw_assign.
expect_result() {
  got=$(field result "$T/gw.out")
  [ "$got" = "$1" ] || fail "$2: result '$got', want '$1'"
}

# lock_out ENTITY USER WRONG_PWFILE: five failed assignments for USER
# (authenticationFailed, exit 3), the server's default lockout threshold.
lock_out() {
  i=1
  while [ $i -le 5 ]; do
    gw_assign "$1" "$2" "$3"
    expect_rc 3 "$2: failure $i"
    i=$((i + 1))
  done
}

# last_line FILE: the last line of FILE (the gateway's one-line verdict).
last_line() {
  tail -n 1 "$1"
}

# assignments_count ENTITY: rows of `cpns-server assignments` for ENTITY.
assignments_count() {
  "$CPNS_SERVER" assignments --db "$DB" >"$T/assignments.out" 2>&1 ||
    fail "cpns-server assignments: $(cat "$T/assignments.out")"
  grep -c "^entity: $1\$" "$T/assignments.out"
}
