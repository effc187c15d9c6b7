# Common functions of the tests with several cpns-server processes on one
# PostgreSQL database (tests/e2e/pg_*.sh), on top of lib.sh, which the test
# sources first with CPNS_E2E_BACKEND=pg. Servers are named (A, B, ...):
# NAME_PID, NAME_PORT, NAME_DRAIN; each logs to $T/server-NAME.log. All of
# them are stopped on exit, and one that does not exit cleanly on SIGTERM
# fails the test, as lib.sh does for its one server.

: "${CPNS_LOADGEN:=$CPNS_BUILDDIR/tests/torture/loadgen}"
[ -x "$CPNS_LOADGEN" ] || { echo "missing program $CPNS_LOADGEN" >&2; exit 99; }
SERVERS=

# named_start NAME [SERVE OPTIONS...]: server_start as server NAME.
named_start() {
  name=$1
  shift
  server_start "$@"
  mv "$T/server.log" "$T/server-$name.log"
  eval "${name}_PID=\$SERVER_PID ${name}_PORT=\$SERVER_PORT ${name}_DRAIN=\$DRAIN_PID"
  SERVER_PID=
  DRAIN_PID=
  case " $SERVERS " in *" $name "*) ;; *) SERVERS="$SERVERS $name" ;; esac
}

# named_term NAME: SIGTERM, waits; returns its exit status.
named_term() {
  eval "pid=\$${1}_PID drain=\$${1}_DRAIN"
  [ -n "$pid" ] || return 0
  rc=0
  kill -TERM "$pid" 2>/dev/null
  wait "$pid" || rc=$?
  [ -z "$drain" ] || wait "$drain" 2>/dev/null
  eval "${1}_PID= ${1}_DRAIN="
  return $rc
}

# named_stop NAME: named_term; fails unless the server exited 0.
named_stop() {
  named_term "$1" || fail "server $1 exited $rc on SIGTERM: $(tail -n 20 "$T/server-$1.log")"
}

# named_reap_killed NAME: waits for server NAME that a SIGKILL ended.
named_reap_killed() {
  eval "pid=\$${1}_PID drain=\$${1}_DRAIN"
  rc=0
  wait "$pid" || rc=$?
  [ -z "$drain" ] || wait "$drain" 2>/dev/null
  eval "${1}_PID= ${1}_DRAIN="
  [ "$rc" = 137 ] || fail "server $1 exited $rc, not by SIGKILL (137)"
}

# via NAME: the following gw_assign goes to server NAME.
via() {
  eval "SERVER_PORT=\$${1}_PORT"
}

named_cleanup() {
  st=$?
  for name in $SERVERS; do
    if ! named_term "$name" 2>/dev/null && [ "$st" = 0 ]; then
      echo "FAIL: server $name did not exit cleanly on SIGTERM" >&2
      tail -n 40 "$T/server-$name.log" >&2
      st=1
    fi
  done
  (exit $st)
  cleanup
}
trap named_cleanup EXIT

# assignment_pairs FILE: "ENTITY KEYID" per assignment in the database, sorted.
assignment_pairs() {
  "$CPNS_SERVER" assignments --db "$DB" >"$T/assignments.out" 2>&1 ||
    fail "cpns-server assignments: $(cat "$T/assignments.out")"
  awk '/^entity: / {e = $2} /^keyId: / {print e, $2}' "$T/assignments.out" | sort >"$1"
}

# acked_all_listed WHAT ACKS...: every "ENTITY KEYID" line of the ACKS files
# (what gateways were told: success) is in the database. Sets ACKED, LISTED.
acked_all_listed() {
  what=$1
  shift
  cat "$@" | sort >"$T/acked.sorted"
  assignment_pairs "$T/listed"
  ACKED=$(wc -l <"$T/acked.sorted")
  LISTED=$(wc -l <"$T/listed")
  missing=$(comm -23 "$T/acked.sorted" "$T/listed" | wc -l)
  if [ "$missing" != 0 ]; then
    comm -23 "$T/acked.sorted" "$T/listed" | head -n 5 >&2
    fail "$what: $missing of $ACKED acknowledged assignment(s) missing from the database"
  fi
}

# random_below N: a random number from 0 to N-1.
random_below() {
  echo $(($(od -An -N4 -tu4 /dev/urandom | tr -d ' ') % $1))
}

# add_load_users N: load0..load<N-1>@example.com, password file $T/load.pw
# (the users tests/torture/loadgen runs as).
add_load_users() {
  pwfile load 'torture load password'
  i=0
  while [ $i -lt "$1" ]; do
    user_add "load$i@example.com" "$T/load.pw"
    i=$((i + 1))
  done
}
