#!/bin/sh
# End to end: readiness notification. A service manager's socket
# (NOTIFY_SOCKET) gets READY=1 with STATUS= naming the bound address only
# once the server serves: an exchange right after it succeeds, with no
# waiting for a log line. SIGTERM brings STOPPING=1.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/notify_lib.sh"

ENTITY=urn:dev:mac:0011223344aa
server_init
pwfile alice 'correct horse battery'
user_add alice@example.com "$T/alice.pw"
notify_listen_start

# Started by hand, not through server_start (which waits for the log line).
"$CPNS_SERVER" serve --db "$DB" --key-file "$T/server.key" --listen 127.0.0.1:0 \
  --realm "$REALM" 2>>"$T/server.log" &
SERVER_PID=$!
notify_expect "READY=1 STATUS=serving on 127.0.0.1:*" "start"
SERVER_PORT=${NOTIFY_MSG##*:}
case $SERVER_PORT in '' | *[!0-9]*) fail "no port in '$NOTIFY_MSG'" ;; esac
grep -q "listening on 127.0.0.1:$SERVER_PORT\$" "$T/server.log" ||
  fail "READY=1 before the listening line"
gw_assign "$ENTITY" alice@example.com "$T/alice.pw"
expect_rc 0 "exchange right after READY=1"
ok "READY=1 once serving on port $SERVER_PORT; an exchange succeeded at once"

kill -HUP "$SERVER_PID"
notify_expect "RELOADING=1 MONOTONIC_USEC=*" "SIGHUP without --config"
notify_expect "READY=1 STATUS=serving on 127.0.0.1:$SERVER_PORT" "after SIGHUP"
gw_assign "$ENTITY" alice@example.com "$T/alice.pw"
expect_rc 0 "exchange after SIGHUP without --config"

kill -TERM "$SERVER_PID"
notify_expect "STOPPING=1" "SIGTERM"
wait "$SERVER_PID" || fail "serve exited with $?"
SERVER_PID=
notify_listen_stop
grep -q "nothing to reread" "$T/server.log" || fail "SIGHUP without --config not logged"
ok "RELOADING=1/READY=1 on SIGHUP, STOPPING=1 on SIGTERM"
