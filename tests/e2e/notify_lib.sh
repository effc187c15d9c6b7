# The service manager's side of sd_notify() for the end-to-end tests:
# sourced after lib.sh. notify_listen binds $T/notify.sock; the server is
# started with NOTIFY_SOCKET pointing there; notify_expect reads its
# messages in order (blocking, bounded by notify_listen's timeout: no
# sleeps).
: "${CPNS_NOTIFY_LISTEN:=$CPNS_BUILDDIR/tests/e2e/notify_listen}"
[ -x "$CPNS_NOTIFY_LISTEN" ] || { echo "missing program $CPNS_NOTIFY_LISTEN" >&2; exit 99; }
if [ "${CPNS_SD_NOTIFY:-yes}" != yes ]; then
  echo "SKIP: cpns-server built without libsystemd (no sd_notify)"
  exit 77
fi

# notify_listen_start: notify_listen in the background, its messages on fd 4
# (fd 5 holds its standard input open; closing it stops it). Sets
# NOTIFY_SOCKET for the programs started afterwards.
notify_listen_start() {
  mkfifo "$T/notify.out" "$T/notify.in" || fail "mkfifo"
  "$CPNS_NOTIFY_LISTEN" "$T/notify.sock" 30000 <"$T/notify.in" >"$T/notify.out" &
  NOTIFY_PID=$!
  exec 5>"$T/notify.in"
  exec 4<"$T/notify.out"
  IFS= read -r line <&4 || fail "notify_listen did not start"
  [ "$line" = bound ] || fail "notify_listen: $line"
  NOTIFY_SOCKET=$T/notify.sock
  export NOTIFY_SOCKET
}

# notify_expect PATTERN WHAT: the next message matches the case PATTERN
# (sets NOTIFY_MSG).
notify_expect() {
  NOTIFY_MSG=
  IFS= read -r NOTIFY_MSG <&4 || fail "$2: no notification (timeout)"
  case $NOTIFY_MSG in
  $1) ;;
  *) fail "$2: notification '$NOTIFY_MSG', want $1" ;;
  esac
}

# notify_listen_stop: ends notify_listen.
notify_listen_stop() {
  exec 5>&- 4<&-
  wait "$NOTIFY_PID" 2>/dev/null
  unset NOTIFY_SOCKET
}
