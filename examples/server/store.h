/*
 * cpns-server store: the one interface every command and the serve loop use
 * for the database, with two backends chosen by the --db value:
 *   - a libpq connection URI (postgresql://... or postgres://..., multi-host
 *     with target_session_attrs=read-write included; passed to libpq as
 *     given): PostgreSQL, shared by any number of servers (store_pg.c);
 *   - anything else: the path of an SQLite file (WAL, synchronous=FULL),
 *     one machine (store_sqlite.c).
 * Both hold the same schema (version SERVER_DB_SCHEMA_VERSION): users with
 * sealed credential records (suite 1: `credential`, suite 2: `record2`, each
 * may be NULL but not both), assignments with sealed EUKeys, lockout rows,
 * and settings (enrollment defaults, enabled suites). One server_db per
 * connection; a connection is used by one thread at a time.
 */
#ifndef CPNS_EXAMPLES_SERVER_STORE_H
#define CPNS_EXAMPLES_SERVER_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <cpns/crypto.h>
#include <cpns/server.h>

/** Schema version: PRAGMA user_version on SQLite, the settings row
 * 'schema_version' on PostgreSQL. 3: users.record2 (suite 2), users.credential
 * nullable, settings 'suites'. 4: assignments.source, assignment_history,
 * audit (with the triggers that write them; assignments whose user was
 * deleted are revoked by the upgrade). */
#define SERVER_DB_SCHEMA_VERSION 4

/** Longest sealed record of either suite the store hands out (octets); a
 * longer row is reported as malformed. */
#define SERVER_DB_RECORD_MAX 2048

/** Enabled suites as stored (settings 'suites'): the decimal digits are the
 * suite numbers in preference order (21 = suite 2, then suite 1). A schema-2
 * database upgraded to 3 gets SERVER_DB_SUITES_UPGRADED; init stores what it
 * is told (SERVER_DB_SUITES_DEFAULT unless an option says otherwise). */
#define SERVER_DB_SUITES_UPGRADED 1u
#define SERVER_DB_SUITES_DEFAULT 21u

/** The Argon2id parameters `user add` enrolls with unless told otherwise,
 * and that `serve` shows unknown User IDs (stored by init; schema 2). */
typedef struct server_db_defaults {
  uint32_t ops_limit;
  uint32_t mem_limit_kib;
} server_db_defaults;

typedef struct server_db server_db;

/** Which backend a --db value selects. */
typedef enum server_db_kind { SERVER_DB_SQLITE = 1, SERVER_DB_POSTGRES = 2 } server_db_kind;

/** SERVER_DB_POSTGRES for a value starting with postgresql:// or postgres://,
 * else SERVER_DB_SQLITE. */
server_db_kind server_db_kind_of(const char *where);

/**
 * Writes where (a --db value) into out for messages, a PostgreSQL URI's
 * password replaced by "***" (postgresql://user:***@host/db). Truncates to
 * outlen - 1 octets; outlen > 0.
 */
void server_db_display_name(char *out, size_t outlen, const char *where);

/** How server_db_open() opens the database. */
typedef enum server_db_mode {
  SERVER_DB_CREATE = 1,   /**< Create the schema if missing (init; SQLite: the file too). */
  SERVER_DB_EXISTING = 2, /**< The database must hold our schema. */
  SERVER_DB_READER = 3    /**< As EXISTING, and refuse every write. */
} server_db_mode;

/** One stored assignment. */
typedef struct server_db_assignment {
  const uint8_t *entity_id; /**< normalized */
  size_t entity_id_len;
  const uint8_t *user_id; /**< normalized */
  size_t user_id_len;
  int mode;                    /**< cpns_mode */
  const uint8_t *key_id;       /**< CPNS_KEY_ID_LEN octets */
  const uint8_t *sealed_eukey; /**< CPNS_SEALED_EUKEY_LEN octets (cpns_crypto_eukey_seal) */
  int64_t assigned_at;         /**< seconds since the epoch */
  const char *source;          /**< the gateway's address ("HOST:PORT", NUL-terminated) or NULL;
                                    stored with the row and in its audit rows (schema 4) */
} server_db_assignment;

/*
 * Lockout rows: one per normalized User ID with failures since its last
 * success. Times are wall-clock ms since the epoch.
 */
typedef struct server_db_lockout {
  uint32_t failures;
  int64_t last_failure_ms;
  int64_t blocked_until_ms;
} server_db_lockout;

/** The back-off rule of lockout.c, for a failure counted by the database
 * (server_db_lockout_fail). */
typedef struct server_db_lockout_policy {
  uint32_t threshold;
  uint64_t base_ms;
  uint64_t max_ms;
  uint64_t window_ms;
} server_db_lockout_policy;

/** A user's sealed records as stored (opaque here; length 0 = none). */
typedef struct server_db_user_records {
  size_t record1_len; /**< suite 1, cpns_crypto_credential_seal */
  size_t record2_len; /**< suite 2 */
  uint8_t record1[SERVER_DB_RECORD_MAX];
  uint8_t record2[SERVER_DB_RECORD_MAX];
} server_db_user_records;

/** What one exchange needs from the database, read in one round trip. */
typedef struct server_db_lookup {
  int user_found;    /**< 1: records holds the user's records */
  int lockout_found; /**< 1: lockout holds the user's row, else zero */
  server_db_user_records records;
  server_db_lockout lockout;
} server_db_lookup;

/**
 * Opens the database without the record key and checks the schema
 * (creating it only in SERVER_DB_CREATE mode; an existing schema is never
 * overwritten). Such a connection cannot read or add credential records
 * through server_db_user_add/get (the raw record calls work), and refuses
 * a database that still needs the upgrade from schema 1 (that takes the
 * key). Returns 0, or -1 with a message on stderr.
 */
int server_db_open(server_db **db, const char *where, server_db_mode mode);

/**
 * As server_db_open(), with the key that seals credential records
 * (server_keys.record_key; it must outlive the connection). SQLite: a
 * schema-1 database is upgraded in one transaction (every plain record
 * sealed, enrollment defaults 3 / 65536), then to 2 -> 3 (the users table
 * rebuilt, suites SERVER_DB_SUITES_UPGRADED), each step in the same
 * transaction; after sealing, the file is vacuumed and its WAL truncated.
 * PostgreSQL starts at version 3. A newer schema than this program's is
 * refused. Returns 0, or -1 with a message on stderr.
 */
int server_db_open_with_key(server_db **db, const char *where, server_db_mode mode,
                            const uint8_t record_key[CPNS_CREDENTIAL_SEAL_KEY_LEN]);

/** The backend of an open connection. */
server_db_kind server_db_get_kind(const server_db *db);

/** 1 if this server_db_open*() created the schema (a new database), else 0. */
int server_db_created(const server_db *db);

/** Closes the connection; NULL is allowed. */
void server_db_close(server_db *db);

/** Reads the enrollment defaults. Returns 0 or -1 (message on stderr). */
int server_db_get_defaults(server_db *db, server_db_defaults *out);

/**
 * Stores the enrollment defaults (they must pass cpns_crypto_kdf_check_enrollment)
 * in one transaction. Returns 0 or -1 (message on stderr).
 */
int server_db_set_defaults(server_db *db, const server_db_defaults *d);

/** 1 if suites is a valid enabled-suites value: digits 1 and 2 only, each
 * at most once, at least one. */
int server_db_suites_valid(uint32_t suites);

/** Reads the enabled suites (see SERVER_DB_SUITES_DEFAULT). Returns 0, or -1
 * when missing, invalid or unreadable (message on stderr). */
int server_db_get_suites(server_db *db, uint32_t *suites);

/** Stores the enabled suites (must be valid). Returns 0 or -1 (message on stderr). */
int server_db_set_suites(server_db *db, uint32_t suites);

/**
 * Adds a user with sealed records as they are stored: record1 (suite 1,
 * cpns_crypto_credential_seal) or NULL, record2 (suite 2, opaque) or NULL;
 * not both NULL, each at most SERVER_DB_RECORD_MAX octets.
 * Returns 0, 1 if the user already exists, -1 on error (message on stderr).
 */
int server_db_user_put_records(server_db *db, const uint8_t *user_id, size_t user_id_len,
                               const uint8_t *record1, size_t record1_len, const uint8_t *record2,
                               size_t record2_len);

/**
 * Adds a user's suite-1 credential record, sealed under the record key and
 * bound to the normalized User ID (needs server_db_open_with_key()).
 * Returns 0, 1 if the user already exists, -1 on error (message on stderr).
 */
int server_db_user_add(server_db *db, const uint8_t *user_id, size_t user_id_len,
                       const cpns_credential *cred);

/** server_db_user_remove(db, user_id, user_id_len, 0, NULL). */
int server_db_user_del(server_db *db, const uint8_t *user_id, size_t user_id_len);

/**
 * Deletes a user in one transaction with its audit row ("user-removed",
 * source: who asked, or NULL). While the user has assignments: refused
 * (returns 2) unless revoke_assignments, which revokes each (history and
 * audit rows as server_db_assignment_revoke, reason "user removed") in the
 * same transaction, so that a User ID enrolled again inherits nothing. The
 * user's lockout row goes too. Returns 0, 1 if there is no such user, 2 if
 * it has assignments (nothing changed), -1 on error (message on stderr).
 */
int server_db_user_remove(server_db *db, const uint8_t *user_id, size_t user_id_len,
                          int revoke_assignments, const char *source);

/**
 * Replaces an existing user's sealed records (as server_db_user_put_records
 * takes them) in one transaction with its audit row ("user-passwd") and the
 * deletion of the user's lockout row; assignments stay. Returns 0, 1 if
 * there is no such user, -1 on error (message on stderr).
 */
int server_db_user_replace_records(server_db *db, const uint8_t *user_id, size_t user_id_len,
                                   const uint8_t *record1, size_t record1_len,
                                   const uint8_t *record2, size_t record2_len, const char *source);

/**
 * The per-exchange read: the user's sealed records and lockout row, in one
 * round trip (PostgreSQL) or inside the reader's read transaction (SQLite).
 * Returns 0 (out filled; user_found says whether the user exists), or -1 on
 * error (database failure or unreachable, a record longer than
 * SERVER_DB_RECORD_MAX; message on stderr).
 */
int server_db_lookup_user(server_db *db, const uint8_t *user_id, size_t user_id_len,
                          server_db_lookup *out);

/**
 * Looks up and unseals a user's suite-1 credential record into *cred
 * (caller's guarded memory; needs server_db_open_with_key()). Returns 0, 1
 * if unknown or the user has no suite-1 record (cred zeroed), -1 on error
 * (database failure, no key, or a record that is malformed or does not open
 * under the key for this User ID; message on stderr).
 */
int server_db_user_get(server_db *db, const uint8_t *user_id, size_t user_id_len,
                       cpns_credential *cred);

/**
 * Unseals a suite-1 record read by server_db_lookup_user() (record1) into
 * *cred for user_id. Returns 0, or -1 (message on stderr; cred zeroed).
 */
int server_db_unseal_record1(server_db *db, const uint8_t *user_id, size_t user_id_len,
                             const uint8_t *record1, size_t record1_len, cpns_credential *cred);

/** Callback for server_db_user_foreach(); a non-zero return stops the walk. */
typedef int (*server_db_user_cb)(void *arg, const uint8_t *user_id, size_t user_id_len,
                                 const cpns_kdf_params *kdf);

/**
 * Walks the users in User ID order with the KDF parameters of each suite-1
 * record's clear header (no key needed; zero for a malformed record or a
 * user without a suite-1 record). Returns 0 or -1.
 */
int server_db_user_foreach(server_db *db, server_db_user_cb cb, void *arg);

/** Callback for server_db_user_foreach_records(); records lengths 0 = none. */
typedef int (*server_db_records_cb)(void *arg, const uint8_t *user_id, size_t user_id_len,
                                    const uint8_t *record1, size_t record1_len,
                                    const uint8_t *record2, size_t record2_len);

/** Walks the users in User ID order with their sealed records. Returns 0 or -1. */
int server_db_user_foreach_records(server_db *db, server_db_records_cb cb, void *arg);

/**
 * Stores an assignment inside the caller's transaction. An Entity ID bound
 * to another user is left alone (CPNS_STORE_CONFLICT); the same user's
 * earlier assignment is replaced. Decided by the database (an upsert whose
 * update applies only to the same user's row), so for every server sharing
 * it. Returns CPNS_STORE_OK, CPNS_STORE_CONFLICT or CPNS_STORE_FAILED.
 */
cpns_store_status server_db_assign(server_db *db, const server_db_assignment *a);

/**
 * Write transaction of a store batch: BEGIN (IMMEDIATE on SQLite) / COMMIT /
 * ROLLBACK. server_db_begin_lockout_only() begins a batch that holds
 * lockout writes only: PostgreSQL commits it with synchronous_commit off
 * (lockout.h says what a crash can lose); on SQLite it is server_db_begin().
 * commit returns -1 when the outcome is not a commit (the transaction had
 * failed, or the connection was lost during COMMIT: outcome unknown).
 * Return 0 or -1.
 */
int server_db_begin(server_db *db);
int server_db_begin_lockout_only(server_db *db);
int server_db_commit(server_db *db);
int server_db_rollback(server_db *db);

/** One write of a store batch (server_db_write_batch). */
typedef enum server_db_write_kind {
  SERVER_DB_WRITE_ASSIGN = 0,       /**< assignment (server_db_assign) */
  SERVER_DB_WRITE_LOCKOUT_PUT = 1,  /**< user_id's row := lockout */
  SERVER_DB_WRITE_LOCKOUT_DEL = 2,  /**< delete user_id's row */
  SERVER_DB_WRITE_LOCKOUT_FAIL = 3, /**< count a failure at lockout.last_failure_ms (policy) */
  SERVER_DB_WRITE_LOCKOUT_PURGE = 4 /**< purge: lockout.last_failure_ms = cutoff,
                                         lockout.blocked_until_ms = now */
} server_db_write_kind;

typedef struct server_db_write {
  server_db_write_kind kind;
  server_db_assignment assignment; /**< ASSIGN */
  const uint8_t *user_id;          /**< lockout kinds but PURGE */
  size_t user_id_len;
  server_db_lockout lockout;
  server_db_lockout_policy policy; /**< LOCKOUT_FAIL */
  cpns_store_status status;        /**< out: OK, CONFLICT (ASSIGN) or FAILED */
} server_db_write;

/**
 * Stores n writes in order in one transaction (statements run in order: a
 * second assignment of one Entity ID in the batch sees the first). A batch
 * without assignments commits as server_db_begin_lockout_only() says.
 * PostgreSQL sends the batch pipelined (a few round trips for the whole
 * batch). Sets each status; when the transaction does not commit, every OK
 * becomes FAILED (a conflict found stands). Returns 0 if it committed, else -1.
 */
int server_db_write_batch(server_db *db, server_db_write *w, size_t n);

/** One lookup of a batch (server_db_lookup_batch). */
typedef struct server_db_lookup_request {
  const uint8_t *user_id;
  size_t user_id_len;
  server_db_lookup *out;
  int rc; /**< out: as server_db_lookup_user() returns */
} server_db_lookup_request;

/** server_db_lookup_user() for n User IDs (PostgreSQL: pipelined). */
void server_db_lookup_batch(server_db *db, server_db_lookup_request *req, size_t n);

/**
 * Reader: opens a read transaction that the following lookups share until
 * server_db_read_end() (SQLite: one snapshot, one lock round trip; lookups
 * fail fast instead of waiting when another process holds the database
 * locked). PostgreSQL: no-op. Returns 0 or -1.
 */
int server_db_read_begin(server_db *db);

/** Ends the read transaction of server_db_read_begin(), if one is open. */
void server_db_read_end(server_db *db);

/**
 * Ends the binding of a normalized Entity ID in one transaction: the row
 * moves to the history (state revoked, its EUKey still sealed, reason kept;
 * reason may be NULL), an audit row "revoked" is written (source: who asked,
 * or NULL), and any enrolled user may bind the Entity ID again. Returns 0,
 * 1 if it is not bound, -1 on error (message on stderr).
 */
int server_db_assignment_revoke(server_db *db, const uint8_t *entity_id, size_t entity_id_len,
                                const char *reason, const char *source);

/** State of a key in the history. */
typedef enum server_db_key_state {
  SERVER_DB_KEY_CURRENT = 0,  /**< the Entity ID's binding now */
  SERVER_DB_KEY_REPLACED = 1, /**< the same user got a new key */
  SERVER_DB_KEY_REVOKED = 2   /**< server_db_assignment_revoke, user removal, upgrade */
} server_db_key_state;

/** One key of an Entity ID's history (server_db_history_foreach). */
typedef struct server_db_history_row {
  server_db_assignment a; /**< as assigned (a.source may be NULL); EUKey sealed */
  server_db_key_state state;
  int64_t ended_at;   /**< seconds since the epoch; 0 for CURRENT */
  const char *reason; /**< REVOKED: why, or NULL */
} server_db_history_row;

/** Which keys server_db_history_foreach() walks. */
typedef struct server_db_history_filter {
  const uint8_t *entity_id; /**< normalized, or NULL for every Entity ID */
  size_t entity_id_len;
  int ended; /**< 1: replaced and revoked keys too; 0: the current ones only */
} server_db_history_filter;

/** Callback for server_db_history_foreach(); a non-zero return stops the walk. */
typedef int (*server_db_history_cb)(void *arg, const server_db_history_row *row);

/**
 * Walks keys in Entity ID order, each Entity ID's oldest first (the current
 * one last). Returns 0 or -1.
 */
int server_db_history_foreach(server_db *db, const server_db_history_filter *filter,
                              server_db_history_cb cb, void *arg);

/** Audit events (the `event` column), written by the store in the same
 * transaction as the change. */
#define SERVER_DB_AUDIT_ASSIGNED "assigned"         /**< a new binding */
#define SERVER_DB_AUDIT_REPLACED "replaced"         /**< the same user's new key */
#define SERVER_DB_AUDIT_CONFLICT "conflict"         /**< refused: bound to another user */
#define SERVER_DB_AUDIT_REVOKED "revoked"           /**< binding ended */
#define SERVER_DB_AUDIT_USER_ADDED "user-added"     /**< enrolled */
#define SERVER_DB_AUDIT_USER_REMOVED "user-removed" /**< deleted */
#define SERVER_DB_AUDIT_USER_PASSWD "user-passwd"   /**< records replaced */
#define SERVER_DB_AUDIT_LOCKOUT "lockout"           /**< a failure started a block */

/** One audit row; absent fields are NULL (lengths 0). Never a secret. */
typedef struct server_db_audit_row {
  int64_t id;      /**< increasing */
  int64_t time_ms; /**< ms since the epoch (database clock) */
  const char *event;
  const uint8_t *entity_id;
  size_t entity_id_len;
  const uint8_t *user_id;
  size_t user_id_len;
  const uint8_t *key_id; /**< CPNS_KEY_ID_LEN octets or NULL */
  const char *source;    /**< gateway "HOST:PORT", "local" for a command, or NULL */
  const char *result;    /**< outcome or reason, or NULL */
} server_db_audit_row;

/** Which rows server_db_audit_foreach() walks (zero: all). */
typedef struct server_db_audit_filter {
  int64_t since_ms;         /**< rows at or after; 0 = all */
  const uint8_t *entity_id; /**< normalized, or NULL */
  size_t entity_id_len;
  const uint8_t *user_id; /**< normalized, or NULL */
  size_t user_id_len;
} server_db_audit_filter;

/** Callback for server_db_audit_foreach(); a non-zero return stops the walk. */
typedef int (*server_db_audit_cb)(void *arg, const server_db_audit_row *row);

/** Walks the audit rows in the order written. Returns 0 or -1. */
int server_db_audit_foreach(server_db *db, const server_db_audit_filter *filter,
                            server_db_audit_cb cb, void *arg);

/** Callback for server_db_assignment_foreach(). */
typedef int (*server_db_assignment_cb)(void *arg, const server_db_assignment *a);

/** Walks the assignments in Entity ID order. Returns 0 or -1. */
int server_db_assignment_foreach(server_db *db, server_db_assignment_cb cb, void *arg);

/**
 * Reads a User ID's lockout row. Returns 0, 1 if there is none (row
 * zeroed), -1 on error (SQLite's reader waits a few ms at most).
 */
int server_db_lockout_get(server_db *db, const uint8_t *user_id, size_t user_id_len,
                          server_db_lockout *row);

/** Inserts or replaces a lockout row inside the caller's transaction. Returns 0 or -1. */
int server_db_lockout_put(server_db *db, const uint8_t *user_id, size_t user_id_len,
                          const server_db_lockout *row);

/**
 * Counts one failure at now_ms in the database itself, inside the caller's
 * transaction: an atomic upsert that sets failures to the stored count + 1
 * (1 when the stored failures expired: last failure window_ms ago or more
 * and no block running), last_failure_ms to now_ms and blocked_until_ms to
 * now_ms + min(base_ms << (failures - threshold), max_ms) once failures
 * reaches threshold (else 0): lockout.c's rule, so concurrent servers add
 * up. Returns 0 or -1.
 */
int server_db_lockout_fail(server_db *db, const uint8_t *user_id, size_t user_id_len,
                           const server_db_lockout_policy *policy, int64_t now_ms);

/** Deletes a lockout row (none is fine) inside the caller's transaction. Returns 0 or -1. */
int server_db_lockout_del(server_db *db, const uint8_t *user_id, size_t user_id_len);

/**
 * Deletes the rows whose last failure is at or before failed_before_ms and
 * whose block ended by now_ms. Returns the rows deleted or -1.
 */
int64_t server_db_lockout_purge(server_db *db, int64_t failed_before_ms, int64_t now_ms);

/**
 * Process-wide settings; call once at startup, before any other server_db
 * function and before a second thread exists. Without memory statistics
 * SQLite takes no global mutex on each of its allocations.
 */
void server_db_library_setup(void);

#endif /* CPNS_EXAMPLES_SERVER_STORE_H */
