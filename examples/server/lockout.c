/*
 * cpns-server lockout cache (see lockout.h): a fixed array of
 * entries, hash chains keyed by SipHash under a random key (so peers cannot
 * aim User IDs at one chain), and an LRU list holding only the entries that
 * may leave memory (nothing in flight, nothing unsaved).
 */
#include "examples/server/lockout.h"

#include <stdlib.h>
#include <string.h>

#include <cpns/codec.h>
#include <sodium.h>

#define NONE UINT32_MAX

typedef struct entry {
  uint32_t hash_next;
  uint32_t lru_prev, lru_next;
  uint32_t attempts; /* since the last success: failures + in flight */
  uint32_t inflight; /* begun, not ended */
  uint32_t jobs;     /* emitted, not back from the store */
  uint32_t fails;    /* shared: failure counts emitted, not back from the store */
  uint8_t unsaved;   /* the last write failed (or could not be made) */
  uint8_t row;       /* the table may hold a row for it */
  uint8_t in_lru;
  uint8_t id_len;
  uint64_t last_failure_ms;
  uint64_t blocked_until_ms;
  uint8_t id[CPNS_USER_ID_MAX];
} entry;

struct server_lockout {
  server_lockout_settings cfg;
  server_db *reader; /* NULL when shared: rows come with each begin */
  int shared;
  server_lockout_emit_fn emit;
  void *emit_arg;
  entry *entries;
  uint32_t *buckets;
  size_t nbuckets;
  uint32_t free_head;          /* recycled entries, chained by hash_next */
  uint32_t never_used;         /* entries from here on were never touched */
  uint32_t lru_head, lru_tail; /* head = most recently used */
  size_t used;
  uint8_t hash_key[crypto_shorthash_KEYBYTES];
};

int server_lockout_new_shared(server_lockout **out, const server_lockout_settings *settings,
                              server_lockout_emit_fn emit, void *emit_arg) {
  int rc = server_lockout_new(out, settings, NULL, emit, emit_arg);
  if (rc == 0) {
    (*out)->shared = 1;
  }
  return rc;
}

/* The policy's defaults (lockout.h), capacity aside. */
static void normalize_policy(server_lockout_settings *s) {
  if (s->threshold == 0) {
    s->threshold = 5;
  }
  if (s->base_ms == 0) {
    s->base_ms = 1000;
  }
  if (s->max_ms == 0) {
    s->max_ms = 15 * 60 * 1000;
  }
  if (s->window_ms == 0) {
    s->window_ms = 60 * 60 * 1000;
  }
  /* A block must not outlive the failures it stands for. */
  if (s->window_ms < s->max_ms) {
    s->window_ms = s->max_ms;
  }
}

void server_lockout_set_policy(server_lockout *lo, const server_lockout_settings *settings) {
  size_t capacity = lo->cfg.capacity;
  lo->cfg = *settings;
  lo->cfg.capacity = capacity;
  normalize_policy(&lo->cfg);
}

void server_lockout_get_policy(const server_lockout *lo, server_lockout_settings *settings) {
  *settings = lo->cfg;
}

int server_lockout_new(server_lockout **out, const server_lockout_settings *settings,
                       server_db *reader, server_lockout_emit_fn emit, void *emit_arg) {
  *out = NULL;
  server_lockout *lo = calloc(1, sizeof(*lo));
  if (lo == NULL) {
    return -1;
  }
  if (settings != NULL) {
    lo->cfg = *settings;
  }
  normalize_policy(&lo->cfg);
  if (lo->cfg.capacity == 0) {
    lo->cfg.capacity = 65536;
  }
  if (lo->cfg.capacity > UINT32_MAX / 2) {
    lo->cfg.capacity = UINT32_MAX / 2;
  }
  lo->reader = reader;
  lo->emit = emit;
  lo->emit_arg = emit_arg;
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

size_t server_lockout_active(const server_lockout *lo, uint64_t now_ms) {
  size_t n = 0;
  for (uint32_t i = 0; i < lo->never_used; i++) {
    n += lo->entries[i].id_len != 0 && now_ms < lo->entries[i].blocked_until_ms;
  }
  return n;
}

static size_t bucket_of(const server_lockout *lo, const uint8_t *id, size_t len) {
  uint64_t h;
  crypto_shorthash((unsigned char *)&h, id, len, lo->hash_key);
  return (size_t)(h & (lo->nbuckets - 1));
}

static void lru_unlink(server_lockout *lo, uint32_t i) {
  entry *e = &lo->entries[i];
  if (!e->in_lru) {
    return;
  }
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
  e->in_lru = 0;
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
  e->in_lru = 1;
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

static void remove_entry(server_lockout *lo, uint32_t i) {
  entry *e = &lo->entries[i];
  uint32_t *link;
  find(lo, e->id, e->id_len, &link);
  *link = e->hash_next;
  lru_unlink(lo, i);
  memset(e, 0, sizeof(*e));
  e->hash_next = lo->free_head;
  lo->free_head = i;
  lo->used--;
}

static int pinned(const entry *e) { return e->inflight > 0 || e->jobs > 0 || e->unsaved; }

/* After a change: an entry with nothing to remember goes; one that may leave
 * memory joins the LRU list (as most recent); a pinned one leaves it. */
static void settle(server_lockout *lo, uint32_t i) {
  entry *e = &lo->entries[i];
  lru_unlink(lo, i);
  if (pinned(e)) {
    return;
  }
  if (e->attempts == 0 && !e->row) {
    remove_entry(lo, i);
    return;
  }
  lru_push_front(lo, i);
}

/* A clock set back makes nothing expire (last failure in the future). */
static int expired(const server_lockout *lo, const entry *e, uint64_t now_ms) {
  return e->inflight == 0 && now_ms >= e->blocked_until_ms && now_ms >= e->last_failure_ms &&
         now_ms - e->last_failure_ms >= lo->cfg.window_ms;
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

static server_store_job *new_job(const entry *e, server_store_kind kind) {
  server_store_job *job = calloc(1, sizeof(*job));
  if (job != NULL) {
    job->kind = kind;
    job->user_id_len = e->id_len;
    memcpy(job->user_id, e->id, e->id_len);
    job->lockout.failures = e->attempts;
    job->lockout.last_failure_ms = (int64_t)e->last_failure_ms;
    job->lockout.blocked_until_ms = (int64_t)e->blocked_until_ms;
  }
  return job;
}

/* Emits the entry's current state (a put, or a delete when it has no
 * failures). Returns the job, or NULL (out of memory: left unsaved, which
 * keeps it in memory until server_lockout_maintain() retries). */
static server_store_job *save(server_lockout *lo, entry *e, void *owner) {
  /* Shared: the database counts the failure itself (other servers count
   * theirs in the same row); a whole-row put would overwrite theirs. */
  server_store_kind kind = e->attempts == 0 ? SERVER_STORE_LOCKOUT_DEL
                           : lo->shared     ? SERVER_STORE_LOCKOUT_FAIL
                                            : SERVER_STORE_LOCKOUT_PUT;
  server_store_job *job = new_job(e, kind);
  if (job == NULL) {
    e->unsaved = 1;
    return NULL;
  }
  if (kind == SERVER_STORE_LOCKOUT_FAIL) {
    job->policy.threshold = lo->cfg.threshold;
    job->policy.base_ms = lo->cfg.base_ms;
    job->policy.max_ms = lo->cfg.max_ms;
    job->policy.window_ms = lo->cfg.window_ms;
    e->fails++;
  }
  job->owner = owner;
  e->unsaved = 0;
  e->jobs++;
  e->row = job->kind != SERVER_STORE_LOCKOUT_DEL;
  lo->emit(lo->emit_arg, job);
  return job;
}

/* A new entry for a User ID not held, filled from its row. Returns the
 * entry, or NONE when the row cannot be read or no entry can be freed. */
static uint32_t load(server_lockout *lo, const uint8_t *id, size_t len, uint64_t now_ms,
                     const server_db_lockout *given) {
  if (lo->used == lo->cfg.capacity) {
    if (lo->lru_tail == NONE) {
      return NONE; /* every entry holds state not yet committed */
    }
    remove_entry(lo, lo->lru_tail); /* committed: the table still has it */
  }
  server_db_lockout row;
  int found = 1;
  if (lo->shared) {
    found = given != NULL ? 0 : 1;
    if (given != NULL) {
      row = *given;
    }
  } else {
    found = server_db_lockout_get(lo->reader, id, len, &row);
  }
  if (found < 0) {
    return NONE;
  }
  uint32_t i;
  if (lo->free_head != NONE) {
    i = lo->free_head;
    lo->free_head = lo->entries[i].hash_next;
  } else {
    i = lo->never_used++;
  }
  entry *e = &lo->entries[i];
  memset(e, 0, sizeof(*e));
  uint32_t *link;
  find(lo, id, len, &link);
  e->hash_next = NONE;
  *link = i;
  e->id_len = (uint8_t)len;
  memcpy(e->id, id, len);
  lo->used++;
  if (found == 0) {
    e->row = 1;
    e->attempts = row.failures;
    e->last_failure_ms = row.last_failure_ms > 0 ? (uint64_t)row.last_failure_ms : 0;
    e->blocked_until_ms = row.blocked_until_ms > 0 ? (uint64_t)row.blocked_until_ms : 0;
    if (expired(lo, e, now_ms)) {
      e->attempts = 0; /* the row is purged later or overwritten */
      e->blocked_until_ms = 0;
    }
  }
  return i;
}

/* Shared: the row just read replaces what this server knew, plus what it
 * has not written yet (attempts in flight, failure counts on their way). */
static void refresh(server_lockout *lo, entry *e, const server_db_lockout *row, uint64_t now_ms) {
  uint32_t db_failures = 0;
  uint64_t last = 0, blocked = 0;
  if (row != NULL) {
    last = row->last_failure_ms > 0 ? (uint64_t)row->last_failure_ms : 0;
    blocked = row->blocked_until_ms > 0 ? (uint64_t)row->blocked_until_ms : 0;
    db_failures = row->failures;
    if (now_ms >= blocked && now_ms >= last && now_ms - last >= lo->cfg.window_ms) {
      db_failures = 0; /* expired: the next failure restarts the count */
      blocked = 0;
    }
  }
  uint32_t pending = e->inflight + e->fails;
  e->row = row != NULL || e->jobs > 0;
  e->attempts = db_failures > UINT32_MAX - pending ? UINT32_MAX : db_failures + pending;
  if (last > e->last_failure_ms || e->inflight + e->fails == 0) {
    e->last_failure_ms = last;
  }
  /* A block this server set for its own attempts in flight stays. */
  if (blocked > e->blocked_until_ms || pending == 0) {
    e->blocked_until_ms = blocked;
  }
}

static server_lockout_verdict begin(server_lockout *lo, const uint8_t *id, size_t len,
                                    uint64_t now_ms, int have_row, const server_db_lockout *row) {
  if (len > CPNS_USER_ID_MAX) {
    len = CPNS_USER_ID_MAX;
  }
  uint32_t *link;
  uint32_t i = find(lo, id, len, &link);
  if (i == NONE) {
    i = load(lo, id, len, now_ms, row);
    if (i == NONE) {
      return SERVER_LOCKOUT_UNAVAILABLE;
    }
  } else if (have_row) {
    refresh(lo, &lo->entries[i], row, now_ms);
  }
  entry *e = &lo->entries[i];
  if (e->attempts > 0 && expired(lo, e, now_ms)) {
    e->attempts = 0; /* the row is purged later or overwritten */
    e->blocked_until_ms = 0;
  }
  if (now_ms < e->blocked_until_ms) {
    settle(lo, i); /* most recently used */
    return SERVER_LOCKOUT_THROTTLED;
  }
  if (e->attempts < UINT32_MAX) {
    e->attempts++;
  }
  e->inflight++;
  if (e->attempts >= lo->cfg.threshold) {
    /* Blocks the attempts after this one; a success clears it. */
    e->blocked_until_ms = now_ms + backoff_ms(lo, e->attempts);
  }
  settle(lo, i);
  return SERVER_LOCKOUT_GO;
}

server_lockout_verdict server_lockout_begin(server_lockout *lo, const uint8_t *id, size_t len,
                                            uint64_t now_ms) {
  if (lo->shared) {
    return SERVER_LOCKOUT_UNAVAILABLE; /* needs the row: server_lockout_begin_with_row */
  }
  return begin(lo, id, len, now_ms, 0, NULL);
}

server_lockout_verdict server_lockout_begin_with_row(server_lockout *lo, const uint8_t *id,
                                                     size_t len, const server_db_lockout *row,
                                                     uint64_t now_ms) {
  return begin(lo, id, len, now_ms, 1, row);
}

int server_lockout_end(server_lockout *lo, const uint8_t *id, size_t len, int success,
                       uint64_t now_ms, void *owner) {
  if (len > CPNS_USER_ID_MAX) {
    len = CPNS_USER_ID_MAX;
  }
  uint32_t *link;
  uint32_t i = find(lo, id, len, &link);
  if (i == NONE) {
    return 0; /* not begun: an entry in flight never leaves */
  }
  entry *e = &lo->entries[i];
  if (e->inflight > 0) {
    e->inflight--;
  }
  int waits = 0;
  if (success) {
    e->attempts = 0;
    e->blocked_until_ms = 0;
    e->last_failure_ms = 0;
    if (e->row || e->unsaved) {
      save(lo, e, NULL); /* a delete */
    }
  } else {
    if (e->attempts == 0) {
      e->attempts = 1; /* begun before a concurrent success cleared the count */
    }
    e->last_failure_ms = now_ms;
    waits = save(lo, e, owner) != NULL && owner != NULL;
  }
  settle(lo, i);
  return waits;
}

void server_lockout_forgive(server_lockout *lo, const uint8_t *id, size_t len) {
  if (len > CPNS_USER_ID_MAX) {
    len = CPNS_USER_ID_MAX;
  }
  uint32_t *link;
  uint32_t i = find(lo, id, len, &link);
  if (i == NONE) {
    /* Its committed failure left memory; the table still has the row. */
    server_store_job *job = calloc(1, sizeof(*job));
    if (job != NULL) {
      job->kind = SERVER_STORE_LOCKOUT_DEL;
      job->user_id_len = len;
      memcpy(job->user_id, id, len);
      lo->emit(lo->emit_arg, job);
    }
    return;
  }
  entry *e = &lo->entries[i];
  e->attempts = 0;
  e->blocked_until_ms = 0;
  e->last_failure_ms = 0;
  if (e->row || e->unsaved) {
    save(lo, e, NULL); /* a delete */
  }
  settle(lo, i);
}

void server_lockout_stored(server_lockout *lo, const server_store_job *job) {
  uint32_t *link;
  uint32_t i = find(lo, job->user_id, job->user_id_len, &link);
  if (job->kind == SERVER_STORE_LOCKOUT_PURGE || i == NONE) {
    return; /* a purge, or (cannot happen) an entry gone while its job was out */
  }
  entry *e = &lo->entries[i];
  if (e->jobs > 0) {
    e->jobs--;
  }
  if (job->kind == SERVER_STORE_LOCKOUT_FAIL && e->fails > 0) {
    e->fails--;
  }
  if (job->status != CPNS_STORE_OK) {
    /* Kept in memory until a later write of it commits; maintain retries. */
    e->unsaved = 1;
    if (job->kind == SERVER_STORE_LOCKOUT_DEL) {
      e->row = 1;
    }
  }
  settle(lo, i);
}

void server_lockout_maintain(server_lockout *lo, uint64_t now_ms) {
  for (uint32_t i = 0; i < lo->never_used; i++) {
    entry *e = &lo->entries[i];
    if (e->id_len == 0) {
      continue; /* free (a User ID is never empty) */
    }
    if (e->attempts > 0 && expired(lo, e, now_ms)) {
      e->attempts = 0;
      e->blocked_until_ms = 0;
      e->row = 0; /* the purge below deletes it */
      if (e->unsaved && e->jobs == 0) {
        e->unsaved = 0; /* nothing left to save */
      }
    }
    if (e->unsaved && e->jobs == 0) {
      save(lo, e, NULL);
    }
    settle(lo, i);
  }
  server_store_job *job = calloc(1, sizeof(*job));
  if (job != NULL) {
    job->kind = SERVER_STORE_LOCKOUT_PURGE;
    job->lockout.last_failure_ms =
        now_ms > lo->cfg.window_ms ? (int64_t)(now_ms - lo->cfg.window_ms) : 0;
    job->lockout.blocked_until_ms = (int64_t)now_ms;
    lo->emit(lo->emit_arg, job);
  }
}
