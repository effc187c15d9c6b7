/*
 * cpns-server database (SQLite, WAL, synchronous=FULL): the user table of
 * credential records (sealed under the key file's record key since schema
 * 2), the assignment table, the settings (enrollment defaults) and the
 * lockout table. One server_db per connection; a connection is used by one
 * thread at a time.
 */
#ifndef CPNS_EXAMPLES_SERVER_DB_H
#define CPNS_EXAMPLES_SERVER_DB_H

#include <stdint.h>

#include <cpns/crypto.h>
#include <cpns/server.h>

/** Schema version kept in PRAGMA user_version. */
#define SERVER_DB_SCHEMA_VERSION 2

/** The Argon2id parameters `user add` enrolls with unless told otherwise,
 * and that `serve` shows unknown User IDs (stored by init; schema 2). */
typedef struct server_db_defaults {
  uint32_t ops_limit;
  uint32_t mem_limit_kib;
} server_db_defaults;

typedef struct server_db server_db;

/** How server_db_open() opens the file. */
typedef enum server_db_mode {
  SERVER_DB_CREATE = 1,   /**< Create the file and schema if missing (init). */
  SERVER_DB_EXISTING = 2, /**< The file must exist and hold our schema. */
  SERVER_DB_READER = 3    /**< As EXISTING, and refuse every write (query_only). */
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
} server_db_assignment;

/**
 * Opens the database without the record key, sets WAL and synchronous=FULL
 * and checks the schema (creating it only in SERVER_DB_CREATE mode). Such a
 * connection cannot read or add credential records, and refuses a database
 * that still needs the upgrade to SERVER_DB_SCHEMA_VERSION (that takes the
 * key). Returns 0, or -1 with a message on stderr.
 */
int server_db_open(server_db **db, const char *path, server_db_mode mode);

/**
 * As server_db_open(), with the key that seals credential records
 * (server_keys.record_key; it must outlive the connection). A schema-1
 * database is upgraded in one transaction: every plain record sealed under
 * record_key and bound to its User ID, the enrollment defaults set to
 * 3 / 65536; then the file is vacuumed and its WAL truncated so that no
 * plain record stays on disk. Returns 0, or -1 with a message on stderr.
 */
int server_db_open_with_key(server_db **db, const char *path, server_db_mode mode,
                            const uint8_t record_key[CPNS_CREDENTIAL_SEAL_KEY_LEN]);

/** 1 if this server_db_open*() created the schema (a new database), else 0. */
int server_db_created(const server_db *db);

/** Reads the enrollment defaults. Returns 0 or -1 (message on stderr). */
int server_db_get_defaults(server_db *db, server_db_defaults *out);

/**
 * Stores the enrollment defaults (they must pass cpns_crypto_kdf_check_enrollment).
 * Returns 0 or -1 (message on stderr).
 */
int server_db_set_defaults(server_db *db, const server_db_defaults *d);

/** Closes the connection; NULL is allowed. */
void server_db_close(server_db *db);

/**
 * Adds a user's credential record, sealed under the record key and bound to
 * the normalized User ID (needs server_db_open_with_key()).
 * Returns 0, 1 if the user already exists, -1 on error (message on stderr).
 */
int server_db_user_add(server_db *db, const uint8_t *user_id, size_t user_id_len,
                       const cpns_credential *cred);

/** Deletes a user. Returns 0, 1 if there is no such user, -1 on error. */
int server_db_user_del(server_db *db, const uint8_t *user_id, size_t user_id_len);

/**
 * Looks up and unseals a user's credential record into *cred (caller's
 * guarded memory; needs server_db_open_with_key()). Returns 0, 1 if unknown
 * (cred zeroed), -1 on error (database failure, no key, or a record that is
 * malformed or does not open under the key for this User ID; message on
 * stderr).
 */
int server_db_user_get(server_db *db, const uint8_t *user_id, size_t user_id_len,
                       cpns_credential *cred);

/** Callback for server_db_user_foreach(); a non-zero return stops the walk. */
typedef int (*server_db_user_cb)(void *arg, const uint8_t *user_id, size_t user_id_len,
                                 const cpns_kdf_params *kdf);

/**
 * Walks the users in User ID order with the KDF parameters of each record's
 * clear header (no key needed; zero for a malformed record). Returns 0 or -1.
 */
int server_db_user_foreach(server_db *db, server_db_user_cb cb, void *arg);

/**
 * Stores an assignment inside the caller's transaction. An Entity ID bound
 * to another user is left alone (CPNS_STORE_CONFLICT); the same user's
 * earlier assignment is replaced. Returns CPNS_STORE_OK,
 * CPNS_STORE_CONFLICT or CPNS_STORE_FAILED.
 */
cpns_store_status server_db_assign(server_db *db, const server_db_assignment *a);

/** BEGIN IMMEDIATE / COMMIT / ROLLBACK. Return 0 or -1. */
int server_db_begin(server_db *db);
int server_db_commit(server_db *db);
int server_db_rollback(server_db *db);

/**
 * Reader (SERVER_DB_READER): opens a read transaction that the following
 * lookups share until server_db_read_end(): one snapshot, and one lock
 * round trip instead of one per lookup. No-op if one is open. Returns 0 or -1.
 */
int server_db_read_begin(server_db *db);
/* (Lookups on the reader fail with -1 instead of waiting when another
 * process holds the database locked: the loop thread answers tryLater.) */

/** Ends the read transaction of server_db_read_begin(), if one is open. */
void server_db_read_end(server_db *db);

/** Callback for server_db_assignment_foreach(). */
typedef int (*server_db_assignment_cb)(void *arg, const server_db_assignment *a);

/** Walks the assignments in Entity ID order. Returns 0 or -1. */
int server_db_assignment_foreach(server_db *db, server_db_assignment_cb cb, void *arg);

/*
 * Lockout rows (schema version 2): one per normalized User ID with failures
 * since its last success. Times are wall-clock ms since the epoch.
 */
typedef struct server_db_lockout {
  uint32_t failures;
  int64_t last_failure_ms;
  int64_t blocked_until_ms;
} server_db_lockout;

/**
 * Reads a User ID's lockout row (any connection; the reader's inside its read
 * transaction). Returns 0, 1 if there is none (row zeroed), -1 on error,
 * SQLITE_BUSY included: the reader waits a few ms at most.
 */
int server_db_lockout_get(server_db *db, const uint8_t *user_id, size_t user_id_len,
                          server_db_lockout *row);

/** Inserts or replaces a lockout row inside the caller's transaction. Returns 0 or -1. */
int server_db_lockout_put(server_db *db, const uint8_t *user_id, size_t user_id_len,
                          const server_db_lockout *row);

/** Deletes a lockout row (none is fine) inside the caller's transaction. Returns 0 or -1. */
int server_db_lockout_del(server_db *db, const uint8_t *user_id, size_t user_id_len);

/**
 * Deletes the rows whose last failure is at or before failed_before_ms and
 * whose block ended by now_ms. Returns the rows deleted or -1.
 */
int64_t server_db_lockout_purge(server_db *db, int64_t failed_before_ms, int64_t now_ms);

/**
 * Process-wide SQLite settings; call once at startup, before any other
 * server_db function and before a second thread exists. Without memory
 * statistics SQLite takes no global mutex on each of its allocations.
 */
void server_db_library_setup(void);

#endif /* CPNS_EXAMPLES_SERVER_DB_H */
