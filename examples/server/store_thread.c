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

static cpns_store_status store_one(server_db *db, const server_store_job *j) {
  int rc = -1;
  switch (j->kind) {
  case SERVER_STORE_ASSIGN: {
    server_db_assignment a = {.entity_id = j->entity_id,
                              .entity_id_len = j->entity_id_len,
                              .user_id = j->user_id,
                              .user_id_len = j->user_id_len,
                              .mode = j->mode,
                              .key_id = j->key_id,
                              .sealed_eukey = j->sealed_eukey,
                              .assigned_at = j->assigned_at};
    return server_db_assign(db, &a);
  }
  case SERVER_STORE_LOCKOUT_PUT:
    rc = server_db_lockout_put(db, j->user_id, j->user_id_len, &j->lockout);
    break;
  case SERVER_STORE_LOCKOUT_DEL: rc = server_db_lockout_del(db, j->user_id, j->user_id_len); break;
  case SERVER_STORE_LOCKOUT_PURGE:
    rc = server_db_lockout_purge(db, j->lockout.last_failure_ms, j->lockout.blocked_until_ms) < 0
             ? -1
             : 0;
    break;
  case SERVER_STORE_LOCKOUT_FAIL:
    rc = server_db_lockout_fail(db, j->user_id, j->user_id_len, &j->policy,
                                j->lockout.last_failure_ms);
    break;
  case SERVER_STORE_LOOKUP: break; /* not a write: refused in a write batch */
  }
  return rc == 0 ? CPNS_STORE_OK : CPNS_STORE_FAILED;
}

/* Lookups: one statement each, no transaction (each is a consistent read). */
static void lookup_batch(server_store *st, server_store_job *batch) {
  for (server_store_job *j = batch; j != NULL; j = j->next) {
    j->status = j->kind == SERVER_STORE_LOOKUP && j->lookup != NULL &&
                        server_db_lookup_user(st->db, j->user_id, j->user_id_len, j->lookup) == 0
                    ? CPNS_STORE_OK
                    : CPNS_STORE_FAILED;
  }
}

/* One transaction for the whole batch: one fsync pays for every job in it.
 * A batch of lockout writes alone may commit without waiting for the disk
 * (PostgreSQL; see lockout.h). */
static void store_batch(server_store *st, server_store_job *batch) {
  int lockout_only = 1;
  for (server_store_job *j = batch; j != NULL; j = j->next) {
    lockout_only &= j->kind != SERVER_STORE_ASSIGN;
  }
  if ((lockout_only ? server_db_begin_lockout_only(st->db) : server_db_begin(st->db)) != 0) {
    for (server_store_job *j = batch; j != NULL; j = j->next) {
      j->status = CPNS_STORE_FAILED;
    }
    return;
  }
  for (server_store_job *j = batch; j != NULL; j = j->next) {
    j->status = store_one(st->db, j);
  }
  if (server_db_commit(st->db) != 0) {
    server_db_rollback(st->db);
    /* Nothing was stored; a conflict found inside still stands. */
    for (server_store_job *j = batch; j != NULL; j = j->next) {
      if (j->status == CPNS_STORE_OK) {
        j->status = CPNS_STORE_FAILED;
      }
    }
  }
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
      lookup_batch(st, batch);
    } else {
      store_batch(st, batch);
    }
    uint64_t spent = mono_us() - t0;

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
