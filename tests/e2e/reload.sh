#!/bin/sh
# End to end: SIGHUP rereads the configuration file. A lowered source-burst
# takes effect at once (acknowledged by RELOADING=1 then READY=1 on
# NOTIFY_SOCKET, no sleeps); an option that cannot change live is kept and
# named; a broken file keeps the running configuration and the server
# serving.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/notify_lib.sh"
: "${CPNS_FLOOD:=$CPNS_BUILDDIR/tests/e2e/flood}"
[ -x "$CPNS_FLOOD" ] || { echo "missing program $CPNS_FLOOD" >&2; exit 99; }

ENTITY=urn:dev:mac:0011223344cc
server_init
pwfile alice 'correct horse battery'
user_add alice@example.com "$T/alice.pw"

# write_conf BURST [LISTEN [LOG]]: the configuration file, rewritten in place.
write_conf() {
  (umask 077 && cat >"$T/serve.conf") <<EOF2 || fail "cannot write $T/serve.conf"
[serve]
db = $DB
key-file = $T/server.key
listen = ${2:-127.0.0.1:0}
realm = $REALM
# 1 per second refill: a budget spent stays spent however slowly this runs.
source-rate = 1
source-burst = $1
log = ${3:-stderr}
EOF2
}

# flood_later N: N first KeyRequests from one source (127.1.0.0); prints
# how many got tryLater.
flood_later() {
  "$CPNS_FLOOD" "$SERVER_PORT" "$1" 4 1 >"$T/flood.out" 2>"$T/flood.err" ||
    fail "flood: $(cat "$T/flood.err")"
  sed -n 's/.* tryLater \([0-9]*\) .*/\1/p' "$T/flood.out"
}

# reload WHAT: SIGHUP, then the acknowledgement.
reload() {
  kill -HUP "$SERVER_PID"
  notify_expect "RELOADING=1 MONOTONIC_USEC=*" "$1: RELOADING=1"
  notify_expect "READY=1 STATUS=serving on 127.0.0.1:$SERVER_PORT" "$1: READY=1"
}

write_conf 200
notify_listen_start
server_start_args --config "$T/serve.conf"
notify_expect "READY=1 STATUS=serving on 127.0.0.1:$SERVER_PORT" "start"
later=$(flood_later 40)
[ "$later" = 0 ] || fail "burst 200: $later of 40 got tryLater"

# Lowered to 10: the 160 tokens left are cut to 10. The exchange lines go
# to syslog from now on (none reaches stderr; where there is no /dev/log
# they are dropped).
write_conf 10 127.0.0.1:1 syslog
reload "burst 10"
later=$(flood_later 40)
[ "$later" -ge 25 ] || fail "after reload to burst 10: only $later of 40 got tryLater"
gw_assign "$ENTITY" alice@example.com "$T/alice.pw"
expect_rc 0 "another source after the reload"
ok "source-burst 200 -> 10 by SIGHUP: $later of 40 refused, listen kept"

# A broken file: the running configuration (burst 10, spent) stays.
(umask 077 && printf '[serve]\nsource-burst = lots\n' >"$T/serve.conf")
reload "broken file"
later=$(flood_later 20)
[ "$later" -ge 15 ] || fail "after a broken reload: only $later of 20 got tryLater"
gw_assign "$ENTITY" alice@example.com "$T/alice.pw"
expect_rc 0 "serving after a broken reload"

server_stop || fail "serve did not stop cleanly"
notify_listen_stop
grep -q "reloaded $T/serve.conf: max-conns-per-addr 16, source-rate 1, source-burst 10," \
  "$T/server.log" || fail "no reload line in the log"
grep -q "reload: changed but kept until a restart: listen" "$T/server.log" ||
  fail "changed listen not named"
grep -q "reload: exchange lines now go to syslog" "$T/server.log" || fail "log target not changed"
! grep -q "result=success" "$T/server.log" || fail "an exchange line on stderr after log = syslog"
grep -q "$T/serve.conf:2: source-burst: expected a number" "$T/server.log" ||
  fail "broken file's fault not logged"
grep -q "reload: $T/serve.conf refused, the running configuration stays" "$T/server.log" ||
  fail "broken reload not logged"
ok "a broken file on SIGHUP is logged with FILE:LINE, the server kept serving"
