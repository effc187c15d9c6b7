#!/bin/sh
# End to end: `serve --log syslog --log-facility local3` sends the startup
# line and one message per exchange to syslog, at the levels cpns-server(1)
# gives (success info, tryLater notice, closed without an answer info), and
# no exchange line to stderr. The server runs in a mount namespace whose
# /dev/log is the test's own socket (tests/e2e/syslogcap); skipped (77) where
# no mount namespace can be made (not root, no CAP_SYS_ADMIN).
E2E_SQLITE_ONLY="the log target does not depend on the store backend"
. "$(dirname "$0")/lib.sh"

: "${CPNS_SYSLOGCAP:=$CPNS_BUILDDIR/tests/e2e/syslogcap}"
[ -x "$CPNS_SYSLOGCAP" ] || fail "missing $CPNS_SYSLOGCAP"
if ! unshare -m true 2>/dev/null; then
  echo "SKIP: cannot make a mount namespace (unshare -m) to give the server a /dev/log"
  exit 77
fi

server_init
pwfile alice 'correct horse battery'
pwfile wrong 'not the password'
user_add alice@example.com "$T/alice.pw"

# A /dev of our own: the few nodes a program needs, and log = our socket.
mkdir "$T/dev" || fail "mkdir"
for node in null zero random urandom; do
  : >"$T/dev/$node" || fail "touch $node"
done
mkfifo "$T/cap.fifo" || fail "mkfifo"
# listening, success, closed, tryLater, shutting down
"$CPNS_SYSLOGCAP" "$T/dev/log" 5 >"$T/cap.fifo" 2>"$T/cap.err" &
CAP_PID=$!
exec 4<"$T/cap.fifo"
IFS= read -r line <&4 || fail "syslogcap did not start: $(cat "$T/cap.err")"
[ "$line" = ready ] || fail "syslogcap: $line"
cat <&4 >"$T/syslog.out" &
CAP_DRAIN=$!
exec 4<&-

cat >"$T/server-ns.sh" <<EOS
#!/bin/sh
# Runs cpns-server with $T/dev as /dev in a private mount namespace.
exec unshare -m --propagation private sh "$T/server-ns-inner.sh" "\$@"
EOS
cat >"$T/server-ns-inner.sh" <<EOS
for node in null zero random urandom; do
  mount --bind "/dev/\$node" "$T/dev/\$node" || exit 1
done
mount --rbind "$T/dev" /dev || exit 1
exec "$CPNS_SERVER" "\$@"
EOS
REAL_SERVER=$CPNS_SERVER
chmod 700 "$T/server-ns.sh" || fail "chmod"
CPNS_SERVER=$T/server-ns.sh
server_start --log syslog --log-facility local3 --lockout-threshold 1
CPNS_SERVER=$REAL_SERVER

gw_assign urn:dev:mac:001122334401 alice@example.com "$T/alice.pw"
expect_rc 0 "success"
kid=$(field keyId "$T/gw.out")
gw_assign urn:dev:mac:001122334402 alice@example.com "$T/wrong.pw"
expect_rc 3 "wrong password"
gw_assign urn:dev:mac:001122334402 alice@example.com "$T/alice.pw"
expect_rc 4 "locked out"
server_stop || fail "cpns-server did not stop cleanly"
wait "$CAP_PID" || fail "syslogcap: $(cat "$T/cap.err"; cat "$T/syslog.out")"
wait "$CAP_DRAIN"

# local3 = 19: <PRI> = 19 * 8 + level (info 6, notice 5).
msg() {
  sed -n "$1p" "$T/syslog.out"
}
msg 1 | grep -Eq '^<158>.* cpns-server\[[0-9]+\]: listening on 127\.0\.0\.1:[0-9]+$' ||
  fail "startup message: $(msg 1)"
msg 2 | grep -Eq "^<158>.*: exchange peer=127\.0\.0\.1:[0-9]+ entity=urn:dev:mac:001122334401 user=alice@example.com result=success suite=2 keyId=$kid duration_ms=[0-9]+\$" ||
  fail "success message: $(msg 2)"
msg 3 | grep -Eq '^<158>.*: exchange .* result=none suite=2 closed=' ||
  fail "failure message: $(msg 3)"
msg 4 | grep -Eq '^<157>.*: exchange .* result=tryLater ' || fail "tryLater message: $(msg 4)"
msg 5 | grep -Eq '^<158>.*: shutting down \(signal 15\)$' || fail "shutdown message: $(msg 5)"
grep -q '^exchange ' "$T/server.log" && fail "exchange lines on stderr too: $(cat "$T/server.log")"
ok "syslog (local3): startup and shutdown info, success info with keyId, closed info, tryLater notice; none on stderr"
