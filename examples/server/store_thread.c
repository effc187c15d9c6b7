/*
 * cpns-server store thread (see store_thread.h).
 */
#define _POSIX_C_SOURCE 200809L

#include "examples/server/store_thread.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "examples/server/store.h"

struct server_store {
  server_db *db;
  server_store_role role;
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t wake;
  server_store_job *pending_head, *pending_tail;
  server_store_job *done_head, *done_tail;
  int stopping;
  size_t batch_max;
  server_store_notify_fn notify;
  void *notify_arg;
  uint64_t batches, jobs;
  uint64_t busy_us; /* time spent storing, for the stats */
};

static uint64_t mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Lookups: one statement each (pipelined on PostgreSQL), no transaction. */
static void lookup_batch(server_store *st, server_store_job *batch, size_t n) {
  server_db_lookup_request *req = calloc(n, sizeof(*req));
  size_t i = 0;
  for (server_store_job *j = batch; j != NULL; j = j->next) {
    j->status = CPNS_STORE_FAILED;
    if (req != NULL && j->kind == SERVER_STORE_LOOKUP && j->lookup != NULL) {
      req[i].user_id = j->user_id;
      req[i].user_id_len = j->user_id_len;
      req[i].out = j->lookup;
      i++;
    }
  }
  if (req == NULL) {
    return;
  }
  server_db_lookup_batch(st->db, req, i);
  i = 0;
  for (server_store_job *j = batch; j != NULL; j = j->next) {
    if (j->kind == SERVER_STORE_LOOKUP && j->lookup != NULL) {
      j->status = req[i++].rc == 0 ? CPNS_STORE_OK : CPNS_STORE_FAILED;
    }
  }
  free(req);
}

/* One transaction for the whole batch: one fsync pays for every job in it.
 * A batch of lockout writes alone may commit without waiting for the disk
 * (PostgreSQL; see lockout.h). */
static void store_batch(server_store *st, server_store_job *batch, size_t n) {
  server_db_write *w = calloc(n, sizeof(*w));
  size_t i = 0;
  for (server_store_job *j = batch; j != NULL; j = j->next) {
    j->status = CPNS_STORE_FAILED;
  }
  if (w == NULL) {
    return;
  }
  for (server_store_job *j = batch; j != NULL; j = j->next) {
    if (j->kind == SERVER_STORE_LOOKUP) {
      continue; /* not a write: refused (stays FAILED) */
    }
    static const server_db_write_kind kinds[] = {
        [SERVER_STORE_ASSIGN] = SERVER_DB_WRITE_ASSIGN,
        [SERVER_STORE_LOCKOUT_PUT] = SERVER_DB_WRITE_LOCKOUT_PUT,
        [SERVER_STORE_LOCKOUT_DEL] = SERVER_DB_WRITE_LOCKOUT_DEL,
        [SERVER_STORE_LOCKOUT_PURGE] = SERVER_DB_WRITE_LOCKOUT_PURGE,
        [SERVER_STORE_LOCKOUT_FAIL] = SERVER_DB_WRITE_LOCKOUT_FAIL};
    server_db_write *x = &w[i++];
    x->kind = kinds[j->kind];
    x->assignment = (server_db_assignment){.entity_id = j->entity_id,
                                           .entity_id_len = j->entity_id_len,
                                           .user_id = j->user_id,
                                           .user_id_len = j->user_id_len,
                                           .mode = j->mode,
                                           .key_id = j->key_id,
                                           .sealed_eukey = j->sealed_eukey,
                                           .assigned_at = j->assigned_at,
                                           .source = j->source[0] != '\0' ? j->source : NULL};
    x->user_id = j->user_id;
    x->user_id_len = j->user_id_len;
    x->lockout = j->lockout;
    x->policy = j->policy;
  }
  server_db_write_batch(st->db, w, i);
  i = 0;
  for (server_store_job *j = batch; j != NULL; j = j->next) {
    if (j->kind != SERVER_STORE_LOOKUP) {
      j->status = w[i++].status;
    }
  }
  free(w);
}

static void *store_main(void *arg) {
  server_store *st = arg;
  pthread_mutex_lock(&st->lock);
  for (;;) {
    while (st->pending_head == NULL && !st->stopping) {
      pthread_cond_wait(&st->wake, &st->lock);
    }
    if (st->pending_head == NULL) {
      break; /* stopping and drained */
    }
    server_store_job *batch = st->pending_head, *last = batch;
    size_t n = 1;
    while (last->next != NULL && n < st->batch_max) {
      last = last->next;
      n++;
    }
    st->pending_head = last->next;
    if (st->pending_head == NULL) {
      st->pending_tail = NULL;
    }
    last->next = NULL;
    pthread_mutex_unlock(&st->lock);

    uint64_t t0 = mono_us();
    if (st->role == SERVER_STORE_LOOKUPS) {
      lookup_batch(st, batch, n);
    } else {
      store_batch(st, batch, n);
    }
    uint64_t spent = mono_us() - t0;
    batch->batch_jobs = (uint32_t)n;
    batch->batch_us = spent;

    pthread_mutex_lock(&st->lock);
    st->busy_us += spent;
    if (st->done_tail != NULL) {
      st->done_tail->next = batch;
    } else {
      st->done_head = batch;
    }
    st->done_tail = last;
    st->batches++;
    st->jobs += n;
    pthread_mutex_unlock(&st->lock);
    if (st->notify != NULL) {
      st->notify(st->notify_arg);
    }
    pthread_mutex_lock(&st->lock);
  }
  pthread_mutex_unlock(&st->lock);
  return NULL;
}

int server_store_start(server_store **out, const char *db_path, size_t batch_max,
                       server_store_notify_fn notify, void *notify_arg) {
  return server_store_start_role(out, db_path, SERVER_STORE_WRITES, batch_max, notify, notify_arg);
}

int server_store_start_role(server_store **out, const char *db_path, server_store_role role,
                            size_t batch_max, server_store_notify_fn notify, void *notify_arg) {
  *out = NULL;
  server_store *st = calloc(1, sizeof(*st));
  if (st == NULL) {
    fprintf(stderr, "out of memory starting the store thread\n");
    return -1;
  }
  st->batch_max = batch_max != 0 ? batch_max : 256;
  st->notify = notify;
  st->notify_arg = notify_arg;
  st->role = role;
  if (server_db_open(&st->db, db_path,
                     role == SERVER_STORE_LOOKUPS ? SERVER_DB_READER : SERVER_DB_EXISTING) != 0) {
    free(st);
    return -1;
  }
  pthread_mutex_init(&st->lock, NULL);
  pthread_cond_init(&st->wake, NULL);
  if (pthread_create(&st->thread, NULL, store_main, st) != 0) {
    fprintf(stderr, "cannot start the store thread\n");
    pthread_cond_destroy(&st->wake);
    pthread_mutex_destroy(&st->lock);
    server_db_close(st->db);
    free(st);
    return -1;
  }
  *out = st;
  return 0;
}

void server_store_submit(server_store *st, server_store_job *job) {
  server_store_job *last = job;
  while (last->next != NULL) {
    last = last->next;
  }
  pthread_mutex_lock(&st->lock);
  if (st->pending_tail != NULL) {
    st->pending_tail->next = job;
  } else {
    st->pending_head = job;
  }
  st->pending_tail = last;
  pthread_cond_signal(&st->wake);
  pthread_mutex_unlock(&st->lock);
}

server_store_job *server_store_take_done(server_store *st) {
  pthread_mutex_lock(&st->lock);
  server_store_job *done = st->done_head;
  st->done_head = st->done_tail = NULL;
  pthread_mutex_unlock(&st->lock);
  return done;
}

void server_store_stats(server_store *st, uint64_t *batches, uint64_t *jobs, uint64_t *busy_us) {
  pthread_mutex_lock(&st->lock);
  *batches = st->batches;
  *jobs = st->jobs;
  *busy_us = st->busy_us;
  pthread_mutex_unlock(&st->lock);
}

void server_store_stop(server_store *st) {
  if (st == NULL) {
    return;
  }
  pthread_mutex_lock(&st->lock);
  st->stopping = 1;
  pthread_cond_signal(&st->wake);
  pthread_mutex_unlock(&st->lock);
  pthread_join(st->thread, NULL);
  server_store_job *j = st->done_head;
  while (j != NULL) {
    server_store_job *next = j->next;
    free(j);
    j = next;
  }
  server_db_close(st->db);
  pthread_cond_destroy(&st->wake);
  pthread_mutex_destroy(&st->lock);
  free(st);
}
