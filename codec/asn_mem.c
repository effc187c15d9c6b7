/*
 * The allocator behind the asn1c runtime's CALLOC/MALLOC/REALLOC/FREEMEM
 * (patched in asn_internal.h): each block carries its size so that a
 * per-thread scope can charge it against the decode's budget and hand it
 * to the caller's cpns_mem. When the caller left the allocator at its
 * default, a decode's blocks come from a per-thread arena instead (the
 * decoded value never outlives the decode), which is most of why the
 * strict decode is not slower than a plain asn1c one.
 */
#include <stdalign.h>
#include <stdint.h>
#include <string.h>

#include "codec/codec_internal.h"

/* Header in front of every block; keeps the payload max-aligned. */
typedef union block_header {
  struct {
    size_t size;
    size_t in_arena;
  } h;
  max_align_t align;
} block_header;

#define ARENA_BLOCKS (8192 / sizeof(block_header))

static _Thread_local cpnsi_asn_scope *current_scope;
static _Thread_local block_header arena[ARENA_BLOCKS];
static _Thread_local size_t arena_used; /* in block_header units */
static _Thread_local int arena_taken;   /* by an open scope */

void cpnsi_asn_scope_enter(cpnsi_asn_scope *scope, const cpns_mem *mem, size_t budget) {
  static const cpnsi_asn_scope empty;
  *scope = empty;
  scope->mem = mem ? mem : cpns_mem_default();
  scope->budget = budget;
  if (!mem && !arena_taken) {
    arena_taken = 1;
    arena_used = 0;
    scope->arena = 1;
  }
  scope->prev = current_scope;
  current_scope = scope;
}

int cpnsi_asn_scope_release_all(cpnsi_asn_scope *scope) {
  if (!scope->arena || scope->heap_blocks != 0)
    return 0;
  /* Everything is in the arena, which the next scope reuses from the start:
   * walking the value to free each block would change nothing. */
  scope->live = 0;
  scope->used = 0;
  return 1;
}

void cpnsi_asn_scope_leave(cpnsi_asn_scope *scope) {
  if (scope->arena)
    arena_taken = 0;
  current_scope = scope->prev;
}

static size_t units(size_t size) {
  return 1 + (size + sizeof(block_header) - 1) / sizeof(block_header);
}

/* A block from the arena, or NULL when it does not fit. */
static block_header *arena_take(size_t size) {
  size_t n = units(size);
  block_header *h;
  if (n > ARENA_BLOCKS - arena_used)
    return NULL;
  h = &arena[arena_used];
  arena_used += n;
  h->h.in_arena = 1;
  return h;
}

/* Outside any scope (never on the decode path) the default allocator serves
 * without a budget. */
static cpnsi_asn_scope *scope_now(void) {
  static _Thread_local cpnsi_asn_scope unbounded;
  if (current_scope)
    return current_scope;
  if (!unbounded.mem) {
    unbounded.mem = cpns_mem_default();
    unbounded.budget = SIZE_MAX;
  }
  return &unbounded;
}

static int charge(cpnsi_asn_scope *s, size_t old_size, size_t new_size) {
  size_t used = s->used - old_size;
  if (new_size > s->budget || used > s->budget - new_size) {
    s->over_budget = 1;
    return -1;
  }
  s->used = used + new_size;
  return 0;
}

void *cpnsi_asn_malloc(size_t size) {
  cpnsi_asn_scope *s = scope_now();
  block_header *h;
  if (size > SIZE_MAX / 2) {
    s->over_budget = 1;
    return NULL;
  }
  if (charge(s, 0, size) < 0)
    return NULL;
  h = s->arena ? arena_take(size) : NULL;
  if (!h) {
    h = s->mem->malloc(sizeof(*h) + size, s->mem->user_data);
    if (!h) {
      s->used -= size;
      s->out_of_memory = 1;
      return NULL;
    }
    h->h.in_arena = 0;
    s->heap_blocks++;
  }
  h->h.size = size;
  s->live++;
  return h + 1;
}

void *cpnsi_asn_calloc(size_t nmemb, size_t size) {
  void *p;
  if (size && nmemb > SIZE_MAX / size) {
    scope_now()->over_budget = 1;
    return NULL;
  }
  p = cpnsi_asn_malloc(nmemb * size);
  if (p)
    memset(p, 0, nmemb * size);
  return p;
}

void *cpnsi_asn_realloc(void *ptr, size_t size) {
  cpnsi_asn_scope *s = scope_now();
  block_header *h, *nh;
  size_t old;
  if (!ptr)
    return cpnsi_asn_malloc(size);
  h = (block_header *)ptr - 1;
  old = h->h.size;
  if (size > SIZE_MAX / 2) {
    s->over_budget = 1;
    return NULL;
  }
  if (h->h.in_arena) {
    void *p;
    /* The newest arena block grows in place (asn1c appends to arrays). */
    if (h + units(old) == &arena[arena_used] && units(size) >= units(old) &&
        units(size) - units(old) <= ARENA_BLOCKS - arena_used) {
      if (charge(s, old, size) < 0)
        return NULL;
      arena_used += units(size) - units(old);
      h->h.size = size;
      return ptr;
    }
    p = cpnsi_asn_malloc(size);
    if (!p)
      return NULL;
    memcpy(p, ptr, old < size ? old : size);
    cpnsi_asn_free(ptr);
    return p;
  }
  if (charge(s, old, size) < 0)
    return NULL;
  nh = s->mem->realloc(h, sizeof(*h) + size, s->mem->user_data);
  if (!nh) {
    s->used = s->used - size + old;
    s->out_of_memory = 1;
    return NULL;
  }
  nh->h.size = size;
  return nh + 1;
}

void cpnsi_asn_free(void *ptr) {
  cpnsi_asn_scope *s = scope_now();
  block_header *h;
  if (!ptr)
    return;
  h = (block_header *)ptr - 1;
  s->used -= h->h.size;
  s->live--;
  if (h->h.in_arena)
    return; /* reclaimed when the scope ends */
  s->heap_blocks--;
  s->mem->free(h, s->mem->user_data);
}

void cpnsi_asn_stack_exceeded(void) { scope_now()->stack_exceeded = 1; }
