#!/bin/sh
# Torture: kill -9 of cpns-server at random moments under concurrent load,
# several rounds on one database. Every assignment a gateway acknowledged
# (success, serverSignature and AEAD verified) must be listed by
# `cpns-server assignments` after each kill and at the end (an assignment
# listed but never acknowledged is fine: killed between commit and send), and
# PRAGMA integrity_check must say ok.
. "$(dirname "$0")/lib.sh"

ROUNDS=$(long_or_short 10 2)
CLIENTS=$(long_or_short 32 8)
USERS=$(long_or_short 32 8)
# The kill comes with the K-th acknowledgement of the round, K drawn from
# [KILL_MIN, KILL_MIN + KILL_SPAN): the other clients are then anywhere in
# their exchanges, the store thread anywhere in its batches.
KILL_MIN=$(long_or_short 500 20)
KILL_SPAN=$(long_or_short 5000 60)
# Extra `cpns-server serve` options for this load, in one place.
: "${KILL9_SERVE_OPTS:=}"

server_init
pwfile load 'torture load password'
i=0
while [ $i -lt "$USERS" ]; do
  user_add "load$i@example.com" "$T/load.pw"
  i=$((i + 1))
done

# check_acknowledged WHEN: every acknowledged pair is listed.
check_acknowledged() {
  assignment_pairs "$T/listed"
  sort "$T/acks" >"$T/acks.sorted"
  acked=$(wc -l <"$T/acks.sorted")
  missing=$(comm -23 "$T/acks.sorted" "$T/listed" | wc -l)
  found=$((acked - missing))
  listed=$(wc -l <"$T/listed")
  if [ "$missing" != 0 ]; then
    comm -23 "$T/acks.sorted" "$T/listed" | head -n 5 >&2
    fail "$1: $missing acknowledged assignment(s) missing (acknowledged $acked, found $found)"
  fi
  db_integrity_ok
}

: >"$T/acks"
round=1
start=$(now_ms)
while [ $round -le "$ROUNDS" ]; do
  server_start $KILL9_SERVE_OPTS
  kill_after=$((KILL_MIN + $(random_below "$KILL_SPAN")))
  "$CPNS_LOADGEN" --port "$SERVER_PORT" --users "$USERS" --password-file "$T/load.pw" \
    --clients "$CLIENTS" --round "$round" --acks "$T/acks" --seconds 120 \
    --kill-pid "$SERVER_PID" --kill-after "$kill_after" >"$T/loadgen.out" 2>&1 ||
    fail "loadgen: $(cat "$T/loadgen.out")"
  # (Not kill -0: a killed server not reaped yet still answers it.)
  round_acked=$(sed -n 's/^acknowledged \([0-9]*\) .*/\1/p' "$T/loadgen.out")
  if [ "${round_acked:-0}" -lt "$kill_after" ]; then
    fail "round $round: loadgen ended before $kill_after acknowledgements: $(cat "$T/loadgen.out")"
  fi
  server_reap_killed
  check_acknowledged "round $round"
  ok "round $round: killed at acknowledgement $kill_after ($(cat "$T/loadgen.out"));" \
    "acknowledged $acked, found $found, listed $listed, integrity ok"
  round=$((round + 1))
done

# After the last kill: the server starts on that database and serves again.
server_start $KILL9_SERVE_OPTS
gw_assign urn:dev:mac:ffffffffff01 load0@example.com "$T/load.pw"
expect_rc 0 "gateway after $ROUNDS kills"
server_stop || fail "cpns-server did not stop cleanly after the rounds"
printf '%s %s\n' urn:dev:mac:ffffffffff01 "$(field keyId "$T/gw.out")" >>"$T/acks"
check_acknowledged "at the end"
ok "rounds $ROUNDS, clients $CLIENTS, acknowledged $acked, found $found, listed $listed," \
  "integrity ok, $(( $(now_ms) - start )) ms"
