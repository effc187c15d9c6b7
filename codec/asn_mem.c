/*
 * The allocator behind the asn1c runtime's CALLOC/MALLOC/REALLOC/FREEMEM
 * (patched in asn_internal.h): each block carries its size so that a
 * per-thread scope can charge it against the decode's budget and hand it
 * to the caller's cpns_mem.
 */
#include <stdalign.h>
#include <stdint.h>
#include <string.h>

#include "codec/codec_internal.h"

/* Header in front of every block; keeps the payload max-aligned. */
typedef union block_header {
  size_t size;
  max_align_t align;
} block_header;

static _Thread_local cpnsi_asn_scope *current_scope;

void cpnsi_asn_scope_enter(cpnsi_asn_scope *scope, const cpns_mem *mem,
                           size_t budget) {
  memset(scope, 0, sizeof(*scope));
  scope->mem = mem ? mem : cpns_mem_default();
  scope->budget = budget;
  scope->prev = current_scope;
  current_scope = scope;
}

void cpnsi_asn_scope_leave(cpnsi_asn_scope *scope) {
  current_scope = scope->prev;
}

/* Outside any scope (never on the decode path) the default allocator serves
 * without a budget. */
static cpnsi_asn_scope *scope_now(void) {
  static _Thread_local cpnsi_asn_scope unbounded;
  if (current_scope) return current_scope;
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
  if (size > SIZE_MAX - sizeof(*h) || charge(s, 0, size) < 0) {
    if (size > SIZE_MAX - sizeof(*h)) s->over_budget = 1;
    return NULL;
  }
  h = s->mem->malloc(sizeof(*h) + size, s->mem->user_data);
  if (!h) {
    s->used -= size;
    s->out_of_memory = 1;
    return NULL;
  }
  h->size = size;
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
  if (p) memset(p, 0, nmemb * size);
  return p;
}

void *cpnsi_asn_realloc(void *ptr, size_t size) {
  cpnsi_asn_scope *s = scope_now();
  block_header *h, *nh;
  if (!ptr) return cpnsi_asn_malloc(size);
  h = (block_header *)ptr - 1;
  if (size > SIZE_MAX - sizeof(*h) || charge(s, h->size, size) < 0) {
    if (size > SIZE_MAX - sizeof(*h)) s->over_budget = 1;
    return NULL;
  }
  nh = s->mem->realloc(h, sizeof(*h) + size, s->mem->user_data);
  if (!nh) {
    s->used = s->used - size + h->size;
    s->out_of_memory = 1;
    return NULL;
  }
  nh->size = size;
  return nh + 1;
}

void cpnsi_asn_free(void *ptr) {
  cpnsi_asn_scope *s = scope_now();
  block_header *h;
  if (!ptr) return;
  h = (block_header *)ptr - 1;
  s->used -= h->size;
  s->live--;
  s->mem->free(h, s->mem->user_data);
}

void cpnsi_asn_stack_exceeded(void) { scope_now()->stack_exceeded = 1; }
