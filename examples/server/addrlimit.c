/*
 * cpns-server per-address connection counts (see addrlimit.h):
 * chained hash under a random SipHash key; entries live while counted.
 */
#include "examples/server/addrlimit.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

typedef struct addr_entry {
  struct addr_entry *next;
  server_addr_key key;
  size_t count;
} addr_entry;

struct server_addrlimit {
  addr_entry **buckets;
  size_t nbuckets;
  size_t entries, max_addrs, max_per_addr;
  uint8_t hash_key[crypto_shorthash_KEYBYTES];
};

int server_addrlimit_new(server_addrlimit **out, size_t max_addrs, size_t max_per_addr) {
  *out = NULL;
  server_addrlimit *al = calloc(1, sizeof(*al));
  if (al == NULL) {
    return -1;
  }
  al->max_addrs = max_addrs;
  al->max_per_addr = max_per_addr;
  al->nbuckets = 16;
  while (al->nbuckets < max_addrs && al->nbuckets < ((size_t)1 << 20)) {
    al->nbuckets <<= 1;
  }
  al->buckets = calloc(al->nbuckets, sizeof(*al->buckets));
  if (al->buckets == NULL) {
    free(al);
    return -1;
  }
  randombytes_buf(al->hash_key, sizeof(al->hash_key));
  *out = al;
  return 0;
}

void server_addrlimit_del(server_addrlimit *al) {
  if (al == NULL) {
    return;
  }
  for (size_t i = 0; i < al->nbuckets; i++) {
    addr_entry *e = al->buckets[i];
    while (e != NULL) {
      addr_entry *next = e->next;
      free(e);
      e = next;
    }
  }
  free(al->buckets);
  free(al);
}

int server_addr_key_from(server_addr_key *key, const struct sockaddr *sa, socklen_t len) {
  memset(key, 0, sizeof(*key));
  if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
    const struct sockaddr_in *in4 = (const struct sockaddr_in *)(const void *)sa;
    key->octets[10] = 0xff;
    key->octets[11] = 0xff;
    memcpy(key->octets + 12, &in4->sin_addr, 4);
    return 0;
  }
  if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
    memcpy(key->octets, &in6->sin6_addr, 16);
    static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(key->octets, v4_mapped, sizeof(v4_mapped)) != 0) {
      /* One site gets a /64: its addresses inside are the peer's to pick. */
      memset(key->octets + 8, 0, 8);
    }
    return 0;
  }
  return -1;
}

static addr_entry **slot_of(server_addrlimit *al, const server_addr_key *key) {
  uint64_t h;
  crypto_shorthash((unsigned char *)&h, key->octets, sizeof(key->octets), al->hash_key);
  addr_entry **slot = &al->buckets[h & (al->nbuckets - 1)];
  while (*slot != NULL && memcmp((*slot)->key.octets, key->octets, 16) != 0) {
    slot = &(*slot)->next;
  }
  return slot;
}

int server_addrlimit_acquire(server_addrlimit *al, const server_addr_key *key) {
  addr_entry **slot = slot_of(al, key);
  if (*slot == NULL) {
    if (al->entries >= al->max_addrs) {
      return 1;
    }
    addr_entry *e = calloc(1, sizeof(*e));
    if (e == NULL) {
      return 1;
    }
    e->key = *key;
    *slot = e;
    al->entries++;
  }
  if ((*slot)->count >= al->max_per_addr) {
    return 1;
  }
  (*slot)->count++;
  return 0;
}

void server_addrlimit_release(server_addrlimit *al, const server_addr_key *key) {
  addr_entry **slot = slot_of(al, key);
  addr_entry *e = *slot;
  if (e == NULL) {
    return;
  }
  if (--e->count == 0) {
    *slot = e->next;
    free(e);
    al->entries--;
  }
}

void server_addrlimit_set_max_per_addr(server_addrlimit *al, size_t max_per_addr) {
  if (max_per_addr > 0) {
    al->max_per_addr = max_per_addr;
  }
}
