/*
 * cpns-server store thread: writes assignments with group commit. The loop
 * thread submits jobs; the store thread takes every pending job (up to a
 * batch limit), stores them in one transaction, commits (WAL, synchronous=
 * FULL: durable), moves them to the done list and calls notify, which wakes
 * the loop to answer each session with cpns_server_session_store_done.
 */
#ifndef CPNS_EXAMPLES_SERVER_STORE_THREAD_H
#define CPNS_EXAMPLES_SERVER_STORE_THREAD_H

#include <stdint.h>

#include <cpns/server.h>

/** One assignment to store; the EUKey is already sealed. */
typedef struct server_store_job {
  struct server_store_job *next;
  void *owner;                  /**< The submitter's context (its connection). */
  cpns_store_status status;     /**< Set by the store thread. */
  int mode;
  int64_t assigned_at;
  size_t entity_id_len;
  size_t user_id_len;
  uint8_t entity_id[CPNS_ENTITY_ID_MAX];
  uint8_t user_id[CPNS_USER_ID_MAX];
  uint8_t key_id[CPNS_KEY_ID_LEN];
  uint8_t sealed_eukey[CPNS_SEALED_EUKEY_LEN];
} server_store_job;

typedef struct server_store server_store;

/** Called on the store thread after each batch; must be thread-safe. */
typedef void (*server_store_notify_fn)(void *arg);

/**
 * Opens the writer connection to db_path and starts the thread. batch_max
 * bounds the jobs in one transaction (0 = 256).
 * Returns 0, or -1 with a message on stderr.
 */
int server_store_start(server_store **st, const char *db_path, size_t batch_max,
                       server_store_notify_fn notify, void *notify_arg);

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
