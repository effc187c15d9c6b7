#!/bin/sh
# End to end, PostgreSQL only: two cpns-server processes (A and B) on one
# database, as behind a TCP load balancer.
#  1. Lockout is shared: 3 wrong passwords through A and 2 through B lock
#     the user out on both (threshold 5), the right password included.
#  2. "One Entity ID, one user" is decided once for both: the same Entity
#     ID requested at once through A for one user and through B for another,
#     several rounds: exactly one gets success, the other entityConflict, and
#     the database holds the winner's key.
#  3. kill -9 of A under load (gateways in flight on A and on B): every
#     assignment a gateway was told success for is in the database; B keeps
#     serving.
CPNS_E2E_BACKEND=pg
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg_lib.sh"

RACE_ROUNDS=${RACE_ROUNDS:-6}
LOAD_USERS=8
ENTITY=urn:dev:mac:0011223344ff

server_init
pwfile alice 'correct horse battery'
pwfile wrong 'incorrect horse'
user_add alice@example.com "$T/alice.pw"
r=1
while [ $r -le "$RACE_ROUNDS" ]; do
  user_add "race${r}a@example.com" "$T/alice.pw"
  user_add "race${r}b@example.com" "$T/alice.pw"
  r=$((r + 1))
done
add_load_users $LOAD_USERS

# A long back-off: the lockout cannot end while the test runs. No
# per-source budget: the load comes from few loopback addresses.
OPTS="--lockout-base-ms 600000 --source-rate 1000000 --source-burst 1000000"
# shellcheck disable=SC2086
named_start A $OPTS
# shellcheck disable=SC2086
named_start B $OPTS
ok "servers A (port $A_PORT) and B (port $B_PORT) on $DB"

# --- 1. lockout shared by both servers
for n in 1 2 3; do
  via A
  gw_assign "$ENTITY" alice@example.com "$T/wrong.pw"
  expect_rc 3 "wrong password $n through A"
done
for n in 4 5; do
  via B
  gw_assign "$ENTITY" alice@example.com "$T/wrong.pw"
  expect_rc 3 "wrong password $n through B"
done
for name in A B; do
  via $name
  gw_assign "$ENTITY" alice@example.com "$T/alice.pw"
  expect_rc 4 "right password through $name after 3 + 2 failures"
  expect_result tryLater "right password through $name after 3 + 2 failures"
done
[ "$(assignments_count "$ENTITY")" = 0 ] || fail "a locked-out user got an assignment"
ok "3 failures through A + 2 through B: tryLater on A and on B, right password included"

# --- 2. the same Entity ID through both servers at once
# race_gw NAME USER ENTITY OUT: a gateway through server NAME in the
# background (its pid in RACE_PID); its output in OUT.out/OUT.err, its exit
# status in OUT.rc.
race_gw() {
  eval "port=\$${1}_PORT"
  (
    rc=0
    "$CPNS_GATEWAY" assign --server "127.0.0.1:$port" --entity-id "$3" --user "$2" \
      --password-file "$T/alice.pw" --keystore "$4.ks" --device-key "$4.dk" \
      --min-ops 1 --min-mem-kib 8 >"$4.out" 2>"$4.err" || rc=$?
    echo $rc >"$4.rc"
  ) &
  RACE_PID=$!
}
wins_a=0
wins_b=0
r=1
while [ $r -le "$RACE_ROUNDS" ]; do
  entity=$(printf 'urn:dev:mac:00cc000000%02x' $r)
  # Both start together; they derive, send and are stored at the same time.
  # Which one starts first alternates.
  if [ $((r % 2)) = 1 ]; then
    race_gw A "race${r}a@example.com" "$entity" "$T/race${r}a"
    pid_1=$RACE_PID
    race_gw B "race${r}b@example.com" "$entity" "$T/race${r}b"
  else
    race_gw B "race${r}b@example.com" "$entity" "$T/race${r}b"
    pid_1=$RACE_PID
    race_gw A "race${r}a@example.com" "$entity" "$T/race${r}a"
  fi
  wait "$pid_1" "$RACE_PID"
  rca=$(cat "$T/race${r}a.rc")
  rcb=$(cat "$T/race${r}b.rc")
  resa=$(field result "$T/race${r}a.out")
  resb=$(field result "$T/race${r}b.out")
  case "$rca $resa / $rcb $resb" in
  "0 success / 4 entityConflict") winner=a loser=b wins_a=$((wins_a + 1)) ;;
  "4 entityConflict / 0 success") winner=b loser=a wins_b=$((wins_b + 1)) ;;
  *)
    cat "$T/race${r}a.err" "$T/race${r}b.err" >&2
    fail "round $r: through A exit $rca '$resa', through B exit $rcb '$resb'; want one success, one entityConflict"
    ;;
  esac
  [ ! -e "$T/race${r}${loser}.ks" ] || fail "round $r: the loser wrote a key store"
  [ "$(assignments_count "$entity")" = 1 ] || fail "round $r: not exactly one row for $entity"
  grep -q "^keyId: $(field keyId "$T/race${r}${winner}.out")\$" "$T/assignments.out" ||
    fail "round $r: the database does not hold the winner's key"
  r=$((r + 1))
done
ok "$RACE_ROUNDS rounds of one Entity ID through A and B at once: one success and one" \
  "entityConflict each (won through A $wins_a, through B $wins_b), the winner's key stored"

# --- 3. kill -9 of A under load on both servers
KILL_AFTER=$((20 + $(random_below 60)))
: >"$T/acks-a"
: >"$T/acks-b"
"$CPNS_LOADGEN" --port "$B_PORT" --users $LOAD_USERS --password-file "$T/load.pw" \
  --clients 4 --round 2 --acks "$T/acks-b" --seconds 120 >"$T/load-b.out" 2>&1 &
load_b=$!
"$CPNS_LOADGEN" --port "$A_PORT" --users $LOAD_USERS --password-file "$T/load.pw" \
  --clients 8 --round 1 --acks "$T/acks-a" --seconds 120 \
  --kill-pid "$A_PID" --kill-after "$KILL_AFTER" >"$T/load-a.out" 2>&1 ||
  fail "loadgen on A: $(cat "$T/load-a.out")"
named_reap_killed A
acked_a=$(wc -l <"$T/acks-a")
[ "$acked_a" -ge "$KILL_AFTER" ] || fail "loadgen on A ended before $KILL_AFTER acknowledgements"
# B still serves, then stops: its gateways find the port closed and end.
via B
GW_KS="$T/after.ks" gw_assign urn:dev:mac:00dd00000001 load0@example.com "$T/load.pw"
expect_rc 0 "a gateway through B after the kill of A"
printf '%s %s\n' urn:dev:mac:00dd00000001 "$(field keyId "$T/gw.out")" >>"$T/acks-b"
named_stop B
wait $load_b || fail "loadgen on B: $(cat "$T/load-b.out")"
[ -s "$T/acks-b" ] || fail "no assignment acknowledged through B: $(cat "$T/load-b.out")"
acked_all_listed "after kill -9 of A" "$T/acks-a" "$T/acks-b"
ok "kill -9 of A at acknowledgement $KILL_AFTER: A $(cat "$T/load-a.out"); B $(cat "$T/load-b.out");" \
  "acknowledged $ACKED, all in the database ($LISTED assignments listed)"
