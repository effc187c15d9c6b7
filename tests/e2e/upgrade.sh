#!/bin/sh
# End to end: a schema-1 database made by the previous release (fixture
# tests/e2e/v1, see make.sh there) is upgraded by serve: its credential
# records sealed, no one enrolled again, assignments kept; afterwards
# neither StoredKey nor ServerKey of any user is anywhere in its files. Its
# version-1 key file gains the suite-2 keys; the upgraded server enables
# suite 1 only, so its users are served suite 1 by gateways that allow it
# (--allow-suite1); once suite 2 is enabled, a user enrolled before it is
# listed with the command that enrolls it again, after which a default
# gateway (suite 2 only) gets its key.
# Then a schema-2 database (fixture tests/e2e/v2) is upgraded to 3 (suite-2
# records) by any command: users, assignments and lockout rows kept.
# Then a schema-3 database (fixture tests/e2e/v3) is upgraded to 4: the
# binding a deleted user left behind is revoked (history, audit row).
# SQLite only: the fixture is a release-1 SQLite file, and the secrets are
# searched in the file and its WAL (sealed_at_rest.sh checks PostgreSQL).
E2E_SQLITE_ONLY="upgrades SQLite files of release 1"
. "$(dirname "$0")/lib.sh"

V1="$(cd "$(dirname "$0")" && pwd)/v1"

# spaced_hex FILE: the file's octets as " hh hh ...", for aligned searches.
spaced_hex() {
  od -An -tx1 -v "$1" | tr '\n' ' ' | tr -s ' '
  echo
}

# v1_secrets: the StoredKey and ServerKey of every plain record ("CPCR",
# version 1, suite 1) in the fixture, one spaced hex string per line.
v1_secrets() {
  spaced_hex "$V1/server.db" | sed 's/ 43 50 43 52 01 01 00 00 /\n&/g' | sed -n '2,$p' |
    while IFS= read -r rec; do
      printf '%s\n' "$rec" | cut -c97-192   # octets 32..63: StoredKey
      printf '%s\n' "$rec" | cut -c193-288  # octets 64..95: ServerKey
    done
}

# secrets_absent WHAT: fails if a secret of v1_secrets is in the database or its WAL.
secrets_absent() {
  for f in "$T/server.db" "$T/server.db-wal"; do
    [ -e "$f" ] || continue
    spaced_hex "$f" >"$T/hex"
    while IFS= read -r s; do
      ! grep -q -- "$s" "$T/hex" || fail "$1: a StoredKey or ServerKey is in $(basename "$f")"
    done <"$T/secrets"
  done
}

fixture() {
  rm -f "$T"/server.db*
  cp "$V1/server.db" "$V1/server.key" "$T/"
  chmod 600 "$T/server.key" "$T/server.db"
}

for u in alice bob; do
  cp "$V1/$u.pw" "$T/$u.pw"
  chmod 600 "$T/$u.pw"
done
v1_secrets >"$T/secrets"
[ "$(wc -l <"$T/secrets")" = 4 ] || fail "the fixture should hold 2 plain records: $(cat "$T/secrets")"

# Commands without the key file refuse a version-1 database and say which upgrade it.
fixture
for cmd in "user list" assignments "user del --user bob@example.com"; do
  # shellcheck disable=SC2086
  "$CPNS_SERVER" $cmd --db "$T/server.db" >"$T/cmd.out" 2>&1 && fail "$cmd accepted schema 1"
  grep -q 'schema version 1.*cpns-server serve.*cpns-server user add.*--key-file' "$T/cmd.out" ||
    fail "$cmd said: $(cat "$T/cmd.out")"
done
spaced_hex "$T/server.db" | grep -q -- "$(head -n 1 "$T/secrets")" ||
  fail "a refused command changed the database"
ok "user list, assignments, user del: refused on schema 1, naming serve and user add"

# serve upgrades it, and the key file.
[ "$(stat -c %s "$T/server.key")" = 72 ] || fail "the fixture's key file is not version 1"
server_start
grep -q 'sealed 2 credential record(s)' "$T/server.log" || fail "no upgrade reported"
grep -q 'upgraded key file .* to version 2' "$T/server.log" || fail "no key file upgrade reported"
[ "$(stat -c %s "$T/server.key")" = 296 ] || fail "key file: $(stat -c %s "$T/server.key") octets"
[ "$(stat -c %a "$T/server.key")" = 600 ] || fail "key file mode $(stat -c %a "$T/server.key")"
[ "$(head -c 8 "$T/server.key")" = CPNSSK02 ] || fail "key file magic: $(head -c 8 "$T/server.key")"
ls "$T" | grep -q 'server.key.tmp' && fail "a temporary key file is left: $(ls "$T")"
ok "serve upgraded the key file to version 2 (suite-2 keys added, mode 0600, no temporary file)"
"$CPNS_SERVER" assignments --db "$T/server.db" >"$T/assignments.out" 2>&1 ||
  fail "assignments after the upgrade: $(cat "$T/assignments.out")"
cmp -s "$T/assignments.out" "$V1/assignments.txt" || fail "assignments changed in the upgrade"
gw_assign urn:dev:mac:0011223344bb alice@example.com "$T/alice.pw"
expect_rc 4 "alice, suite 2 only, on the upgraded (suite-1) server"
expect_result unsupportedSuite "alice, suite 2 only, on the upgraded (suite-1) server"
gw_assign urn:dev:mac:0011223344bb alice@example.com "$T/alice.pw" --allow-suite1
expect_rc 0 "alice after the upgrade"
[ "$(field suite "$T/gw.out")" = 1 ] || fail "alice: suite $(field suite "$T/gw.out")"
GW_KS="$T/bob.ks" gw_assign urn:dev:mac:0011223344aa bob@example.com "$T/bob.pw" --allow-suite1
expect_result entityConflict "bob on alice's entity from schema 1"
pwfile wrong 'wrong password'
GW_KS="$T/bob.ks" gw_assign urn:dev:mac:0011223344cc bob@example.com "$T/wrong.pw" --allow-suite1
expect_result authenticationFailed "bob with a wrong password"
GW_KS="$T/bob.ks" gw_assign urn:dev:mac:0011223344cc bob@example.com "$T/bob.pw" --allow-suite1
expect_rc 0 "bob after the upgrade"
ok "serve upgraded schema 1: alice and bob get keys (suite 1) without enrolling again, old assignment kept"
secrets_absent "serving"
server_stop || fail "cpns-server did not stop cleanly"
secrets_absent "after serve"
"$CPNS_SERVER" user list --db "$T/server.db" >"$T/list.out" 2>&1 || fail "user list: $(cat "$T/list.out")"
if ! grep -q '^default-ops: 3$' "$T/list.out" || ! grep -q '^default-mem-kib: 65536$' "$T/list.out"
then
  fail "upgraded defaults: $(cat "$T/list.out")"
fi
[ "$(grep -c '^defaults: no' "$T/list.out")" = 2 ] || fail "user list: $(cat "$T/list.out")"
grep -q '^enabled-suites: 1$' "$T/list.out" || fail "upgraded suites: $(cat "$T/list.out")"
[ "$(grep -c '^suites: 1$' "$T/list.out")" = 2 ] || fail "user list: $(cat "$T/list.out")"
grep -q '^missing: ' "$T/list.out" && fail "user list, suite 1 only: $(cat "$T/list.out")"
ok "no StoredKey or ServerKey in the database or WAL; defaults 3/65536, both users marked; suite 1"

# Suite 2 enabled: alice and bob have no suite-2 record. A default gateway
# (suite 2 only) fails for them as for an unknown user; one that allows
# suite 1 is still served with it.
"$CPNS_SERVER" suites --db "$T/server.db" --set 2,1 >"$T/suites.out" 2>&1 ||
  fail "suites --set 2,1: $(cat "$T/suites.out")"
grep -q '^suites: 2,1$' "$T/suites.out" || fail "suites --set 2,1: $(cat "$T/suites.out")"
server_start
grep -q '^suites: 2 (OPAQUE-3DH), then 1 (Argon2id)$' "$T/server.log" ||
  fail "serve does not enable suite 2: $(cat "$T/server.log")"
gw_assign urn:dev:mac:0011223344bb alice@example.com "$T/alice.pw"
expect_rc 3 "alice without a suite-2 record, suite 2 only"
gw_assign urn:dev:mac:0011223344bb alice@example.com "$T/alice.pw" --allow-suite1
expect_rc 0 "alice without a suite-2 record, suite 1 allowed"
[ "$(field suite "$T/gw.out")" = 1 ] || fail "alice: suite $(field suite "$T/gw.out"), want 1"
ok "suite 2 enabled: alice (enrolled before it) is served suite 1 when the gateway allows it"
server_stop || fail "cpns-server did not stop cleanly"
"$CPNS_SERVER" user list --db "$T/server.db" >"$T/list.out" 2>&1 || fail "user list: $(cat "$T/list.out")"
[ "$(grep -c '^missing: suite 2 ' "$T/list.out")" = 2 ] || fail "user list: $(cat "$T/list.out")"
grep -q "^re-enroll: cpns-server user passwd --db $T/server.db --key-file KEY-FILE --user alice@example.com\$" \
  "$T/list.out" || fail "user list, no re-enroll command for alice: $(cat "$T/list.out")"
# The command it names, with the key file: alice keeps her assignments.
"$CPNS_SERVER" user passwd --db "$T/server.db" --key-file "$T/server.key" \
  --user alice@example.com --password-file "$T/alice.pw" >"$T/pw.out" 2>&1 ||
  fail "user passwd: $(cat "$T/pw.out")"
"$CPNS_SERVER" user list --db "$T/server.db" >"$T/list.out" 2>&1 || fail "user list: $(cat "$T/list.out")"
[ "$(grep -c '^missing: suite 2 ' "$T/list.out")" = 1 ] || fail "user list: $(cat "$T/list.out")"
sed -n '/^user: alice@example.com$/,/^$/p' "$T/list.out" | grep -q '^suites: 2,1$' ||
  fail "alice re-enrolled: $(cat "$T/list.out")"
server_start
gw_assign urn:dev:mac:0011223344bb alice@example.com "$T/alice.pw"
expect_rc 0 "alice re-enrolled, suite 2 only"
[ "$(field suite "$T/gw.out")" = 2 ] || fail "alice: suite $(field suite "$T/gw.out"), want 2"
ok "user list names the users without a suite-2 record and the command; re-enrolled alice gets suite 2"
server_stop || fail "cpns-server did not stop cleanly"

# user add upgrades it too.
fixture
pwfile carol 'carol carol carol'
user_add carol@example.com "$T/carol.pw" 1 8
grep -q 'sealed 2 credential record(s)' "$T/useradd.err" || fail "user add did not upgrade"
grep -q 'upgraded key file .* to version 2' "$T/useradd.err" || fail "user add: key file not upgraded"
"$CPNS_SERVER" user list --db "$T/server.db" >"$T/list.out" 2>&1 || fail "user list: $(cat "$T/list.out")"
[ "$(grep -c '^user: ' "$T/list.out")" = 3 ] || fail "user list: $(cat "$T/list.out")"
secrets_absent "after user add"
ok "user add upgraded schema 1 as well"

# --- schema 2 -> 3: the users table rebuilt (record2, a nullable suite-1
# record), suites 1; any command does it, the key file is not needed.
V2="$(cd "$(dirname "$0")" && pwd)/v2"
fixture_v2() {
  rm -f "$T"/server.db*
  cp "$V2/server.db" "$V2/server.key" "$T/"
  cp "$V2/alice.pw" "$T/alice2.pw"
  cp "$V2/bob.pw" "$T/bob2.pw"
  chmod 600 "$T/server.key" "$T/server.db" "$T/alice2.pw" "$T/bob2.pw"
}
fixture_v2
"$CPNS_SERVER" assignments --db "$T/server.db" >"$T/assignments.out" 2>&1 ||
  fail "assignments on schema 2: $(cat "$T/assignments.out")"
cmp -s "$T/assignments.out" "$V2/assignments.txt" ||
  fail "assignments changed in the upgrade to 3: $(cat "$T/assignments.out")"
"$CPNS_SERVER" user list --db "$T/server.db" >"$T/list.out" 2>&1 || fail "user list: $(cat "$T/list.out")"
[ "$(grep -c '^defaults: yes$' "$T/list.out")" = 2 ] && grep -q '^default-ops: 1$' "$T/list.out" ||
  fail "user list after the upgrade to 3: $(cat "$T/list.out")"
if command -v sqlite3 >/dev/null 2>&1; then
  [ "$(sqlite3 "$T/server.db" 'PRAGMA user_version')" = 4 ] || fail "schema version not 4"
  [ "$(sqlite3 "$T/server.db" "SELECT value FROM settings WHERE name = 'suites'")" = 1 ] ||
    fail "upgraded suites not 1"
  [ "$(sqlite3 "$T/server.db" "SELECT failures FROM lockout WHERE user_id = 'bob@example.com'")" = 1 ] ||
    fail "bob's lockout row lost in the upgrade"
  [ "$(sqlite3 "$T/server.db" "SELECT count(*) FROM users WHERE record2 IS NULL AND credential IS NOT NULL")" = 2 ] ||
    fail "users after the upgrade: $(sqlite3 "$T/server.db" 'SELECT user_id FROM users')"
fi
server_start
# Suite 1 only after the upgrade (suites 1): a gateway that allows it.
gw_assign urn:dev:mac:0011223344cc alice@example.com "$T/alice2.pw" --allow-suite1
expect_rc 0 "alice after the upgrade to 3"
[ "$(field suite "$T/gw.out")" = 1 ] || fail "alice after the upgrade to 3: suite $(field suite "$T/gw.out")"
GW_KS="$T/bob2.ks" gw_assign urn:dev:mac:0011223344aa bob@example.com "$T/bob2.pw" --allow-suite1
expect_result entityConflict "bob on alice's entity from schema 2"
server_stop || fail "cpns-server did not stop cleanly"
ok "schema 2 upgraded to 3 and 4 by assignments: users, defaults, assignments and lockout rows kept"

# --- schema 3 -> 4 (fixture tests/e2e/v3): history and audit tables; the
# binding that the deleted bob left behind is revoked, so bob enrolled
# again (someone else) inherits nothing.
V3="$(cd "$(dirname "$0")" && pwd)/v3"
rm -f "$T"/server.db*
cp "$V3/server.db" "$V3/server.key" "$T/"
cp "$V3/alice.pw" "$T/alice3.pw"
cp "$V3/bob.pw" "$T/bob3.pw"
chmod 600 "$T/server.key" "$T/server.db" "$T/alice3.pw" "$T/bob3.pw"
grep -q '^user: bob@example.com$' "$V3/assignments.txt" || fail "fixture v3 without bob's binding"
"$CPNS_SERVER" assignments --db "$T/server.db" >"$T/assignments.out" 2>&1 ||
  fail "assignments on schema 3: $(cat "$T/assignments.out")"
sed -n '/^entity: urn:dev:mac:00112233aa00$/,/^$/p' "$V3/assignments.txt" >"$T/alice3.txt"
cmp -s "$T/assignments.out" "$T/alice3.txt" ||
  fail "after the upgrade to 4, want alice's binding only: $(cat "$T/assignments.out")"
if command -v sqlite3 >/dev/null 2>&1; then
  [ "$(sqlite3 "$T/server.db" 'PRAGMA user_version')" = 4 ] || fail "schema version not 4"
fi
"$CPNS_SERVER" assignments --db "$T/server.db" --history >"$T/hist.out" 2>&1 ||
  fail "assignments --history: $(cat "$T/hist.out")"
sed -n '/^entity: urn:dev:mac:00112233bb00$/,/^$/p' "$T/hist.out" >"$T/bob3.txt"
grep -q '^user: bob@example.com$' "$T/bob3.txt" && grep -q '^state: revoked$' "$T/bob3.txt" &&
  grep -q '^reason: user deleted before schema 4$' "$T/bob3.txt" ||
  fail "bob's orphaned binding in the history: $(cat "$T/hist.out")"
"$CPNS_SERVER" audit --db "$T/server.db" >"$T/audit.out" 2>&1 || fail "audit: $(cat "$T/audit.out")"
grep -q ' revoked entity=urn:dev:mac:00112233bb00 user=bob@example.com .*source=upgrade' \
  "$T/audit.out" || fail "audit after the upgrade: $(cat "$T/audit.out")"
user_add bob@example.com "$T/alice3.pw" # someone else, with another password
server_start
gw_assign urn:dev:mac:00112233aa00 alice@example.com "$T/alice3.pw"
expect_rc 0 "alice after the upgrade to 4"
GW_KS="$T/carol.ks" gw_assign urn:dev:mac:00112233bb00 alice@example.com "$T/alice3.pw"
expect_rc 0 "alice binds the Entity ID the deleted bob had"
GW_KS="$T/bob3.ks" gw_assign urn:dev:mac:00112233bb00 bob@example.com "$T/alice3.pw"
expect_result entityConflict "the new bob on the Entity ID the old bob had"
server_stop || fail "cpns-server did not stop cleanly"
ok "schema 3 upgraded to 4: alice's binding kept, the deleted bob's revoked (history, audit); the new bob inherits nothing"

if command -v sqlite3 >/dev/null 2>&1; then
  sqlite3 "$T/server.db" 'PRAGMA user_version = 5' || fail "sqlite3"
  "$CPNS_SERVER" user list --db "$T/server.db" >"$T/list.out" 2>&1 && fail "schema 5 accepted"
  grep -q 'schema version 5, newer than this program' "$T/list.out" ||
    fail "schema 5: $(cat "$T/list.out")"
  ok "a newer schema (5) is refused and named"
fi
