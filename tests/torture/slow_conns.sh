#!/bin/sh
# Torture: many slow connections (one octet, then silence) from many
# loopback addresses plus a stream of garbage connections; a gateway from
# another address (127.0.0.1) still gets its key within a second. Reports
# the server's memory per slow connection (VmRSS before/after).
. "$(dirname "$0")/lib.sh"

SLOW=$(long_or_short 1000 200)
PER_ADDR=10        # below the default --max-conns-per-addr (16)
GARBAGE_CLIENTS=$(long_or_short 8 4)
PROBES=$(long_or_short 5 2)
# Room for the slow connections, up to 64 garbage ones in flight and the
# gateway: the default 1024 would leave 24 slots, which the garbage could
# fill for a moment, and a refused gateway is overload behaviour by design,
# not what this test measures.
MAX_CONNS=$((SLOW + 100))
# The slow connections must outlive the test: the default PDU timeout (10 s)
# would close them if a loaded machine made the test slow.
PDU_TIMEOUT_MS=120000
LATENCY_MAX_MS=1000

# The server and slowconn each need a descriptor per connection; both raise
# their soft limit to the hard one.
hard_fds=$(ulimit -Hn)
if [ "$hard_fds" != unlimited ] && [ "$hard_fds" -lt $((MAX_CONNS + 100)) ]; then
  echo "SKIP: hard limit of open files $hard_fds, below $((MAX_CONNS + 100))"
  exit 77
fi

server_init
pwfile alice 'correct horse battery'
user_add alice@example.com "$T/alice.pw"
server_start --max-conns "$MAX_CONNS" --pdu-timeout-ms "$PDU_TIMEOUT_MS"

# probe NAME: one gateway exchange from 127.0.0.1; sets latency (ms).
probe_no=0
probe() {
  probe_no=$((probe_no + 1))
  t0=$(now_ms)
  GW_KS="$T/probe$probe_no.ks" gw_assign "$(printf 'urn:dev:mac:00cc%08x' $probe_no)" \
    alice@example.com "$T/alice.pw"
  latency=$(($(now_ms) - t0))
  expect_rc 0 "$1"
  [ "$latency" -lt "$LATENCY_MAX_MS" ] ||
    fail "$1: gateway took $latency ms (limit $LATENCY_MAX_MS)"
}

# Descriptors before any connection (measured after the warm-up, the
# server might not have closed the warm-up's yet).
fds_before=$(server_fds)
probe "warm-up"
rss_before=$(server_rss_kib)

mkfifo "$T/slow.in" "$T/slow.out"
"$CPNS_SLOWCONN" "$SERVER_PORT" "$SLOW" "$PER_ADDR" "$GARBAGE_CLIENTS" 120 \
  <"$T/slow.in" >"$T/slow.out" 2>"$T/slowconn.err" &
slow_pid=$!
exec 5>"$T/slow.in"
exec 4<"$T/slow.out"
IFS= read -r line <&4
[ "$line" = "slow $SLOW open" ] || fail "slowconn: $line $(cat "$T/slowconn.err")"
# Bounded poll until the server holds them all (a descriptor each).
n=0
while [ "$(server_fds)" -lt $((fds_before + SLOW)) ]; do
  n=$((n + 1))
  [ $n -le 400 ] || fail "the server accepted only $(($(server_fds) - fds_before)) of $SLOW"
  sleep 0.05
done

probe "with $SLOW slow connections"
latency_slow=$latency
rss_after=$(server_rss_kib)

echo garbage >&5
IFS= read -r line <&4
[ "$line" = "garbage started" ] || fail "slowconn: $line"
latency_garbage=0
i=0
while [ $i -lt "$PROBES" ]; do
  probe "with $SLOW slow connections and garbage"
  [ "$latency" -gt "$latency_garbage" ] && latency_garbage=$latency
  i=$((i + 1))
done
echo stop >&5
IFS= read -r line <&4
exec 4<&- 5>&-
wait "$slow_pid" || fail "slowconn: $(cat "$T/slowconn.err")"
case $line in
"slow still open $SLOW/$SLOW "*) ;;
*) fail "the server dropped slow connections: $line" ;;
esac
garbage=${line##* }

per_conn=$(awk -v a="$rss_before" -v b="$rss_after" -v n="$SLOW" \
  'BEGIN { printf "%.1f", (b - a) * 1024 / n / 1024 }')
ok "slow connections $SLOW from $((SLOW / PER_ADDR)) addresses (--max-conns $MAX_CONNS)," \
  "all still open; garbage connections $garbage"
ok "gateway latency: ${latency_slow} ms with the slow connections," \
  "max ${latency_garbage} ms of $PROBES with garbage too (limit $LATENCY_MAX_MS ms)"
ok "server RSS ${rss_before} KiB -> ${rss_after} KiB: ${per_conn} KiB per slow connection"
