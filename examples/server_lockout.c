/*
 * cpns-server lockout table (see server_lockout.h): a fixed array of
 * entries, hash chains keyed by SipHash under a random key (so peers cannot
 * aim User IDs at one chain) and an LRU list for eviction.
 */
#include "examples/server_lockout.h"

#include <stdlib.h>
#include <string.h>

#include <cpns/codec.h>
#include <sodium.h>

#define NONE UINT32_MAX

typedef struct entry {
  uint32_t hash_next;
  uint32_t lru_prev, lru_next;
  uint32_t attempts;
  uint64_t blocked_until_ms;
  uint8_t id_len;
  uint8_t id[CPNS_USER_ID_MAX];
} entry;

struct server_lockout {
  server_lockout_settings cfg;
  entry *entries;
  uint32_t *buckets;
  size_t nbuckets;
  uint32_t free_head;       /* recycled entries, chained by hash_next */
  uint32_t never_used;      /* entries from here on were never touched */
  uint32_t lru_head, lru_tail; /* head = most recently used */
  size_t used;
  uint8_t hash_key[crypto_shorthash_KEYBYTES];
};

int server_lockout_new(server_lockout **out, const server_lockout_settings *settings) {
  *out = NULL;
  server_lockout *lo = calloc(1, sizeof(*lo));
  if (lo == NULL) {
    return -1;
  }
  if (settings != NULL) {
    lo->cfg = *settings;
  }
  if (lo->cfg.threshold == 0) {
    lo->cfg.threshold = 5;
  }
  if (lo->cfg.base_ms == 0) {
    lo->cfg.base_ms = 1000;
  }
  if (lo->cfg.max_ms == 0) {
    lo->cfg.max_ms = 15 * 60 * 1000;
  }
  if (lo->cfg.capacity == 0) {
    lo->cfg.capacity = 65536;
  }
  if (lo->cfg.capacity > UINT32_MAX / 2) {
    lo->cfg.capacity = UINT32_MAX / 2;
  }
  lo->nbuckets = 1;
  while (lo->nbuckets < lo->cfg.capacity) {
    lo->nbuckets <<= 1;
  }
  lo->entries = calloc(lo->cfg.capacity, sizeof(entry));
  lo->buckets = malloc(lo->nbuckets * sizeof(uint32_t));
  if (lo->entries == NULL || lo->buckets == NULL) {
    server_lockout_del(lo);
    return -1;
  }
  for (size_t i = 0; i < lo->nbuckets; i++) {
    lo->buckets[i] = NONE;
  }
  /* Entries are taken in order, so calloc's untouched pages cost no RSS. */
  lo->free_head = NONE;
  lo->never_used = 0;
  lo->lru_head = lo->lru_tail = NONE;
  randombytes_buf(lo->hash_key, sizeof(lo->hash_key));
  *out = lo;
  return 0;
}

void server_lockout_del(server_lockout *lo) {
  if (lo == NULL) {
    return;
  }
  free(lo->entries);
  free(lo->buckets);
  free(lo);
}

size_t server_lockout_size(const server_lockout *lo) { return lo->used; }

static size_t bucket_of(const server_lockout *lo, const uint8_t *id, size_t len) {
  uint64_t h;
  crypto_shorthash((unsigned char *)&h, id, len, lo->hash_key);
  return (size_t)(h & (lo->nbuckets - 1));
}

static void lru_unlink(server_lockout *lo, uint32_t i) {
  entry *e = &lo->entries[i];
  if (e->lru_prev != NONE) {
    lo->entries[e->lru_prev].lru_next = e->lru_next;
  } else {
    lo->lru_head = e->lru_next;
  }
  if (e->lru_next != NONE) {
    lo->entries[e->lru_next].lru_prev = e->lru_prev;
  } else {
    lo->lru_tail = e->lru_prev;
  }
}

static void lru_push_front(server_lockout *lo, uint32_t i) {
  entry *e = &lo->entries[i];
  e->lru_prev = NONE;
  e->lru_next = lo->lru_head;
  if (lo->lru_head != NONE) {
    lo->entries[lo->lru_head].lru_prev = i;
  } else {
    lo->lru_tail = i;
  }
  lo->lru_head = i;
}

/* Finds an entry; *link points at the chain slot that refers to it. */
static uint32_t find(server_lockout *lo, const uint8_t *id, size_t len, uint32_t **link) {
  uint32_t *slot = &lo->buckets[bucket_of(lo, id, len)];
  while (*slot != NONE) {
    entry *e = &lo->entries[*slot];
    if (e->id_len == len && memcmp(e->id, id, len) == 0) {
      *link = slot;
      return *slot;
    }
    slot = &e->hash_next;
  }
  *link = slot;
  return NONE;
}

static void remove_entry(server_lockout *lo, uint32_t i, uint32_t *link) {
  entry *e = &lo->entries[i];
  *link = e->hash_next;
  lru_unlink(lo, i);
  memset(e, 0, sizeof(*e));
  e->hash_next = lo->free_head;
  lo->free_head = i;
  lo->used--;
}

static void evict_lru(server_lockout *lo) {
  uint32_t victim = lo->lru_tail;
  entry *e = &lo->entries[victim];
  uint32_t *link;
  find(lo, e->id, e->id_len, &link);
  remove_entry(lo, victim, link);
}

/* base << (attempts - threshold), capped at max without overflowing. */
static uint64_t backoff_ms(const server_lockout *lo, uint32_t attempts) {
  uint32_t doublings = attempts - lo->cfg.threshold;
  uint64_t d = lo->cfg.base_ms;
  while (doublings-- > 0 && d < lo->cfg.max_ms) {
    d <<= 1;
  }
  return d < lo->cfg.max_ms ? d : lo->cfg.max_ms;
}

int server_lockout_attempt(server_lockout *lo, const uint8_t *id, size_t len, uint64_t now_ms) {
  if (len > CPNS_USER_ID_MAX) {
    len = CPNS_USER_ID_MAX;
  }
  uint32_t *link;
  uint32_t i = find(lo, id, len, &link);
  if (i == NONE) {
    if (lo->used == lo->cfg.capacity) {
      evict_lru(lo);
      find(lo, id, len, &link); /* the eviction may have changed the chain */
    }
    entry *e;
    if (lo->free_head != NONE) {
      i = lo->free_head;
      e = &lo->entries[i];
      lo->free_head = e->hash_next;
    } else {
      i = lo->never_used++;
      e = &lo->entries[i];
    }
    e->hash_next = NONE;
    *link = i;
    e->id_len = (uint8_t)len;
    memcpy(e->id, id, len);
    e->attempts = 0;
    e->blocked_until_ms = 0;
    lo->used++;
  } else {
    lru_unlink(lo, i);
  }
  lru_push_front(lo, i);
  entry *e = &lo->entries[i];
  if (now_ms < e->blocked_until_ms) {
    return 1;
  }
  if (e->attempts < UINT32_MAX) {
    e->attempts++;
  }
  if (e->attempts >= lo->cfg.threshold) {
    /* Blocks the attempts after this one; a success clears it. */
    e->blocked_until_ms = now_ms + backoff_ms(lo, e->attempts);
  }
  return 0;
}

void server_lockout_success(server_lockout *lo, const uint8_t *id, size_t len) {
  if (len > CPNS_USER_ID_MAX) {
    return;
  }
  uint32_t *link;
  uint32_t i = find(lo, id, len, &link);
  if (i != NONE) {
    remove_entry(lo, i, link);
  }
}
