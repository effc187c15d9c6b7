#!/bin/sh
# End to end: repeated failures lock a User ID out with tryLater, the right
# password included; unknown User IDs are throttled the same way.
. "$(dirname "$0")/lib.sh"

ENTITY=urn:dev:mac:0011223344ff
server_init
pwfile alice 'correct horse battery'
pwfile wrong 'incorrect horse'
user_add alice@example.com "$T/alice.pw"
# A long first back-off: the test does not depend on how fast it runs.
server_start --lockout-base-ms 600000

lock_out "$ENTITY" alice@example.com "$T/wrong.pw"
gw_assign "$ENTITY" alice@example.com "$T/alice.pw"
expect_rc 4 "after 5 failures"
expect_result tryLater "after 5 failures"
ok "5 failures, then tryLater even with the right password (exit 4)"

# Unknown users: failures count per User ID whether it exists or not.
lock_out "$ENTITY" mallory@example.com "$T/wrong.pw"
gw_assign "$ENTITY" mallory@example.com "$T/wrong.pw"
expect_rc 4 "unknown user after 5 failures"
expect_result tryLater "unknown user after 5 failures"
ok "unknown user throttled the same way"
