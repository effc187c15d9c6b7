/*
 * Secret blocks of the engines: a slot of the host's cpns_secpool when one
 * is given, fits and is free, else a sodium_malloc() block of their own.
 */
#ifndef CPNS_EXCHANGE_SECPOOL_INTERNAL_H
#define CPNS_EXCHANGE_SECPOOL_INTERNAL_H

#include <stddef.h>

#include <cpns/secpool.h>

/** A zeroed slot of at least size octets, or NULL (pool NULL, too small, full). */
void *cpnsi_secpool_take(cpns_secpool *pool, size_t size);

/** Zeroes the slot and returns it to pool. */
void cpnsi_secpool_give(cpns_secpool *pool, void *slot);

/**
 * A zeroed secret block of size octets, 16-aligned; *from is the pool it
 * came from or NULL (own sodium_malloc() block). NULL when out of memory.
 */
void *cpnsi_secblock_new(cpns_secpool *pool, size_t size, cpns_secpool **from);

/** Wipes and releases a block from cpnsi_secblock_new(). NULL is allowed. */
void cpnsi_secblock_del(void *p, cpns_secpool *from);

#endif /* CPNS_EXCHANGE_SECPOOL_INTERNAL_H */
