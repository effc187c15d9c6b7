# Common functions of the fault and load tests (tests/torture/*.sh), on top
# of tests/e2e/lib.sh. Each test has a short form for `make check` (a few
# seconds) and a long one for `make torture` (TORTURE_LONG=1). Loopback only.

. "$(dirname "$0")/../e2e/lib.sh"

: "${CPNS_LOADGEN:=$CPNS_BUILDDIR/tests/torture/loadgen}"
: "${CPNS_SLOWCONN:=$CPNS_BUILDDIR/tests/torture/slowconn}"
: "${TORTURE_LONG:=0}"

for prog in "$CPNS_LOADGEN" "$CPNS_SLOWCONN"; do
  if [ ! -x "$prog" ]; then
    echo "missing program $prog (build first, or set CPNS_BUILDDIR)" >&2
    exit 99
  fi
done

# Password files must be private (mode 0600).
umask 077

# long_or_short LONG SHORT: LONG under `make torture`, else SHORT.
long_or_short() {
  if [ "$TORTURE_LONG" = 1 ]; then echo "$1"; else echo "$2"; fi
}

# random_below N: a random number from 0 to N-1.
random_below() {
  echo $(($(od -An -N4 -tu4 /dev/urandom | tr -d ' ') % $1))
}

# now_ms: wall-clock milliseconds (GNU date), for figures only.
now_ms() {
  echo $(($(date +%s%N) / 1000000))
}

# server_kill9: SIGKILL to the running server; waits for it and its log drain.
server_kill9() {
  kill -KILL "$SERVER_PID" 2>/dev/null
  server_reap_killed
}

# server_reap_killed: waits for a server something else killed with SIGKILL.
server_reap_killed() {
  rc=0
  wait "$SERVER_PID" || rc=$?
  SERVER_PID=
  [ "$rc" = 137 ] || fail "cpns-server exited $rc, not by SIGKILL (137)"
  if [ -n "$DRAIN_PID" ]; then
    wait "$DRAIN_PID" 2>/dev/null
    DRAIN_PID=
  fi
}

# server_alive: the server runs (kill -0 also succeeds on a zombie).
server_alive() {
  state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$SERVER_PID/status" 2>/dev/null)
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# server_rss_kib: the running server's resident set (VmRSS), KiB.
server_rss_kib() {
  sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB$/\1/p' "/proc/$SERVER_PID/status"
}

# server_fds: open descriptors of the running server.
server_fds() {
  ls "/proc/$SERVER_PID/fd" | wc -l
}

# have_sqlite3: whether the sqlite3 shell is there (`make torture` needs it).
have_sqlite3() {
  if command -v sqlite3 >/dev/null 2>&1; then
    return 0
  fi
  [ "$TORTURE_LONG" = 1 ] && fail "sqlite3 shell not installed (apt-get install sqlite3)"
  echo "note: no sqlite3 shell, PRAGMA integrity_check skipped"
  return 1
}

# db_integrity_ok: PRAGMA integrity_check of $T/server.db says ok.
db_integrity_ok() {
  have_sqlite3 || return 0
  got=$(sqlite3 "$T/server.db" 'PRAGMA integrity_check' 2>&1)
  [ "$got" = ok ] || fail "PRAGMA integrity_check: $got"
}

# assignment_pairs FILE: "ENTITY KEYID" per assignment the server lists.
assignment_pairs() {
  "$CPNS_SERVER" assignments --db "$DB" >"$T/assignments.out" 2>&1 ||
    fail "cpns-server assignments: $(cat "$T/assignments.out")"
  awk '/^entity: / {e = $2} /^keyId: / {print e, $2}' "$T/assignments.out" | sort >"$1"
}
