/*
 * cpns-server serve: a libevent loop (loop.c) that accepts connections
 * within the limits; each connection (conn.c) moves bytes between its
 * socket and a server session engine, answers credential lookups (SQLite:
 * from a read connection on the loop thread; PostgreSQL: through the lookup
 * worker thread) and hands assignments to the store thread.
 */
#ifndef CPNS_EXAMPLES_SERVER_LOOP_H
#define CPNS_EXAMPLES_SERVER_LOOP_H

#include <stddef.h>
#include <stdint.h>

#include "examples/server/keyfile.h"
#include "examples/server/lockout.h"

/** Everything `cpns-server serve` is told. Zero numeric fields take defaults. */
typedef struct server_config {
  const char *db_path; /**< --db: SQLite path or PostgreSQL URI (store.h) */
  const char *listen;  /**< HOST:PORT, port 0 = ephemeral */
  const uint8_t *realm;
  size_t realm_len;
  const server_keys *keys;
  size_t max_pdu_len;
  uint64_t pdu_timeout_ms;
  uint64_t exchange_timeout_ms;
  size_t max_conns;          /**< [1024] */
  size_t max_conns_per_addr; /**< Per IPv4 address or IPv6 /64 [16] */
  uint32_t source_rate;      /**< First KeyRequests per second per source (IPv4
                                  address, IPv6 /64) [20] */
  uint32_t source_burst;     /**< ... and in a burst [100] */
  size_t store_batch_max;    /**< [256] */
  server_lockout_settings lockout;
  const char *metrics_listen; /**< HOST:PORT of GET /metrics, or NULL for none */
  int log_target;             /**< --log: a server_log_target (log.h), opened by the caller */
  int log_facility;           /**< --log-facility (0: LOG_DAEMON) */
  const char *key_file;       /**< --key-file (keys are loaded; named on reload) */
  const char *config_path;    /**< --config, or NULL */
  /**
   * SIGHUP: rereads the configuration into *out (its strings valid until
   * the next call), or NULL when there is nothing to reread. Returns 0, or
   * -1 after printing why.
   */
  int (*reload)(void *arg, struct server_config *out);
  void *reload_arg;
} server_config;

#define SERVER_MAX_CONNS_DEFAULT 1024
#define SERVER_MAX_CONNS_PER_ADDR_DEFAULT 16

/**
 * Runs the server until SIGINT or SIGTERM, then stops accepting, lets
 * exchanges waiting for the store finish, drains the store thread and
 * closes the database. Prints "listening on HOST:PORT" once bound, then
 * tells a service manager READY=1 (notify.h). On SIGHUP it applies what
 * cfg->reload returns of the options that can change live (connection
 * limit per address, source rate and burst, lockout policy, log target)
 * and names the others that differ (kept until a restart).
 * Returns 0 after a clean shutdown, -1 if it could not start.
 */
int server_run(const server_config *cfg);

#endif /* CPNS_EXAMPLES_SERVER_LOOP_H */
