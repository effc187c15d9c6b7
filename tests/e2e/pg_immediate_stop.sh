#!/bin/sh
# End to end, PostgreSQL only: the database stops at once (pg_ctl stop -m
# immediate: no checkpoint, crash recovery at the next start) while two
# cpns-server processes are under load, then starts again.
#  - No gateway was told success for an assignment the database does not
#    hold afterwards (what was acknowledged had been committed).
#  - While it is down, gateways get refusals (tryLater / serverError), no
#    server dies.
#  - After the start, both servers serve again by themselves (not
#    restarted), within a bounded time, found by polling.
#
#   pg_immediate_stop.sh   (STOP_ROUNDS=N: N stops in a row, default 2)
CPNS_E2E_BACKEND=pg
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg_lib.sh"

STOP_ROUNDS=${STOP_ROUNDS:-2}
LOAD_USERS=8
RESUME_LIMIT_S=60

server_init
add_load_users $LOAD_USERS
OPTS="--source-rate 1000000 --source-burst 1000000"
# shellcheck disable=SC2086
named_start A $OPTS
# shellcheck disable=SC2086
named_start B $OPTS

# The loads write their acknowledgements into FIFOs: the test counts them as
# they come and stops the database at the K-th one, without waiting on time.
mkfifo "$T/acks-a.fifo" "$T/acks-b.fifo" || fail "mkfifo"
: >"$T/acks-a"
: >"$T/acks-b"
"$CPNS_LOADGEN" --port "$A_PORT" --users $LOAD_USERS --password-file "$T/load.pw" \
  --clients 6 --round 1 --acks "$T/acks-a.fifo" --seconds 300 >"$T/load-a.out" 2>&1 &
load_a=$!
"$CPNS_LOADGEN" --port "$B_PORT" --users $LOAD_USERS --password-file "$T/load.pw" \
  --clients 6 --round 2 --acks "$T/acks-b.fifo" --seconds 300 >"$T/load-b.out" 2>&1 &
load_b=$!
cat "$T/acks-b.fifo" >>"$T/acks-b" &
drain_b=$!
exec 4<"$T/acks-a.fifo"

# acks_from_a N: copies the next N acknowledgements of the load on A.
acks_from_a() {
  n=0
  while [ $n -lt "$1" ] && IFS= read -r line <&4; do
    printf '%s\n' "$line" >>"$T/acks-a"
    n=$((n + 1))
  done
  [ $n = "$1" ] || fail "the load on A ended after $n of $1 acknowledgements: $(cat "$T/load-a.out")"
}

# serves_again NAME TAG: polls server NAME with a gateway until it assigns
# (at most RESUME_LIMIT_S seconds), Entity IDs urn:dev:mac:TAG... of its own;
# records the assignment; sets WAITED_MS.
serves_again() {
  t0=$(($(date +%s%N) / 1000000))
  tries=0
  via "$1"
  while :; do
    tries=$((tries + 1))
    entity=$(printf 'urn:dev:mac:%s%02x%06x' "$2" "$round" "$tries")
    GW_KS="$T/poll.ks" gw_assign "$entity" load0@example.com "$T/load.pw" --timeout-ms 10000
    WAITED_MS=$(($(date +%s%N) / 1000000 - t0))
    if [ "$GW_RC" = 0 ]; then
      printf '%s %s\n' "$entity" "$(field keyId "$T/gw.out")" >>"$T/acks-a"
      return 0
    fi
    case $(field result "$T/gw.out") in
    tryLater | serverError) ;;
    *) fail "server $1 after the restart: $(last_line "$T/gw.err")" ;;
    esac
    [ "$WAITED_MS" -lt $((RESUME_LIMIT_S * 1000)) ] ||
      fail "server $1 does not serve ${RESUME_LIMIT_S} s after the database started again"
    sleep 0.1 # between polls only; the bound above is what counts
  done
}

round=1
while [ $round -le "$STOP_ROUNDS" ]; do
  kill_at=$((10 + $(random_below 40)))
  acks_from_a $kill_at
  pg_cluster_stop immediate || fail "pg_ctl stop -m immediate"
  before=$(cat "$T/acks-a" "$T/acks-b" | wc -l)
  # While it is down: a gateway is refused, the servers live.
  via A
  GW_KS="$T/down.ks" gw_assign "urn:dev:mac:00ff000000$(printf %02x $round)" load0@example.com \
    "$T/load.pw" --timeout-ms 20000
  case "$GW_RC $(field result "$T/gw.out")" in
  "4 tryLater" | "4 serverError") ;;
  *) fail "database down: exit $GW_RC, $(last_line "$T/gw.err"); want tryLater or serverError" ;;
  esac
  [ ! -e "$T/down.ks" ] || fail "database down: a key store was written"
  down_result=$(field result "$T/gw.out")
  for name in A B; do
    eval "pid=\$${name}_PID"
    # (Not kill -0: it also succeeds on a zombie.)
    state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$pid/status" 2>/dev/null)
    [ -n "$state" ] && [ "$state" != Z ] || fail "server $name died while the database was down"
  done
  pg_cluster_resume || fail "pg_ctl start after the immediate stop"
  serves_again A 00ee
  waited_a=$WAITED_MS
  serves_again B 00ef
  waited_b=$WAITED_MS
  # The load on A gets through again too.
  acks_from_a 5
  acked_all_listed "round $round, after the restart" "$T/acks-a" "$T/acks-b"
  ok "round $round: immediate stop at acknowledgement $kill_at on A ($before acknowledged" \
    "in all); down: $down_result; serving again after ${waited_a} ms (A), ${waited_b} ms (B);" \
    "acknowledged $ACKED, all in the database"
  round=$((round + 1))
done

# The loads end when their server closes its port.
named_stop A
cat <&4 >>"$T/acks-a"
exec 4<&-
named_stop B
wait $load_a || fail "loadgen on A: $(cat "$T/load-a.out")"
wait $load_b || fail "loadgen on B: $(cat "$T/load-b.out")"
wait $drain_b
acked_all_listed "at the end" "$T/acks-a" "$T/acks-b"
ok "$STOP_ROUNDS immediate stops under load: A $(cat "$T/load-a.out"); B $(cat "$T/load-b.out");" \
  "acknowledged $ACKED, all in the database ($LISTED assignments listed)"
