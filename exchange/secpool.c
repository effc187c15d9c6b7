/*
 * Guarded-memory pool (include/cpns/secpool.h): one sodium_malloc() region
 * cut into slots, lent out through a stack of free slot numbers. Only the
 * region holds secrets; the stack and the lock live in ordinary memory.
 */
#include <pthread.h>
#include <string.h>

#include <sodium.h>

#include <cpns/secpool.h>

#include "codec/internal.h"
#include "exchange/secpool_internal.h"
#include "exchange/util.h"

#define SLOT_SIZE_MAX 65536u

struct cpns_secpool {
  cpns_mem mem;
  pthread_mutex_t lock;
  uint8_t *region; /* sodium_malloc(): nslots * slot_size octets */
  size_t slot_size;
  size_t nslots;
  size_t nfree;
  uint32_t *free_slots; /* nfree slot numbers, a stack */
};

int cpns_secpool_new(cpns_secpool **ppool, size_t nslots, size_t slot_size, const cpns_mem *mem) {
  cpns_secpool *pool;
  size_t i;
  if (ppool == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  *ppool = NULL;
  mem = cpnsi_mem_pick(mem);
  if (mem == NULL || nslots == 0 || nslots > CPNS_SECPOOL_SLOTS_MAX || slot_size > SLOT_SIZE_MAX ||
      nslots > SIZE_MAX / SLOT_SIZE_MAX) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  if (!cpnsi_initialized()) {
    return CPNS_ERR_NOT_INITIALIZED;
  }
  pool = mem->calloc(1, sizeof *pool, mem->user_data);
  if (pool == NULL) {
    return CPNS_ERR_NOMEM;
  }
  pool->mem = *mem;
  /* Multiples of 16 keep every slot aligned like the end-aligned region. */
  pool->slot_size = cpnsi_guarded_size(slot_size != 0 ? slot_size : CPNS_SECPOOL_SLOT_DEFAULT);
  pool->nslots = nslots;
  pool->free_slots = mem->calloc(nslots, sizeof *pool->free_slots, mem->user_data);
  pool->region = sodium_malloc(nslots * pool->slot_size);
  if (pool->free_slots == NULL || pool->region == NULL ||
      pthread_mutex_init(&pool->lock, NULL) != 0) {
    if (pool->region != NULL) {
      sodium_free(pool->region);
    }
    mem->free(pool->free_slots, mem->user_data);
    mem->free(pool, mem->user_data);
    return CPNS_ERR_NOMEM;
  }
  sodium_memzero(pool->region, nslots * pool->slot_size);
  /* Lowest slots on top: a lightly used pool touches few pages. */
  for (i = 0; i < nslots; i++) {
    pool->free_slots[i] = (uint32_t)(nslots - 1 - i);
  }
  pool->nfree = nslots;
  *ppool = pool;
  return 0;
}

void cpns_secpool_del(cpns_secpool *pool) {
  cpns_mem mem;
  if (pool == NULL) {
    return;
  }
  mem = pool->mem;
  sodium_free(pool->region); /* wipes the region before unmapping it */
  pthread_mutex_destroy(&pool->lock);
  mem.free(pool->free_slots, mem.user_data);
  mem.free(pool, mem.user_data);
}

size_t cpns_secpool_get_used(const cpns_secpool *pool) {
  cpns_secpool *p = (cpns_secpool *)(uintptr_t)pool; /* the lock is not part of the value */
  size_t used;
  if (p == NULL) {
    return 0;
  }
  pthread_mutex_lock(&p->lock);
  used = p->nslots - p->nfree;
  pthread_mutex_unlock(&p->lock);
  return used;
}

void *cpnsi_secpool_take(cpns_secpool *pool, size_t size) {
  uint8_t *slot = NULL;
  if (pool == NULL || size > pool->slot_size) {
    return NULL;
  }
  pthread_mutex_lock(&pool->lock);
  if (pool->nfree > 0) {
    slot = pool->region + (size_t)pool->free_slots[--pool->nfree] * pool->slot_size;
  }
  pthread_mutex_unlock(&pool->lock);
  return slot; /* zero: slots are wiped when given back */
}

void cpnsi_secpool_give(cpns_secpool *pool, void *slot) {
  size_t off = (size_t)((uint8_t *)slot - pool->region);
  sodium_memzero(slot, pool->slot_size);
  pthread_mutex_lock(&pool->lock);
  pool->free_slots[pool->nfree++] = (uint32_t)(off / pool->slot_size);
  pthread_mutex_unlock(&pool->lock);
}

void *cpnsi_secblock_new(cpns_secpool *pool, size_t size, cpns_secpool **from) {
  void *p = cpnsi_secpool_take(pool, size);
  if (p != NULL) {
    *from = pool;
    return p;
  }
  *from = NULL;
  p = sodium_malloc(cpnsi_guarded_size(size));
  if (p != NULL) {
    sodium_memzero(p, cpnsi_guarded_size(size));
  }
  return p;
}

void cpnsi_secblock_del(void *p, cpns_secpool *from) {
  if (p == NULL) {
    return;
  }
  if (from != NULL) {
    cpnsi_secpool_give(from, p);
  } else {
    sodium_free(p); /* wipes the block before unmapping it */
  }
}
