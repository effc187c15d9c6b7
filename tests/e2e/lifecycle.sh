#!/bin/sh
# End to end: the lifecycle of a binding and the audit trail. Bind, replace,
# conflict; revoke (history kept, the Entity ID free again) and rebind by
# another user; user del refused while the user has assignments, then with
# --revoke-assignments; the deleted User ID enrolled again inherits nothing;
# user passwd keeps the assignments, the old password fails and the new one
# works (suite 2, the default); a lockout start is audited once; the audit
# table holds one row per event and no secret.
. "$(dirname "$0")/lib.sh"

E1=urn:dev:mac:0011223344aa
S=$CPNS_SERVER

# sql QUERY: runs a query on the database, one row per line, columns by |.
sql() {
  if [ "$CPNS_E2E_BACKEND" = pg ]; then
    pg_psql "$1"
  else
    command -v sqlite3 >/dev/null 2>&1 || return 77
    sqlite3 -readonly "$DB" "$1"
  fi
}
hex_of() { # COLUMN: its lower-case hex in SQL of either backend
  if [ "$CPNS_E2E_BACKEND" = pg ]; then echo "encode($1, 'hex')"; else echo "lower(hex($1))"; fi
}

server_init
pwfile alice 'alice first password'
pwfile alice2 'alice second password'
pwfile bob 'hunter2 hunter2'
pwfile mallory 'mallory owns bob now'
pwfile carol 'carol carol carol'
pwfile wrong 'not the password'
user_add alice@example.com "$T/alice.pw"
user_add bob@example.com "$T/bob.pw"
user_add carol@example.com "$T/carol.pw"
server_start

# --- bind, replace, conflict
gw_assign "$E1" alice@example.com "$T/alice.pw"
expect_rc 0 "alice binds"
kid1=$(field keyId "$T/gw.out")
eukey1=$("$CPNS_GATEWAY" show --keystore "$T/gw.ks" --device-key "$T/gw.dk" --reveal-key |
  sed -n 's/^eukey: //Ip' | tr 'A-F' 'a-f')
[ -n "$eukey1" ] || fail "gateway show --reveal-key printed no EUKey"
gw_assign "$E1" alice@example.com "$T/alice.pw"
expect_rc 0 "alice again"
kid2=$(field keyId "$T/gw.out")
GW_KS="$T/bob.ks" gw_assign "$E1" bob@example.com "$T/bob.pw"
expect_result entityConflict "bob on alice's entity"
ok "bound by alice ($kid1, then $kid2); bob refused with entityConflict"

# --- revoke
"$S" assignment revoke --db "$DB" --entity-id "$E1" --reason "stolen gateway" >"$T/rv.out" 2>&1 ||
  fail "assignment revoke: $(cat "$T/rv.out")"
grep -q "^revoked: $E1\$" "$T/rv.out" || fail "assignment revoke said: $(cat "$T/rv.out")"
[ "$(assignments_count "$E1")" = 0 ] || fail "the revoked binding is still listed"
rc=0
"$S" assignment revoke --db "$DB" --entity-id "$E1" >"$T/rv.out" 2>&1 || rc=$?
[ "$rc" = 3 ] || fail "revoking an unbound Entity ID: exit $rc, want 3"
grep -q "is not bound" "$T/rv.out" || fail "revoking an unbound Entity ID said: $(cat "$T/rv.out")"
rc=0
"$S" assignment revoke --db "$DB" --entity-id "not a urn" >"$T/rv.out" 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "revoking an invalid Entity ID: exit $rc, want 2"
ok "revoke ends the binding; an unbound Entity ID exits 3, an invalid one 2"

GW_KS="$T/bob.ks" gw_assign "$E1" bob@example.com "$T/bob.pw"
expect_rc 0 "bob binds the revoked Entity ID"
kid3=$(field keyId "$T/gw.out")
"$S" assignments --db "$DB" --history --entity-id "$E1" >"$T/hist.out" 2>&1 ||
  fail "assignments --history: $(cat "$T/hist.out")"
[ "$(grep -c '^entity: ' "$T/hist.out")" = 3 ] || fail "history: $(cat "$T/hist.out")"
[ "$(sed -n 's/^keyId: //p' "$T/hist.out" | tr '\n' ' ')" = "$kid1 $kid2 $kid3 " ] ||
  fail "history order: $(cat "$T/hist.out")"
[ "$(sed -n 's/^state: //p' "$T/hist.out" | tr '\n' ' ')" = "replaced revoked current " ] ||
  fail "history states: $(cat "$T/hist.out")"
grep -q '^reason: stolen gateway$' "$T/hist.out" || fail "history reason: $(cat "$T/hist.out")"
[ "$(grep -c '^source: 127.0.0.1:' "$T/hist.out")" = 3 ] || fail "history sources: $(cat "$T/hist.out")"
[ "$(grep -c '^ended: ' "$T/hist.out")" = 2 ] || fail "history ends: $(cat "$T/hist.out")"
"$S" assignments --db "$DB" --entity-id "$E1" >"$T/cur.out" 2>&1 || fail "assignments --entity-id"
[ "$(grep -c '^keyId: ' "$T/cur.out")" = 1 ] && grep -q "^keyId: $kid3\$" "$T/cur.out" &&
  grep -q '^user: bob@example.com$' "$T/cur.out" || fail "current binding: $(cat "$T/cur.out")"
# The ended keys stay sealed: their sealed EUKeys are in the history, the EUKey is nowhere.
[ "$(sql "SELECT count(*) FROM assignment_history WHERE length(sealed_eukey) > 32")" = 2 ] ||
  fail "history rows without their sealed EUKey"
sql "SELECT $(hex_of sealed_eukey) FROM assignment_history" >"$T/sealed.txt"
grep -qF "$eukey1" "$T/sealed.txt" && fail "alice's first EUKey is in the history in plain"
ok "bob rebinds ($kid3); history: $kid1 replaced, $kid2 revoked (reason kept), $kid3 current"

# --- user del: refused, then with --revoke-assignments
rc=0
"$S" user del --db "$DB" --user bob@example.com >"$T/del.out" 2>&1 || rc=$?
[ "$rc" = 3 ] || fail "user del of a user with assignments: exit $rc, want 3"
grep -q -- '--revoke-assignments' "$T/del.out" || fail "user del said: $(cat "$T/del.out")"
[ "$(assignments_count "$E1")" = 1 ] || fail "a refused user del changed the assignments"
"$S" user list --db "$DB" >"$T/list.out" 2>&1 && grep -q '^user: bob@example.com$' "$T/list.out" ||
  fail "a refused user del deleted bob"
"$S" user del --db "$DB" --user bob@example.com --revoke-assignments >"$T/del.out" 2>&1 ||
  fail "user del --revoke-assignments: $(cat "$T/del.out")"
[ "$(assignments_count "$E1")" = 0 ] || fail "bob's binding survived his deletion"
ok "user del refused while bob has an assignment (exit 3, names --revoke-assignments); with it, revoked"

# --- the User ID enrolled again for someone else inherits nothing
user_add bob@example.com "$T/mallory.pw"
[ "$(assignments_count "$E1")" = 0 ] || fail "the new bob inherited a binding"
gw_assign "$E1" alice@example.com "$T/alice.pw"
expect_rc 0 "alice binds the Entity ID of the deleted bob"
kid4=$(field keyId "$T/gw.out")
GW_KS="$T/m.ks" gw_assign "$E1" bob@example.com "$T/mallory.pw"
expect_result entityConflict "the new bob on alice's binding"
ok "bob enrolled again (another password) inherits no binding; alice binds $E1 ($kid4)"

# --- user passwd: assignments kept, old password fails, new one works
"$S" user passwd --db "$DB" --key-file "$T/server.key" --user alice@example.com \
  --password-file "$T/alice2.pw" >"$T/pw.out" 2>&1 || fail "user passwd: $(cat "$T/pw.out")"
grep -q '^suites: 2,1$' "$T/pw.out" || fail "user passwd said: $(cat "$T/pw.out")"
"$S" assignments --db "$DB" --entity-id "$E1" >"$T/cur.out" 2>&1 || fail "assignments"
grep -q "^keyId: $kid4\$" "$T/cur.out" && grep -q '^user: alice@example.com$' "$T/cur.out" ||
  fail "user passwd lost alice's assignment: $(cat "$T/cur.out")"
gw_assign "$E1" alice@example.com "$T/alice.pw"
expect_rc 3 "alice with her old password"
gw_assign "$E1" alice@example.com "$T/alice2.pw"
expect_rc 0 "alice with her new password"
[ "$(field suite "$T/gw.out")" = 2 ] || fail "alice after passwd: suite $(field suite "$T/gw.out")"
kid5=$(field keyId "$T/gw.out")
rc=0
"$S" user passwd --db "$DB" --key-file "$T/server.key" --user nobody@example.com \
  --password-file "$T/alice2.pw" >"$T/pw.out" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q 'no such user' "$T/pw.out" || fail "passwd of an unknown user: $rc $(cat "$T/pw.out")"
ok "user passwd keeps alice's binding; the old password fails, the new one works (suite 2)"

# --- a lockout start is audited once (threshold 5), not each failure
lock_out urn:dev:mac:0011223344cc carol@example.com "$T/wrong.pw"
server_stop || fail "cpns-server did not stop cleanly"

# --- the audit trail
"$S" audit --db "$DB" >"$T/audit.out" 2>&1 || fail "audit: $(cat "$T/audit.out")"
# count EVENT [PATTERN]: audit lines of EVENT (matching PATTERN).
count() {
  grep " $1 " "$T/audit.out" | grep -c -- "${2:-.}"
}
[ "$(count assigned "entity=$E1 user=alice@example.com keyId=$kid1 source=127.0.0.1:")" = 1 ] ||
  fail "audit, first assignment: $(cat "$T/audit.out")"
[ "$(count replaced "keyId=$kid2 source=127.0.0.1:")" = 1 ] || fail "audit, replaced: $(cat "$T/audit.out")"
[ "$(count replaced "keyId=$kid5")" = 1 ] || fail "audit, replaced after passwd"
[ "$(count conflict "entity=$E1 user=bob@example.com .*result=entityConflict")" = 2 ] ||
  fail "audit, conflicts: $(cat "$T/audit.out")"
[ "$(count revoked "keyId=$kid2 source=local result=stolen gateway")" = 1 ] ||
  fail "audit, revoked: $(cat "$T/audit.out")"
[ "$(count revoked "keyId=$kid3 source=local result=user removed")" = 1 ] ||
  fail "audit, revoked with the user: $(cat "$T/audit.out")"
[ "$(count user-added "user=bob@example.com")" = 2 ] || fail "audit, user-added: $(cat "$T/audit.out")"
[ "$(count user-removed "user=bob@example.com source=local")" = 1 ] || fail "audit, user-removed"
[ "$(count user-passwd "user=alice@example.com source=local")" = 1 ] || fail "audit, user-passwd"
[ "$(count lockout "user=carol@example.com result=failures 5, blocked until")" = 1 ] ||
  fail "audit, lockout (want one row, not one per failure): $(cat "$T/audit.out")"
[ "$(grep -c 'carol' "$T/audit.out")" = 2 ] || fail "audit, carol: a row per failure? $(cat "$T/audit.out")"
[ "$(count user-removed)" = 1 ] || fail "a refused user del was audited: $(cat "$T/audit.out")"
ok "audit: assigned, replaced, conflict, revoked, user-added/removed/passwd, one lockout row"

"$S" audit --db "$DB" --entity-id "$E1" >"$T/a.out" 2>&1 || fail "audit --entity-id"
grep -q ' user-' "$T/a.out" && fail "audit --entity-id lists user events: $(cat "$T/a.out")"
[ "$(grep -c "entity=$E1" "$T/a.out")" = "$(wc -l <"$T/a.out")" ] || fail "audit --entity-id"
"$S" audit --db "$DB" --user bob@example.com >"$T/a.out" 2>&1 || fail "audit --user"
[ "$(grep -c 'user=bob@example.com' "$T/a.out")" = "$(wc -l <"$T/a.out")" ] &&
  [ "$(wc -l <"$T/a.out")" -ge 6 ] || fail "audit --user: $(cat "$T/a.out")"
"$S" audit --db "$DB" --since 2999-01-01T00:00:00Z >"$T/a.out" 2>&1 || fail "audit --since"
[ ! -s "$T/a.out" ] || fail "audit --since the future: $(cat "$T/a.out")"
"$S" audit --db "$DB" --since 0 >"$T/a.out" 2>&1 || fail "audit --since 0"
cmp -s "$T/a.out" "$T/audit.out" || fail "audit --since 0 differs from audit"
first=$(head -n 1 "$T/audit.out" | cut -d' ' -f1)
"$S" audit --db "$DB" --since "$first" >"$T/a.out" 2>&1 || fail "audit --since $first"
cmp -s "$T/a.out" "$T/audit.out" || fail "audit --since the first row's time loses rows"
for bad in yesterday 2026-13-01T00:00:00Z 2026-11-30T01:00:00+01:00 -5 ''; do
  rc=0
  "$S" audit --db "$DB" --since "$bad" >"$T/a.out" 2>&1 || rc=$?
  [ "$rc" = 2 ] && grep -q -- '--since: expected' "$T/a.out" || fail "audit --since '$bad': $rc $(cat "$T/a.out")"
done
ok "audit filters: --entity-id, --user, --since (RFC 3339 or seconds; bad input exits 2)"

# --- no secret in the audit table: no EUKey, sealed EUKey, password or key file octets
cols="time_ms, event, entity_id, user_id, $(hex_of key_id), source, result"
sql "SELECT $cols FROM audit" >"$T/audit.rows"
grep -qF "$kid1" "$T/audit.rows" || fail "the audit rows hold no keyId: search broken"
grep -qF "$eukey1" "$T/audit.rows" && fail "an EUKey is in the audit table"
while IFS= read -r s; do
  grep -qF "$s" "$T/audit.rows" && fail "a sealed EUKey is in the audit table"
done <"$T/sealed.txt"
for p in alice alice2 bob mallory carol wrong; do
  grep -qF "$(cat "$T/$p.pw")" "$T/audit.rows" && fail "password $p is in the audit table"
done
od -An -tx1 -v "$T/server.key" | tr -d ' \n' | fold -w 32 >"$T/key.chunks"
while IFS= read -r s; do
  grep -qF "$s" "$T/audit.rows" && fail "16 octets of the key file are in the audit table"
done <"$T/key.chunks"
ok "no EUKey, sealed EUKey, password or key file octets in the audit table"
