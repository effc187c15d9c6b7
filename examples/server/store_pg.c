/*
 * cpns-server store, PostgreSQL backend (see store.h), on libpq's blocking
 * calls. Blocking is fine here: in `serve` each connection belongs to a
 * thread of its own (the store thread's writes, the lookup worker's reads:
 * store_thread.h), so the event loop never waits for the network; that is
 * simpler than driving libpq's asynchronous API from libevent and as fast
 * (one round trip per statement either way, on the worker's own socket).
 *
 * Every statement goes through a prepared statement with binary parameters
 * and results (no quoting, no parsing per call). A store batch (BEGIN, its
 * writes, COMMIT) and a batch of lookups are sent pipelined: a round trip
 * per 64 statements rather than per statement. Identifiers are text
 * COLLATE "C", so they sort by octets as on SQLite.
 *
 * Connection loss: the operation in progress fails (lookup: tryLater;
 * batch: serverError; a COMMIT whose answer did not arrive counts as
 * failed); the next operation reconnects, at most once per back-off period
 * (100 ms doubling to 5 s), and fails fast in between.
 */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "examples/server/store_backend.h"

#define RETRY_FIRST_MS 100
#define RETRY_MAX_MS 5000

/* Type OIDs of the parameters (pg_type.h is server-side only). */
#define OID_BYTEA 17
#define OID_INT8 20
#define OID_TEXT 25

typedef struct pg_db {
  server_db base; /* first: a server_db * is a pg_db * */
  PGconn *conn;
  char *uri;
  server_db_mode mode;
  int down_reported; /* the loss was logged; log the recovery */
  int in_tx;         /* between BEGIN and COMMIT/ROLLBACK */
  uint64_t retry_at_ms, retry_ms;
} pg_db;

static const char SCHEMA[] = "CREATE TABLE settings ("
                             " name text COLLATE \"C\" PRIMARY KEY,"
                             " value bigint NOT NULL);"
                             "CREATE TABLE users ("
                             " user_id text COLLATE \"C\" PRIMARY KEY,"
                             " credential bytea,"
                             " record2 bytea,"
                             " created_at bigint NOT NULL);"
                             "CREATE TABLE assignments ("
                             " entity_id text COLLATE \"C\" PRIMARY KEY,"
                             " user_id text COLLATE \"C\" NOT NULL,"
                             " mode integer NOT NULL,"
                             " key_id bytea NOT NULL,"
                             " sealed_eukey bytea NOT NULL,"
                             " assigned_at bigint NOT NULL);"
                             "CREATE INDEX assignments_by_user ON assignments(user_id);"
                             /* Per normalized User ID, known or not, the failures since its last
                              * success, in wall-clock ms since the epoch (lockout.h). */
                             "CREATE TABLE lockout ("
                             " user_id text COLLATE \"C\" PRIMARY KEY,"
                             " failures bigint NOT NULL,"
                             " last_failure_ms bigint NOT NULL,"
                             " blocked_until_ms bigint NOT NULL);";

/* The database clock in ms since the epoch, for audit rows. */
#define NOW_MS "(extract(epoch from clock_timestamp()) * 1000)::bigint"

/* Version 4 (as store_sqlite.c's): the source of each assignment, the
 * history of ended keys (state 1 replaced, 2 revoked) and the audit trail.
 * Triggers write the rows of the serve loop's changes (an assignment made
 * or replaced, a lockout started) inside the statement that makes them:
 * the pipelined batch gains no statement. */
static const char SCHEMA_V4_STEP[] =
    "ALTER TABLE assignments ADD COLUMN source text;"
    "CREATE TABLE assignment_history ("
    " id bigserial PRIMARY KEY,"
    " entity_id text COLLATE \"C\" NOT NULL,"
    " user_id text COLLATE \"C\" NOT NULL,"
    " mode integer NOT NULL,"
    " key_id bytea NOT NULL,"
    " sealed_eukey bytea NOT NULL,"
    " assigned_at bigint NOT NULL,"
    " source text,"
    " state integer NOT NULL,"
    " ended_at bigint NOT NULL,"
    " reason text);"
    "CREATE INDEX assignment_history_by_entity ON assignment_history(entity_id, id);"
    "CREATE TABLE audit ("
    " id bigserial PRIMARY KEY,"
    " time_ms bigint NOT NULL,"
    " event text NOT NULL,"
    " entity_id text COLLATE \"C\","
    " user_id text COLLATE \"C\","
    " key_id bytea,"
    " source text,"
    " result text);"
    "CREATE INDEX audit_by_time ON audit(time_ms);"
    "CREATE OR REPLACE FUNCTION cpns_assignments_audit() RETURNS trigger LANGUAGE plpgsql AS $f$ "
    "BEGIN"
    " IF TG_OP = 'UPDATE' THEN"
    "  INSERT INTO assignment_history(entity_id, user_id, mode, key_id, sealed_eukey,"
    "  assigned_at, source, state, ended_at, reason) VALUES(OLD.entity_id, OLD.user_id,"
    "  OLD.mode, OLD.key_id, OLD.sealed_eukey, OLD.assigned_at, OLD.source, 1,"
    "  NEW.assigned_at, NULL);"
    " END IF;"
    " INSERT INTO audit(time_ms, event, entity_id, user_id, key_id, source, result)"
    " VALUES(" NOW_MS ", CASE WHEN TG_OP = 'UPDATE' THEN 'replaced' ELSE 'assigned' END,"
    " NEW.entity_id, NEW.user_id, NEW.key_id, NEW.source, 'ok');"
    " RETURN NULL; END $f$;"
    "CREATE TRIGGER assignments_audit AFTER INSERT OR UPDATE ON assignments"
    " FOR EACH ROW EXECUTE FUNCTION cpns_assignments_audit();"
    /* A failure that starts a block: blocked after it, not blocked at it. */
    "CREATE OR REPLACE FUNCTION cpns_lockout_audit() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN"
    " IF NEW.blocked_until_ms > NEW.last_failure_ms AND (TG_OP = 'INSERT'"
    "  OR OLD.blocked_until_ms <= NEW.last_failure_ms) THEN"
    "  INSERT INTO audit(time_ms, event, user_id, result) VALUES(NEW.last_failure_ms,"
    "  'lockout', NEW.user_id, 'failures ' || NEW.failures || ', blocked until ' ||"
    "  NEW.blocked_until_ms);"
    " END IF;"
    " RETURN NULL; END $f$;"
    "CREATE TRIGGER lockout_audit AFTER INSERT OR UPDATE ON lockout"
    " FOR EACH ROW EXECUTE FUNCTION cpns_lockout_audit();";

/* Moves the assignments of the CTE `gone` (deleted rows) to the history
 * as revoked ($REASON: reason) with their audit rows ($SOURCE: source);
 * `aud` returns a row per audit row, for a later CTE to wait for. */
#define REVOKE_GONE(REASON, SOURCE)                                                                \
  ", hist AS (INSERT INTO assignment_history(entity_id, user_id, mode, key_id, sealed_eukey,"      \
  " assigned_at, source, state, ended_at, reason) SELECT entity_id, user_id, mode, key_id,"        \
  " sealed_eukey, assigned_at, source, 2, extract(epoch from now())::bigint, " REASON              \
  " FROM gone ORDER BY entity_id),"                                                                \
  " aud AS (INSERT INTO audit(time_ms, event, entity_id, user_id, key_id, source, result)"         \
  " SELECT " NOW_MS ", 'revoked', entity_id, user_id, key_id, " SOURCE ", " REASON                 \
  " FROM gone ORDER BY entity_id RETURNING 1)"

/* The prepared statements: name, SQL, parameter types. */
typedef struct pg_stmt {
  const char *name;
  const char *sql;
  int nparams;
  Oid types[8];
} pg_stmt;

enum {
  ST_LOOKUP,
  ST_USER_ONLY,
  ST_LOCKOUT_GET,
  ST_SETTING_GET,
  ST_SETTING_PUT,
  ST_ASSIGN,
  ST_LOCKOUT_PUT,
  ST_LOCKOUT_FAIL,
  ST_LOCKOUT_DEL,
  ST_LOCKOUT_PURGE,
  ST_COUNT
};

/* failures after this one: restarts at 1 once the stored ones expired
 * (window over, no block running), as lockout.c forgets them. */
#define NEW_FAILURES                                                                               \
  "(CASE WHEN l.last_failure_ms <= $2 - $6 AND l.blocked_until_ms <= $2"                           \
  " THEN 1 ELSE l.failures + 1 END)"

static const pg_stmt STMTS[ST_COUNT] = {
    [ST_LOOKUP] = {"cpns_lookup",
                   "SELECT u.user_id IS NOT NULL, u.credential, u.record2, l.user_id IS NOT NULL,"
                   " l.failures, l.last_failure_ms, l.blocked_until_ms"
                   " FROM (SELECT $1::text COLLATE \"C\" AS id) k"
                   " LEFT JOIN users u ON u.user_id = k.id"
                   " LEFT JOIN lockout l ON l.user_id = k.id",
                   1,
                   {OID_TEXT}},
    [ST_USER_ONLY] = {"cpns_user_only",
                      "SELECT true, credential, record2, false, 0::bigint, 0::bigint, 0::bigint"
                      " FROM users WHERE user_id = $1",
                      1,
                      {OID_TEXT}},
    [ST_LOCKOUT_GET] = {"cpns_lockout_get",
                        "SELECT failures, last_failure_ms, blocked_until_ms FROM lockout"
                        " WHERE user_id = $1",
                        1,
                        {OID_TEXT}},
    [ST_SETTING_GET] = {"cpns_setting_get",
                        "SELECT value FROM settings WHERE name = $1",
                        1,
                        {OID_TEXT}},
    [ST_SETTING_PUT] = {"cpns_setting_put",
                        "INSERT INTO settings(name, value) VALUES($1, $2)"
                        " ON CONFLICT(name) DO UPDATE SET value = EXCLUDED.value",
                        2,
                        {OID_TEXT, OID_INT8}},
    /* One Entity ID, one user, decided by the database for every server: the
     * update applies to the same user's row only; no row back = conflict. */
    /* A refusal writes its audit row in the same statement. */
    [ST_ASSIGN] = {"cpns_assign",
                   "WITH up AS (INSERT INTO assignments AS a(entity_id, user_id, mode, key_id,"
                   " sealed_eukey, assigned_at, source) VALUES($1, $2, $3, $4, $5, $6, $7)"
                   " ON CONFLICT(entity_id) DO UPDATE SET mode = EXCLUDED.mode,"
                   " key_id = EXCLUDED.key_id, sealed_eukey = EXCLUDED.sealed_eukey,"
                   " assigned_at = EXCLUDED.assigned_at, source = EXCLUDED.source"
                   " WHERE a.user_id = EXCLUDED.user_id RETURNING 1),"
                   " refused AS (INSERT INTO audit(time_ms, event, entity_id, user_id, key_id,"
                   " source, result) SELECT " NOW_MS ", 'conflict', $1, $2, $4, $7,"
                   " 'entityConflict' WHERE NOT EXISTS (SELECT 1 FROM up))"
                   " SELECT 1 FROM up",
                   7,
                   {OID_TEXT, OID_TEXT, OID_INT8, OID_BYTEA, OID_BYTEA, OID_INT8, OID_TEXT}},
    [ST_LOCKOUT_PUT] = {"cpns_lockout_put",
                        "INSERT INTO lockout(user_id, failures, last_failure_ms, blocked_until_ms)"
                        " VALUES($1, $2, $3, $4) ON CONFLICT(user_id) DO UPDATE SET"
                        " failures = EXCLUDED.failures,"
                        " last_failure_ms = EXCLUDED.last_failure_ms,"
                        " blocked_until_ms = EXCLUDED.blocked_until_ms",
                        4,
                        {OID_TEXT, OID_INT8, OID_INT8, OID_INT8}},
    /* $1 user, $2 now, $3 threshold, $4 base, $5 max, $6 window. The
     * back-off base << (failures - threshold) is capped at max; the shift
     * stops at 30 (max is at most a day, below 2^27 ms). */
    [ST_LOCKOUT_FAIL] = {"cpns_lockout_fail",
                         "INSERT INTO lockout AS l(user_id, failures, last_failure_ms,"
                         " blocked_until_ms)"
                         " VALUES($1, 1, $2, CASE WHEN 1 >= $3 THEN $2 + LEAST($5, $4) ELSE 0 END)"
                         " ON CONFLICT(user_id) DO UPDATE SET"
                         " failures = " NEW_FAILURES ","
                         " blocked_until_ms = CASE WHEN " NEW_FAILURES " >= $3"
                         " THEN $2 + LEAST($5, $4 << LEAST(30, " NEW_FAILURES " - $3)::integer)"
                         " ELSE 0 END,"
                         " last_failure_ms = $2",
                         6,
                         {OID_TEXT, OID_INT8, OID_INT8, OID_INT8, OID_INT8, OID_INT8}},
    [ST_LOCKOUT_DEL] = {"cpns_lockout_del",
                        "DELETE FROM lockout WHERE user_id = $1",
                        1,
                        {OID_TEXT}},
    [ST_LOCKOUT_PURGE] = {"cpns_lockout_purge",
                          "DELETE FROM lockout WHERE last_failure_ms <= $1"
                          " AND blocked_until_ms <= $2",
                          2,
                          {OID_INT8, OID_INT8}},
};

/* Binary parameters of one statement. */
typedef struct pg_params {
  int n;
  const char *values[8];
  int lengths[8];
  int formats[8];
  char ints[8][8];
} pg_params;

static void param_bytes(pg_params *p, const void *v, size_t len) {
  p->values[p->n] = v;
  p->lengths[p->n] = (int)len;
  p->formats[p->n] = 1;
  p->n++;
}

static void param_null(pg_params *p) {
  p->values[p->n] = NULL;
  p->lengths[p->n] = 0;
  p->formats[p->n] = 1;
  p->n++;
}

static void param_i64(pg_params *p, int64_t v) {
  uint64_t u = (uint64_t)v;
  for (int i = 0; i < 8; i++) {
    p->ints[p->n][i] = (char)(u >> (56 - 8 * i));
  }
  param_bytes(p, p->ints[p->n], 8);
}

static void param_text_or_null(pg_params *p, const char *text) {
  if (text != NULL) {
    param_bytes(p, text, strlen(text));
  } else {
    param_null(p);
  }
}

static int64_t get_i64(const PGresult *r, int row, int col) {
  const unsigned char *b = (const unsigned char *)PQgetvalue(r, row, col);
  if (PQgetisnull(r, row, col) || PQgetlength(r, row, col) != 8) {
    return 0;
  }
  uint64_t u = 0;
  for (int i = 0; i < 8; i++) {
    u = u << 8 | b[i];
  }
  return (int64_t)u;
}

static int get_bool(const PGresult *r, int row, int col) {
  return !PQgetisnull(r, row, col) && PQgetlength(r, row, col) == 1 &&
         *PQgetvalue(r, row, col) != 0;
}

static uint64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* libpq's message without its trailing newline. */
static void report_conn(pg_db *db, const char *what) {
  const char *msg = db->conn != NULL ? PQerrorMessage(db->conn) : "out of memory";
  size_t len = strlen(msg);
  while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' ')) {
    len--;
  }
  fprintf(stderr, "database: %s: %.*s\n", what, (int)len, msg);
}

/* Reports a failed result (or a NULL one); returns -1. */
static int report_result(pg_db *db, PGresult *r, const char *what) {
  if (r != NULL && PQresultErrorMessage(r)[0] != '\0') {
    const char *msg = PQresultErrorMessage(r);
    size_t len = strlen(msg);
    while (len > 0 && msg[len - 1] == '\n') {
      len--;
    }
    fprintf(stderr, "database: %s: %.*s\n", what, (int)len, msg);
  } else {
    report_conn(db, what);
  }
  return -1;
}

/* Runs SQL without parameters (several statements allowed); 0 or -1. */
static int exec_plain(pg_db *db, const char *sql, const char *what) {
  PGresult *r = PQexec(db->conn, sql);
  int ok =
      r != NULL && (PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK);
  if (!ok) {
    report_result(db, r, what);
  }
  PQclear(r);
  return ok ? 0 : -1;
}

/*
 * Connects to the URI as given, with two defaults the URI may override:
 * a connect attempt gives up after 5 s (a dead host of a multi-host URI
 * must not hold the worker for the kernel's SYN timeout), and a TCP
 * connection whose data stays unacknowledged for 10 s is dropped (a
 * primary gone mid-statement fails the statement instead of hanging the
 * store thread for the kernel's retransmission timeout).
 */
static PGconn *connect_uri(const char *uri) {
  static const char *const keys[] = {"connect_timeout", "tcp_user_timeout", "dbname", NULL};
  const char *const values[] = {"5", "10000", uri, NULL};
  return PQconnectdbParams(keys, values, 1); /* dbname last: the URI wins */
}

/* The session settings and statements a fresh connection needs. */
static int setup_session(pg_db *db) {
  /* Assignments are acknowledged after COMMIT: that must wait for the WAL
   * flush (and, with synchronous standbys configured, for them). A role or
   * database default of off or local would weaken it: refused here. A
   * stronger value (remote_write, remote_apply) is kept. */
  PGresult *r = PQexec(db->conn, "SHOW synchronous_commit");
  if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
    report_result(db, r, "reading synchronous_commit");
    PQclear(r);
    return -1;
  }
  const char *sc = PQgetvalue(r, 0, 0);
  int weak = strcmp(sc, "off") == 0 || strcmp(sc, "local") == 0;
  PQclear(r);
  if (weak && exec_plain(db, "SET synchronous_commit = on", "setting synchronous_commit") != 0) {
    return -1;
  }
  if (db->mode == SERVER_DB_READER &&
      exec_plain(db, "SET default_transaction_read_only = on", "setting read-only") != 0) {
    return -1;
  }
  for (int i = 0; i < ST_COUNT; i++) {
    r = PQprepare(db->conn, STMTS[i].name, STMTS[i].sql, STMTS[i].nparams, STMTS[i].types);
    if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK) {
      report_result(db, r, "preparing statements");
      PQclear(r);
      return -1;
    }
    PQclear(r);
  }
  return 0;
}

/* Connects (again) unless within the back-off; 0 when connected. Never
 * inside a transaction: its statements died with the old connection. */
static int pg_connect(pg_db *db, int verbose) {
  if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK) {
    return 0;
  }
  uint64_t now = mono_ms();
  if (db->in_tx || (db->retry_ms != 0 && now < db->retry_at_ms)) {
    return -1; /* down: fail fast until the next try */
  }
  PQfinish(db->conn);
  db->conn = connect_uri(db->uri);
  if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK &&
      PQsetClientEncoding(db->conn, "UTF8") == 0 && setup_session(db) == 0) {
    db->retry_ms = 0;
    if (db->down_reported) {
      fprintf(stderr, "database: connected to PostgreSQL again\n");
      db->down_reported = 0;
    }
    return 0;
  }
  if (verbose || !db->down_reported) {
    report_conn(db, "cannot connect to PostgreSQL");
  }
  db->down_reported = 1;
  db->retry_ms = db->retry_ms == 0                 ? RETRY_FIRST_MS
                 : db->retry_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS
                                                   : db->retry_ms * 2;
  db->retry_at_ms = now + db->retry_ms;
  PQfinish(db->conn); /* also when connected but the session setup failed */
  db->conn = NULL;
  return -1;
}

/* A lost connection is logged once (the next call reconnects). */
static void note_lost(pg_db *db) {
  if (db->conn != NULL && PQstatus(db->conn) != CONNECTION_OK && !db->down_reported) {
    fprintf(stderr, "database: connection to PostgreSQL lost; reconnecting\n");
    db->down_reported = 1;
    db->retry_ms = 0; /* the first reconnect is immediate */
  }
}

/* Runs prepared statement id; returns its result (caller clears) or NULL
 * on failure (reported). */
static PGresult *run(pg_db *db, int id, const pg_params *p, const char *what) {
  if (pg_connect(db, 0) != 0) {
    return NULL;
  }
  PGresult *r =
      PQexecPrepared(db->conn, STMTS[id].name, p->n, p->values, p->lengths, p->formats, 1);
  ExecStatusType s = r != NULL ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
    report_result(db, r, what);
    PQclear(r);
    note_lost(db);
    return NULL;
  }
  return r;
}

/* Reads the schema version: 0 when there is no schema, -1 on error. */
static int read_version(pg_db *db, int *version) {
  PGresult *r = PQexec(db->conn, "SELECT to_regclass('settings') IS NOT NULL");
  if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
    report_result(db, r, "reading the schema version");
    PQclear(r);
    return -1;
  }
  int exists = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
  PQclear(r);
  *version = 0;
  if (!exists) {
    return 0;
  }
  r = PQexec(db->conn, "SELECT value FROM settings WHERE name = 'schema_version'");
  if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK) {
    report_result(db, r, "reading the schema version");
    PQclear(r);
    return -1;
  }
  long v = PQntuples(r) == 1 ? strtol(PQgetvalue(r, 0, 0), NULL, 10) : 0;
  PQclear(r);
  if (v <= 0 || v > 1000000) {
    fprintf(stderr, "database: a settings table without a valid schema version: not ours\n");
    return -1;
  }
  *version = (int)v;
  return 0;
}

/*
 * Version 3 -> 4 in one transaction, the settings table locked first so
 * that servers starting together upgrade once (the others find version 4).
 * Assignments of users deleted before version 4 would go to whoever is
 * enrolled under the User ID next: they are revoked.
 */
static int upgrade_to_v4(pg_db *db) {
  int version = 0;
  if (exec_plain(db, "BEGIN; LOCK TABLE settings IN EXCLUSIVE MODE", "upgrading the schema") != 0) {
    return -1;
  }
  if (read_version(db, &version) != 0) {
    goto fail;
  }
  if (version == 3 &&
      (exec_plain(db, SCHEMA_V4_STEP, "upgrading the schema to version 4") != 0 ||
       exec_plain(db,
                  "WITH gone AS (DELETE FROM assignments WHERE user_id NOT IN"
                  " (SELECT user_id FROM users) RETURNING *)" REVOKE_GONE(
                      "'user deleted before schema 4'", "'upgrade'") " SELECT count(*) FROM gone",
                  "revoking the assignments of deleted users") != 0 ||
       exec_plain(db, "UPDATE settings SET value = 4 WHERE name = 'schema_version'",
                  "upgrading the schema") != 0)) {
    goto fail;
  }
  return exec_plain(db, "COMMIT", "upgrading the schema");
fail:
  exec_plain(db, "ROLLBACK", "rolling back");
  return -1;
}

/* Creates the schema in one transaction (version 3: the first on PostgreSQL). */
static int create_schema(pg_db *db) {
  char sql[sizeof(SCHEMA) + sizeof(SCHEMA_V4_STEP) + 512];
  snprintf(sql, sizeof(sql),
           "BEGIN;%s%sINSERT INTO settings(name, value) VALUES('schema_version', %d),"
           " ('%s', %d), ('%s', %d), ('%s', %u);COMMIT",
           SCHEMA, SCHEMA_V4_STEP, SERVER_DB_SCHEMA_VERSION, SERVER_DB_SETTING_OPS,
           CPNS_KDF_OPS_DEFAULT, SERVER_DB_SETTING_MEM, CPNS_KDF_MEM_KIB_DEFAULT,
           SERVER_DB_SETTING_SUITES, SERVER_DB_SUITES_UPGRADED);
  if (exec_plain(db, sql, "creating the schema") != 0) {
    exec_plain(db, "ROLLBACK", "rolling back");
    return -1;
  }
  return 0;
}

static void pg_close(server_db *base) {
  pg_db *db = (pg_db *)base;
  PQfinish(db->conn);
  free(db->uri);
  free(db);
}

static int pg_open(server_db **out, const char *uri, server_db_mode mode,
                   const uint8_t *record_key) {
  *out = NULL;
  pg_db *db = calloc(1, sizeof(*db));
  if (db == NULL || (db->uri = strdup(uri)) == NULL) {
    free(db);
    fprintf(stderr, "out of memory opening the database\n");
    return -1;
  }
  db->base.be = &server_db_pg_backend;
  db->base.record_key = record_key;
  db->mode = mode;
  /* The schema check runs before the read-only setting: init creates. */
  db->mode = SERVER_DB_EXISTING;
  db->conn = connect_uri(uri);
  int version = 0;
  if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK) {
    report_conn(db, "cannot connect to PostgreSQL");
    goto fail;
  }
  if (PQsetClientEncoding(db->conn, "UTF8") != 0 || read_version(db, &version) != 0) {
    goto fail;
  }
  if (version > SERVER_DB_SCHEMA_VERSION) {
    fprintf(stderr, "database %s has schema version %d, newer than this program's %d\n",
            PQdb(db->conn), version, SERVER_DB_SCHEMA_VERSION);
    goto fail;
  }
  if (version == 0 && mode != SERVER_DB_CREATE) {
    fprintf(stderr, "database %s is not initialized (run cpns-server init)\n", PQdb(db->conn));
    goto fail;
  }
  if (version == 0) {
    if (create_schema(db) != 0) {
      goto fail;
    }
    db->base.created = 1;
  } else if (version == 3) {
    if (upgrade_to_v4(db) != 0) {
      goto fail;
    }
  } else if (version < SERVER_DB_SCHEMA_VERSION) {
    /* Cannot happen: PostgreSQL support starts at version 3. */
    fprintf(stderr, "database %s has schema version %d, older than any PostgreSQL schema\n",
            PQdb(db->conn), version);
    goto fail;
  }
  db->mode = mode;
  if (setup_session(db) != 0) {
    goto fail;
  }
  *out = &db->base;
  return 0;
fail:
  pg_close(&db->base);
  return -1;
}

static int pg_get_setting(server_db *base, const char *name, uint32_t *value) {
  pg_db *db = (pg_db *)base;
  pg_params p = {0};
  param_bytes(&p, name, strlen(name));
  PGresult *r = run(db, ST_SETTING_GET, &p, "reading a setting");
  if (r == NULL) {
    return -1;
  }
  int rc = -1;
  if (PQntuples(r) == 1) {
    int64_t v = get_i64(r, 0, 0);
    if (v > 0 && v <= (int64_t)UINT32_MAX) {
      *value = (uint32_t)v;
      rc = 0;
    }
  }
  PQclear(r);
  if (rc != 0) {
    fprintf(stderr, "database: setting %s is missing or invalid\n", name);
  }
  return rc;
}

static int pg_rollback(server_db *base);

static int pg_put_settings(server_db *base, const char *const *names, const uint32_t *values,
                           size_t n) {
  pg_db *db = (pg_db *)base;
  if (pg_connect(db, 1) != 0 || exec_plain(db, "BEGIN", "BEGIN") != 0) {
    return -1;
  }
  db->in_tx = 1;
  for (size_t i = 0; i < n; i++) {
    pg_params p = {0};
    param_bytes(&p, names[i], strlen(names[i]));
    param_i64(&p, (int64_t)values[i]);
    PGresult *r = run(db, ST_SETTING_PUT, &p, "storing a setting");
    if (r == NULL) {
      pg_rollback(base);
      return -1;
    }
    PQclear(r);
  }
  db->in_tx = 0;
  PGresult *r = PQexec(db->conn, "COMMIT");
  int ok =
      r != NULL && PQresultStatus(r) == PGRES_COMMAND_OK && strcmp(PQcmdStatus(r), "COMMIT") == 0;
  if (!ok) {
    report_result(db, r, "storing settings");
  }
  PQclear(r);
  return ok ? 0 : -1;
}

/* Runs one statement with parameters (types inferred, binary in and out):
 * the result (caller clears) or NULL (reported). */
static PGresult *run_sql(pg_db *db, const char *sql, const pg_params *p, const char *what) {
  if (pg_connect(db, 1) != 0) {
    return NULL;
  }
  PGresult *r = PQexecParams(db->conn, sql, p->n, NULL, p->values, p->lengths, p->formats, 1);
  ExecStatusType s = r != NULL ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
    report_result(db, r, what);
    PQclear(r);
    note_lost(db);
    return NULL;
  }
  return r;
}

/* Each command below is one statement (its CTEs are one atomic change
 * with the audit rows), so no transaction is left open on an error. */

static int pg_user_put(server_db *base, const uint8_t *uid, size_t uid_len, const uint8_t *r1,
                       size_t r1_len, const uint8_t *r2, size_t r2_len) {
  pg_db *db = (pg_db *)base;
  pg_params p = {0};
  param_bytes(&p, uid, uid_len);
  if (r1 != NULL) {
    param_bytes(&p, r1, r1_len);
  } else {
    param_null(&p);
  }
  if (r2 != NULL) {
    param_bytes(&p, r2, r2_len);
  } else {
    param_null(&p);
  }
  param_i64(&p, (int64_t)time(NULL));
  PGresult *r = run_sql(db,
                        "WITH ins AS (INSERT INTO users(user_id, credential, record2, created_at)"
                        " VALUES($1::text, $2::bytea, $3::bytea, $4::bigint)"
                        " ON CONFLICT(user_id) DO NOTHING RETURNING user_id),"
                        " aud AS (INSERT INTO audit(time_ms, event, user_id, source, result)"
                        " SELECT " NOW_MS ", 'user-added', user_id, 'local', 'ok' FROM ins)"
                        " SELECT 1 FROM ins",
                        &p, "adding a user");
  if (r == NULL) {
    return -1;
  }
  int rc = PQntuples(r) == 1 ? 0 : 1; /* no row back: the user exists */
  PQclear(r);
  return rc;
}

static int pg_user_del(server_db *base, const uint8_t *uid, size_t uid_len, int revoke,
                       const char *source) {
  pg_db *db = (pg_db *)base;
  pg_params p = {0};
  param_bytes(&p, uid, uid_len);
  param_i64(&p, revoke);
  param_text_or_null(&p, source);
  /* existed, had assignments, deleted: all seen in the statement's snapshot. */
  PGresult *r = run_sql(
      db,
      "WITH has AS (SELECT EXISTS(SELECT 1 FROM assignments WHERE user_id = $1::text) AS v),"
      " gone_user AS (DELETE FROM users WHERE user_id = $1::text AND ($2::bigint <> 0"
      " OR NOT (SELECT v FROM has)) RETURNING user_id),"
      " gone AS (DELETE FROM assignments WHERE user_id = $1::text"
      " AND EXISTS (SELECT 1 FROM gone_user) RETURNING *)" REVOKE_GONE(
          "'user removed'",
          "$3::text") ","
                      " lk AS (DELETE FROM lockout WHERE user_id IN (SELECT user_id FROM "
                      "gone_user)),"
                      " aud_user AS (INSERT INTO audit(time_ms, event, user_id, source, result)"
                      " SELECT " NOW_MS ", 'user-removed', user_id, $3::text, 'ok' FROM gone_user"
                      " WHERE (SELECT count(*) FROM aud) >= 0)" /* after the revoked rows */
                      " SELECT EXISTS(SELECT 1 FROM gone_user), EXISTS(SELECT 1 FROM users WHERE "
                      "user_id = $1::text)",
      &p, "deleting a user");
  if (r == NULL) {
    return -1;
  }
  int rc = -1;
  if (PQntuples(r) == 1) {
    rc = get_bool(r, 0, 0) ? 0 : get_bool(r, 0, 1) ? 2 : 1;
  }
  PQclear(r);
  return rc;
}

static int pg_user_replace(server_db *base, const uint8_t *uid, size_t uid_len, const uint8_t *r1,
                           size_t r1_len, const uint8_t *r2, size_t r2_len, const char *source) {
  pg_db *db = (pg_db *)base;
  pg_params p = {0};
  param_bytes(&p, uid, uid_len);
  if (r1 != NULL) {
    param_bytes(&p, r1, r1_len);
  } else {
    param_null(&p);
  }
  if (r2 != NULL) {
    param_bytes(&p, r2, r2_len);
  } else {
    param_null(&p);
  }
  param_text_or_null(&p, source);
  PGresult *r = run_sql(db,
                        "WITH up AS (UPDATE users SET credential = $2::bytea, record2 = $3::bytea"
                        " WHERE user_id = $1::text RETURNING user_id),"
                        " lk AS (DELETE FROM lockout WHERE user_id IN (SELECT user_id FROM up)),"
                        " aud AS (INSERT INTO audit(time_ms, event, user_id, source, result)"
                        " SELECT " NOW_MS ", 'user-passwd', user_id, $4::text, 'ok' FROM up)"
                        " SELECT 1 FROM up",
                        &p, "changing a user's records");
  if (r == NULL) {
    return -1;
  }
  int rc = PQntuples(r) == 1 ? 0 : 1;
  PQclear(r);
  return rc;
}

static int pg_revoke(server_db *base, const uint8_t *eid, size_t eid_len, const char *reason,
                     const char *source) {
  pg_db *db = (pg_db *)base;
  pg_params p = {0};
  param_bytes(&p, eid, eid_len);
  param_text_or_null(&p, reason);
  param_text_or_null(&p, source);
  PGresult *r = run_sql(db,
                        "WITH gone AS (DELETE FROM assignments WHERE entity_id = $1::text"
                        " RETURNING *)" REVOKE_GONE("$2::text", "$3::text") " SELECT 1 FROM gone",
                        &p, "revoking an assignment");
  if (r == NULL) {
    return -1;
  }
  int rc = PQntuples(r) == 1 ? 0 : 1;
  PQclear(r);
  return rc;
}

/* Copies a nullable bytea column; -1 when longer than SERVER_DB_RECORD_MAX. */
static int column_record(const PGresult *r, int col, uint8_t *out, size_t *out_len) {
  *out_len = 0;
  if (PQgetisnull(r, 0, col)) {
    return 0;
  }
  int n = PQgetlength(r, 0, col);
  if (n < 0 || n > SERVER_DB_RECORD_MAX) {
    return -1;
  }
  memcpy(out, PQgetvalue(r, 0, col), (size_t)n);
  *out_len = (size_t)n;
  return 0;
}

/* Reads a lookup's one row into out. Returns 0 or -1 (a record too long). */
static int parse_lookup(const PGresult *r, const uint8_t *uid, size_t uid_len,
                        server_db_lookup *out) {
  if (PQntuples(r) != 1) {
    return 0;
  }
  if (get_bool(r, 0, 0)) {
    if (column_record(r, 1, out->records.record1, &out->records.record1_len) != 0 ||
        column_record(r, 2, out->records.record2, &out->records.record2_len) != 0) {
      fprintf(stderr, "database: a record of user %.*s is too long\n", (int)uid_len,
              (const char *)uid);
      return -1;
    }
    out->user_found = 1;
  }
  if (get_bool(r, 0, 3)) {
    int64_t f = get_i64(r, 0, 4);
    out->lockout_found = 1;
    out->lockout.failures = f < 0 ? 0 : f > UINT32_MAX ? UINT32_MAX : (uint32_t)f;
    out->lockout.last_failure_ms = get_i64(r, 0, 5);
    out->lockout.blocked_until_ms = get_i64(r, 0, 6);
  }
  return 0;
}

static int pg_lookup(server_db *base, const uint8_t *uid, size_t uid_len, server_db_lookup *out,
                     int with_lockout) {
  pg_db *db = (pg_db *)base;
  pg_params p = {0};
  param_bytes(&p, uid, uid_len);
  PGresult *r = run(db, with_lockout ? ST_LOOKUP : ST_USER_ONLY, &p, "looking up a user");
  if (r == NULL) {
    return -1;
  }
  int rc = parse_lookup(r, uid, uid_len, out);
  PQclear(r);
  return rc;
}

/* Runs a query row by row (bounded memory for any table size): calls row_fn
 * on each single-row result until it returns non-zero. Returns 0 or -1. */
static int walk_params(pg_db *db, const char *sql, const pg_params *p,
                       int (*row_fn)(void *arg, const PGresult *r), void *arg, const char *what) {
  if (pg_connect(db, 1) != 0) {
    return -1;
  }
  if (!PQsendQueryParams(db->conn, sql, p != NULL ? p->n : 0, NULL, p != NULL ? p->values : NULL,
                         p != NULL ? p->lengths : NULL, p != NULL ? p->formats : NULL, 1) ||
      !PQsetSingleRowMode(db->conn)) {
    report_conn(db, what);
    return -1;
  }
  int rc = 0, stop = 0;
  PGresult *r;
  while ((r = PQgetResult(db->conn)) != NULL) {
    ExecStatusType s = PQresultStatus(r);
    if (s == PGRES_SINGLE_TUPLE) {
      if (!stop && row_fn(arg, r) != 0) {
        stop = 1; /* the rest is read and dropped: the connection must be idle after */
      }
    } else if (s != PGRES_TUPLES_OK) {
      report_result(db, r, what);
      rc = -1;
    }
    PQclear(r);
  }
  return rc;
}

static int walk(pg_db *db, const char *sql, int (*row_fn)(void *arg, const PGresult *r), void *arg,
                const char *what) {
  return walk_params(db, sql, NULL, row_fn, arg, what);
}

typedef struct user_walk {
  server_db_records_cb cb;
  void *arg;
} user_walk;

static int user_row(void *arg, const PGresult *r) {
  const user_walk *w = arg;
  return w->cb(w->arg, (const uint8_t *)PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0),
               PQgetisnull(r, 0, 1) ? NULL : (const uint8_t *)PQgetvalue(r, 0, 1),
               PQgetisnull(r, 0, 1) ? 0 : (size_t)PQgetlength(r, 0, 1),
               PQgetisnull(r, 0, 2) ? NULL : (const uint8_t *)PQgetvalue(r, 0, 2),
               PQgetisnull(r, 0, 2) ? 0 : (size_t)PQgetlength(r, 0, 2));
}

static int pg_user_foreach(server_db *base, server_db_records_cb cb, void *arg) {
  user_walk w = {cb, arg};
  return walk((pg_db *)base, "SELECT user_id, credential, record2 FROM users ORDER BY user_id",
              user_row, &w, "listing users");
}

typedef struct assignment_walk {
  server_db_assignment_cb cb;
  void *arg;
} assignment_walk;

static int assignment_row(void *arg, const PGresult *r) {
  const assignment_walk *w = arg;
  server_db_assignment a;
  if (PQgetlength(r, 0, 2) != 4 || PQgetlength(r, 0, 3) != CPNS_KEY_ID_LEN ||
      PQgetlength(r, 0, 4) != CPNS_SEALED_EUKEY_LEN) {
    fprintf(stderr, "database: malformed assignment row skipped\n");
    return 0;
  }
  const unsigned char *m = (const unsigned char *)PQgetvalue(r, 0, 2);
  a.entity_id = (const uint8_t *)PQgetvalue(r, 0, 0);
  a.entity_id_len = (size_t)PQgetlength(r, 0, 0);
  a.user_id = (const uint8_t *)PQgetvalue(r, 0, 1);
  a.user_id_len = (size_t)PQgetlength(r, 0, 1);
  a.mode = (int)((uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 | (uint32_t)m[2] << 8 | m[3]);
  a.key_id = (const uint8_t *)PQgetvalue(r, 0, 3);
  a.sealed_eukey = (const uint8_t *)PQgetvalue(r, 0, 4);
  a.assigned_at = get_i64(r, 0, 5);
  return w->cb(w->arg, &a);
}

static int pg_assignment_foreach(server_db *base, server_db_assignment_cb cb, void *arg) {
  assignment_walk w = {cb, arg};
  return walk((pg_db *)base,
              "SELECT entity_id, user_id, mode, key_id, sealed_eukey, assigned_at"
              " FROM assignments ORDER BY entity_id",
              assignment_row, &w, "listing assignments");
}

/* A nullable text column, or NULL. */
static const char *text_or_null(const PGresult *r, int col) {
  return PQgetisnull(r, 0, col) ? NULL : PQgetvalue(r, 0, col);
}

static int32_t get_i32(const PGresult *r, int col) {
  const unsigned char *m = (const unsigned char *)PQgetvalue(r, 0, col);
  return PQgetlength(r, 0, col) != 4
             ? -1
             : (int32_t)((uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 | (uint32_t)m[2] << 8 | m[3]);
}

typedef struct history_walk {
  server_db_history_cb cb;
  void *arg;
} history_walk;

static int history_row(void *arg, const PGresult *r) {
  const history_walk *w = arg;
  server_db_history_row h;
  memset(&h, 0, sizeof(h));
  int32_t state = get_i32(r, 7);
  if (PQgetlength(r, 0, 2) != 4 || PQgetlength(r, 0, 3) != CPNS_KEY_ID_LEN ||
      PQgetlength(r, 0, 4) != CPNS_SEALED_EUKEY_LEN || state < 0 || state > 2) {
    fprintf(stderr, "database: malformed assignment row skipped\n");
    return 0;
  }
  h.a.entity_id = (const uint8_t *)PQgetvalue(r, 0, 0);
  h.a.entity_id_len = (size_t)PQgetlength(r, 0, 0);
  h.a.user_id = (const uint8_t *)PQgetvalue(r, 0, 1);
  h.a.user_id_len = (size_t)PQgetlength(r, 0, 1);
  h.a.mode = (int)get_i32(r, 2);
  h.a.key_id = (const uint8_t *)PQgetvalue(r, 0, 3);
  h.a.sealed_eukey = (const uint8_t *)PQgetvalue(r, 0, 4);
  h.a.assigned_at = get_i64(r, 0, 5);
  h.a.source = text_or_null(r, 6);
  h.state = (server_db_key_state)state;
  h.ended_at = get_i64(r, 0, 8);
  h.reason = text_or_null(r, 9);
  return w->cb(w->arg, &h);
}

static int pg_history_foreach(server_db *base, const server_db_history_filter *f,
                              server_db_history_cb cb, void *arg) {
  history_walk w = {cb, arg};
  pg_params p = {0};
  if (f != NULL && f->entity_id != NULL) {
    param_bytes(&p, f->entity_id, f->entity_id_len);
  } else {
    param_null(&p);
  }
  param_i64(&p, f != NULL && f->ended);
  /* The current key sorts after its predecessors (history ids first). */
  return walk_params((pg_db *)base,
                     "SELECT entity_id, user_id, mode, key_id, sealed_eukey, assigned_at, source,"
                     " state, ended_at, reason FROM ("
                     " SELECT entity_id, user_id, mode, key_id, sealed_eukey, assigned_at, source,"
                     " state, ended_at, reason, id AS ord FROM assignment_history"
                     " WHERE $2::bigint <> 0"
                     " UNION ALL SELECT entity_id, user_id, mode, key_id, sealed_eukey,"
                     " assigned_at, source, 0, 0::bigint, NULL, 9223372036854775807"
                     " FROM assignments) k"
                     " WHERE $1::text IS NULL OR entity_id = $1::text ORDER BY entity_id, ord",
                     &p, history_row, &w, "listing assignments");
}

typedef struct audit_walk {
  server_db_audit_cb cb;
  void *arg;
} audit_walk;

static int audit_row(void *arg, const PGresult *r) {
  const audit_walk *w = arg;
  server_db_audit_row row;
  memset(&row, 0, sizeof(row));
  row.id = get_i64(r, 0, 0);
  row.time_ms = get_i64(r, 0, 1);
  row.event = PQgetvalue(r, 0, 2);
  row.entity_id = (const uint8_t *)text_or_null(r, 3);
  row.entity_id_len = row.entity_id != NULL ? (size_t)PQgetlength(r, 0, 3) : 0;
  row.user_id = (const uint8_t *)text_or_null(r, 4);
  row.user_id_len = row.user_id != NULL ? (size_t)PQgetlength(r, 0, 4) : 0;
  row.key_id = PQgetisnull(r, 0, 5) || PQgetlength(r, 0, 5) != CPNS_KEY_ID_LEN
                   ? NULL
                   : (const uint8_t *)PQgetvalue(r, 0, 5);
  row.source = text_or_null(r, 6);
  row.result = text_or_null(r, 7);
  return w->cb(w->arg, &row);
}

static int pg_audit_foreach(server_db *base, const server_db_audit_filter *f, server_db_audit_cb cb,
                            void *arg) {
  audit_walk w = {cb, arg};
  pg_params p = {0};
  param_i64(&p, f != NULL ? f->since_ms : 0);
  if (f != NULL && f->entity_id != NULL) {
    param_bytes(&p, f->entity_id, f->entity_id_len);
  } else {
    param_null(&p);
  }
  if (f != NULL && f->user_id != NULL) {
    param_bytes(&p, f->user_id, f->user_id_len);
  } else {
    param_null(&p);
  }
  return walk_params((pg_db *)base,
                     "SELECT id, time_ms, event, entity_id, user_id, key_id, source, result"
                     " FROM audit WHERE time_ms >= $1::bigint"
                     " AND ($2::text IS NULL OR entity_id = $2::text)"
                     " AND ($3::text IS NULL OR user_id = $3::text) ORDER BY id",
                     &p, audit_row, &w, "reading the audit trail");
}

static cpns_store_status pg_assign(server_db *base, const server_db_assignment *a) {
  pg_db *db = (pg_db *)base;
  pg_params p = {0};
  param_bytes(&p, a->entity_id, a->entity_id_len);
  param_bytes(&p, a->user_id, a->user_id_len);
  param_i64(&p, a->mode);
  param_bytes(&p, a->key_id, CPNS_KEY_ID_LEN);
  param_bytes(&p, a->sealed_eukey, CPNS_SEALED_EUKEY_LEN);
  param_i64(&p, a->assigned_at);
  param_text_or_null(&p, a->source);
  PGresult *r = run(db, ST_ASSIGN, &p, "storing an assignment");
  if (r == NULL) {
    return CPNS_STORE_FAILED;
  }
  /* No row back: the WHERE of the upsert found another user's binding. */
  cpns_store_status s = PQntuples(r) == 1 ? CPNS_STORE_OK : CPNS_STORE_CONFLICT;
  PQclear(r);
  return s;
}

static int pg_begin(server_db *base, int lockout_only) {
  pg_db *db = (pg_db *)base;
  if (pg_connect(db, 0) != 0) {
    return -1;
  }
  /* Lockout counters alone need not wait for the disk: lockout.h bounds
   * what a crash of the primary loses. */
  int rc =
      exec_plain(db, lockout_only ? "BEGIN; SET LOCAL synchronous_commit = off" : "BEGIN", "BEGIN");
  note_lost(db);
  db->in_tx = rc == 0;
  return rc;
}

static int pg_commit(server_db *base) {
  pg_db *db = (pg_db *)base;
  db->in_tx = 0;
  PGresult *r = PQexec(db->conn, "COMMIT");
  /* An aborted transaction "commits" as ROLLBACK; no answer at all (the
   * connection lost during COMMIT) leaves the outcome unknown: both fail,
   * so no peer is told success for a row the database may not have. */
  int ok =
      r != NULL && PQresultStatus(r) == PGRES_COMMAND_OK && strcmp(PQcmdStatus(r), "COMMIT") == 0;
  if (!ok) {
    report_result(db, r, "COMMIT");
  }
  PQclear(r);
  note_lost(db);
  return ok ? 0 : -1;
}

static int pg_rollback(server_db *base) {
  pg_db *db = (pg_db *)base;
  db->in_tx = 0;
  if (PQstatus(db->conn) != CONNECTION_OK) {
    return -1;
  }
  PGresult *r = PQexec(db->conn, "ROLLBACK");
  int ok = r != NULL && PQresultStatus(r) == PGRES_COMMAND_OK;
  PQclear(r);
  return ok ? 0 : -1;
}

/* Each lookup is one statement: its own snapshot. */
static int pg_read_begin(server_db *base) {
  (void)base;
  return 0;
}

static void pg_read_end(server_db *base) { (void)base; }

static int pg_lockout_get(server_db *base, const uint8_t *uid, size_t uid_len,
                          server_db_lockout *row) {
  pg_db *db = (pg_db *)base;
  pg_params p = {0};
  param_bytes(&p, uid, uid_len);
  PGresult *r = run(db, ST_LOCKOUT_GET, &p, "reading a lockout row");
  if (r == NULL) {
    return -1;
  }
  int rc = 1;
  if (PQntuples(r) == 1) {
    int64_t f = get_i64(r, 0, 0);
    row->failures = f < 0 ? 0 : f > UINT32_MAX ? UINT32_MAX : (uint32_t)f;
    row->last_failure_ms = get_i64(r, 0, 1);
    row->blocked_until_ms = get_i64(r, 0, 2);
    rc = 0;
  }
  PQclear(r);
  return rc;
}

/* Runs a write statement whose result is only success; 0 or -1. */
static int run_write(pg_db *db, int id, const pg_params *p, const char *what) {
  PGresult *r = run(db, id, p, what);
  if (r == NULL) {
    return -1;
  }
  PQclear(r);
  return 0;
}

static int pg_lockout_put(server_db *base, const uint8_t *uid, size_t uid_len,
                          const server_db_lockout *row) {
  pg_params p = {0};
  param_bytes(&p, uid, uid_len);
  param_i64(&p, (int64_t)row->failures);
  param_i64(&p, row->last_failure_ms);
  param_i64(&p, row->blocked_until_ms);
  return run_write((pg_db *)base, ST_LOCKOUT_PUT, &p, "storing a lockout row");
}

static int pg_lockout_fail(server_db *base, const uint8_t *uid, size_t uid_len,
                           const server_db_lockout_policy *pol, int64_t now_ms) {
  pg_params p = {0};
  param_bytes(&p, uid, uid_len);
  param_i64(&p, now_ms);
  param_i64(&p, (int64_t)pol->threshold);
  param_i64(&p, (int64_t)pol->base_ms);
  param_i64(&p, (int64_t)pol->max_ms);
  param_i64(&p, (int64_t)pol->window_ms);
  return run_write((pg_db *)base, ST_LOCKOUT_FAIL, &p, "counting a failure");
}

static int pg_lockout_del(server_db *base, const uint8_t *uid, size_t uid_len) {
  pg_params p = {0};
  param_bytes(&p, uid, uid_len);
  return run_write((pg_db *)base, ST_LOCKOUT_DEL, &p, "deleting a lockout row");
}

static int64_t pg_lockout_purge(server_db *base, int64_t failed_before_ms, int64_t now_ms) {
  pg_db *db = (pg_db *)base;
  pg_params p = {0};
  param_i64(&p, failed_before_ms);
  param_i64(&p, now_ms);
  PGresult *r = run(db, ST_LOCKOUT_PURGE, &p, "purging lockout rows");
  if (r == NULL) {
    return -1;
  }
  int64_t n = strtoll(PQcmdTuples(r), NULL, 10);
  PQclear(r);
  return n;
}

/* ---- pipelined batches ---- */

/* Statements per sync point: a pipeline longer than the socket buffers
 * could block both sides (libpq sends while the server's answers wait). */
#define PIPE_CHUNK 64

/* Statement i of a pipeline: a prepared one (returns its id, params in p)
 * or a plain one (returns -1, *sql set). */
typedef int (*pipe_make_fn)(void *arg, size_t i, pg_params *p, const char **sql);
/* The result of statement i (NULL: failed, aborted or not run); the callee
 * does not keep it. */
typedef void (*pipe_got_fn)(void *arg, size_t i, const PGresult *r);

/* Runs n statements in pipeline mode, PIPE_CHUNK per sync point (one round
 * trip each). Returns 0, or -1 when the connection failed. */
static int pipeline(pg_db *db, size_t n, pipe_make_fn make, pipe_got_fn got, void *arg,
                    const char *what) {
  size_t done = 0;
  int rc = -1;
  if (pg_connect(db, 0) != 0 || !PQenterPipelineMode(db->conn)) {
    goto out;
  }
  while (done < n) {
    size_t end = n - done > PIPE_CHUNK ? done + PIPE_CHUNK : n;
    for (size_t i = done; i < end; i++) {
      pg_params p = {0};
      const char *sql = NULL;
      int id = make(arg, i, &p, &sql);
      int sent = id >= 0 ? PQsendQueryPrepared(db->conn, STMTS[id].name, p.n, p.values, p.lengths,
                                               p.formats, 1)
                         : PQsendQueryParams(db->conn, sql, 0, NULL, NULL, NULL, NULL, 1);
      if (!sent) {
        report_conn(db, what);
        goto out;
      }
    }
    if (!PQpipelineSync(db->conn)) {
      report_conn(db, what);
      goto out;
    }
    int reported = 0;
    for (size_t i = done; i < end; i++) {
      PGresult *r = PQgetResult(db->conn);
      if (r == NULL) {
        report_conn(db, what); /* connection lost */
        goto out;
      }
      ExecStatusType s = PQresultStatus(r);
      int ok = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
      if (!ok && s != PGRES_PIPELINE_ABORTED && !reported) {
        report_result(db, r, what);
        reported = 1;
      }
      got(arg, i, ok ? r : NULL);
      PQclear(r);
      PGresult *end_of_query = PQgetResult(db->conn); /* NULL after each query */
      if (end_of_query != NULL) {
        PQclear(end_of_query);
        report_conn(db, what);
        goto out;
      }
    }
    PGresult *sync = PQgetResult(db->conn);
    int synced = sync != NULL && PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
    PQclear(sync);
    if (!synced) {
      report_conn(db, what);
      goto out;
    }
    done = end;
  }
  rc = 0;
out:
  for (size_t i = done; rc != 0 && i < n; i++) {
    got(arg, i, NULL);
  }
  if (db->conn != NULL && PQpipelineStatus(db->conn) != PQ_PIPELINE_OFF &&
      !PQexitPipelineMode(db->conn)) {
    /* Results still pending (a broken pipeline): this connection is done. */
    PQfinish(db->conn);
    db->conn = NULL;
    db->down_reported = 1;
    db->retry_ms = 0;
  }
  note_lost(db);
  return rc;
}

/* A write and its place in the batch, for sorting. */
typedef struct write_ref {
  server_db_write *w;
  size_t i;
} write_ref;

typedef struct write_run {
  write_ref *order; /* statement head + i writes order[i].w */
  size_t n;
  size_t head;   /* BEGIN (+ SET LOCAL) */
  int began;     /* their results */
  int committed; /* COMMIT's */
} write_run;

static int write_make(void *arg, size_t i, pg_params *p, const char **sql) {
  write_run *x = arg;
  if (i < x->head) {
    *sql = i == 0 ? "BEGIN" : "SET LOCAL synchronous_commit = off";
    return -1;
  }
  if (i == x->head + x->n) {
    *sql = "COMMIT";
    return -1;
  }
  const server_db_write *w = x->order[i - x->head].w;
  switch (w->kind) {
  case SERVER_DB_WRITE_ASSIGN:
    param_bytes(p, w->assignment.entity_id, w->assignment.entity_id_len);
    param_bytes(p, w->assignment.user_id, w->assignment.user_id_len);
    param_i64(p, w->assignment.mode);
    param_bytes(p, w->assignment.key_id, CPNS_KEY_ID_LEN);
    param_bytes(p, w->assignment.sealed_eukey, CPNS_SEALED_EUKEY_LEN);
    param_i64(p, w->assignment.assigned_at);
    param_text_or_null(p, w->assignment.source);
    return ST_ASSIGN;
  case SERVER_DB_WRITE_LOCKOUT_PUT:
    param_bytes(p, w->user_id, w->user_id_len);
    param_i64(p, (int64_t)w->lockout.failures);
    param_i64(p, w->lockout.last_failure_ms);
    param_i64(p, w->lockout.blocked_until_ms);
    return ST_LOCKOUT_PUT;
  case SERVER_DB_WRITE_LOCKOUT_DEL:
    param_bytes(p, w->user_id, w->user_id_len);
    return ST_LOCKOUT_DEL;
  case SERVER_DB_WRITE_LOCKOUT_FAIL:
    param_bytes(p, w->user_id, w->user_id_len);
    param_i64(p, w->lockout.last_failure_ms);
    param_i64(p, (int64_t)w->policy.threshold);
    param_i64(p, (int64_t)w->policy.base_ms);
    param_i64(p, (int64_t)w->policy.max_ms);
    param_i64(p, (int64_t)w->policy.window_ms);
    return ST_LOCKOUT_FAIL;
  case SERVER_DB_WRITE_LOCKOUT_PURGE:
    param_i64(p, w->lockout.last_failure_ms);
    param_i64(p, w->lockout.blocked_until_ms);
    return ST_LOCKOUT_PURGE;
  }
  return ST_LOCKOUT_PURGE; /* cannot happen */
}

static void write_got(void *arg, size_t i, const PGresult *r) {
  write_run *x = arg;
  if (i < x->head) {
    x->began += r != NULL;
    return;
  }
  if (i == x->head + x->n) {
    /* An aborted transaction "commits" as ROLLBACK; no answer at all (the
     * connection lost during COMMIT) leaves the outcome unknown: both
     * fail, so no peer is told success for a row the database may lack. */
    x->committed = r != NULL && strcmp(PQcmdStatus((PGresult *)r), "COMMIT") == 0;
    return;
  }
  server_db_write *w = x->order[i - x->head].w;
  if (r == NULL) {
    w->status = CPNS_STORE_FAILED;
  } else if (w->kind == SERVER_DB_WRITE_ASSIGN) {
    /* No row back: the WHERE of the upsert found another user's binding. */
    w->status = PQntuples(r) == 1 ? CPNS_STORE_OK : CPNS_STORE_CONFLICT;
  } else {
    w->status = CPNS_STORE_OK;
  }
}

/* Where a write goes in the batch's lock order: assignments by Entity ID,
 * then lockout rows by User ID, then the purge. */
static int write_group(const server_db_write *w) {
  return w->kind == SERVER_DB_WRITE_ASSIGN ? 0 : w->kind == SERVER_DB_WRITE_LOCKOUT_PURGE ? 2 : 1;
}

static int write_cmp(const void *a, const void *b) {
  const write_ref *ra = a, *rb = b;
  size_t ia = ra->i, ib = rb->i;
  const server_db_write *x = ra->w, *y = rb->w;
  int gx = write_group(x), gy = write_group(y);
  if (gx != gy) {
    return gx < gy ? -1 : 1;
  }
  const uint8_t *kx = gx == 0 ? x->assignment.entity_id : x->user_id;
  const uint8_t *ky = gy == 0 ? y->assignment.entity_id : y->user_id;
  size_t lx = gx == 0 ? x->assignment.entity_id_len : gx == 1 ? x->user_id_len : 0;
  size_t ly = gy == 0 ? y->assignment.entity_id_len : gy == 1 ? y->user_id_len : 0;
  int c = memcmp(kx, ky, lx < ly ? lx : ly);
  if (c == 0 && lx != ly) {
    c = lx < ly ? -1 : 1;
  }
  if (c == 0) {
    c = ia < ib ? -1 : ia > ib ? 1 : 0; /* stable: one key's writes keep their order */
  }
  return c;
}

/* BEGIN, the writes and COMMIT in one pipeline: a round trip per
 * PIPE_CHUNK statements instead of one per statement. The writes are
 * made in one global order of their rows (servers sharing the database
 * then take row locks in the same order and cannot deadlock one another);
 * the writes of one row keep the batch's order. */
static int pg_write_batch(server_db *base, server_db_write *w, size_t n, int lockout_only) {
  pg_db *db = (pg_db *)base;
  write_run x = {.n = n, .head = lockout_only ? 2 : 1};
  for (size_t i = 0; i < n; i++) {
    w[i].status = CPNS_STORE_FAILED;
  }
  x.order = malloc((n > 0 ? n : 1) * sizeof(*x.order));
  if (x.order == NULL) {
    fprintf(stderr, "database: out of memory storing a batch\n");
    return -1;
  }
  for (size_t i = 0; i < n; i++) {
    x.order[i] = (write_ref){&w[i], i};
  }
  qsort(x.order, n, sizeof(*x.order), write_cmp);
  pipeline(db, x.head + n + 1, write_make, write_got, &x, "storing a batch");
  free(x.order);
  return x.began == (int)x.head && x.committed ? 0 : -1;
}

typedef struct lookup_run {
  server_db_lookup_request *req;
} lookup_run;

static int lookup_make(void *arg, size_t i, pg_params *p, const char **sql) {
  (void)sql;
  const lookup_run *x = arg;
  param_bytes(p, x->req[i].user_id, x->req[i].user_id_len);
  return ST_LOOKUP;
}

static int parse_lookup(const PGresult *r, const uint8_t *uid, size_t uid_len,
                        server_db_lookup *out);

static void lookup_got(void *arg, size_t i, const PGresult *r) {
  lookup_run *x = arg;
  x->req[i].rc =
      r == NULL ? -1 : parse_lookup(r, x->req[i].user_id, x->req[i].user_id_len, x->req[i].out);
}

/* The lookups of a batch in one pipeline (their implicit transaction is
 * read-only: one snapshot for all). */
static void pg_lookup_batch(server_db *base, server_db_lookup_request *req, size_t n) {
  lookup_run x = {req};
  pipeline((pg_db *)base, n, lookup_make, lookup_got, &x, "looking up users");
}

const server_db_backend server_db_pg_backend = {
    .kind = SERVER_DB_POSTGRES,
    .open = pg_open,
    .close = pg_close,
    .get_setting = pg_get_setting,
    .put_settings = pg_put_settings,
    .user_put = pg_user_put,
    .user_del = pg_user_del,
    .user_replace = pg_user_replace,
    .revoke = pg_revoke,
    .history_foreach = pg_history_foreach,
    .audit_foreach = pg_audit_foreach,
    .user_foreach = pg_user_foreach,
    .lookup = pg_lookup,
    .assignment_foreach = pg_assignment_foreach,
    .assign = pg_assign,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .read_begin = pg_read_begin,
    .read_end = pg_read_end,
    .write_batch = pg_write_batch,
    .lookup_batch = pg_lookup_batch,
    .lockout_get = pg_lockout_get,
    .lockout_put = pg_lockout_put,
    .lockout_fail = pg_lockout_fail,
    .lockout_del = pg_lockout_del,
    .lockout_purge = pg_lockout_purge,
};
