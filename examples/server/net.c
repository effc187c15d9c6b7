/*
 * cpns-server network side (see net.h). One libevent loop thread
 * owns every connection and session; the store thread only writes the
 * database and wakes the loop through a pipe, so libevent runs without locks.
 */
#define _POSIX_C_SOURCE 200809L

#include "examples/server/net.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <sodium.h>

#include <cpns/server.h>

#include "examples/common/cli.h"
#include "examples/server/addrlimit.h"
#include "examples/server/db.h"
#include "examples/server/log.h"
#include "examples/server/ratelimit.h"
#include "examples/server/store_thread.h"

/* Grace period for exchanges waiting on the store at shutdown. */
#define SHUTDOWN_GRACE_MS 5000
/* Pause of the listener after accept() fails (EMFILE) so the loop does not spin. */
#define ACCEPT_PAUSE_MS 100
/* Session secret slots kept locked (of CPNS_SECPOOL_SLOT_DEFAULT octets). */
#define SECPOOL_SLOTS_MAX 4096
/* Read size: a v1 PDU is far smaller. */
#define READ_CHUNK 4096
/* Closed connections kept with their events and output buffer for the next
 * accepts: no calloc/event_new/malloc and frees per exchange. */
#define CONN_SPARE_MAX 64
/* Lockout upkeep (expired entries purged from memory and table, failed
 * writes retried) this often. */
#define LOCKOUT_MAINTAIN_MS 60000
/* Sources (IPv4 addresses, IPv6 /64s) whose request budget is tracked at once. */
#define SOURCE_TABLE_MAX 65536

typedef struct server server;

typedef struct conn {
  server *srv;
  struct conn *prev, *next;
  evutil_socket_t fd;
  struct event *ev_read, *ev_write, *ev_timer;
  cpns_server_session *session; /* NULL until the peer's first bytes: idle
                                   connections cost no engine memory */
  uint8_t *out;                 /* CPNS_PDU_MAX_ENCODED octets, with the session */
  uint64_t started_ms;
  int store_pending;    /* a job is with the store thread */
  int lockout_counted;  /* a lockout attempt begun and not ended */
  int proof_ok;         /* the peer's proof verified (the engine asked to store) */
  int closed;           /* logged and socket closed; freed when the job returns */
  int error;            /* why the engine closed, for the log */
  const char *reason;   /* why we closed, for the log (overrides error) */
  server_addr_key addr;
  size_t out_len, out_off;
  char peer[INET6_ADDRSTRLEN + 8];
} conn;

struct server {
  const server_config *cfg;
  cpns_server_settings settings;
  struct event_base *base;
  struct evconnlistener *listener;
  struct event *ev_sigint, *ev_sigterm, *ev_store_done, *ev_grace, *ev_accept_pause;
  int wake_pipe[2];       /* store thread -> loop; the loop's base needs no locks */
  /* Work deferred to the end of the current pass of the loop: the pass's
   * log lines in one write(), its assignments in one store hand-over, its
   * credential lookups in one read transaction. */
  struct event *ev_pass_end;
  server_store_job *submit_head, *submit_tail; /* not handed over yet */
  server_db *reader;
  server_store *store;
  server_lockout *lockout;
  server_addrlimit *addrs;
  server_ratelimit *sources; /* first KeyRequests per source */
  struct event *ev_lockout_maintain;
  cpns_credential *cred;  /* scratch record for lookups, guarded memory */
  cpns_secpool *secpool;  /* every session's secrets: no mmap per connection */
  conn *conns;
  size_t nconns;
  conn *spare;            /* see CONN_SPARE_MAX, linked by next */
  size_t nspare;
  int shutting_down;
};

static void conn_drive(conn *c);

/* Runs on_pass_end() after the callbacks already due in this pass. */
static void pass_end_soon(server *srv) {
  if (srv->ev_pass_end != NULL) {
    event_active(srv->ev_pass_end, EV_TIMEOUT, 0);
  } else {
    fflush(stderr);
  }
}

/* stderr is fully buffered while the loop runs: flushed at the pass end. */
static void log_flush_soon(server *srv) { pass_end_soon(srv); }

/* Lockout state is in wall-clock time: it is stored and outlives the process. */
static uint64_t wall_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Queues a job for the store at the end of this pass, after those already
 * queued: one wake-up of the store thread and a larger group commit. */
static void submit_soon(server *srv, server_store_job *job) {
  if (srv->submit_tail != NULL) {
    srv->submit_tail->next = job;
  } else {
    srv->submit_head = job;
  }
  srv->submit_tail = job;
  pass_end_soon(srv);
}

/* The lockout table's writes (server_lockout_emit_fn). */
static void emit_lockout_job(void *arg, server_store_job *job) { submit_soon(arg, job); }

/* Frees what conn_free() keeps for reuse; any of them may be NULL when conn
 * setup ran out of memory. */
static void conn_release(conn *c) {
  if (c->ev_read != NULL) event_free(c->ev_read);
  if (c->ev_write != NULL) event_free(c->ev_write);
  if (c->ev_timer != NULL) event_free(c->ev_timer);
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
  if (server_lockout_end(c->srv->lockout, uid, uid_len, c->proof_ok, wall_now_ms(), owner)) {
    c->store_pending = 1;
    return 1;
  }
  return 0;
}

static void conn_free(conn *c) {
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
static void conn_finish(conn *c) {
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
    cpns_server_session_get_ids(c->session, &info.entity_id, &info.entity_id_len,
                                &info.user_id, &info.user_id_len);
    cpns_result result;
    if (cpns_server_session_get_result(c->session, &result) == 0) {
      info.result = (int)result;
    }
  }
  info.error = c->error;
  info.reason = c->reason;
  info.duration_ms = cli_now_ms() - c->started_ms;
  server_log_exchange(&info);
  log_flush_soon(srv);
  if (c->lockout_counted) {
    conn_end_attempt(c, NULL); /* closed before an answer: nobody waits for it */
  }
  if (c->ev_read != NULL) event_del(c->ev_read);
  if (c->ev_write != NULL) event_del(c->ev_write);
  if (c->ev_timer != NULL) event_del(c->ev_timer);
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

/* Returns 0, or -1 when the engine refused the answer (would loop). */
static int conn_provide_credential(conn *c, uint64_t now) {
  server *srv = c->srv;
  const uint8_t *uid = NULL;
  size_t uid_len = 0;
  int throttled = 1;
  int found = 1;
  /* tryLater, in this order: the source's budget is spent; the database
   * failed or is locked by another process (rather than a false "unknown"
   * or a stalled loop); the User ID is in a back-off, or its lockout state
   * cannot be kept. Only the last step counts an attempt. */
  if (cpns_server_session_get_user_id(c->session, &uid, &uid_len) == 0 &&
      server_ratelimit_take(srv->sources, &c->addr, now) == 0) {
    if (server_db_read_begin(srv->reader) == 0) {
      pass_end_soon(srv); /* ends it */
    }
    found = server_db_user_get(srv->reader, uid, uid_len, srv->cred);
    if (found >= 0 &&
        server_lockout_begin(srv->lockout, uid, uid_len, wall_now_ms()) == SERVER_LOCKOUT_GO) {
      throttled = 0;
      c->lockout_counted = 1;
    }
  }
  int rc = cpns_server_session_provide_credential(c->session, found == 0 ? srv->cred : NULL,
                                                  throttled, now);
  sodium_memzero(srv->cred, sizeof(*srv->cred));
  if (rc != 0) {
    c->error = rc;
    return -1;
  }
  return 0;
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
  if (cpns_crypto_eukey_seal(job->sealed_eukey, a.eukey, srv->cfg->keys->master_key, a.entity_id_norm,
                      a.entity_id_norm_len, a.user_id_norm, a.user_id_norm_len,
                      a.key_id) != 0) {
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
  struct timeval tv = {.tv_sec = (time_t)(delay / 1000), .tv_usec = (suseconds_t)(delay % 1000) * 1000};
  event_add(c->ev_timer, &tv);
}

/* Runs the engine until it waits for the peer, the store or the socket. */
static void conn_drive(conn *c) {
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
      if (c->lockout_counted && cpns_server_session_get_result(c->session, &queued) == 0 &&
          conn_end_attempt(c, c)) {
        event_del(c->ev_read);
        break;
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
  int rc = c->out == NULL ? CPNS_ERR_NOMEM
                          : cpns_server_session_new(&c->session, &c->srv->settings, NULL,
                                                    c->started_ms);
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

static void peer_name(char *out, size_t outlen, const struct sockaddr *sa) {
  char host[INET6_ADDRSTRLEN] = "?";
  unsigned port = 0;
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *in4 = (const struct sockaddr_in *)(const void *)sa;
    inet_ntop(AF_INET, &in4->sin_addr, host, sizeof(host));
    port = ntohs(in4->sin_port);
    snprintf(out, outlen, "%s:%u", host, port);
  } else if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
    port = ntohs(in6->sin6_port);
    snprintf(out, outlen, "[%s]:%u", host, port);
  } else {
    snprintf(out, outlen, "?");
  }
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *arg) {
  (void)l;
  server *srv = arg;
  server_addr_key key;
  char peer[INET6_ADDRSTRLEN + 8];
  peer_name(peer, sizeof(peer), sa);
  if (server_addr_key_from(&key, sa, (socklen_t)salen) != 0) {
    evutil_closesocket(fd);
    return;
  }
  if (srv->shutting_down || srv->nconns >= srv->cfg->max_conns) {
    fprintf(stderr, "refused peer=%s reason=\"too many connections\"\n", peer);
    log_flush_soon(srv);
    evutil_closesocket(fd);
    return;
  }
  if (server_addrlimit_acquire(srv->addrs, &key) != 0) {
    fprintf(stderr, "refused peer=%s reason=\"too many connections from this address\"\n", peer);
    log_flush_soon(srv);
    evutil_closesocket(fd);
    return;
  }
  conn *c = conn_alloc(srv);
  uint64_t now = cli_now_ms();
  if (c == NULL) {
    fprintf(stderr, "refused peer=%s reason=\"out of memory\"\n", peer);
    log_flush_soon(srv);
    server_addrlimit_release(srv->addrs, &key);
    evutil_closesocket(fd);
    return;
  }
  c->srv = srv;
  c->fd = fd;
  c->addr = key;
  c->started_ms = now;
  memcpy(c->peer, peer, sizeof(peer));
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
    return;
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
}

static void on_accept_pause_end(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  server *srv = arg;
  if (srv->listener != NULL) {
    evconnlistener_enable(srv->listener);
  }
}

static void on_accept_error(struct evconnlistener *l, void *arg) {
  server *srv = arg;
  fprintf(stderr, "accept failed: %s\n", strerror(errno));
  log_flush_soon(srv);
  evconnlistener_disable(l);
  struct timeval tv = {.tv_sec = 0, .tv_usec = ACCEPT_PAUSE_MS * 1000};
  event_add(srv->ev_accept_pause, &tv);
}

static void on_pass_end(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  server *srv = arg;
  if (srv->submit_head != NULL) {
    server_store_submit(srv->store, srv->submit_head);
    srv->submit_head = srv->submit_tail = NULL;
  }
  server_db_read_end(srv->reader);
  fflush(stderr);
}

/* Store thread -> loop: answer every session whose batch committed. */
static void on_store_done(evutil_socket_t fd, short what, void *arg) {
  (void)what;
  server *srv = arg;
  uint8_t drain[64];
  while (read(fd, drain, sizeof(drain)) > 0) {
  }
  server_store_job *job = server_store_take_done(srv->store);
  log_flush_soon(srv); /* the store thread may have reported a database error */
  /* Lockout entries committed below may leave memory and be read back: the
   * next read must see these commits, not this pass's older snapshot. */
  server_db_read_end(srv->reader);
  while (job != NULL) {
    server_store_job *next = job->next;
    conn *c = job->owner;
    if (job->kind != SERVER_STORE_ASSIGN) {
      server_lockout_stored(srv->lockout, job);
    }
    if (c != NULL) {
      c->store_pending = 0;
      if (c->closed) {
        conn_free(c);
      } else if (job->kind != SERVER_STORE_ASSIGN) {
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
    free(job);
    job = next;
  }
}

/* Called on the store thread. A full pipe already holds a wake-up. */
static void notify_store_done(void *arg) {
  server *srv = arg;
  const uint8_t one = 1;
  ssize_t n;
  do {
    n = write(srv->wake_pipe[1], &one, 1);
  } while (n < 0 && errno == EINTR);
}

static void on_lockout_maintain(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  server *srv = arg;
  server_lockout_maintain(srv->lockout, wall_now_ms());
}

static void on_grace_end(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  server *srv = arg;
  fprintf(stderr, "shutdown: grace period over, %zu connection(s) dropped\n", srv->nconns);
  log_flush_soon(srv);
  event_base_loopbreak(srv->base);
}

static void on_signal(evutil_socket_t sig, short what, void *arg) {
  (void)what;
  server *srv = arg;
  if (srv->shutting_down) {
    event_base_loopbreak(srv->base);
    return;
  }
  fprintf(stderr, "shutting down (signal %d)\n", (int)sig);
  log_flush_soon(srv);
  srv->shutting_down = 1;
  if (srv->listener != NULL) {
    evconnlistener_free(srv->listener);
    srv->listener = NULL;
  }
  /* Exchanges waiting on the store get their answer; the rest close now. */
  conn *c = srv->conns;
  while (c != NULL) {
    conn *next = c->next;
    if (!c->store_pending && !c->closed) {
      c->reason = "server shutting down";
      conn_finish(c);
    }
    c = next;
  }
  if (srv->nconns == 0) {
    event_base_loopbreak(srv->base);
    return;
  }
  struct timeval tv = {.tv_sec = SHUTDOWN_GRACE_MS / 1000, .tv_usec = 0};
  event_add(srv->ev_grace, &tv);
}

static int bind_listener(server *srv) {
  char host[256], port[8];
  if (cli_split_host_port(srv->cfg->listen, host, sizeof(host), port, sizeof(port)) != 0) {
    fprintf(stderr, "bad --listen %s: expected HOST:PORT or [V6]:PORT\n", srv->cfg->listen);
    return -1;
  }
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  int gai = getaddrinfo(host, port, &hints, &res);
  if (gai != 0) {
    fprintf(stderr, "cannot resolve %s: %s\n", host, gai_strerror(gai));
    return -1;
  }
  for (struct addrinfo *ai = res; ai != NULL && srv->listener == NULL; ai = ai->ai_next) {
    srv->listener = evconnlistener_new_bind(
        srv->base, on_accept, srv,
        LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, 1024, ai->ai_addr,
        (int)ai->ai_addrlen);
  }
  freeaddrinfo(res);
  if (srv->listener == NULL) {
    fprintf(stderr, "cannot listen on %s: %s\n", srv->cfg->listen, strerror(errno));
    return -1;
  }
  evconnlistener_set_error_cb(srv->listener, on_accept_error);
  struct sockaddr_storage ss;
  socklen_t sslen = sizeof(ss);
  char bound[INET6_ADDRSTRLEN + 8];
  if (getsockname(evconnlistener_get_fd(srv->listener), (struct sockaddr *)&ss, &sslen) != 0) {
    fprintf(stderr, "getsockname: %s\n", strerror(errno));
    return -1;
  }
  peer_name(bound, sizeof(bound), (struct sockaddr *)&ss);
  fprintf(stderr, "listening on %s\n", bound);
  fflush(stderr);
  return 0;
}

/* Each connection needs a descriptor: use the hard limit, not the soft one. */
static void raise_fd_limit(size_t want) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max &&
      rl.rlim_cur < (rlim_t)want) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

static void server_cleanup(server *srv) {
  if (srv->listener != NULL) {
    evconnlistener_free(srv->listener);
  }
  /* Drain first: queued assignments are committed before the db closes;
   * those not handed over yet (the loop stopped mid-pass) are too. */
  if (srv->submit_head != NULL && srv->store != NULL) {
    server_store_submit(srv->store, srv->submit_head);
  }
  srv->submit_head = srv->submit_tail = NULL;
  server_store_stop(srv->store);
  srv->store = NULL;
  srv->shutting_down = 0; /* no loopbreak from conn_free now */
  while (srv->conns != NULL) {
    conn *c = srv->conns;
    c->store_pending = 0;
    if (!c->closed) {
      c->closed = 1;
      evutil_closesocket(c->fd);
    }
    conn_free(c);
  }
  while (srv->spare != NULL) {
    conn *c = srv->spare;
    srv->spare = c->next;
    conn_release(c);
  }
  srv->nspare = 0;
  if (srv->ev_sigint != NULL) event_free(srv->ev_sigint);
  if (srv->ev_sigterm != NULL) event_free(srv->ev_sigterm);
  if (srv->ev_store_done != NULL) event_free(srv->ev_store_done);
  for (int i = 0; i < 2; i++) {
    if (srv->wake_pipe[i] >= 0) close(srv->wake_pipe[i]);
  }
  if (srv->ev_pass_end != NULL) event_free(srv->ev_pass_end);
  if (srv->ev_grace != NULL) event_free(srv->ev_grace);
  if (srv->ev_accept_pause != NULL) event_free(srv->ev_accept_pause);
  if (srv->ev_lockout_maintain != NULL) event_free(srv->ev_lockout_maintain);
  if (srv->reader != NULL) server_db_read_end(srv->reader);
  server_db_close(srv->reader);
  server_lockout_del(srv->lockout);
  server_addrlimit_del(srv->addrs);
  server_ratelimit_del(srv->sources);
  if (srv->cred != NULL) sodium_free(srv->cred);
  cpns_secpool_del(srv->secpool); /* after the last session */
  if (srv->base != NULL) event_base_free(srv->base);
}

int server_run(const server_config *cfg_in) {
  server_config cfg = *cfg_in;
  if (cfg.max_conns == 0) {
    cfg.max_conns = SERVER_MAX_CONNS_DEFAULT;
  }
  if (cfg.max_conns_per_addr == 0) {
    cfg.max_conns_per_addr = SERVER_MAX_CONNS_PER_ADDR_DEFAULT;
  }
  if (cfg.source_rate == 0) {
    cfg.source_rate = SERVER_SOURCE_RATE_DEFAULT;
  }
  if (cfg.source_burst == 0) {
    cfg.source_burst = SERVER_SOURCE_BURST_DEFAULT;
  }
  server srv;
  memset(&srv, 0, sizeof(srv));
  srv.cfg = &cfg;
  cpns_server_settings_default(&srv.settings);
  srv.settings.realm = cfg.realm;
  srv.settings.realm_len = cfg.realm_len;
  srv.settings.server_secret = cfg.keys->server_secret;
  /* 0 in cfg: the option was not given, the library's default stands. */
  if (cfg.max_pdu_len != 0) {
    srv.settings.max_pdu_len = cfg.max_pdu_len;
  }
  if (cfg.pdu_timeout_ms != 0) {
    srv.settings.pdu_timeout_ms = cfg.pdu_timeout_ms;
  }
  if (cfg.exchange_timeout_ms != 0) {
    srv.settings.exchange_timeout_ms = cfg.exchange_timeout_ms;
  }

  signal(SIGPIPE, SIG_IGN);
  /* A write past the file size limit fails (EFBIG, an SQLite I/O error the
   * exchange answers with serverError) instead of killing the server. */
  signal(SIGXFSZ, SIG_IGN);
  /* See log_flush_soon(); exit() flushes what is left. */
  setvbuf(stderr, NULL, _IOFBF, 1 << 16);
  raise_fd_limit(cfg.max_conns + 64);
  /* Only the loop thread touches libevent (the store thread writes to
   * wake_pipe), so the base runs without evthread's locks. */
  int rc = -1;
  srv.wake_pipe[0] = srv.wake_pipe[1] = -1;
  srv.base = event_base_new();
  srv.cred = sodium_malloc(sizeof(*srv.cred));
  /* One slot per connection the server admits, up to a locked-memory
   * budget; a session that finds none free gets its own sodium_malloc(). */
  size_t pool_slots = cfg.max_conns < SECPOOL_SLOTS_MAX ? cfg.max_conns : SECPOOL_SLOTS_MAX;
  if (srv.base == NULL || srv.cred == NULL ||
      cpns_secpool_new(&srv.secpool, pool_slots, 0, NULL) != 0 ||
      server_addrlimit_new(&srv.addrs, cfg.max_conns, cfg.max_conns_per_addr) != 0 ||
      server_ratelimit_new(&srv.sources, cfg.source_rate, cfg.source_burst,
                           SOURCE_TABLE_MAX) != 0) {
    fprintf(stderr, "out of memory starting the server\n");
    goto out;
  }
  srv.settings.secpool = srv.secpool;
  /* Opened first, with the key: upgrades an old schema before anything runs.
   * Unknown User IDs get the enrollment defaults, like enrolled users. */
  server_db_defaults defaults;
  if (server_db_open_with_key(&srv.reader, cfg.db_path, SERVER_DB_READER,
                              cfg.keys->record_key) != 0 ||
      server_db_get_defaults(srv.reader, &defaults) != 0) {
    goto out;
  }
  srv.settings.fake_ops_limit = defaults.ops_limit;
  srv.settings.fake_mem_limit_kib = defaults.mem_limit_kib;
  if (server_lockout_new(&srv.lockout, &cfg.lockout, srv.reader, emit_lockout_job, &srv) != 0) {
    fprintf(stderr, "out of memory starting the server\n");
    goto out;
  }
  if (pipe(srv.wake_pipe) != 0 || evutil_make_socket_nonblocking(srv.wake_pipe[0]) != 0 ||
      evutil_make_socket_nonblocking(srv.wake_pipe[1]) != 0 ||
      evutil_make_socket_closeonexec(srv.wake_pipe[0]) != 0 ||
      evutil_make_socket_closeonexec(srv.wake_pipe[1]) != 0) {
    fprintf(stderr, "cannot create the store wake-up pipe: %s\n", strerror(errno));
    goto out;
  }
  srv.ev_store_done =
      event_new(srv.base, srv.wake_pipe[0], EV_READ | EV_PERSIST, on_store_done, &srv);
  srv.ev_pass_end = event_new(srv.base, -1, 0, on_pass_end, &srv);
  srv.ev_sigint = evsignal_new(srv.base, SIGINT, on_signal, &srv);
  srv.ev_sigterm = evsignal_new(srv.base, SIGTERM, on_signal, &srv);
  srv.ev_grace = evtimer_new(srv.base, on_grace_end, &srv);
  srv.ev_accept_pause = evtimer_new(srv.base, on_accept_pause_end, &srv);
  srv.ev_lockout_maintain = event_new(srv.base, -1, EV_PERSIST, on_lockout_maintain, &srv);
  struct timeval maintain_tv = {.tv_sec = LOCKOUT_MAINTAIN_MS / 1000, .tv_usec = 0};
  if (srv.ev_store_done == NULL || srv.ev_pass_end == NULL || srv.ev_lockout_maintain == NULL ||
      event_add(srv.ev_lockout_maintain, &maintain_tv) != 0 ||
      srv.ev_sigint == NULL || srv.ev_sigterm == NULL ||
      srv.ev_grace == NULL || srv.ev_accept_pause == NULL ||
      event_add(srv.ev_sigint, NULL) != 0 || event_add(srv.ev_sigterm, NULL) != 0 ||
      event_add(srv.ev_store_done, NULL) != 0) {
    fprintf(stderr, "cannot set up the event loop\n");
    goto out;
  }
  if (server_store_start(&srv.store, cfg.db_path, cfg.store_batch_max, notify_store_done,
                         &srv) != 0) {
    goto out;
  }
  if (bind_listener(&srv) != 0) {
    goto out;
  }
  event_base_dispatch(srv.base);
  uint64_t batches = 0, jobs = 0, busy_us = 0;
  server_store_stats(srv.store, &batches, &jobs, &busy_us);
  fprintf(stderr,
          "stopped: %llu store job(s) (assignments, lockout rows) in %llu transaction(s),"
          " %.2f ms each\n",
          (unsigned long long)jobs, (unsigned long long)batches,
          batches > 0 ? (double)busy_us / 1000.0 / (double)batches : 0.0);
  rc = 0;
out:
  server_cleanup(&srv);
  return rc;
}
