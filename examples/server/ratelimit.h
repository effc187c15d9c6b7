/*
 * cpns-server per-source budget of first KeyRequests: a token bucket per
 * IPv4 address and per IPv6 /64 (server_addr_key), so that guessing and
 * flooding from one source are slowed whatever User IDs they name.
 *
 * Each bucket holds up to `burst` tokens and refills at `rate` per second;
 * a credential lookup takes one. The table holds at most `capacity`
 * sources: a bucket that has refilled to full carries no state and may be
 * dropped to make room; when none can be, the request is refused (tryLater)
 * rather than a source's budget forgotten.
 */
#ifndef CPNS_EXAMPLES_SERVER_RATELIMIT_H
#define CPNS_EXAMPLES_SERVER_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "examples/server/addrlimit.h"

#define SERVER_SOURCE_RATE_DEFAULT 20
#define SERVER_SOURCE_BURST_DEFAULT 100

typedef struct server_ratelimit server_ratelimit;

/** Creates a table (rate per second, burst and capacity >= 1). Returns 0 or -1. */
int server_ratelimit_new(server_ratelimit **rl, uint32_t rate, uint32_t burst, size_t capacity);

/** Frees the table; NULL is allowed. */
void server_ratelimit_del(server_ratelimit *rl);

/**
 * Changes rate and burst (>= 1) of a running table: buckets keep their
 * tokens, those above the new burst are cut to it. Returns 0 or -1.
 */
int server_ratelimit_set(server_ratelimit *rl, uint32_t rate, uint32_t burst);

/**
 * Takes a token from key's bucket at now_ms (a monotonic clock). Returns 0,
 * or 1 when the bucket is empty or the table full of buckets still refilling.
 */
int server_ratelimit_take(server_ratelimit *rl, const server_addr_key *key, uint64_t now_ms);

/** Sources held (tests). */
size_t server_ratelimit_size(const server_ratelimit *rl);

#endif /* CPNS_EXAMPLES_SERVER_RATELIMIT_H */
