/* Small helpers shared by the exchange engines. */
#ifndef CPNS_EXCHANGE_UTIL_H
#define CPNS_EXCHANGE_UTIL_H

#include <stdint.h>

#include <cpns/common.h>

/** now + span, saturating at UINT64_MAX (a host clock may start anywhere). */
static inline uint64_t cpnsi_deadline(uint64_t now_ms, uint64_t span_ms) {
  return span_ms > UINT64_MAX - now_ms ? UINT64_MAX : now_ms + span_ms;
}

/** The allocator to use: mem if complete, else the default. NULL when mem is partial. */
static inline const cpns_mem *cpnsi_mem_pick(const cpns_mem *mem) {
  if (mem == NULL) {
    return cpns_mem_default();
  }
  if (mem->malloc == NULL || mem->free == NULL || mem->calloc == NULL || mem->realloc == NULL) {
    return NULL;
  }
  return mem;
}

/**
 * The allocator to hand a decode: NULL when mem is the default one, so the
 * decode takes its blocks from the codec's per-thread arena (no malloc/free
 * per decoded field) instead of the heap.
 */
static inline const cpns_mem *cpnsi_mem_for_decode(const cpns_mem *mem) {
  const cpns_mem *d = cpns_mem_default();
  if (mem->malloc == d->malloc && mem->free == d->free && mem->calloc == d->calloc &&
      mem->realloc == d->realloc && mem->user_data == d->user_data) {
    return NULL;
  }
  return mem;
}

/** Size rounded up so a sodium_malloc() block (end-aligned) is suitably aligned. */
static inline size_t cpnsi_guarded_size(size_t n) { return (n + 15u) & ~(size_t)15u; }

#endif /* CPNS_EXCHANGE_UTIL_H */
