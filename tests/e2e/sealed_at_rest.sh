#!/bin/sh
# End to end, both backends: an EUKey the server assigned is nowhere in the
# database at rest in plain: not in the SQLite file or its WAL (while the
# server runs and after it stopped), not in a pg_dump of the PostgreSQL
# database. The Entity ID is found by the same search, so the search works.
. "$(dirname "$0")/lib.sh"

ENTITY=urn:dev:mac:0011223344ee
server_init
pwfile alice 'correct horse battery'
user_add alice@example.com "$T/alice.pw"
server_start
gw_assign "$ENTITY" alice@example.com "$T/alice.pw"
expect_rc 0 "assign"
"$CPNS_GATEWAY" show --keystore "$T/gw.ks" --device-key "$T/gw.dk" --reveal-key >"$T/show.out" 2>&1 ||
  fail "show --reveal-key: $(cat "$T/show.out")"
eukey=$(field eukey "$T/show.out")
printf '%s\n' "$eukey" | grep -Eq '^[0-9a-f]{64}$' || fail "no EUKey shown: $(cat "$T/show.out")"

# spaced_hex: stdin's octets as " hh hh ...", for octet-aligned searches.
spaced_hex() {
  od -An -tx1 -v | tr '\n' ' ' | tr -s ' '
  echo
}
eukey_spaced=" $(printf '%s\n' "$eukey" | sed 's/../& /g; s/ $//')"
entity_spaced=$(printf '%s' "$ENTITY" | spaced_hex | sed 's/ $//')

# at_rest WHAT: the database's content as searchable text in $T/at_rest.txt:
# spaced hex of the SQLite file and its WAL, or pg_dump's plain output (bytea
# as hex digits, text as it is).
at_rest() {
  if [ "$CPNS_E2E_BACKEND" = pg ]; then
    "$PG_BINDIR/pg_dump" -d "$DB" --no-owner >"$T/dump.sql" 2>"$T/dump.err" ||
      fail "pg_dump: $(cat "$T/dump.err")"
    tr 'A-F' 'a-f' <"$T/dump.sql" >"$T/at_rest.txt"
    grep -qF "$ENTITY" "$T/at_rest.txt" || fail "$1: the Entity ID is not in the dump: search broken"
    ! grep -qF "$eukey" "$T/at_rest.txt" || fail "$1: the EUKey is in plain in pg_dump's output"
  else
    cat "$DB" "$DB-wal" 2>/dev/null | spaced_hex >"$T/at_rest.txt"
    grep -qF -- "$entity_spaced" "$T/at_rest.txt" ||
      fail "$1: the Entity ID is not in the database file: search broken"
    ! grep -qF -- "$eukey_spaced" "$T/at_rest.txt" || fail "$1: the EUKey is in plain in the database"
  fi
}

at_rest "serving"
ok "serving: the EUKey is not in the $CPNS_E2E_BACKEND database in plain (the Entity ID is)"
server_stop || fail "cpns-server did not stop cleanly"
at_rest "stopped"
ok "stopped: the EUKey is not in the $CPNS_E2E_BACKEND database in plain"
