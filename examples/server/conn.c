/*
 * Life of an exchange in cpns-server: one KeyRequest from the socket to the
 * SQLite commit to the KeyDelivery, function by function.
 *
 *   loop.c:on_accept            limits, per-address count; refusals logged
 *   conn.c:conn_start           conn from the spares, events, first-PDU timer
 *   conn.c:on_read              recv(); conn_start_session on the first bytes
 *     cpns_server_session_read  the engine takes every byte
 *   conn.c:conn_drive           runs the engine until it waits:
 *     NEED_CREDENTIAL -> conn_provide_credential
 *                          ratelimit.c:server_ratelimit_take (source budget)
 *                          SQLite: store.c:server_db_read_begin, server_db_lookup_user
 *                                  lockout.c:server_lockout_begin
 *                          PostgreSQL: conn_submit_lookup -> lookup worker
 *                            (store_thread.c, server_db_lookup_user) ->
 *                            loop.c:on_store_done -> conn_lookup_done:
 *                            lockout.c:server_lockout_begin_with_row
 *                        both: conn_unseal_records (the user's sealed records),
 *                          conn_answer_credential:
 *                          cpns_server_session_provide_records (suite, §6)
 *     SEND            -> suite 2: conn_precount_s2 (server_lockout_end as a failure
 *                        before KE2; KE2 waits for its commit, on_store_done)
 *                        -> cpns_server_session_write (KeyChallenge) -> conn_flush
 *                        (on_write resumes conn_drive when the socket blocked)
 *     RECEIVE         -> wait: on_read -> cpns_server_session_read (the proof)
 *     NEED_STORE      -> conn_submit_store: cpns_crypto_eukey_seal, job queued
 *                          by loop.c:submit_soon
 *   loop.c:on_pass_end          store_thread.c:server_store_submit (one hand-over
 *                               per pass), server_db_read_end
 *   store_thread.c:store_main -> store_batch   group commit (store.c:server_db_*)
 *     -> loop.c:notify_store_done (wake-up pipe)
 *   loop.c:on_store_done        metrics.c:server_metrics_store_batch (the batch's
 *                               figures ride on its first job), lockout.c:
 *                               server_lockout_stored for lockout rows
 *   conn.c:conn_store_done      cpns_server_session_store_done -> conn_drive
 *     SEND            -> conn_end_attempt (lockout.c:server_lockout_end; a
 *                        failure is stored first, back through on_store_done;
 *                        suite 2: conn_settle_s2, a verified ke3 forgives)
 *                        -> cpns_server_session_write (KeyDelivery) -> conn_flush
 *     DONE            -> conn_finish: log.c:server_log_exchange (one write),
 *                        metrics.c:server_metrics_exchange, socket closed,
 *                        addrlimit.c:server_addrlimit_release -> conn_free
 *   conn.c:on_timer             cpns_server_session_handle_expiry -> conn_drive
 *
 * This file: one connection, from conn_start to conn_free. The loop (accept,
 * limits, signals, shutdown, pass-end batching, store wake-up) is loop.c.
 */
#define _POSIX_C_SOURCE 200809L

#include "examples/server/conn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <sodium.h>

#include "examples/common/cli.h"
#include "examples/server/store.h"
#include "examples/server/log.h"
#include "examples/server/ratelimit.h"

/* Read size: a v1 PDU is far smaller. */
#define READ_CHUNK 4096
/* Closed connections kept with their events and output buffer for the next
 * accepts: no calloc/event_new/malloc and frees per exchange. */
#define CONN_SPARE_MAX 64

/* Frees what conn_free() keeps for reuse; any of them may be NULL when conn
 * setup ran out of memory. */
void conn_release(conn *c) {
  if (c->ev_read != NULL)
    event_free(c->ev_read);
  if (c->ev_write != NULL)
    event_free(c->ev_write);
  if (c->ev_timer != NULL)
    event_free(c->ev_timer);
  free(c->out);
  free(c);
}

/* A zeroed conn, from the spares when there is one (its events and output
 * buffer kept; conn_set_events() points the events at the new socket). */
static conn *conn_alloc(server *srv) {
  conn *c = srv->spare;
  if (c == NULL) {
    return calloc(1, sizeof(*c));
  }
  srv->spare = c->next;
  srv->nspare--;
  struct event *r = c->ev_read, *w = c->ev_write, *t = c->ev_timer;
  uint8_t *out = c->out;
  memset(c, 0, sizeof(*c));
  c->ev_read = r;
  c->ev_write = w;
  c->ev_timer = t;
  c->out = out;
  return c;
}

static void on_read(evutil_socket_t fd, short what, void *arg);
static void on_write(evutil_socket_t fd, short what, void *arg);
static void on_timer(evutil_socket_t fd, short what, void *arg);

/* Returns 0, or -1 when the events could not be made. */
static int conn_set_events(conn *c) {
  server *srv = c->srv;
  if (c->ev_read != NULL) { /* a spare: all three exist and are not pending */
    if (event_assign(c->ev_read, srv->base, c->fd, EV_READ | EV_PERSIST, on_read, c) != 0 ||
        event_assign(c->ev_write, srv->base, c->fd, EV_WRITE, on_write, c) != 0 ||
        evtimer_assign(c->ev_timer, srv->base, on_timer, c) != 0) {
      return -1;
    }
    return 0;
  }
  c->ev_read = event_new(srv->base, c->fd, EV_READ | EV_PERSIST, on_read, c);
  c->ev_write = event_new(srv->base, c->fd, EV_WRITE, on_write, c);
  c->ev_timer = evtimer_new(srv->base, on_timer, c);
  return c->ev_read == NULL || c->ev_write == NULL || c->ev_timer == NULL ? -1 : 0;
}

/*
 * Ends the exchange's lockout attempt: a success if the proof verified, else
 * a failure. Returns 1 when the failure's write carries c and c must wait
 * for it (owner c; see on_store_done), else 0.
 */
static int conn_end_attempt(conn *c, void *owner) {
  const uint8_t *eid = NULL, *uid = NULL;
  size_t eid_len = 0, uid_len = 0;
  c->lockout_counted = 0;
  cpns_server_session_get_ids(c->session, &eid, &eid_len, &uid, &uid_len);
  if (uid_len == 0) {
    return 0; /* cannot happen: the User ID was looked up */
  }
  if (!c->proof_ok) {
    c->srv->metrics.auth_failures++;
  }
  if (server_lockout_end(c->srv->lockout, uid, uid_len, c->proof_ok, wall_now_ms(), owner)) {
    c->store_pending = 1;
    return 1;
  }
  return 0;
}

/*
 * Suite 2 (PROTOCOL.md §6): the gateway learns from KE2 alone whether its
 * guess was right, so the attempt ends as a failure before KE2 leaves, and
 * KE2 waits for that failure's commit (owner c; conn_store_done) as a held
 * authenticationFailed does. A verified ke3 forgives it (conn_settle_s2).
 * Returns 1 when c waits for the job, 0 when KE2 may go, -1 when the failure
 * could not be queued (serverError instead of KE2).
 */
static int conn_precount_s2(conn *c) {
  const uint8_t *eid = NULL, *uid = NULL;
  size_t eid_len = 0, uid_len = 0;
  c->lockout_counted = 0;
  c->s2_precounted = 1;
  cpns_server_session_get_ids(c->session, &eid, &eid_len, &uid, &uid_len);
  if (uid_len == 0) {
    return 0; /* cannot happen: the User ID was looked up */
  }
  if (server_lockout_end(c->srv->lockout, uid, uid_len, 0, wall_now_ms(), c)) {
    c->store_pending = 1;
    return 1;
  }
  return -1; /* out of memory: kept in memory as unsaved, not committed */
}

/* The suite-2 failure counted before KE2 could not be stored: serverError
 * instead of KE2 (the count stays in memory, retried by the lockout's
 * upkeep). Returns 0, or -1 when the engine refused. */
static int conn_withdraw_challenge(conn *c, uint64_t now) {
  c->s2_precounted = 0; /* answered, not an authentication failure */
  int rc = cpns_server_session_withdraw_challenge(c->session, CPNS_RESULT_SERVER_ERROR, now);
  if (rc != 0) {
    c->error = rc;
    return -1;
  }
  return 0;
}

/* The end of a suite-2 exchange whose attempt was counted before KE2: a
 * verified ke3 clears the count, anything else was that failure already. */
static void conn_settle_s2(conn *c) {
  const uint8_t *eid = NULL, *uid = NULL;
  size_t eid_len = 0, uid_len = 0;
  c->s2_precounted = 0;
  if (!c->proof_ok) {
    c->srv->metrics.auth_failures++;
    return;
  }
  cpns_server_session_get_ids(c->session, &eid, &eid_len, &uid, &uid_len);
  if (uid_len > 0) {
    server_lockout_forgive(c->srv->lockout, uid, uid_len);
  }
}

void conn_free(conn *c) {
  server *srv = c->srv;
  if (c->prev != NULL) {
    c->prev->next = c->next;
  } else {
    srv->conns = c->next;
  }
  if (c->next != NULL) {
    c->next->prev = c->prev;
  }
  srv->nconns--;
  cpns_server_session_del(c->session);
  c->session = NULL;
  /* Its events are not pending (conn_finish deleted them): reusable. */
  if (c->ev_read != NULL && c->ev_write != NULL && c->ev_timer != NULL &&
      srv->nspare < CONN_SPARE_MAX) {
    c->prev = NULL;
    c->next = srv->spare;
    srv->spare = c;
    srv->nspare++;
  } else {
    conn_release(c);
  }
  if (srv->shutting_down && srv->nconns == 0) {
    event_base_loopbreak(srv->base);
  }
}

/* Logs the exchange, closes the socket and frees c unless the store holds it. */
void conn_finish(conn *c) {
  if (c->closed) {
    return;
  }
  c->closed = 1;
  server *srv = c->srv;
  server_log_exchange_info info;
  memset(&info, 0, sizeof(info));
  info.peer = c->peer;
  info.result = -1;
  if (c->session != NULL) {
    cpns_server_session_get_ids(c->session, &info.entity_id, &info.entity_id_len, &info.user_id,
                                &info.user_id_len);
    cpns_result result;
    /* CLOSE: no KeyDelivery was sent, whatever the attempt counts as (a
     * suite-2 close after KE2 is authenticationFailed for the lockout). */
    if (cpns_server_session_get_state(c->session) != CPNS_SERVER_CLOSE &&
        cpns_server_session_get_result(c->session, &result) == 0) {
      info.result = (int)result;
    }
    if (cpns_server_session_get_suite(c->session, &info.suite) != 0) {
      info.suite = 0;
    }
  }
  info.error = c->error;
  info.reason = c->reason;
  info.duration_ms = cli_now_ms() - c->started_ms;
  info.key_id = c->has_key_id ? c->key_id : NULL;
  server_log_exchange(&info);
  server_metrics_exchange(&srv->metrics, info.result, info.suite, info.duration_ms);
  if (c->lockout_counted) {
    conn_end_attempt(c, NULL); /* closed before an answer: nobody waits for it */
  }
  if (c->s2_precounted) {
    conn_settle_s2(c);
  }
  if (c->ev_read != NULL)
    event_del(c->ev_read);
  if (c->ev_write != NULL)
    event_del(c->ev_write);
  if (c->ev_timer != NULL)
    event_del(c->ev_timer);
  evutil_closesocket(c->fd);
  c->fd = -1;
  server_addrlimit_release(srv->addrs, &c->addr);
  if (!c->store_pending) {
    conn_free(c);
  }
}

/* Returns 0 when everything queued is written or would block, -1 on error. */
static int conn_flush(conn *c) {
  while (c->out_off < c->out_len) {
    ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return 0;
      }
      return -1;
    }
    c->out_off += (size_t)n;
  }
  c->out_off = c->out_len = 0;
  return 0;
}

/*
 * Unseals the user's sealed records of one lookup into the server's scratch
 * records: *cred and *rec2 point at them, or stay NULL for a suite the user
 * has no record for. Returns 0, or -1 when a record does not open (message
 * on stderr; the exchange gets tryLater, as for a failed lookup).
 */
static int conn_unseal_records(conn *c, const uint8_t *uid, size_t uid_len,
                               const server_db_user_records *recs, const cpns_credential **cred,
                               const cpns_s2_record **rec2) {
  server *srv = c->srv;
  *cred = NULL;
  *rec2 = NULL;
  if (recs->record1_len > 0) {
    if (server_db_unseal_record1(srv->reader, uid, uid_len, recs->record1, recs->record1_len,
                                 srv->cred) != 0) {
      return -1;
    }
    *cred = srv->cred;
  }
  if (recs->record2_len > 0) {
    if (cpns_crypto_s2_record_unseal(srv->record2, recs->record2, recs->record2_len, uid, uid_len,
                                     srv->cfg->keys->record_key) != 0) {
      fprintf(stderr, "database: the suite-2 record of a user does not open under the key file\n");
      sodium_memzero(srv->cred, sizeof(*srv->cred));
      *cred = NULL;
      return -1;
    }
    *rec2 = srv->record2;
  }
  return 0;
}

/*
 * Answers NEED_CREDENTIAL with the user's records (both NULL: unknown user;
 * the engine picks the suite, §6) or, throttled, with tryLater; wipes the
 * scratch records. Returns 0, or -1 when the engine refused the answer.
 */
static int conn_answer_credential(conn *c, const cpns_credential *cred, const cpns_s2_record *rec2,
                                  int throttled, uint64_t now) {
  server *srv = c->srv;
  int rc = cpns_server_session_provide_records(c->session, throttled ? NULL : cred,
                                               throttled ? NULL : rec2, throttled, now);
  sodium_memzero(srv->cred, sizeof(*srv->cred));
  sodium_memzero(srv->record2, sizeof(*srv->record2));
  if (rc != 0) {
    c->error = rc;
    return -1;
  }
  return 0;
}

/* PostgreSQL: hands the lookup (records and lockout row, one round trip)
 * to the worker at the end of this pass; conn_lookup_done() goes on. */
static int conn_submit_lookup(conn *c, const uint8_t *uid, size_t uid_len, uint64_t now) {
  server *srv = c->srv;
  server_store_job *job = calloc(1, sizeof(*job) + sizeof(server_db_lookup));
  if (job == NULL || uid_len > CPNS_USER_ID_MAX) {
    free(job);
    return conn_answer_credential(c, NULL, NULL, 1, now); /* tryLater */
  }
  job->kind = SERVER_STORE_LOOKUP;
  job->owner = c;
  job->lookup = (server_db_lookup *)(void *)(job + 1);
  job->user_id_len = uid_len;
  memcpy(job->user_id, uid, uid_len);
  if (srv->lookup_tail != NULL) {
    srv->lookup_tail->next = job;
  } else {
    srv->lookup_head = job;
  }
  srv->lookup_tail = job;
  c->store_pending = 1;
  pass_end_soon(srv);
  return 0;
}

void conn_lookup_done(conn *c, const server_store_job *job) {
  server *srv = c->srv;
  c->store_pending = 0;
  if (c->closed) {
    conn_free(c);
    return;
  }
  const server_db_lookup *look = job->lookup;
  const cpns_credential *cred = NULL;
  const cpns_s2_record *rec2 = NULL;
  int found = -1;
  int throttled = 1;
  if (job->status == CPNS_STORE_OK) {
    found =
        !look->user_found ? 1
        : conn_unseal_records(c, job->user_id, job->user_id_len, &look->records, &cred, &rec2) == 0
            ? 0
            : -1;
    if (found >= 0 && server_lockout_begin_with_row(srv->lockout, job->user_id, job->user_id_len,
                                                    look->lockout_found ? &look->lockout : NULL,
                                                    wall_now_ms()) == SERVER_LOCKOUT_GO) {
      throttled = 0;
      c->lockout_counted = 1;
    }
  }
  if (conn_answer_credential(c, cred, rec2, throttled, cli_now_ms()) != 0) {
    conn_finish(c);
    return;
  }
  conn_drive(c);
}

/* Returns 0, or -1 when the engine refused the answer (would loop). */
static int conn_provide_credential(conn *c, uint64_t now) {
  server *srv = c->srv;
  const uint8_t *uid = NULL;
  size_t uid_len = 0;
  const cpns_credential *cred = NULL;
  const cpns_s2_record *rec2 = NULL;
  int throttled = 1;
  int found = -1;
  /* tryLater, in this order: the source's budget is spent; the database
   * failed or is locked by another process (rather than a false "unknown"
   * or a stalled loop); the User ID is in a back-off, or its lockout state
   * cannot be kept. Only the last step counts an attempt. */
  if (cpns_server_session_get_user_id(c->session, &uid, &uid_len) == 0 &&
      server_ratelimit_take(srv->sources, &c->addr, now) == 0) {
    if (srv->lookups != NULL) {
      return conn_submit_lookup(c, uid, uid_len, now);
    }
    if (server_db_read_begin(srv->reader) == 0) {
      pass_end_soon(srv); /* ends it */
    }
    int looked_up = server_db_lookup_user(srv->reader, uid, uid_len, srv->lookup);
    if (looked_up != 0) {
      srv->metrics.db_errors++;
    }
    found = looked_up != 0                                                                   ? -1
            : !srv->lookup->user_found                                                       ? 1
            : conn_unseal_records(c, uid, uid_len, &srv->lookup->records, &cred, &rec2) == 0 ? 0
                                                                                             : -1;
    if (found >= 0 &&
        server_lockout_begin(srv->lockout, uid, uid_len, wall_now_ms()) == SERVER_LOCKOUT_GO) {
      throttled = 0;
      c->lockout_counted = 1;
    }
  }
  return conn_answer_credential(c, cred, rec2, throttled, now);
}

/* Seals the EUKey and queues the assignment; answers FAILED if it cannot.
 * Returns 0, or -1 when the engine refused that answer. */
static int conn_submit_store(conn *c, uint64_t now) {
  server *srv = c->srv;
  cpns_server_assignment a;
  server_store_job *job = NULL;
  if (cpns_server_session_get_assignment(c->session, &a) != 0 ||
      a.entity_id_norm_len > CPNS_ENTITY_ID_MAX || a.user_id_norm_len > CPNS_USER_ID_MAX ||
      (job = calloc(1, sizeof(*job))) == NULL) {
    goto fail;
  }
  job->owner = c;
  job->mode = (int)a.mode;
  job->assigned_at = (int64_t)time(NULL);
  job->entity_id_len = a.entity_id_norm_len;
  memcpy(job->entity_id, a.entity_id_norm, a.entity_id_norm_len);
  job->user_id_len = a.user_id_norm_len;
  memcpy(job->user_id, a.user_id_norm, a.user_id_norm_len);
  memcpy(job->key_id, a.key_id, CPNS_KEY_ID_LEN);
  memcpy(c->key_id, a.key_id, CPNS_KEY_ID_LEN);
  c->has_key_id = 1;
  snprintf(job->source, sizeof(job->source), "%s", c->peer); /* for the audit row */
  if (cpns_crypto_eukey_seal(job->sealed_eukey, a.eukey, srv->cfg->keys->master_key,
                             a.entity_id_norm, a.entity_id_norm_len, a.user_id_norm,
                             a.user_id_norm_len, a.key_id) != 0) {
    goto fail;
  }
  c->store_pending = 1;
  submit_soon(srv, job);
  return 0;
fail:
  free(job);
  int rc = cpns_server_session_store_done(c->session, CPNS_STORE_FAILED, now);
  if (rc != 0) {
    c->error = rc;
    return -1;
  }
  return 0;
}

static void conn_arm_timer(conn *c, uint64_t now) {
  uint64_t expiry = cpns_server_session_get_expiry(c->session);
  if (expiry == UINT64_MAX) {
    event_del(c->ev_timer);
    return;
  }
  uint64_t delay = expiry > now ? expiry - now : 0;
  struct timeval tv = {.tv_sec = (time_t)(delay / 1000),
                       .tv_usec = (suseconds_t)(delay % 1000) * 1000};
  event_add(c->ev_timer, &tv);
}

/* Runs the engine until it waits for the peer, the store or the socket. */
void conn_drive(conn *c) {
  uint64_t now = cli_now_ms();
  for (;;) {
    if (c->out_len > 0) {
      if (conn_flush(c) != 0) {
        c->error = CPNS_ERR_PEER_CLOSED;
        conn_finish(c);
        return;
      }
      if (c->out_len > 0) {
        event_del(c->ev_read);
        event_add(c->ev_write, NULL);
        break;
      }
    }
    cpns_server_state st = cpns_server_session_get_state(c->session);
    if (st == CPNS_SERVER_RECEIVE) {
      /* Stays added while the engine answers synchronously: fewer epoll_ctl calls. */
      event_add(c->ev_read, NULL);
      break;
    }
    if (st == CPNS_SERVER_NEED_CREDENTIAL) {
      if (c->store_pending) {
        event_del(c->ev_read);
        break; /* the lookup worker has it (PostgreSQL) */
      }
      if (conn_provide_credential(c, now) != 0) {
        conn_finish(c);
        return;
      }
    } else if (st == CPNS_SERVER_SEND) {
      if (c->store_pending) {
        event_del(c->ev_read);
        break; /* the answer waits for its failure to be stored */
      }
      /* A KeyDelivery is queued: the attempt's verdict. A failure is made
       * durable before the peer learns it (lockout.h). */
      cpns_result queued;
      int is_delivery = cpns_server_session_get_result(c->session, &queued) == 0;
      int suite = 0;
      if (is_delivery && c->s2_precounted) {
        conn_settle_s2(c);
      }
      if (c->lockout_counted && is_delivery && conn_end_attempt(c, c)) {
        event_del(c->ev_read);
        break;
      }
      if (c->lockout_counted && !is_delivery &&
          cpns_server_session_get_suite(c->session, &suite) == 0 &&
          suite == CPNS_SUITE_OPAQUE3DH_RISTRETTO255_SHA512_ARGON2ID) {
        int held = conn_precount_s2(c);
        if (held != 0) {
          event_del(c->ev_read);
          if (held > 0) {
            break;
          }
          if (conn_withdraw_challenge(c, now) != 0) {
            conn_finish(c);
            return;
          }
          continue; /* sends serverError instead */
        }
      }
      size_t written = 0;
      int rc = cpns_server_session_write(c->session, c->out, CPNS_PDU_MAX_ENCODED, &written, now);
      if (rc != 0) {
        c->error = rc;
        conn_finish(c);
        return;
      }
      c->out_len = written;
      c->out_off = 0;
    } else if (st == CPNS_SERVER_NEED_STORE) {
      /* Not reading while the store works: level-triggered readiness would spin. */
      event_del(c->ev_read);
      if (c->store_pending) {
        break;
      }
      c->proof_ok = 1;
      if (conn_submit_store(c, now) != 0) {
        conn_finish(c);
        return;
      }
    } else {
      conn_finish(c); /* DONE or CLOSE */
      return;
    }
  }
  conn_arm_timer(c, now);
}

/* First bytes: the engine starts now, its clock from the accept so the
 * peer gets no more time for its first PDU than with an eager session. */
static int conn_start_session(conn *c) {
  if (c->out == NULL) {
    c->out = malloc(CPNS_PDU_MAX_ENCODED); /* a spare conn still has one */
  }
  int rc = c->out == NULL
               ? CPNS_ERR_NOMEM
               : cpns_server_session_new(&c->session, &c->srv->settings, NULL, c->started_ms);
  if (rc != 0) {
    c->error = rc;
    return -1;
  }
  return 0;
}

static void on_read(evutil_socket_t fd, short what, void *arg) {
  (void)what;
  conn *c = arg;
  if (c->session == NULL && conn_start_session(c) != 0) {
    conn_finish(c);
    return;
  }
  if (cpns_server_session_get_state(c->session) != CPNS_SERVER_RECEIVE) {
    event_del(c->ev_read);
    return;
  }
  uint8_t buf[READ_CHUNK];
  ssize_t n = recv(fd, buf, sizeof(buf), 0);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
      return;
    }
    n = 0; /* a reset connection is a closed one */
  }
  /* The engine takes every byte; an error moves it to CLOSE (conn_drive finishes). */
  int rc = cpns_server_session_read(c->session, buf, (size_t)n, cli_now_ms());
  if (rc != 0) {
    c->error = rc;
  }
  conn_drive(c);
}

static void on_write(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  conn_drive(arg);
}

static void on_timer(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  conn *c = arg;
  if (c->session == NULL) {
    c->error = CPNS_ERR_TIMEOUT; /* never sent a byte */
    conn_finish(c);
    return;
  }
  int rc = cpns_server_session_handle_expiry(c->session, cli_now_ms());
  if (rc != 0) {
    c->error = rc;
  }
  conn_drive(c);
}

/* The accepted socket fd from peer (counted in the per-address limit under
 * key) becomes a connection waiting for its first PDU. Returns 0, or -1 when
 * no memory: the caller refuses the peer. */
int conn_start(server *srv, evutil_socket_t fd, const server_addr_key *key, const char *peer) {
  conn *c = conn_alloc(srv);
  uint64_t now = cli_now_ms();
  if (c == NULL) {
    return -1;
  }
  c->srv = srv;
  c->fd = fd;
  c->addr = *key;
  c->started_ms = now;
  snprintf(c->peer, sizeof(c->peer), "%s", peer);
  int events_rc = conn_set_events(c);
  c->next = srv->conns;
  if (srv->conns != NULL) {
    srv->conns->prev = c;
  }
  srv->conns = c;
  srv->nconns++;
  if (events_rc != 0) {
    c->error = CPNS_ERR_NOMEM;
    conn_finish(c);
    return 0;
  }
  /* No TCP_NODELAY: each answer is one send() after the peer's request
   * acknowledged everything before it, so Nagle never holds it back. */
  uint64_t first_pdu_ms = srv->settings.pdu_timeout_ms;
  if (srv->settings.exchange_timeout_ms < first_pdu_ms) {
    first_pdu_ms = srv->settings.exchange_timeout_ms;
  }
  struct timeval tv = {.tv_sec = (time_t)(first_pdu_ms / 1000),
                       .tv_usec = (suseconds_t)(first_pdu_ms % 1000) * 1000};
  event_add(c->ev_read, NULL);
  event_add(c->ev_timer, &tv);
  return 0;
}

/* The store thread finished job, which c waited for (loop.c:on_store_done). */
void conn_store_done(conn *c, const server_store_job *job) {
  c->store_pending = 0;
  if (c->closed) {
    conn_free(c);
  } else if (job->kind != SERVER_STORE_ASSIGN) {
    cpns_result queued;
    /* A KE2 must not leave without its failure committed (§6). */
    if (job->status != CPNS_STORE_OK && cpns_server_session_get_result(c->session, &queued) != 0 &&
        conn_withdraw_challenge(c, cli_now_ms()) != 0) {
      conn_finish(c);
      return;
    }
    conn_drive(c); /* sends the answer the failure waited for */
  } else {
    int rc = cpns_server_session_store_done(c->session, job->status, cli_now_ms());
    if (rc != 0) {
      c->error = rc;
      conn_finish(c);
    } else {
      conn_drive(c);
    }
  }
}
