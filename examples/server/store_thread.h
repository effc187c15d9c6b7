/*
 * cpns-server store thread: writes assignments and lockout rows with group
 * commit, in the order the jobs were submitted. The loop
 * thread submits jobs; the store thread takes every pending job (up to a
 * batch limit), stores them in one transaction, commits (SQLite: WAL,
 * synchronous=FULL; PostgreSQL: synchronous_commit on: durable), moves them
 * to the done list and calls notify, which wakes the loop to answer each
 * session with cpns_server_session_store_done.
 *
 * The same thread machinery, started with SERVER_STORE_LOOKUPS, is the
 * PostgreSQL lookup worker: its own connection answers SERVER_STORE_LOOKUP
 * jobs (no transaction), so the event loop never waits for the network.
 */
#ifndef CPNS_EXAMPLES_SERVER_STORE_THREAD_H
#define CPNS_EXAMPLES_SERVER_STORE_THREAD_H

#include <stdint.h>

#include <cpns/server.h>

#include "examples/server/store.h"

/** What a job writes. */
typedef enum server_store_kind {
  SERVER_STORE_ASSIGN = 0,        /**< An assignment (the fields up to sealed_eukey). */
  SERVER_STORE_LOCKOUT_PUT = 1,   /**< user_id's lockout row := lockout. */
  SERVER_STORE_LOCKOUT_DEL = 2,   /**< Delete user_id's lockout row. */
  SERVER_STORE_LOCKOUT_PURGE = 3, /**< Delete expired rows (server_db_lockout_purge). */
  SERVER_STORE_LOCKOUT_FAIL = 4,  /**< Count a failure in the database (server_db_lockout_fail:
                                       lockout.last_failure_ms = now, policy). */
  SERVER_STORE_LOOKUP = 5         /**< Lookup worker only: fill lookup (server_db_lookup_user);
                                       status OK or FAILED. */
} server_store_kind;

/** One write; for an assignment the EUKey is already sealed. */
typedef struct server_store_job {
  struct server_store_job *next;
  void *owner;              /**< The submitter's context (its connection), or NULL. */
  cpns_store_status status; /**< Set by the store thread (OK or FAILED for lockout jobs). */
  server_store_kind kind;
  /** LOCKOUT_PUT: the row; LOCKOUT_PURGE: last_failure_ms = the cutoff,
   * blocked_until_ms = now. */
  server_db_lockout lockout;
  server_db_lockout_policy policy; /**< LOCKOUT_FAIL */
  server_db_lookup *lookup;        /**< LOOKUP: the submitter's buffer */
  /** Set by the store thread on the first job of each batch (0 on the others):
   * the batch's jobs and the time it took to store them, for the metrics. */
  uint32_t batch_jobs;
  uint64_t batch_us;
  int mode;
  int64_t assigned_at;
  size_t entity_id_len;
  size_t user_id_len;
  uint8_t entity_id[CPNS_ENTITY_ID_MAX];
  uint8_t user_id[CPNS_USER_ID_MAX];
  uint8_t key_id[CPNS_KEY_ID_LEN];
  uint8_t sealed_eukey[CPNS_SEALED_EUKEY_LEN];
  char source[64]; /**< ASSIGN: the peer's "HOST:PORT" for the audit row ("" = none) */
} server_store_job;

typedef struct server_store server_store;

/** Called on the store thread after each batch; must be thread-safe. */
typedef void (*server_store_notify_fn)(void *arg);

/** What a started thread does with its jobs. */
typedef enum server_store_role {
  SERVER_STORE_WRITES = 0, /**< Write jobs, one transaction per batch. */
  SERVER_STORE_LOOKUPS = 1 /**< SERVER_STORE_LOOKUP jobs on a read-only connection. */
} server_store_role;

/**
 * Opens the writer connection to db_path (store.h: a path or a PostgreSQL
 * URI) and starts the thread. batch_max bounds the jobs in one transaction
 * (0 = 256). Returns 0, or -1 with a message on stderr.
 */
int server_store_start(server_store **st, const char *db_path, size_t batch_max,
                       server_store_notify_fn notify, void *notify_arg);

/** As server_store_start(), for a role. */
int server_store_start_role(server_store **st, const char *db_path, server_store_role role,
                            size_t batch_max, server_store_notify_fn notify, void *notify_arg);

/**
 * Queues jobs: job and those linked from it by next, up to a NULL next
 * (ownership passes until they come back from take_done). Jobs queued in one
 * call cost one wake-up and land in the same transaction (up to batch_max).
 */
void server_store_submit(server_store *st, server_store_job *job);

/** Takes every finished job, oldest first (NULL if none). */
server_store_job *server_store_take_done(server_store *st);

/**
 * Stores every job still queued, stops the thread and closes its
 * connection. Finished jobs not yet taken are freed. NULL is allowed.
 */
void server_store_stop(server_store *st);

/** Batches and jobs stored so far and the time spent storing them (logs, benchmarks). */
void server_store_stats(server_store *st, uint64_t *batches, uint64_t *jobs, uint64_t *busy_us);

#endif /* CPNS_EXAMPLES_SERVER_STORE_THREAD_H */
