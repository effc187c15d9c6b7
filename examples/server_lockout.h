/*
 * cpns-server lockout: per User ID (known or not) back-off after repeated
 * failed attempts (PROTOCOL.md §6), kept in memory in a bounded table.
 *
 * An attempt counts when the credential is looked up (so concurrent
 * attempts count too), and only a successful exchange resets the count.
 * After `threshold` consecutive attempts without success, further attempts
 * are throttled (tryLater) for base_ms, doubling with each further attempt
 * up to max_ms. When the table is full the least recently used entry is
 * dropped; state is lost on restart.
 */
#ifndef CPNS_EXAMPLES_SERVER_LOCKOUT_H
#define CPNS_EXAMPLES_SERVER_LOCKOUT_H

#include <stddef.h>
#include <stdint.h>

typedef struct server_lockout server_lockout;

/** Policy; zero fields take the defaults in brackets. */
typedef struct server_lockout_settings {
  uint32_t threshold;   /**< Attempts before throttling [5]. */
  uint64_t base_ms;     /**< First back-off [1000]. */
  uint64_t max_ms;      /**< Longest back-off [900000, 15 min]. */
  size_t capacity;      /**< User IDs tracked at most [65536]. */
} server_lockout_settings;

/** Creates a table. Returns 0 or -1 (out of memory). */
int server_lockout_new(server_lockout **lo, const server_lockout_settings *settings);

/** Frees the table; NULL is allowed. */
void server_lockout_del(server_lockout *lo);

/**
 * Called when a User ID's credential is looked up. Returns 1 when the
 * attempt is throttled (not counted), else counts it and returns 0.
 */
int server_lockout_attempt(server_lockout *lo, const uint8_t *user_id, size_t len,
                           uint64_t now_ms);

/** A successful exchange: forgets the User ID's failures. */
void server_lockout_success(server_lockout *lo, const uint8_t *user_id, size_t len);

/** Number of User IDs currently tracked (tests). */
size_t server_lockout_size(const server_lockout *lo);

#endif /* CPNS_EXAMPLES_SERVER_LOCKOUT_H */
