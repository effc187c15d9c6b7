/*
 * cpns-server store, SQLite backend (see store.h): one file, WAL,
 * synchronous=FULL. Identifiers are stored as TEXT in their normalized
 * form, so the sqlite3 shell shows them readably. Credential records are
 * sealed (cpns_crypto_credential_seal, doc/formats.md).
 */
#define _POSIX_C_SOURCE 200809L

#include "examples/server/store_backend.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>
#include <sqlite3.h>

typedef struct sqlite_db {
  server_db base; /* first: a server_db * is a sqlite_db * */
  sqlite3 *conn;
  sqlite3_stmt *user_get;
  sqlite3_stmt *assign, *conflict_audit;
  /* Lockout rows: get on every connection, the writes on the store's. */
  sqlite3_stmt *lockout_get, *lockout_put, *lockout_del, *lockout_purge;
  /* Transaction statements, parsed once: the store thread's, and the
   * reader's (read_begin and commit). */
  sqlite3_stmt *begin, *commit, *rollback, *read_begin;
} sqlite_db;

/* Waiting for another connection's lock beats failing an exchange: for the
 * store thread and the commands. */
#define BUSY_TIMEOUT_MS 5000
/* The reader runs on the event loop: a lock held elsewhere (another process
 * with locking_mode=EXCLUSIVE, a recovery) must not stall every connection;
 * the lookup fails fast and the peer gets tryLater. WAL readers are never
 * blocked by our own writer, so this costs nothing in normal operation. */
#define READER_BUSY_TIMEOUT_MS 2

static const char SCHEMA_V1[] = "CREATE TABLE users ("
                                " user_id TEXT PRIMARY KEY NOT NULL,"
                                " credential BLOB NOT NULL,"
                                " created_at INTEGER NOT NULL"
                                ") WITHOUT ROWID;"
                                "CREATE TABLE assignments ("
                                " entity_id TEXT PRIMARY KEY NOT NULL,"
                                " user_id TEXT NOT NULL,"
                                " mode INTEGER NOT NULL,"
                                " key_id BLOB NOT NULL,"
                                " sealed_eukey BLOB NOT NULL,"
                                " assigned_at INTEGER NOT NULL"
                                ") WITHOUT ROWID;"
                                "CREATE INDEX assignments_by_user ON assignments(user_id);"
                                "PRAGMA user_version = 1;";

/* Version 2: users.credential holds sealed records; settings holds the
 * enrollment defaults. Tables that join this step are created here too;
 * upgrade_to_v2() seals the records and sets the version. */
static const char SCHEMA_V2_STEP[] = "CREATE TABLE settings ("
                                     " name TEXT PRIMARY KEY NOT NULL,"
                                     " value INTEGER NOT NULL"
                                     ") WITHOUT ROWID;"
                                     /* Per normalized User ID, known or not, the failures since its
                                      * last success, in wall-clock ms since the epoch so a restart
                                      * keeps them (lockout.h). */
                                     "CREATE TABLE lockout ("
                                     " user_id TEXT PRIMARY KEY NOT NULL,"
                                     " failures INTEGER NOT NULL,"
                                     " last_failure_ms INTEGER NOT NULL,"
                                     " blocked_until_ms INTEGER NOT NULL"
                                     ") WITHOUT ROWID;";

/* Version 3: users.record2 (suite 2) joins and users.credential may be NULL
 * (a user enrolled on a suite-2-only server). SQLite cannot drop a NOT NULL
 * constraint: the table is rebuilt, inside the migration's transaction. */
static const char SCHEMA_V3_STEP[] =
    "CREATE TABLE users_v3 ("
    " user_id TEXT PRIMARY KEY NOT NULL,"
    " credential BLOB,"
    " record2 BLOB,"
    " created_at INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "INSERT INTO users_v3(user_id, credential, record2, created_at)"
    " SELECT user_id, credential, NULL, created_at FROM users;"
    "DROP TABLE users;"
    "ALTER TABLE users_v3 RENAME TO users;";

/* The database clock in ms since the epoch, for audit rows. */
#define NOW_MS "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)"

/* Version 4: the source of each assignment, the history of ended keys and
 * the audit trail. Triggers write the rows of the changes the serve loop
 * makes (an assignment made or replaced, a lockout started), so they land
 * in the same transaction as the change at no extra statement; the
 * commands write theirs explicitly. States: 1 replaced, 2 revoked. No
 * secondary index on either table: each would cost every store batch a
 * B-tree insert per row (measured: several % of the exchange rate), for
 * the sake of rare commands (which scan). */
static const char SCHEMA_V4_STEP[] =
    "ALTER TABLE assignments ADD COLUMN source TEXT;"
    "CREATE TABLE assignment_history ("
    " id INTEGER PRIMARY KEY,"
    " entity_id TEXT NOT NULL,"
    " user_id TEXT NOT NULL,"
    " mode INTEGER NOT NULL,"
    " key_id BLOB NOT NULL,"
    " sealed_eukey BLOB NOT NULL,"
    " assigned_at INTEGER NOT NULL,"
    " source TEXT,"
    " state INTEGER NOT NULL,"
    " ended_at INTEGER NOT NULL,"
    " reason TEXT);"
    "CREATE TABLE audit ("
    " id INTEGER PRIMARY KEY,"
    " time_ms INTEGER NOT NULL,"
    " event TEXT NOT NULL,"
    " entity_id TEXT,"
    " user_id TEXT,"
    " key_id BLOB,"
    " source TEXT,"
    " result TEXT);"
    "CREATE TRIGGER assignments_made AFTER INSERT ON assignments BEGIN"
    " INSERT INTO audit(time_ms, event, entity_id, user_id, key_id, source, result)"
    " VALUES(" NOW_MS ", 'assigned', NEW.entity_id, NEW.user_id, NEW.key_id, NEW.source, 'ok');"
    " END;"
    "CREATE TRIGGER assignments_replaced AFTER UPDATE ON assignments BEGIN"
    " INSERT INTO assignment_history(entity_id, user_id, mode, key_id, sealed_eukey,"
    " assigned_at, source, state, ended_at, reason) VALUES(OLD.entity_id, OLD.user_id,"
    " OLD.mode, OLD.key_id, OLD.sealed_eukey, OLD.assigned_at, OLD.source, 1,"
    " NEW.assigned_at, NULL);"
    " INSERT INTO audit(time_ms, event, entity_id, user_id, key_id, source, result)"
    " VALUES(" NOW_MS ", 'replaced', NEW.entity_id, NEW.user_id, NEW.key_id, NEW.source, 'ok');"
    " END;"
    /* A failure that starts a block: blocked after it, not blocked at it. */
    "CREATE TRIGGER lockout_started AFTER INSERT ON lockout"
    " WHEN NEW.blocked_until_ms > NEW.last_failure_ms BEGIN"
    " INSERT INTO audit(time_ms, event, user_id, result) VALUES(NEW.last_failure_ms,"
    " 'lockout', NEW.user_id, 'failures ' || NEW.failures || ', blocked until ' ||"
    " NEW.blocked_until_ms);"
    " END;"
    "CREATE TRIGGER lockout_restarted AFTER UPDATE ON lockout"
    " WHEN NEW.blocked_until_ms > NEW.last_failure_ms"
    " AND OLD.blocked_until_ms <= NEW.last_failure_ms BEGIN"
    " INSERT INTO audit(time_ms, event, user_id, result) VALUES(NEW.last_failure_ms,"
    " 'lockout', NEW.user_id, 'failures ' || NEW.failures || ', blocked until ' ||"
    " NEW.blocked_until_ms);"
    " END;";

static const char SETTING_OPS[] = SERVER_DB_SETTING_OPS;
static const char SETTING_MEM[] = SERVER_DB_SETTING_MEM;

/* The upsert decides the entity conflict: it updates only the same user's row. */
static const char ASSIGN_SQL[] =
    "INSERT INTO assignments(entity_id, user_id, mode, key_id, sealed_eukey, assigned_at,"
    " source) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"
    " ON CONFLICT(entity_id) DO UPDATE SET mode = excluded.mode,"
    " key_id = excluded.key_id, sealed_eukey = excluded.sealed_eukey,"
    " assigned_at = excluded.assigned_at, source = excluded.source"
    " WHERE assignments.user_id = excluded.user_id";

/* The audit row of a refused assignment (the upsert changed nothing). */
static const char CONFLICT_AUDIT_SQL[] =
    "INSERT INTO audit(time_ms, event, entity_id, user_id, key_id, source, result)"
    " VALUES(" NOW_MS ", 'conflict', ?1, ?2, ?3, ?4, 'entityConflict')";

static const char USER_GET_SQL[] = "SELECT credential, record2 FROM users WHERE user_id = ?1";

static void report(sqlite_db *db, const char *what) {
  fprintf(stderr, "database: %s: %s\n", what, sqlite3_errmsg(db->conn));
}

static int exec(sqlite_db *db, const char *sql) {
  char *err = NULL;
  if (sqlite3_exec(db->conn, sql, NULL, NULL, &err) != SQLITE_OK) {
    fprintf(stderr, "database: %s\n", err != NULL ? err : sqlite3_errmsg(db->conn));
    sqlite3_free(err);
    return -1;
  }
  return 0;
}

static int read_user_version(sqlite_db *db, int *version) {
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db->conn, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK) {
    report(db, "reading the schema version");
    return -1;
  }
  int rc = sqlite3_step(st);
  if (rc != SQLITE_ROW) {
    report(db, "reading the schema version");
    sqlite3_finalize(st);
    return -1;
  }
  *version = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  return 0;
}

static int put_setting(sqlite_db *db, const char *name, uint32_t value) {
  sqlite3_stmt *st = NULL;
  int rc = -1;
  if (sqlite3_prepare_v2(db->conn,
                         "INSERT INTO settings(name, value) VALUES(?1, ?2)"
                         " ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                         -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)value);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
  }
  if (rc != 0) {
    report(db, "storing a setting");
  }
  sqlite3_finalize(st);
  return rc;
}

/* Reads a setting that must be a positive 32-bit value. */
static int get_setting(sqlite_db *db, const char *name, uint32_t *value) {
  sqlite3_stmt *st = NULL;
  int rc = -1;
  if (sqlite3_prepare_v2(db->conn, "SELECT value FROM settings WHERE name = ?1", -1, &st, NULL) !=
      SQLITE_OK) {
    report(db, "reading a setting");
    return -1;
  }
  sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
  int s = sqlite3_step(st);
  if (s == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_INTEGER) {
    sqlite3_int64 v = sqlite3_column_int64(st, 0);
    if (v > 0 && v <= (sqlite3_int64)UINT32_MAX) {
      *value = (uint32_t)v;
      rc = 0;
    }
  }
  if (rc != 0) {
    if (s == SQLITE_ROW || s == SQLITE_DONE) {
      fprintf(stderr, "database: setting %s is missing or invalid\n", name);
    } else {
      report(db, "reading a setting");
    }
  }
  sqlite3_finalize(st);
  return rc;
}

/*
 * Replaces every plain (schema 1) credential record by its sealed form,
 * one user after the other in User ID order (no row is changed under a
 * running SELECT). Inside the caller's transaction.
 */
static int seal_plain_records(sqlite_db *db, const char *path) {
  sqlite3_stmt *next = NULL, *put = NULL;
  cpns_credential *cred = sodium_malloc(sizeof(*cred));
  uint8_t sealed[CPNS_SEALED_CREDENTIAL_LEN];
  uint8_t last[CPNS_USER_ID_MAX];
  size_t last_len = 0;
  long count = 0;
  int rc = -1;
  if (cred == NULL) {
    fprintf(stderr, "out of memory upgrading database %s\n", path);
    return -1;
  }
  if (sqlite3_prepare_v2(db->conn,
                         "SELECT user_id, credential FROM users WHERE user_id > ?1"
                         " ORDER BY user_id LIMIT 1",
                         -1, &next, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db->conn, "UPDATE users SET credential = ?2 WHERE user_id = ?1", -1, &put,
                         NULL) != SQLITE_OK) {
    report(db, "upgrading the credential records");
    goto out;
  }
  for (;;) {
    /* Copied at bind: last is overwritten below while next still holds its row. */
    sqlite3_bind_text(next, 1, (const char *)last, (int)last_len, SQLITE_TRANSIENT);
    int s = sqlite3_step(next);
    if (s == SQLITE_DONE) {
      break;
    }
    if (s != SQLITE_ROW) {
      report(db, "upgrading the credential records");
      goto out;
    }
    const uint8_t *uid = sqlite3_column_text(next, 0);
    size_t uid_len = (size_t)sqlite3_column_bytes(next, 0);
    const uint8_t *blob = sqlite3_column_blob(next, 1);
    size_t n = (size_t)sqlite3_column_bytes(next, 1);
    if (uid == NULL || uid_len == 0 || uid_len > CPNS_USER_ID_MAX) {
      fprintf(stderr, "database %s: a user row has an invalid User ID; not upgraded\n", path);
      goto out;
    }
    if (cpns_crypto_credential_decode(cred, blob, n) != 0 ||
        cpns_crypto_credential_seal(sealed, cred, db->base.record_key, uid, uid_len) != 0) {
      /* Such a user could not log in under version 1 either. */
      fprintf(stderr,
              "database %s: malformed credential record for user %.*s; not upgraded "
              "(remove the row with the sqlite3 shell, then enroll the user again)\n",
              path, (int)uid_len, (const char *)uid);
      goto out;
    }
    memcpy(last, uid, uid_len); /* the row's memory ends with the reset */
    last_len = uid_len;
    sqlite3_reset(next);
    sqlite3_bind_text(put, 1, (const char *)last, (int)last_len, SQLITE_STATIC);
    sqlite3_bind_blob(put, 2, sealed, (int)sizeof(sealed), SQLITE_STATIC);
    s = sqlite3_step(put);
    sqlite3_reset(put);
    if (s != SQLITE_DONE) {
      report(db, "sealing a credential record");
      goto out;
    }
    count++;
  }
  if (count > 0) {
    fprintf(stderr, "database %s: sealed %ld credential record(s)\n", path, count);
  }
  rc = 0;
out:
  sodium_free(cred);
  sqlite3_finalize(next);
  sqlite3_finalize(put);
  return rc;
}

/* Version 1 -> 2, inside the caller's transaction. */
static int upgrade_to_v2(sqlite_db *db, const char *path) {
  if (exec(db, SCHEMA_V2_STEP) != 0 || put_setting(db, SETTING_OPS, CPNS_KDF_OPS_DEFAULT) != 0 ||
      put_setting(db, SETTING_MEM, CPNS_KDF_MEM_KIB_DEFAULT) != 0 ||
      seal_plain_records(db, path) != 0) {
    return -1;
  }
  return exec(db, "PRAGMA user_version = 2");
}

/* Version 2 -> 3, inside the caller's transaction. A database made before
 * suite 2 existed serves suite 1 only until told otherwise. */
static int upgrade_to_v3(sqlite_db *db) {
  if (exec(db, SCHEMA_V3_STEP) != 0 ||
      put_setting(db, SERVER_DB_SETTING_SUITES, SERVER_DB_SUITES_UPGRADED) != 0) {
    return -1;
  }
  return exec(db, "PRAGMA user_version = 3");
}

static int revoke_where(sqlite_db *db, const char *where, const uint8_t *key, size_t key_len,
                        const char *reason, const char *source);

/* Version 3 -> 4, inside the caller's transaction. Assignments of users
 * deleted before version 4 would go to whoever is enrolled under the User
 * ID next: they are revoked. */
static int upgrade_to_v4(sqlite_db *db) {
  if (exec(db, SCHEMA_V4_STEP) != 0 ||
      revoke_where(db, "user_id NOT IN (SELECT user_id FROM users)", NULL, 0,
                   "user deleted before schema 4", "upgrade") < 0) {
    return -1;
  }
  return exec(db, "PRAGMA user_version = 4");
}

/*
 * Brings the schema to SERVER_DB_SCHEMA_VERSION in one transaction, each
 * step taking it from version N to N + 1. Sets *upgraded when an existing
 * database changed (not when the schema was created).
 */
static int migrate(sqlite_db *db, const char *path, server_db_mode mode, int *upgraded) {
  *upgraded = 0;
  if (exec(db, "BEGIN IMMEDIATE") != 0) {
    return -1;
  }
  int version = 0;
  if (read_user_version(db, &version) != 0) {
    goto fail;
  }
  if (version > SERVER_DB_SCHEMA_VERSION) {
    fprintf(stderr, "database %s has schema version %d, newer than this program's %d\n", path,
            version, SERVER_DB_SCHEMA_VERSION);
    goto fail;
  }
  if (version == 0 && mode != SERVER_DB_CREATE) {
    fprintf(stderr, "database %s is not initialized (run cpns-server init)\n", path);
    goto fail;
  }
  if (version == 0) {
    if (exec(db, SCHEMA_V1) != 0) {
      goto fail;
    }
    db->base.created = 1;
    version = 1;
  }
  if (version == 1) {
    /* An empty new database needs no key; existing records do. */
    if (!db->base.created && db->base.record_key == NULL) {
      fprintf(stderr,
              "database %s has schema version 1 (credential records not sealed); run "
              "`cpns-server serve` or `cpns-server user add` with --key-file once to "
              "upgrade it to version %d\n",
              path, SERVER_DB_SCHEMA_VERSION);
      goto fail;
    }
    if (upgrade_to_v2(db, path) != 0) {
      goto fail;
    }
    *upgraded = !db->base.created;
    version = 2;
  }
  if (version == 2) {
    if (upgrade_to_v3(db) != 0) {
      goto fail;
    }
    version = 3;
  }
  if (version == 3) {
    if (upgrade_to_v4(db) != 0) {
      goto fail;
    }
  }
  return exec(db, "COMMIT");
fail:
  exec(db, "ROLLBACK");
  db->base.created = 0;
  return -1;
}

/*
 * After an upgrade rewrote records: rebuild the file so that no freed page
 * keeps an old plain record, and empty the WAL, which may hold them too.
 */
static void scrub_after_upgrade(sqlite_db *db, const char *path) {
  if (exec(db, "VACUUM") != 0 || exec(db, "PRAGMA wal_checkpoint(TRUNCATE)") != 0) {
    fprintf(stderr,
            "warning: database %s upgraded, but old unsealed records may remain in "
            "its free pages until `VACUUM` succeeds\n",
            path);
  }
}

/* ---- lockout rows (prepared with the connection) ---- */

static const char LOCKOUT_GET_SQL[] =
    "SELECT failures, last_failure_ms, blocked_until_ms FROM lockout WHERE user_id = ?1";
static const char LOCKOUT_PUT_SQL[] =
    "INSERT INTO lockout(user_id, failures, last_failure_ms, blocked_until_ms)"
    " VALUES(?1, ?2, ?3, ?4) ON CONFLICT(user_id) DO UPDATE SET"
    " failures = excluded.failures, last_failure_ms = excluded.last_failure_ms,"
    " blocked_until_ms = excluded.blocked_until_ms";
static const char LOCKOUT_DEL_SQL[] = "DELETE FROM lockout WHERE user_id = ?1";
static const char LOCKOUT_PURGE_SQL[] =
    "DELETE FROM lockout WHERE last_failure_ms <= ?1 AND blocked_until_ms <= ?2";

static int lockout_prepare(sqlite_db *db, server_db_mode mode) {
  int rc = sqlite3_prepare_v3(db->conn, LOCKOUT_GET_SQL, -1, SQLITE_PREPARE_PERSISTENT,
                              &db->lockout_get, NULL);
  if (rc == SQLITE_OK && mode != SERVER_DB_READER) {
    rc = sqlite3_prepare_v3(db->conn, LOCKOUT_PUT_SQL, -1, SQLITE_PREPARE_PERSISTENT,
                            &db->lockout_put, NULL);
    if (rc == SQLITE_OK) {
      rc = sqlite3_prepare_v3(db->conn, LOCKOUT_DEL_SQL, -1, SQLITE_PREPARE_PERSISTENT,
                              &db->lockout_del, NULL);
    }
    if (rc == SQLITE_OK) {
      rc = sqlite3_prepare_v3(db->conn, LOCKOUT_PURGE_SQL, -1, SQLITE_PREPARE_PERSISTENT,
                              &db->lockout_purge, NULL);
    }
  }
  if (rc != SQLITE_OK) {
    report(db, "preparing the lockout statements");
    return -1;
  }
  return 0;
}

static void sqlite_close(server_db *base);

static int sqlite_open(server_db **out, const char *path, server_db_mode mode,
                       const uint8_t *record_key) {
  *out = NULL;
  int upgraded = 0;
  sqlite_db *db = calloc(1, sizeof(*db));
  if (db == NULL) {
    fprintf(stderr, "out of memory opening database %s\n", path);
    return -1;
  }
  db->base.be = &server_db_sqlite_backend;
  db->base.record_key = record_key;
  /* One thread at a time uses a connection (the store's moves to its
   * thread once): SQLite's own per-call mutex would only cost. */
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (mode == SERVER_DB_CREATE) {
    flags |= SQLITE_OPEN_CREATE;
  }
  if (sqlite3_open_v2(path, &db->conn, flags, NULL) != SQLITE_OK) {
    fprintf(stderr, "cannot open database %s: %s%s\n", path,
            db->conn != NULL ? sqlite3_errmsg(db->conn) : "out of memory",
            mode == SERVER_DB_CREATE ? "" : " (run cpns-server init first)");
    goto fail;
  }
  sqlite3_busy_timeout(db->conn, BUSY_TIMEOUT_MS);
  /* WAL lets the loop thread read while the store thread writes; FULL
   * syncs the WAL on every commit, so a committed assignment survives power
   * loss. secure_delete zeroes what a change frees: a replaced or deleted
   * record leaves no copy in the page. */
  if (exec(db, "PRAGMA journal_mode = WAL") != 0 || exec(db, "PRAGMA synchronous = FULL") != 0 ||
      exec(db, "PRAGMA secure_delete = ON") != 0 || migrate(db, path, mode, &upgraded) != 0) {
    goto fail;
  }
  if (upgraded) {
    scrub_after_upgrade(db, path);
  }
  if (mode == SERVER_DB_READER) {
    if (exec(db, "PRAGMA query_only = 1") != 0) {
      goto fail;
    }
    sqlite3_busy_timeout(db->conn, READER_BUSY_TIMEOUT_MS); /* after the migration */
  }
  if (sqlite3_prepare_v3(db->conn, USER_GET_SQL, -1, SQLITE_PREPARE_PERSISTENT, &db->user_get,
                         NULL) != SQLITE_OK ||
      sqlite3_prepare_v3(db->conn, "COMMIT", -1, SQLITE_PREPARE_PERSISTENT, &db->commit, NULL) !=
          SQLITE_OK ||
      (mode == SERVER_DB_READER &&
       sqlite3_prepare_v3(db->conn, "BEGIN", -1, SQLITE_PREPARE_PERSISTENT, &db->read_begin,
                          NULL) != SQLITE_OK) ||
      (mode != SERVER_DB_READER &&
       (sqlite3_prepare_v3(db->conn, ASSIGN_SQL, -1, SQLITE_PREPARE_PERSISTENT, &db->assign,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(db->conn, CONFLICT_AUDIT_SQL, -1, SQLITE_PREPARE_PERSISTENT,
                           &db->conflict_audit, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(db->conn, "BEGIN IMMEDIATE", -1, SQLITE_PREPARE_PERSISTENT, &db->begin,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(db->conn, "ROLLBACK", -1, SQLITE_PREPARE_PERSISTENT, &db->rollback,
                           NULL) != SQLITE_OK))) {
    report(db, "preparing statements");
    goto fail;
  }
  if (lockout_prepare(db, mode) != 0) {
    goto fail;
  }
  *out = &db->base;
  return 0;
fail:
  sqlite_close(&db->base);
  return -1;
}

static void sqlite_close(server_db *base) {
  sqlite_db *db = (sqlite_db *)base;
  sqlite3_finalize(db->user_get);
  sqlite3_finalize(db->assign);
  sqlite3_finalize(db->conflict_audit);
  sqlite3_finalize(db->begin);
  sqlite3_finalize(db->commit);
  sqlite3_finalize(db->rollback);
  sqlite3_finalize(db->read_begin);
  sqlite3_finalize(db->lockout_get);
  sqlite3_finalize(db->lockout_put);
  sqlite3_finalize(db->lockout_del);
  sqlite3_finalize(db->lockout_purge);
  sqlite3_close(db->conn);
  free(db);
}

static int bind_text(sqlite3_stmt *st, int col, const uint8_t *s, size_t len) {
  return sqlite3_bind_text(st, col, (const char *)s, (int)len, SQLITE_STATIC);
}

/* Runs one statement of a command (prepared for this call): binds text
 * parameters ?1.. (NULL binds NULL) and steps it to the end. Returns the
 * rows changed, or -1 (reported; constraint errors too). */
static int64_t run_sql(sqlite_db *db, const char *sql, const char *what, int n,
                       const char *const *text, const size_t *len) {
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db->conn, sql, -1, &st, NULL) != SQLITE_OK) {
    report(db, what);
    return -1;
  }
  for (int i = 0; i < n; i++) {
    if (text[i] != NULL) {
      sqlite3_bind_text(st, i + 1, text[i], (int)len[i], SQLITE_STATIC);
    }
  }
  int64_t rc = -1;
  int s;
  while ((s = sqlite3_step(st)) == SQLITE_ROW) {
  }
  if (s == SQLITE_DONE) {
    rc = (int64_t)sqlite3_changes64(db->conn);
  } else {
    report(db, what);
  }
  sqlite3_finalize(st);
  return rc;
}

/* One audit row written by a command, inside its transaction. */
static int audit_command(sqlite_db *db, const char *event, const uint8_t *uid, size_t uid_len,
                         const char *source, const char *result) {
  const char *text[] = {event, (const char *)uid, source, result};
  const size_t len[] = {strlen(event), uid_len, source != NULL ? strlen(source) : 0,
                        result != NULL ? strlen(result) : 0};
  return run_sql(db,
                 "INSERT INTO audit(time_ms, event, user_id, source, result)"
                 " VALUES(" NOW_MS ", ?1, ?2, ?3, ?4)",
                 "writing an audit row", 4, text, len) == 1
             ? 0
             : -1;
}

/*
 * Revokes the assignments matching where (an SQL condition on the
 * assignments table, with ?1 = key when key is not NULL), inside the
 * caller's transaction: history rows (state 2), audit rows, then the rows
 * go. Returns the assignments revoked, or -1.
 */
static int revoke_where(sqlite_db *db, const char *where, const uint8_t *key, size_t key_len,
                        const char *reason, const char *source) {
  char sql[768];
  const char *text[] = {(const char *)key, reason, source};
  const size_t len[] = {key_len, reason != NULL ? strlen(reason) : 0,
                        source != NULL ? strlen(source) : 0};
  snprintf(
      sql, sizeof(sql),
      "INSERT INTO assignment_history(entity_id, user_id, mode, key_id, sealed_eukey,"
      " assigned_at, source, state, ended_at, reason) SELECT entity_id, user_id, mode,"
      " key_id, sealed_eukey, assigned_at, source, 2, CAST(strftime('%%s', 'now') AS INTEGER), ?2"
      " FROM assignments WHERE %s ORDER BY entity_id",
      where);
  if (run_sql(db, sql, "revoking assignments", 3, text, len) < 0) {
    return -1;
  }
  snprintf(sql, sizeof(sql),
           "INSERT INTO audit(time_ms, event, entity_id, user_id, key_id, source, result)"
           " SELECT " NOW_MS ", 'revoked', entity_id, user_id, key_id, ?3, ?2"
           " FROM assignments WHERE %s ORDER BY entity_id",
           where);
  if (run_sql(db, sql, "revoking assignments", 3, text, len) < 0) {
    return -1;
  }
  snprintf(sql, sizeof(sql), "DELETE FROM assignments WHERE %s", where);
  int64_t n = run_sql(db, sql, "revoking assignments", 1, text, len);
  return n < 0 ? -1 : (int)n;
}

static int sqlite_user_put(server_db *base, const uint8_t *user_id, size_t user_id_len,
                           const uint8_t *r1, size_t r1_len, const uint8_t *r2, size_t r2_len) {
  sqlite_db *db = (sqlite_db *)base;
  sqlite3_stmt *st = NULL;
  int rc = -1;
  if (exec(db, "BEGIN IMMEDIATE") != 0) {
    return -1;
  }
  if (sqlite3_prepare_v2(db->conn,
                         "INSERT INTO users(user_id, credential, record2, created_at)"
                         " VALUES(?1, ?2, ?3, ?4)",
                         -1, &st, NULL) != SQLITE_OK) {
    report(db, "adding a user");
    exec(db, "ROLLBACK");
    return -1;
  }
  bind_text(st, 1, user_id, user_id_len);
  if (r1 != NULL) {
    sqlite3_bind_blob(st, 2, r1, (int)r1_len, SQLITE_STATIC);
  }
  if (r2 != NULL) {
    sqlite3_bind_blob(st, 3, r2, (int)r2_len, SQLITE_STATIC);
  }
  sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL));
  int s = sqlite3_step(st);
  if (s == SQLITE_DONE) {
    rc = 0;
  } else if (sqlite3_extended_errcode(db->conn) == SQLITE_CONSTRAINT_PRIMARYKEY) {
    rc = 1;
  } else {
    report(db, "adding a user");
  }
  sqlite3_finalize(st);
  if (rc == 0 &&
      audit_command(db, SERVER_DB_AUDIT_USER_ADDED, user_id, user_id_len, "local", "ok") != 0) {
    rc = -1;
  }
  if (rc != 0 || exec(db, "COMMIT") != 0) {
    exec(db, "ROLLBACK");
    return rc == 0 ? -1 : rc;
  }
  return 0;
}

static int sqlite_user_del(server_db *base, const uint8_t *user_id, size_t user_id_len, int revoke,
                           const char *source) {
  sqlite_db *db = (sqlite_db *)base;
  const char *text[] = {(const char *)user_id};
  const size_t len[] = {user_id_len};
  if (exec(db, "BEGIN IMMEDIATE") != 0) {
    return -1;
  }
  int64_t n = run_sql(db, "DELETE FROM users WHERE user_id = ?1", "deleting a user", 1, text, len);
  int rc = n < 0 ? -1 : n == 0 ? 1 : 0;
  if (rc == 0) {
    sqlite3_stmt *st = NULL;
    int has = -1;
    if (sqlite3_prepare_v2(db->conn, "SELECT EXISTS(SELECT 1 FROM assignments WHERE user_id = ?1)",
                           -1, &st, NULL) == SQLITE_OK) {
      bind_text(st, 1, user_id, user_id_len);
      if (sqlite3_step(st) == SQLITE_ROW) {
        has = sqlite3_column_int(st, 0);
      }
    }
    sqlite3_finalize(st);
    if (has < 0) {
      report(db, "deleting a user");
      rc = -1;
    } else if (has && !revoke) {
      rc = 2;
    } else if ((has && revoke_where(db, "user_id = ?1", user_id, user_id_len, "user removed",
                                    source) < 0) ||
               run_sql(db, "DELETE FROM lockout WHERE user_id = ?1", "deleting a user", 1, text,
                       len) < 0 ||
               audit_command(db, SERVER_DB_AUDIT_USER_REMOVED, user_id, user_id_len, source,
                             "ok") != 0) {
      rc = -1;
    }
  }
  if (rc != 0 || exec(db, "COMMIT") != 0) {
    exec(db, "ROLLBACK");
    return rc == 0 ? -1 : rc;
  }
  return 0;
}

static int sqlite_user_replace(server_db *base, const uint8_t *user_id, size_t user_id_len,
                               const uint8_t *r1, size_t r1_len, const uint8_t *r2, size_t r2_len,
                               const char *source) {
  sqlite_db *db = (sqlite_db *)base;
  sqlite3_stmt *st = NULL;
  int rc = -1;
  if (exec(db, "BEGIN IMMEDIATE") != 0) {
    return -1;
  }
  if (sqlite3_prepare_v2(db->conn,
                         "UPDATE users SET credential = ?2, record2 = ?3 WHERE user_id = ?1", -1,
                         &st, NULL) == SQLITE_OK) {
    bind_text(st, 1, user_id, user_id_len);
    if (r1 != NULL) {
      sqlite3_bind_blob(st, 2, r1, (int)r1_len, SQLITE_STATIC);
    }
    if (r2 != NULL) {
      sqlite3_bind_blob(st, 3, r2, (int)r2_len, SQLITE_STATIC);
    }
    if (sqlite3_step(st) == SQLITE_DONE) {
      rc = sqlite3_changes(db->conn) > 0 ? 0 : 1;
    }
  }
  if (rc < 0) {
    report(db, "changing a user's records");
  }
  sqlite3_finalize(st);
  const char *text[] = {(const char *)user_id};
  const size_t len[] = {user_id_len};
  if (rc == 0 &&
      (run_sql(db, "DELETE FROM lockout WHERE user_id = ?1", "clearing a lockout row", 1, text,
               len) < 0 ||
       audit_command(db, SERVER_DB_AUDIT_USER_PASSWD, user_id, user_id_len, source, "ok") != 0)) {
    rc = -1;
  }
  if (rc != 0 || exec(db, "COMMIT") != 0) {
    exec(db, "ROLLBACK");
    return rc == 0 ? -1 : rc;
  }
  return 0;
}

static int sqlite_revoke(server_db *base, const uint8_t *entity_id, size_t entity_id_len,
                         const char *reason, const char *source) {
  sqlite_db *db = (sqlite_db *)base;
  if (exec(db, "BEGIN IMMEDIATE") != 0) {
    return -1;
  }
  int n = revoke_where(db, "entity_id = ?1", entity_id, entity_id_len, reason, source);
  if (n <= 0 || exec(db, "COMMIT") != 0) {
    exec(db, "ROLLBACK");
    return n == 0 ? 1 : -1;
  }
  return 0;
}

/* Text column or NULL. */
static const char *column_text_or_null(sqlite3_stmt *st, int col) {
  return sqlite3_column_type(st, col) == SQLITE_NULL ? NULL
                                                     : (const char *)sqlite3_column_text(st, col);
}

/* Steps a listing: 1 = a row, 0 = no more rows, -1 = an error (reported
 * as "what"). */
static int next_row(sqlite_db *db, sqlite3_stmt *st, const char *what) {
  int s = sqlite3_step(st);
  if (s == SQLITE_ROW) {
    return 1;
  }
  if (s == SQLITE_DONE) {
    return 0;
  }
  report(db, what);
  return -1;
}

static int sqlite_history_foreach(server_db *base, const server_db_history_filter *f,
                                  server_db_history_cb cb, void *arg) {
  sqlite_db *db = (sqlite_db *)base;
  sqlite3_stmt *st = NULL;
  /* The current key sorts after its predecessors (history ids first). */
  static const char sql[] =
      "SELECT entity_id, user_id, mode, key_id, sealed_eukey, assigned_at, source, state,"
      " ended_at, reason FROM ("
      " SELECT entity_id, user_id, mode, key_id, sealed_eukey, assigned_at, source, state,"
      " ended_at, reason, id AS ord FROM assignment_history WHERE ?2"
      " UNION ALL SELECT entity_id, user_id, mode, key_id, sealed_eukey, assigned_at, source,"
      " 0, 0, NULL, 9223372036854775807 FROM assignments)"
      " WHERE ?1 IS NULL OR entity_id = ?1 ORDER BY entity_id, ord";
  if (sqlite3_prepare_v2(db->conn, sql, -1, &st, NULL) != SQLITE_OK) {
    report(db, "listing assignments");
    return -1;
  }
  if (f != NULL && f->entity_id != NULL) {
    bind_text(st, 1, f->entity_id, f->entity_id_len);
  }
  sqlite3_bind_int(st, 2, f != NULL && f->ended);
  int rc;
  while ((rc = next_row(db, st, "listing assignments")) == 1) {
    server_db_history_row h;
    memset(&h, 0, sizeof(h));
    h.a.entity_id = sqlite3_column_text(st, 0);
    h.a.entity_id_len = (size_t)sqlite3_column_bytes(st, 0);
    h.a.user_id = sqlite3_column_text(st, 1);
    h.a.user_id_len = (size_t)sqlite3_column_bytes(st, 1);
    h.a.mode = sqlite3_column_int(st, 2);
    h.a.key_id = sqlite3_column_blob(st, 3);
    size_t key_id_len = (size_t)sqlite3_column_bytes(st, 3);
    h.a.sealed_eukey = sqlite3_column_blob(st, 4);
    size_t sealed_len = (size_t)sqlite3_column_bytes(st, 4);
    h.a.assigned_at = (int64_t)sqlite3_column_int64(st, 5);
    h.a.source = column_text_or_null(st, 6);
    int state = sqlite3_column_int(st, 7);
    h.ended_at = (int64_t)sqlite3_column_int64(st, 8);
    h.reason = column_text_or_null(st, 9);
    if (h.a.entity_id == NULL || h.a.user_id == NULL || h.a.key_id == NULL ||
        key_id_len != CPNS_KEY_ID_LEN || h.a.sealed_eukey == NULL ||
        sealed_len != CPNS_SEALED_EUKEY_LEN || state < 0 || state > 2) {
      fprintf(stderr, "database: malformed assignment row skipped\n");
      continue;
    }
    h.state = (server_db_key_state)state;
    if (cb(arg, &h) != 0) {
      rc = 0;
      break;
    }
  }
  sqlite3_finalize(st);
  return rc;
}

static int sqlite_audit_foreach(server_db *base, const server_db_audit_filter *f,
                                server_db_audit_cb cb, void *arg) {
  sqlite_db *db = (sqlite_db *)base;
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db->conn,
                         "SELECT id, time_ms, event, entity_id, user_id, key_id, source, result"
                         " FROM audit WHERE time_ms >= ?1 AND (?2 IS NULL OR entity_id = ?2)"
                         " AND (?3 IS NULL OR user_id = ?3) ORDER BY id",
                         -1, &st, NULL) != SQLITE_OK) {
    report(db, "reading the audit trail");
    return -1;
  }
  sqlite3_bind_int64(st, 1, f != NULL ? (sqlite3_int64)f->since_ms : 0);
  if (f != NULL && f->entity_id != NULL) {
    bind_text(st, 2, f->entity_id, f->entity_id_len);
  }
  if (f != NULL && f->user_id != NULL) {
    bind_text(st, 3, f->user_id, f->user_id_len);
  }
  int rc;
  while ((rc = next_row(db, st, "reading the audit trail")) == 1) {
    server_db_audit_row row;
    memset(&row, 0, sizeof(row));
    row.id = (int64_t)sqlite3_column_int64(st, 0);
    row.time_ms = (int64_t)sqlite3_column_int64(st, 1);
    row.event = column_text_or_null(st, 2);
    row.entity_id = (const uint8_t *)column_text_or_null(st, 3);
    row.entity_id_len = row.entity_id != NULL ? (size_t)sqlite3_column_bytes(st, 3) : 0;
    row.user_id = (const uint8_t *)column_text_or_null(st, 4);
    row.user_id_len = row.user_id != NULL ? (size_t)sqlite3_column_bytes(st, 4) : 0;
    row.key_id = sqlite3_column_blob(st, 5);
    if (row.key_id != NULL && sqlite3_column_bytes(st, 5) != CPNS_KEY_ID_LEN) {
      row.key_id = NULL;
    }
    row.source = column_text_or_null(st, 6);
    row.result = column_text_or_null(st, 7);
    if (row.event == NULL) {
      row.event = "?";
    }
    if (cb(arg, &row) != 0) {
      rc = 0;
      break;
    }
  }
  sqlite3_finalize(st);
  return rc;
}

static int sqlite_get_setting(server_db *base, const char *name, uint32_t *value) {
  return get_setting((sqlite_db *)base, name, value);
}

static int sqlite_put_settings(server_db *base, const char *const *names, const uint32_t *values,
                               size_t n) {
  sqlite_db *db = (sqlite_db *)base;
  if (exec(db, "BEGIN IMMEDIATE") != 0) {
    return -1;
  }
  for (size_t i = 0; i < n; i++) {
    if (put_setting(db, names[i], values[i]) != 0) {
      exec(db, "ROLLBACK");
      return -1;
    }
  }
  return exec(db, "COMMIT");
}

void server_db_sqlite_library_setup(void) {
  /* Fails harmlessly (SQLITE_MISUSE) if SQLite was already initialised. */
  (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* Copies a nullable BLOB column into out (len 0 for NULL). Returns 0, or -1
 * when it is longer than SERVER_DB_RECORD_MAX. */
static int column_record(sqlite3_stmt *st, int col, uint8_t *out, size_t *out_len) {
  const uint8_t *blob = sqlite3_column_blob(st, col);
  size_t n = (size_t)sqlite3_column_bytes(st, col);
  *out_len = 0;
  if (blob == NULL || n == 0) {
    return 0;
  }
  if (n > SERVER_DB_RECORD_MAX) {
    return -1;
  }
  memcpy(out, blob, n);
  *out_len = n;
  return 0;
}

static int sqlite_lockout_get(server_db *base, const uint8_t *user_id, size_t user_id_len,
                              server_db_lockout *row);

static int sqlite_lookup(server_db *base, const uint8_t *user_id, size_t user_id_len,
                         server_db_lookup *out, int with_lockout) {
  sqlite_db *db = (sqlite_db *)base;
  sqlite3_stmt *st = db->user_get;
  bind_text(st, 1, user_id, user_id_len);
  int rc = -1;
  int s = sqlite3_step(st);
  if (s == SQLITE_ROW) {
    if (column_record(st, 0, out->records.record1, &out->records.record1_len) != 0 ||
        column_record(st, 1, out->records.record2, &out->records.record2_len) != 0) {
      fprintf(stderr, "database: a record of user %.*s is too long\n", (int)user_id_len,
              (const char *)user_id);
    } else {
      out->user_found = 1;
      rc = 0;
    }
  } else if (s == SQLITE_DONE) {
    rc = 0;
  } else {
    report(db, "looking up a user");
  }
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  if (rc == 0 && with_lockout) {
    int l = sqlite_lockout_get(base, user_id, user_id_len, &out->lockout);
    if (l < 0) {
      return -1;
    }
    out->lockout_found = l == 0;
  }
  return rc;
}

static int sqlite_user_foreach(server_db *base, server_db_records_cb cb, void *arg) {
  sqlite_db *db = (sqlite_db *)base;
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db->conn,
                         "SELECT user_id, credential, record2 FROM users ORDER BY user_id", -1, &st,
                         NULL) != SQLITE_OK) {
    report(db, "listing users");
    return -1;
  }
  int rc = 0;
  while (rc == 0) {
    int s = sqlite3_step(st);
    if (s == SQLITE_DONE) {
      break;
    }
    if (s != SQLITE_ROW) {
      report(db, "listing users");
      rc = -1;
      break;
    }
    const uint8_t *uid = sqlite3_column_text(st, 0);
    size_t uid_len = (size_t)sqlite3_column_bytes(st, 0);
    const uint8_t *r1 = sqlite3_column_blob(st, 1);
    size_t r1_len = (size_t)sqlite3_column_bytes(st, 1);
    const uint8_t *r2 = sqlite3_column_blob(st, 2);
    size_t r2_len = (size_t)sqlite3_column_bytes(st, 2);
    if (uid == NULL) {
      continue; /* NOT NULL: cannot happen */
    }
    if (cb(arg, uid, uid_len, r1, r1 != NULL ? r1_len : 0, r2, r2 != NULL ? r2_len : 0) != 0) {
      break;
    }
  }
  sqlite3_finalize(st);
  return rc;
}

static int run_prepared(sqlite_db *db, sqlite3_stmt *st, const char *what);

static cpns_store_status sqlite_assign(server_db *base, const server_db_assignment *a) {
  sqlite_db *db = (sqlite_db *)base;
  sqlite3_stmt *st = db->assign;
  if (st == NULL) {
    return CPNS_STORE_FAILED;
  }
  bind_text(st, 1, a->entity_id, a->entity_id_len);
  bind_text(st, 2, a->user_id, a->user_id_len);
  sqlite3_bind_int(st, 3, a->mode);
  sqlite3_bind_blob(st, 4, a->key_id, CPNS_KEY_ID_LEN, SQLITE_STATIC);
  sqlite3_bind_blob(st, 5, a->sealed_eukey, CPNS_SEALED_EUKEY_LEN, SQLITE_STATIC);
  sqlite3_bind_int64(st, 6, (sqlite3_int64)a->assigned_at);
  if (a->source != NULL) {
    sqlite3_bind_text(st, 7, a->source, -1, SQLITE_STATIC);
  }
  cpns_store_status status = CPNS_STORE_FAILED;
  if (sqlite3_step(st) == SQLITE_DONE) {
    /* No row changed: the WHERE of the upsert found another user's binding. */
    status = sqlite3_changes(db->conn) > 0 ? CPNS_STORE_OK : CPNS_STORE_CONFLICT;
  } else {
    report(db, "storing an assignment");
  }
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  if (status == CPNS_STORE_CONFLICT) {
    st = db->conflict_audit;
    bind_text(st, 1, a->entity_id, a->entity_id_len);
    bind_text(st, 2, a->user_id, a->user_id_len);
    sqlite3_bind_blob(st, 3, a->key_id, CPNS_KEY_ID_LEN, SQLITE_STATIC);
    if (a->source != NULL) {
      sqlite3_bind_text(st, 4, a->source, -1, SQLITE_STATIC);
    }
    if (run_prepared(db, st, "auditing a refused assignment") != 0) {
      status = CPNS_STORE_FAILED; /* the batch must not commit without it */
    }
  }
  return status;
}

/* Steps a prepared statement that returns no rows once; returns 0 or -1. */
static int run_prepared(sqlite_db *db, sqlite3_stmt *st, const char *what) {
  if (st == NULL) {
    return -1;
  }
  int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
  if (rc != 0) {
    report(db, what);
  }
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return rc;
}

/* Lockout writes are as durable as assignments here: one fsync per batch anyway. */
static int sqlite_begin(server_db *base, int lockout_only) {
  (void)lockout_only;
  sqlite_db *db = (sqlite_db *)base;
  return run_prepared(db, db->begin, "BEGIN");
}

static int sqlite_commit(server_db *base) {
  sqlite_db *db = (sqlite_db *)base;
  return run_prepared(db, db->commit, "COMMIT");
}

static int sqlite_rollback(server_db *base) {
  sqlite_db *db = (sqlite_db *)base;
  return run_prepared(db, db->rollback, "ROLLBACK");
}

static int sqlite_read_begin(server_db *base) {
  sqlite_db *db = (sqlite_db *)base;
  if (!sqlite3_get_autocommit(db->conn)) {
    return 0; /* already open */
  }
  return run_prepared(db, db->read_begin, "BEGIN");
}

static void sqlite_read_end(server_db *base) {
  sqlite_db *db = (sqlite_db *)base;
  if (!sqlite3_get_autocommit(db->conn)) {
    run_prepared(db, db->commit, "ending a read transaction");
  }
}

static int sqlite_assignment_foreach(server_db *base, server_db_assignment_cb cb, void *arg) {
  sqlite_db *db = (sqlite_db *)base;
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db->conn,
                         "SELECT entity_id, user_id, mode, key_id, sealed_eukey, assigned_at"
                         " FROM assignments ORDER BY entity_id",
                         -1, &st, NULL) != SQLITE_OK) {
    report(db, "listing assignments");
    return -1;
  }
  int rc;
  while ((rc = next_row(db, st, "listing assignments")) == 1) {
    server_db_assignment a;
    a.entity_id = sqlite3_column_text(st, 0);
    a.entity_id_len = (size_t)sqlite3_column_bytes(st, 0);
    a.user_id = sqlite3_column_text(st, 1);
    a.user_id_len = (size_t)sqlite3_column_bytes(st, 1);
    a.mode = sqlite3_column_int(st, 2);
    a.key_id = sqlite3_column_blob(st, 3);
    size_t key_id_len = (size_t)sqlite3_column_bytes(st, 3);
    a.sealed_eukey = sqlite3_column_blob(st, 4);
    size_t sealed_len = (size_t)sqlite3_column_bytes(st, 4);
    a.assigned_at = (int64_t)sqlite3_column_int64(st, 5);
    if (a.entity_id == NULL || a.user_id == NULL || a.key_id == NULL ||
        key_id_len != CPNS_KEY_ID_LEN || a.sealed_eukey == NULL ||
        sealed_len != CPNS_SEALED_EUKEY_LEN) {
      fprintf(stderr, "database: malformed assignment row skipped\n");
      continue;
    }
    if (cb(arg, &a) != 0) {
      rc = 0;
      break;
    }
  }
  sqlite3_finalize(st);
  return rc;
}

/* ---- lockout rows ---- */

static int sqlite_lockout_get(server_db *base, const uint8_t *user_id, size_t user_id_len,
                              server_db_lockout *row) {
  sqlite_db *db = (sqlite_db *)base;
  sqlite3_stmt *st = db->lockout_get;
  memset(row, 0, sizeof(*row));
  bind_text(st, 1, user_id, user_id_len);
  int rc = -1;
  int s = sqlite3_step(st);
  if (s == SQLITE_ROW) {
    sqlite3_int64 failures = sqlite3_column_int64(st, 0);
    row->failures = failures < 0 ? 0 : failures > UINT32_MAX ? UINT32_MAX : (uint32_t)failures;
    row->last_failure_ms = (int64_t)sqlite3_column_int64(st, 1);
    row->blocked_until_ms = (int64_t)sqlite3_column_int64(st, 2);
    rc = 0;
  } else if (s == SQLITE_DONE) {
    rc = 1;
  } else {
    report(db, "reading a lockout row");
  }
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return rc;
}

static int sqlite_lockout_put(server_db *base, const uint8_t *user_id, size_t user_id_len,
                              const server_db_lockout *row) {
  sqlite_db *db = (sqlite_db *)base;
  sqlite3_stmt *st = db->lockout_put;
  if (st == NULL) {
    return -1;
  }
  bind_text(st, 1, user_id, user_id_len);
  sqlite3_bind_int64(st, 2, (sqlite3_int64)row->failures);
  sqlite3_bind_int64(st, 3, (sqlite3_int64)row->last_failure_ms);
  sqlite3_bind_int64(st, 4, (sqlite3_int64)row->blocked_until_ms);
  return run_prepared(db, st, "storing a lockout row");
}

/* The counting upsert of server_db_lockout_fail (the serve loop on SQLite
 * writes whole rows instead: one server owns the file). */
static const char LOCKOUT_FAIL_SQL[] =
    "INSERT INTO lockout AS l(user_id, failures, last_failure_ms, blocked_until_ms)"
    " VALUES(?1, 1, ?2, CASE WHEN 1 >= ?3 THEN ?2 + ?4 ELSE 0 END)"
    " ON CONFLICT(user_id) DO UPDATE SET"
    " failures = CASE WHEN l.last_failure_ms <= ?2 - ?6 AND l.blocked_until_ms <= ?2"
    "   THEN 1 ELSE l.failures + 1 END,"
    " blocked_until_ms = CASE"
    "   WHEN (CASE WHEN l.last_failure_ms <= ?2 - ?6 AND l.blocked_until_ms <= ?2"
    "         THEN 1 ELSE l.failures + 1 END) >= ?3"
    "   THEN ?2 + min(?5, ?4 << min(30, (CASE WHEN l.last_failure_ms <= ?2 - ?6"
    "         AND l.blocked_until_ms <= ?2 THEN 1 ELSE l.failures + 1 END) - ?3))"
    "   ELSE 0 END,"
    " last_failure_ms = ?2";

static int sqlite_lockout_fail(server_db *base, const uint8_t *user_id, size_t user_id_len,
                               const server_db_lockout_policy *p, int64_t now_ms) {
  sqlite_db *db = (sqlite_db *)base;
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db->conn, LOCKOUT_FAIL_SQL, -1, &st, NULL) != SQLITE_OK) {
    report(db, "counting a failure");
    return -1;
  }
  bind_text(st, 1, user_id, user_id_len);
  sqlite3_bind_int64(st, 2, (sqlite3_int64)now_ms);
  sqlite3_bind_int64(st, 3, (sqlite3_int64)p->threshold);
  sqlite3_bind_int64(st, 4, (sqlite3_int64)p->base_ms);
  sqlite3_bind_int64(st, 5, (sqlite3_int64)p->max_ms);
  sqlite3_bind_int64(st, 6, (sqlite3_int64)p->window_ms);
  int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
  if (rc != 0) {
    report(db, "counting a failure");
  }
  sqlite3_finalize(st);
  return rc;
}

static int sqlite_lockout_del(server_db *base, const uint8_t *user_id, size_t user_id_len) {
  sqlite_db *db = (sqlite_db *)base;
  sqlite3_stmt *st = db->lockout_del;
  if (st == NULL) {
    return -1;
  }
  bind_text(st, 1, user_id, user_id_len);
  return run_prepared(db, st, "deleting a lockout row");
}

static int64_t sqlite_lockout_purge(server_db *base, int64_t failed_before_ms, int64_t now_ms) {
  sqlite_db *db = (sqlite_db *)base;
  sqlite3_stmt *st = db->lockout_purge;
  if (st == NULL) {
    return -1;
  }
  sqlite3_bind_int64(st, 1, (sqlite3_int64)failed_before_ms);
  sqlite3_bind_int64(st, 2, (sqlite3_int64)now_ms);
  if (run_prepared(db, st, "purging lockout rows") != 0) {
    return -1;
  }
  return (int64_t)sqlite3_changes64(db->conn);
}

const server_db_backend server_db_sqlite_backend = {
    .kind = SERVER_DB_SQLITE,
    .open = sqlite_open,
    .close = sqlite_close,
    .get_setting = sqlite_get_setting,
    .put_settings = sqlite_put_settings,
    .user_put = sqlite_user_put,
    .user_del = sqlite_user_del,
    .user_replace = sqlite_user_replace,
    .revoke = sqlite_revoke,
    .history_foreach = sqlite_history_foreach,
    .audit_foreach = sqlite_audit_foreach,
    .user_foreach = sqlite_user_foreach,
    .lookup = sqlite_lookup,
    .assignment_foreach = sqlite_assignment_foreach,
    .assign = sqlite_assign,
    .begin = sqlite_begin,
    .commit = sqlite_commit,
    .rollback = sqlite_rollback,
    .read_begin = sqlite_read_begin,
    .read_end = sqlite_read_end,
    .lockout_get = sqlite_lockout_get,
    .lockout_put = sqlite_lockout_put,
    .lockout_fail = sqlite_lockout_fail,
    .lockout_del = sqlite_lockout_del,
    .lockout_purge = sqlite_lockout_purge,
};
