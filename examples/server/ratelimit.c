/*
 * cpns-server per-source token buckets (see ratelimit.h): a fixed
 * array of buckets, hash chains under a random SipHash key, and an LRU list
 * by last charge, whose tail is where full buckets are looked for.
 * Tokens are counted in thousandths, so refilling is integer arithmetic:
 * rate tokens per second are rate thousandths per millisecond.
 */
#include "examples/server/ratelimit.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define NONE UINT32_MAX
#define MILLI 1000u
/* Buckets at the LRU tail examined for a full one before refusing. */
#define EVICT_SCAN 8

typedef struct bucket {
  uint32_t hash_next, lru_prev, lru_next;
  uint64_t tokens_milli;
  uint64_t updated_ms;
  server_addr_key key;
} bucket;

struct server_ratelimit {
  uint64_t rate, burst_milli;
  size_t capacity, used;
  bucket *buckets;
  uint32_t *heads;
  size_t nheads;
  uint32_t free_head, never_used, lru_head, lru_tail;
  uint8_t hash_key[crypto_shorthash_KEYBYTES];
};

int server_ratelimit_new(server_ratelimit **out, uint32_t rate, uint32_t burst, size_t capacity) {
  *out = NULL;
  if (rate == 0 || burst == 0 || capacity == 0 || capacity > UINT32_MAX / 2) {
    return -1;
  }
  server_ratelimit *rl = calloc(1, sizeof(*rl));
  if (rl == NULL) {
    return -1;
  }
  rl->rate = rate;
  rl->burst_milli = (uint64_t)burst * MILLI;
  rl->capacity = capacity;
  rl->nheads = 1;
  while (rl->nheads < capacity) {
    rl->nheads <<= 1;
  }
  rl->buckets = calloc(capacity, sizeof(bucket));
  rl->heads = malloc(rl->nheads * sizeof(uint32_t));
  if (rl->buckets == NULL || rl->heads == NULL) {
    server_ratelimit_del(rl);
    return -1;
  }
  for (size_t i = 0; i < rl->nheads; i++) {
    rl->heads[i] = NONE;
  }
  rl->free_head = NONE;
  rl->lru_head = rl->lru_tail = NONE;
  randombytes_buf(rl->hash_key, sizeof(rl->hash_key));
  *out = rl;
  return 0;
}

void server_ratelimit_del(server_ratelimit *rl) {
  if (rl == NULL) {
    return;
  }
  free(rl->buckets);
  free(rl->heads);
  free(rl);
}

int server_ratelimit_set(server_ratelimit *rl, uint32_t rate, uint32_t burst) {
  if (rate == 0 || burst == 0) {
    return -1;
  }
  rl->rate = rate;
  rl->burst_milli = (uint64_t)burst * MILLI;
  return 0;
}

size_t server_ratelimit_size(const server_ratelimit *rl) { return rl->used; }

static uint32_t *chain_of(server_ratelimit *rl, const server_addr_key *key) {
  uint64_t h;
  crypto_shorthash((unsigned char *)&h, key->octets, sizeof(key->octets), rl->hash_key);
  return &rl->heads[h & (rl->nheads - 1)];
}

/* The bucket for key, or NONE; *link is the chain slot referring to it. */
static uint32_t find(server_ratelimit *rl, const server_addr_key *key, uint32_t **link) {
  uint32_t *slot = chain_of(rl, key);
  while (*slot != NONE && memcmp(rl->buckets[*slot].key.octets, key->octets, 16) != 0) {
    slot = &rl->buckets[*slot].hash_next;
  }
  *link = slot;
  return *slot;
}

static void lru_unlink(server_ratelimit *rl, uint32_t i) {
  bucket *b = &rl->buckets[i];
  if (b->lru_prev != NONE) {
    rl->buckets[b->lru_prev].lru_next = b->lru_next;
  } else {
    rl->lru_head = b->lru_next;
  }
  if (b->lru_next != NONE) {
    rl->buckets[b->lru_next].lru_prev = b->lru_prev;
  } else {
    rl->lru_tail = b->lru_prev;
  }
}

static void lru_push_front(server_ratelimit *rl, uint32_t i) {
  bucket *b = &rl->buckets[i];
  b->lru_prev = NONE;
  b->lru_next = rl->lru_head;
  if (rl->lru_head != NONE) {
    rl->buckets[rl->lru_head].lru_prev = i;
  } else {
    rl->lru_tail = i;
  }
  rl->lru_head = i;
}

static void refill(const server_ratelimit *rl, bucket *b, uint64_t now_ms) {
  if (now_ms > b->updated_ms) {
    uint64_t elapsed = now_ms - b->updated_ms;
    /* A bucket fuller than a lowered burst (server_ratelimit_set) is full. */
    uint64_t room = b->tokens_milli < rl->burst_milli ? rl->burst_milli - b->tokens_milli : 0;
    /* rate thousandths per ms; elapsed >= room / rate fills it (no overflow). */
    b->tokens_milli =
        elapsed >= room / rl->rate + 1 ? rl->burst_milli : b->tokens_milli + elapsed * rl->rate;
    if (b->tokens_milli > rl->burst_milli) {
      b->tokens_milli = rl->burst_milli;
    }
    b->updated_ms = now_ms;
  }
}

/* Drops a full bucket near the LRU tail. Returns 0, or -1 if none is full. */
static int drop_full(server_ratelimit *rl, uint64_t now_ms) {
  uint32_t i = rl->lru_tail;
  for (int n = 0; n < EVICT_SCAN && i != NONE; n++) {
    bucket *b = &rl->buckets[i];
    uint32_t prev = b->lru_prev;
    refill(rl, b, now_ms);
    if (b->tokens_milli >= rl->burst_milli) {
      uint32_t *link;
      find(rl, &b->key, &link);
      *link = b->hash_next;
      lru_unlink(rl, i);
      memset(b, 0, sizeof(*b));
      b->hash_next = rl->free_head;
      rl->free_head = i;
      rl->used--;
      return 0;
    }
    i = prev;
  }
  return -1;
}

int server_ratelimit_take(server_ratelimit *rl, const server_addr_key *key, uint64_t now_ms) {
  uint32_t *link;
  uint32_t i = find(rl, key, &link);
  if (i == NONE) {
    if (rl->used == rl->capacity) {
      if (drop_full(rl, now_ms) != 0) {
        return 1;
      }
      find(rl, key, &link); /* the drop may have changed the chain */
    }
    if (rl->free_head != NONE) {
      i = rl->free_head;
      rl->free_head = rl->buckets[i].hash_next;
    } else {
      i = rl->never_used++;
    }
    bucket *b = &rl->buckets[i];
    b->hash_next = NONE;
    b->key = *key;
    b->tokens_milli = rl->burst_milli;
    b->updated_ms = now_ms;
    *link = i;
    rl->used++;
  } else {
    lru_unlink(rl, i);
  }
  lru_push_front(rl, i);
  bucket *b = &rl->buckets[i];
  refill(rl, b, now_ms);
  if (b->tokens_milli > rl->burst_milli) {
    b->tokens_milli = rl->burst_milli; /* the burst was lowered, no time passed */
  }
  if (b->tokens_milli < MILLI) {
    return 1;
  }
  b->tokens_milli -= MILLI;
  return 0;
}
