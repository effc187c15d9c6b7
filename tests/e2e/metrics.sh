#!/bin/sh
# End to end: `serve --metrics-listen` counts what happened. N successes
# (some at once), M wrong passwords and an unknown User ID, then a scrape of
# GET /metrics: the counters equal the exchanges made, and the exposition
# parses (promtool when installed, and always a strict check of the text
# format 0.0.4 grammar). The log has one whole line per exchange, and the
# keyId of a success line is the gateway's. Needs curl.
. "$(dirname "$0")/lib.sh"

command -v curl >/dev/null 2>&1 || {
  echo "SKIP: curl is not installed"
  exit 77
}

N_SERIAL=2
N_PARALLEL=6
M=2
N=$((N_SERIAL + N_PARALLEL))

server_init
pwfile alice 'correct horse battery'
pwfile wrong 'not the password'
user_add alice@example.com "$T/alice.pw"
# Concurrent attempts of one User ID count against its lockout threshold.
server_start --metrics-listen 127.0.0.1:0 --lockout-threshold 20
MPORT=$(sed -n 's/^metrics on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$T/server.log")
[ -n "$MPORT" ] || fail "no \"metrics on\" line: $(cat "$T/server.log")"
URL="http://127.0.0.1:$MPORT/metrics"

# scrape: GET /metrics into $T/metrics.txt; fails on any HTTP error.
scrape() {
  curl -sS --fail --max-time 10 -o "$T/metrics.txt" -D "$T/metrics.hdr" "$URL" ||
    fail "GET /metrics failed"
}

# sample NAME{LABELS}: the value of that exact series, or 0 when absent.
sample() {
  awk -v k="$1" '$1 == k { v = $2 } END { print (v == "" ? 0 : v) }' "$T/metrics.txt"
}

# scrape_settled: scrapes until no connection of the exchanges is open any
# more (a gateway that closed its side may not have been seen yet); bounded.
scrape_settled() {
  i=0
  while :; do
    scrape
    [ "$(sample cpns_connections_open)" = 0 ] && return 0
    i=$((i + 1))
    [ $i -lt 200 ] || fail "cpns_connections_open stays $(sample cpns_connections_open)"
  done
}

# Nothing happened yet: every counter is 0, the exposition is served.
scrape
grep -qi '^content-type: text/plain; version=0.0.4' "$T/metrics.hdr" ||
  fail "Content-Type: $(grep -i content-type "$T/metrics.hdr")"
[ "$(sample cpns_auth_failures_total)" = 0 ] || fail "auth failures before any exchange"
[ "$(sample cpns_exchange_duration_seconds_count)" = 0 ] || fail "exchanges before any exchange"
ok "GET /metrics before any exchange: counters at 0, Content-Type version=0.0.4"

code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/other")
[ "$code" = 404 ] || fail "GET /other: HTTP $code, want 404"
code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$URL")
case $code in 405 | 501) ;; *) fail "DELETE /metrics: HTTP $code, want 405 or 501" ;; esac
big=$(head -c 20000 /dev/zero | tr '\0' a)
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $big" "$URL")
case $code in 4??) ;; *) fail "20 kB of headers: HTTP $code, want 4xx" ;; esac
ok "other paths 404, other methods refused, oversized headers refused"

i=1
while [ $i -le $N_SERIAL ]; do
  GW_KS="$T/gw$i.ks" gw_assign "urn:dev:mac:00112233440$i" alice@example.com "$T/alice.pw"
  expect_rc 0 "success $i"
  i=$((i + 1))
done
KID1=$(GW_KS="$T/gw1.ks" "$CPNS_GATEWAY" show --keystore "$T/gw1.ks" --device-key "$T/gw.dk" |
  sed -n 's/^keyId: //p')
printf '%s\n' "$KID1" | grep -Eq '^[0-9a-f]{32}$' || fail "gateway keyId '$KID1'"

# Concurrent exchanges: their log lines must not interleave.
pids=
i=1
while [ $i -le $N_PARALLEL ]; do
  "$CPNS_GATEWAY" assign --server "127.0.0.1:$SERVER_PORT" --entity-id "urn:dev:mac:0011223345$i$i" \
    --user alice@example.com --password-file "$T/alice.pw" --keystore "$T/par$i.ks" \
    --device-key "$T/par$i.dk" --min-ops 1 --min-mem-kib 8 >"$T/par$i.out" 2>&1 &
  pids="$pids $!"
  i=$((i + 1))
done
for p in $pids; do
  wait "$p" || fail "a concurrent assign failed"
done

i=1
while [ $i -le $M ]; do
  gw_assign urn:dev:mac:0011223344aa alice@example.com "$T/wrong.pw"
  expect_rc 3 "wrong password $i"
  i=$((i + 1))
done
gw_assign urn:dev:mac:0011223344bb mallory@example.com "$T/wrong.pw"
expect_rc 3 "unknown user"

scrape_settled
success=$(($(sample 'cpns_exchanges_total{result="success",suite="1"}') + \
  $(sample 'cpns_exchanges_total{result="success",suite="2"}')))
[ "$success" = $N ] || fail "success exchanges: $success, want $N"
# Suite 2 sends no KeyDelivery after a KE2 without a valid ke3: such an
# exchange ends closed; suite 1 answers authenticationFailed.
failed=$(($(sample 'cpns_exchanges_total{result="closed",suite="2"}') + \
  $(sample 'cpns_exchanges_total{result="authenticationFailed",suite="1"}')))
[ "$failed" = $((M + 1)) ] || fail "failed exchanges: $failed, want $((M + 1))"
total=$(awk '/^cpns_exchanges_total\{/ { s += $2 } END { print s + 0 }' "$T/metrics.txt")
[ "$total" = $((N + M + 1)) ] || fail "exchanges in all: $total, want $((N + M + 1))"
[ "$(sample cpns_exchange_duration_seconds_count)" = $((N + M + 1)) ] ||
  fail "duration histogram count $(sample cpns_exchange_duration_seconds_count)"
[ "$(sample 'cpns_exchange_duration_seconds_bucket{le="+Inf"}')" = $((N + M + 1)) ] ||
  fail "duration histogram +Inf bucket"
[ "$(sample cpns_auth_failures_total)" = $((M + 1)) ] ||
  fail "auth failures $(sample cpns_auth_failures_total), want $((M + 1))"
[ "$(sample cpns_db_errors_total)" = 0 ] || fail "database errors $(sample cpns_db_errors_total)"
[ "$(sample cpns_lockouts_active)" = 0 ] || fail "lockouts active $(sample cpns_lockouts_active)"
batches=$(sample cpns_store_batches_total)
[ "$batches" -ge 1 ] || fail "no store batch counted"
[ "$(sample cpns_store_batch_size_count)" = "$batches" ] || fail "batch size count != batches"
[ "$(sample cpns_store_commit_seconds_count)" = "$batches" ] || fail "commit count != batches"
# Every success stored an assignment, every failure a lockout row, each
# committed before the gateway got its answer (a suite-2 attempt counts as
# a failure before KE2 leaves; a verified ke3 then deletes that row too,
# so suite 2 writes more jobs than this minimum).
jobs=$(sample cpns_store_batch_size_sum)
[ "$jobs" -ge $((N + M + 1)) ] || fail "jobs in batches: $jobs, want at least $((N + M + 1))"
ok "counters: $N successes, $((M + 1)) failed authentications, $batches store batch(es) of $jobs job(s)"

# The exposition grammar (text format 0.0.4), strictly: HELP/TYPE before a
# family's samples, one TYPE per family, names, escaped label values,
# float values, histogram buckets cumulative and ending in +Inf = _count.
awk '
  function bad(why) { printf "line %d: %s: %s\n", NR, why, $0; err = 1; exit 1 }
  /^# HELP / {
    if ($3 !~ /^[a-zA-Z_:][a-zA-Z0-9_:]*$/) bad("HELP name")
    if (help[$3]++) bad("second HELP")
    next
  }
  /^# TYPE / {
    if (NF != 4 || $3 !~ /^[a-zA-Z_:][a-zA-Z0-9_:]*$/) bad("TYPE line")
    if ($4 !~ /^(counter|gauge|histogram|summary|untyped)$/) bad("TYPE kind")
    if (type[$3] != "") bad("second TYPE")
    type[$3] = $4; fam = $3; last = ""
    next
  }
  /^#/ { next }
  /^$/ { bad("empty line") }
  {
    if ($0 !~ /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*"(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*")*\})? (\+Inf|-Inf|NaN|[-+]?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?)$/)
      bad("sample syntax")
    name = $1; sub(/\{.*/, "", name)
    base = name
    if (type[fam] == "histogram") sub(/_(bucket|sum|count)$/, "", base)
    if (base != fam) bad("sample outside its family " fam)
    if (name ~ /_bucket$/) {
      if ($2 + 0 < last + 0) bad("bucket not cumulative")
      last = $2
      if ($1 ~ /le="\+Inf"/) inf[fam] = $2
    }
    if (type[fam] == "histogram" && name ~ /_count$/ && inf[fam] != $2) bad("+Inf bucket != _count")
  }
  END { exit err }
' "$T/metrics.txt" >"$T/grammar.out" || fail "exposition: $(cat "$T/grammar.out")"
if command -v promtool >/dev/null 2>&1; then
  promtool check metrics <"$T/metrics.txt" >"$T/promtool.out" 2>&1 ||
    fail "promtool check metrics: $(cat "$T/promtool.out")"
  ok "exposition format: strict grammar check and promtool check metrics pass"
else
  ok "exposition format: strict grammar check passes (promtool not installed)"
fi

server_stop || fail "cpns-server did not stop cleanly"

# Logs: one whole line per exchange, even for the concurrent ones.
grep '^exchange ' "$T/server.log" >"$T/exchanges.log"
[ "$(wc -l <"$T/exchanges.log")" = $((N + M + 1)) ] ||
  fail "exchange lines: $(wc -l <"$T/exchanges.log"), want $((N + M + 1))"
bad=$(grep -Ev '^exchange peer=127\.0\.0\.1:[0-9]+ entity=[^ ]+ user=[^ ]+ result=[A-Za-z]+( suite=[12])?( keyId=[0-9a-f]{32})?( closed="[^"]*")? duration_ms=[0-9]+$' \
  "$T/exchanges.log" || :)
[ -z "$bad" ] || fail "malformed exchange lines: $bad"
grep -v '^exchange ' "$T/server.log" | grep -q 'exchange\|duration_ms' &&
  fail "a piece of an exchange line outside one: $(grep -v '^exchange ' "$T/server.log")"
[ "$(grep -c ' result=success .*keyId=' "$T/exchanges.log")" = $N ] ||
  fail "success lines with a keyId: $(grep -c ' result=success .*keyId=' "$T/exchanges.log")"
grep -q " entity=urn:dev:mac:001122334401 user=alice@example.com result=success suite=2 keyId=$KID1 " \
  "$T/exchanges.log" || fail "the success line lacks the gateway's keyId $KID1"
grep ' result=success' "$T/exchanges.log" | grep -v ' keyId=' && fail "a success without keyId"
grep -v ' result=success' "$T/exchanges.log" | grep ' keyId=' && fail "a failure with a keyId"
ok "log: $((N + M + 1)) whole exchange lines, keyId $KID1 of a success as the gateway stores it"
