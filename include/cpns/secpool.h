/*
 * libcpns guarded-memory pool: optional, for hosts that run many exchanges.
 *
 * Without a pool each server session or gateway engine puts its secrets in
 * its own sodium_malloc() block: guard pages, mlock, about nine system calls
 * per exchange. A pool is one sodium_malloc() region (guard pages around it,
 * locked, never swapped) cut into fixed-size slots that sessions borrow;
 * a slot is zeroed when it is given back, and the whole region is wiped when
 * the pool is deleted. Slots of one pool have no guard pages between them.
 *
 * An engine whose secrets do not fit a slot, or that finds the pool full,
 * falls back to its own sodium_malloc() block: a pool never makes an
 * exchange fail. Thread-safe: engines driven from different threads may
 * share one pool.
 */
#ifndef CPNS_SECPOOL_H
#define CPNS_SECPOOL_H

#include <cpns/common.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cpns_secpool cpns_secpool;

/** Slot size used when cpns_secpool_new() gets 0; fits a server session's
 *  secrets, and a gateway's with a password of up to 128 octets. */
#define CPNS_SECPOOL_SLOT_DEFAULT 768u

/** Most slots one pool may have. */
#define CPNS_SECPOOL_SLOTS_MAX 1048576u

/**
 * Creates a pool of nslots slots of slot_size octets each (0 =
 * CPNS_SECPOOL_SLOT_DEFAULT; rounded up to a multiple of 16). The region is
 * allocated and locked now. The pool's bookkeeping (not secret) comes from
 * mem, which may be NULL.
 * Returns 0, CPNS_ERR_INVALID_ARGUMENT (ppool NULL, nslots 0 or above
 * CPNS_SECPOOL_SLOTS_MAX, slot_size above 65536, mem partial),
 * CPNS_ERR_NOMEM, CPNS_ERR_NOT_INITIALIZED.
 */
CPNS_EXTERN int cpns_secpool_new(cpns_secpool **ppool, size_t nslots, size_t slot_size,
                                 const cpns_mem *mem);

/**
 * Wipes and frees the pool. Every engine that uses it must be deleted
 * first. NULL is allowed.
 */
CPNS_EXTERN void cpns_secpool_del(cpns_secpool *pool);

/** Slots currently lent to engines (for statistics and tests); 0 for NULL. */
CPNS_EXTERN size_t cpns_secpool_get_used(const cpns_secpool *pool);

#ifdef __cplusplus
}
#endif

#endif /* CPNS_SECPOOL_H */
