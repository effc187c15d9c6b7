#!/bin/sh
# End to end, --json (doc/json.md): `cpns-server user list --json`,
# `cpns-server assignments --json` and `cpns-gateway show --json` parsed with
# jq and checked against what the test made (users, suites, costs,
# assignments, the keyIds the gateways stored); no EUKey in the gateway's
# JSON; output is ASCII (UTF-8 User IDs \u-escaped) and decodes back to the
# stored octets; rows planted in the database with quotes, backslashes and
# control characters (impossible through the NAI / URN grammars) come out
# escaped and decode to what was planted; text that is not UTF-8 (SQLite
# only: PostgreSQL refuses to store it) fails cleanly with exit status 1.
. "$(dirname "$0")/lib.sh"

command -v jq >/dev/null 2>&1 || {
  echo "SKIP: jq not installed (apt-get install jq)"
  exit 77
}

# jqcheck FILE FILTER WHAT: fails unless jq -e FILTER is true on FILE.
jqcheck() {
  jq -e "$2" "$1" >/dev/null 2>"$T/jq.err" ||
    fail "$3: jq '$2' on $(cat "$1") $(cat "$T/jq.err")"
}

# ascii_only FILE WHAT: every octet of FILE is printable ASCII or a newline.
ascii_only() {
  ! LC_ALL=C grep -q '[^ -~]' "$1" || fail "$2: octets beyond printable ASCII: $(cat "$1")"
}

UTF8_USER='jürgen@example.com'
QUOTE_USER="o'neil+{x}@example.com"
ENTITY1=urn:dev:mac:0011223344aa
ENTITY2="urn:x-test:it's(1)*+,;=!\$&~%22q"

server_init 1 8
pwfile pw 'correct horse battery'
"$CPNS_SERVER" suites --db "$DB" --set 2 >/dev/null 2>&1 || fail "suites --set 2"
user_add carol@example.com "$T/pw.pw"
"$CPNS_SERVER" suites --db "$DB" --set 2,1 >/dev/null 2>&1 || fail "suites --set 2,1"
user_add alice@example.com "$T/pw.pw"
user_add "$UTF8_USER" "$T/pw.pw"
user_add "$QUOTE_USER" "$T/pw.pw"
user_add bob@example.com "$T/pw.pw" 2 16

"$CPNS_SERVER" user list --db "$DB" --json >"$T/users.json" 2>"$T/users.err" ||
  fail "user list --json: $(cat "$T/users.err")"
[ "$(wc -l <"$T/users.json")" = 1 ] || fail "user list --json: not one line"
ascii_only "$T/users.json" "user list --json"
grep -q 'j\\u00FCrgen@example.com' "$T/users.json" || fail "user list --json: ü not \\u00FC"
jqcheck "$T/users.json" '.version == 1 and .defaults == {"ops": 1, "memKib": 8}
  and .enabledSuites == [2, 1]' "user list --json, head"
jq -e --arg u "$UTF8_USER" --arg q "$QUOTE_USER" \
  '[.users[].userId] == ["alice@example.com", "bob@example.com", "carol@example.com", $u, $q]' \
  "$T/users.json" >/dev/null || fail "user list --json: User IDs $(jq -c '[.users[].userId]' "$T/users.json")"
jqcheck "$T/users.json" '.users[] | select(.userId == "alice@example.com")
  | . == {"userId": "alice@example.com", "suites": [2, 1], "ops": 1, "memKib": 8,
          "defaults": true, "missingSuites": []}' "user list --json, alice"
jqcheck "$T/users.json" '.users[] | select(.userId == "bob@example.com")
  | .ops == 2 and .memKib == 16 and .defaults == false' "user list --json, bob (own costs)"
jqcheck "$T/users.json" '.users[] | select(.userId == "carol@example.com")
  | .suites == [2] and .missingSuites == [1] and .defaults == true' \
  "user list --json, carol (enrolled before suite 1 was enabled)"
ok "user list --json: defaults, suites, 5 users with their suites, costs and missing suites"

before=$(date +%s)
server_start
GW_KS=$T/alice.ks
gw_assign "$ENTITY1" alice@example.com "$T/pw.pw"
expect_rc 0 "alice assign"
KEY1=$(field keyId "$T/gw.out")
GW_KS=$T/utf8.ks
gw_assign "$ENTITY2" "$UTF8_USER" "$T/pw.pw" --mode pne-pn-gw
expect_rc 0 "$UTF8_USER assign"
KEY2=$(field keyId "$T/gw.out")
GW_KS=$T/bob.ks
gw_assign "$ENTITY1" bob@example.com "$T/pw.pw"
expect_rc 4 "bob assign of alice's Entity ID"
expect_result entityConflict "bob assign of alice's Entity ID"
after=$(date +%s)
server_stop || fail "cpns-server did not stop cleanly"

"$CPNS_SERVER" assignments --db "$DB" --json >"$T/assign.json" 2>"$T/assign.err" ||
  fail "assignments --json: $(cat "$T/assign.err")"
ascii_only "$T/assign.json" "assignments --json"
jq -e --arg e1 "$ENTITY1" --arg e2 "$ENTITY2" --arg u2 "$UTF8_USER" --arg k1 "$KEY1" \
  --arg k2 "$KEY2" '.version == 1 and (.assignments | length) == 2
  and (.assignments[0] | .entityId == $e1 and .userId == "alice@example.com"
       and .mode == "pn-gw" and .keyId == $k1)
  and (.assignments[1] | .entityId == $e2 and .userId == $u2
       and .mode == "pne-pn-gw" and .keyId == $k2)' "$T/assign.json" >/dev/null ||
  fail "assignments --json: $(cat "$T/assign.json")"
jq -e --argjson lo "$before" --argjson hi "$after" '.assignments | all(
  (.assignedAt | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"))
  and (.assignedAt | fromdateiso8601) * 1000 == .assignedAtMs
  and .assignedAtMs >= $lo * 1000 and .assignedAtMs <= $hi * 1000
  and (.source | test("^127\\.0\\.0\\.1:[0-9]+$")))' "$T/assign.json" >/dev/null ||
  fail "assignments --json, times (from $before to $after), sources: $(cat "$T/assign.json")"
ok "assignments --json: 2 assignments, Entity IDs, User IDs, modes, keyIds of the gateways, times, sources"

# The gateway's key store: the keyId it received, never the EUKey.
"$CPNS_GATEWAY" show --keystore "$T/utf8.ks" --device-key "$T/gw.dk" --json >"$T/show.json" \
  2>"$T/show.err" || fail "show --json: $(cat "$T/show.err")"
"$CPNS_GATEWAY" show --keystore "$T/utf8.ks" --device-key "$T/gw.dk" --reveal-key \
  >"$T/show.txt" 2>&1 || fail "show --reveal-key: $(cat "$T/show.txt")"
EUKEY=$(field eukey "$T/show.txt")
[ ${#EUKEY} = 64 ] || fail "show --reveal-key: no EUKey: $(cat "$T/show.txt")"
ascii_only "$T/show.json" "show --json"
jq -e --arg e "$ENTITY2" --arg u "$UTF8_USER" --arg k "$KEY2" --arg r "$REALM" \
  --argjson lo "$before" --argjson hi "$after" '. == {"version": 1, "realm": $r, "entityId": $e,
  "userId": $u, "mode": "pne-pn-gw", "keyId": $k, "assignedAt": .assignedAt,
  "assignedAtMs": .assignedAtMs}
  and (.assignedAt | fromdateiso8601) * 1000 == .assignedAtMs
  and .assignedAtMs >= $lo * 1000 and .assignedAtMs <= $hi * 1000' "$T/show.json" >/dev/null ||
  fail "show --json: $(cat "$T/show.json")"
! grep -qi "$EUKEY" "$T/show.json" || fail "show --json holds the EUKey"
rc=0
"$CPNS_GATEWAY" show --keystore "$T/utf8.ks" --device-key "$T/gw.dk" --json --reveal-key \
  >"$T/show2.out" 2>"$T/show2.err" || rc=$?
[ "$rc" = 2 ] && [ ! -s "$T/show2.out" ] ||
  fail "show --json --reveal-key: exit $rc, want 2 and no output: $(cat "$T/show2.out")"
ok "show --json: realm, Entity ID, User ID, mode, the keyId received; no EUKey; with --reveal-key refused (2)"

# Revoke with a reason holding what JSON must escape; the history keeps the key.
REASON='lost "it" \ at the café 😀'
"$CPNS_SERVER" assignment revoke --db "$DB" --entity-id "$ENTITY1" --reason "$REASON" \
  >"$T/revoke.out" 2>&1 || fail "assignment revoke: $(cat "$T/revoke.out")"
revoked=$(date +%s)
# A reason that could not be shown or written as JSON is refused before anything changes.
for bad in "$(printf 'x\377y')" "$(printf 'x\033[31my')" "$(printf 'x\302\233y')"; do
  rc=0
  "$CPNS_SERVER" assignment revoke --db "$DB" --entity-id "$ENTITY2" --reason "$bad" \
    >"$T/badreason.out" 2>&1 || rc=$?
  [ "$rc" = 2 ] || fail "assignment revoke, reason not UTF-8 or with a control: exit $rc, want 2"
done
"$CPNS_SERVER" assignments --db "$DB" --json >"$T/assign2.json" 2>"$T/assign2.err" ||
  fail "assignments --json after revoke: $(cat "$T/assign2.err")"
jq -e --arg e2 "$ENTITY2" '[.assignments[].entityId] == [$e2]
  and (.assignments[0] | has("state") | not)' "$T/assign2.json" >/dev/null ||
  fail "assignments --json after revoke: $(cat "$T/assign2.json")"
"$CPNS_SERVER" assignments --db "$DB" --history --entity-id "$ENTITY1" --json \
  >"$T/history.json" 2>"$T/history.err" || fail "assignments --history --json: $(cat "$T/history.err")"
ascii_only "$T/history.json" "assignments --history --json"
# endedAt: the database's clock in whole seconds (PostgreSQL rounds: +1).
jq -e --arg e1 "$ENTITY1" --arg k1 "$KEY1" --arg r "$REASON" --argjson lo "$before" \
  --argjson hi "$((revoked + 1))" '.version == 1 and (.assignments | length) == 1
  and (.assignments[0] | .entityId == $e1 and .userId == "alice@example.com" and .keyId == $k1
       and .state == "revoked" and .reason == $r
       and (.endedAt | fromdateiso8601) * 1000 == .endedAtMs
       and .endedAtMs >= $lo * 1000 and .endedAtMs <= $hi * 1000
       and .endedAtMs >= .assignedAtMs and (.source | test("^127\\.0\\.0\\.1:")))' \
  "$T/history.json" >/dev/null || fail "assignments --history --json: $(cat "$T/history.json")"
"$CPNS_SERVER" assignments --db "$DB" --history --json >"$T/history2.json" 2>&1 ||
  fail "assignments --history --json (all): $(cat "$T/history2.json")"
jq -e --arg e2 "$ENTITY2" '[.assignments[] | [.state, .endedAt, .endedAtMs, .reason]] ==
  [["revoked", .assignments[0].endedAt, .assignments[0].endedAtMs, .assignments[0].reason],
   ["current", null, null, null]] and .assignments[1].entityId == $e2' "$T/history2.json" \
  >/dev/null || fail "assignments --history --json (all): $(cat "$T/history2.json")"
ok "assignments --history --json: the revoked key with its reason and end, the current one with nulls"

# The audit trail: every change the test made, in order, with its values.
"$CPNS_SERVER" audit --db "$DB" --json >"$T/audit.json" 2>"$T/audit.err" ||
  fail "audit --json: $(cat "$T/audit.err")"
ascii_only "$T/audit.json" "audit --json"
jq -e --arg u "$UTF8_USER" --arg q "$QUOTE_USER" '.version == 1
  and ([.events[] | select(.event == "user-added") | .userId] | sort) ==
      (["alice@example.com", "bob@example.com", "carol@example.com", $u, $q] | sort)
  and ([.events[] | select(.event == "user-added") | .source] | unique) == ["local"]
  and ([.events[].id] | . == sort and . == unique)
  and ([.events[].timeMs] | . == sort)
  and all(.events[]; (.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$"))
      and ((.time[0:19] + "Z") | fromdateiso8601) * 1000 + (.time[20:23] | tonumber) == .timeMs)' \
  "$T/audit.json" >/dev/null || fail "audit --json, users and times: $(cat "$T/audit.json")"
jq -e --arg e1 "$ENTITY1" --arg e2 "$ENTITY2" --arg u2 "$UTF8_USER" --arg k1 "$KEY1" \
  --arg k2 "$KEY2" --arg r "$REASON" '[.events[] | select(.entityId != null)
  | [.event, .entityId, .userId, .keyId, (.source | sub(":[0-9]+$"; ""))]] ==
  [["assigned", $e1, "alice@example.com", $k1, "127.0.0.1"],
   ["assigned", $e2, $u2, $k2, "127.0.0.1"],
   ["conflict", $e1, "bob@example.com", (.events[] | select(.event == "conflict") | .keyId),
    "127.0.0.1"],
   ["revoked", $e1, "alice@example.com", $k1, "local"]]
  and (.events[] | select(.event == "revoked") | .result == $r)
  and (.events[] | select(.event == "conflict") | .result == "entityConflict"
       and (.keyId | test("^[0-9a-f]{32}$")))' \
  "$T/audit.json" >/dev/null || fail "audit --json, assignments: $(cat "$T/audit.json")"
! grep -qi "$EUKEY" "$T/audit.json" || fail "audit --json holds the EUKey"
"$CPNS_SERVER" audit --db "$DB" --json --user bob@example.com >"$T/audit_bob.json" 2>&1 ||
  fail "audit --json --user: $(cat "$T/audit_bob.json")"
jq -e '[.events[] | .event] == ["user-added", "conflict"]
  and all(.events[]; .userId == "bob@example.com")' "$T/audit_bob.json" >/dev/null ||
  fail "audit --json --user bob: $(cat "$T/audit_bob.json")"
"$CPNS_SERVER" audit --db "$DB" --json --since "$((after + 3600))" >"$T/audit_none.json" 2>&1 ||
  fail "audit --json --since: $(cat "$T/audit_none.json")"
[ "$(cat "$T/audit_none.json")" = '{"version":1,"events":[]}' ] ||
  fail "audit --json --since an hour ahead: $(cat "$T/audit_none.json")"
ok "audit --json: users added, 2 assigned, the conflict, the revoke with its reason, in order; --user, --since; no EUKey"

# Hostile rows planted in the database: what the grammars forbid but a
# damaged or tampered store may hold.
ZERO16=00000000000000000000000000000000
ZERO72=$ZERO16$ZERO16$ZERO16$ZERO16'0000000000000000'
if [ "$CPNS_E2E_BACKEND" = pg ]; then
  pg_psql "INSERT INTO assignments(entity_id, user_id, mode, key_id, sealed_eukey, assigned_at) VALUES
    (E'urn:x:\"q\"\\\\b\\n\\t\\x01\\x1b[31m\\u00e9\\U0001F600', E'u\"\\\\@x', 0,
     '\\x$ZERO16', '\\x$ZERO72', 0)" >/dev/null || fail "psql: cannot plant the hostile row"
else
  command -v sqlite3 >/dev/null 2>&1 || {
    echo "SKIP: sqlite3 not installed (apt-get install sqlite3)"
    exit 77
  }
  # 22 = ", 5c = \, 0a 09 01 1b: controls, c3a9 = é, f09f9880 = U+1F600.
  sqlite3 "$DB" "INSERT INTO assignments(entity_id, user_id, mode, key_id, sealed_eukey, assigned_at) VALUES
    (CAST(X'75726e3a783a2271225c620a09011b5b33316dc3a9f09f9880' AS TEXT),
     CAST(X'75225c4078' AS TEXT), 0, X'$ZERO16', X'$ZERO72', 0)" ||
    fail "sqlite3: cannot plant the hostile row"
fi
"$CPNS_SERVER" assignments --db "$DB" --json >"$T/hostile.json" 2>"$T/hostile.err" ||
  fail "assignments --json, hostile row: $(cat "$T/hostile.err")"
ascii_only "$T/hostile.json" "assignments --json, hostile row"
grep -qF '"entityId":"urn:x:\"q\"\\b\n\t\u0001\u001B[31m\u00E9\uD83D\uDE00"' "$T/hostile.json" ||
  fail "assignments --json, hostile Entity ID not escaped as expected: $(cat "$T/hostile.json")"
jq -e --arg e "$(printf 'urn:x:"q"\\b\n\t\001\033[31mé😀')" '.assignments[]
  | select(.userId == "u\"\\@x") | .entityId == $e and .keyId == "'$ZERO16'"
  and .assignedAt == "1970-01-01T00:00:00Z" and .assignedAtMs == 0' "$T/hostile.json" >/dev/null ||
  fail "assignments --json, hostile row decodes to something else: $(cat "$T/hostile.json")"
[ "$(jq '.assignments | length' "$T/hostile.json")" = 2 ] || fail "assignments --json: rows lost"
ok "assignments --json: quotes, backslashes, controls, é and U+1F600 escaped and decoded back"

if [ "$CPNS_E2E_BACKEND" = sqlite ]; then
  sqlite3 "$DB" "INSERT INTO assignments(entity_id, user_id, mode, key_id, sealed_eukey, assigned_at) VALUES (CAST(X'75726e3a783aff' AS TEXT), 'v@x', 0,
    X'$ZERO16', X'$ZERO72', 0)" || fail "sqlite3: cannot plant the non-UTF-8 row"
  rc=0
  "$CPNS_SERVER" assignments --db "$DB" --json >"$T/bad.json" 2>"$T/bad.err" || rc=$?
  [ "$rc" = 1 ] || fail "assignments --json, not UTF-8: exit $rc, want 1"
  grep -q 'not valid UTF-8' "$T/bad.err" || fail "assignments --json, not UTF-8: $(cat "$T/bad.err")"
  ! jq -e . "$T/bad.json" >/dev/null 2>&1 || fail "assignments --json, not UTF-8: a whole document"
  ok "assignments --json, an Entity ID that is not UTF-8: exit 1, $(cat "$T/bad.err")"
fi
