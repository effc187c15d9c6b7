/*
 * cpns-server connections (conn.c) and the loop state they share with
 * loop.c. Only the loop thread touches any of it.
 */
#ifndef CPNS_EXAMPLES_SERVER_CONN_H
#define CPNS_EXAMPLES_SERVER_CONN_H

#include <netinet/in.h>
#include <stdint.h>

#include <event2/event.h>
#include <event2/listener.h>

#include <cpns/server.h>

#include "examples/server/addrlimit.h"
#include "examples/server/store.h"
#include "examples/server/lockout.h"
#include "examples/server/loop.h"
#include "examples/server/metrics.h"
#include "examples/server/ratelimit.h"
#include "examples/server/store_thread.h"

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
  int store_pending;   /* a job is with the store thread (or the lookup worker) */
  int lockout_counted; /* a lockout attempt begun and not ended */
  int s2_precounted;   /* suite 2: the attempt ended as a failure before KE2
                          left; a verified ke3 clears it (server_lockout_forgive) */
  int proof_ok;        /* the peer's proof verified (the engine asked to store) */
  int closed;          /* logged and socket closed; freed when the job returns */
  int error;           /* why the engine closed, for the log */
  const char *reason;  /* why we closed, for the log (overrides error) */
  int has_key_id;      /* key_id is the assignment's (the log's keyId on success) */
  uint8_t key_id[CPNS_KEY_ID_LEN];
  server_addr_key addr;
  size_t out_len, out_off;
  char peer[INET6_ADDRSTRLEN + 8];
} conn;

struct server {
  server_config *cfg; /* SIGHUP changes its live limits (loop.c) */
  cpns_server_settings settings;
  struct event_base *base;
  struct evconnlistener *listener;
  struct event *ev_sigint, *ev_sigterm, *ev_store_done, *ev_grace, *ev_accept_pause;
  struct event *ev_sighup;
  char bound[INET6_ADDRSTRLEN + 8]; /* the listener's address, for STATUS= */
  int wake_pipe[2];                 /* store thread -> loop; the loop's base needs no locks */
  /* Work deferred to the end of the current pass of the loop: the pass's
   * log lines in one write(), its assignments in one store hand-over, its
   * credential lookups in one read transaction. */
  struct event *ev_pass_end;
  server_store_job *submit_head, *submit_tail; /* not handed over yet */
  server_db *reader;
  server_store *store;
  /* PostgreSQL: the lookup worker (store_thread.h, SERVER_STORE_LOOKUPS) and
   * the lookups of this pass not handed to it yet; NULL on SQLite, whose
   * lookups run on the loop thread (a local file, no network). */
  server_store *lookups;
  server_store_job *lookup_head, *lookup_tail;
  server_lockout *lockout;
  server_addrlimit *addrs;
  server_ratelimit *sources; /* first KeyRequests per source */
  struct event *ev_lockout_maintain;
  cpns_credential *cred;              /* scratch record for lookups, guarded memory */
  cpns_s2_record *record2;            /* scratch suite-2 record for lookups, guarded memory */
  server_db_lookup *lookup;           /* the sealed records of one lookup (not secret) */
  int suites[CPNS_SERVER_SUITES_MAX]; /* settings.suites points here */
  cpns_secpool *secpool;              /* every session's secrets: no mmap per connection */
  conn *conns;
  size_t nconns;
  conn *spare; /* see CONN_SPARE_MAX, linked by next */
  size_t nspare;
  int shutting_down;
  server_metrics metrics;            /* loop thread only */
  server_metrics_http *metrics_http; /* NULL without --metrics-listen */
};

/* conn.c: one connection. */
/** An accepted socket becomes a connection; 0, or -1 (no memory: the caller refuses). */
int conn_start(server *srv, evutil_socket_t fd, const server_addr_key *key, const char *peer);
/** Runs the engine until it waits for the peer, the store or the socket. */
void conn_drive(conn *c);
/** Logs the exchange, closes the socket and frees c unless the store holds it. */
void conn_finish(conn *c);
/** The store finished job, which c waited for (an assignment or a lockout row). */
void conn_store_done(conn *c, const server_store_job *job);
/** The lookup worker answered c's credential lookup (PostgreSQL). */
void conn_lookup_done(conn *c, const server_store_job *job);
/** Unlinks c; keeps it as a spare or releases it. */
void conn_free(conn *c);
/** Frees a spare for good. */
void conn_release(conn *c);

/* loop.c: deferred work and clocks the connections use. */
/** Runs on_pass_end() after the callbacks already due in this pass. */
void pass_end_soon(server *srv);
/** stderr is fully buffered while the loop runs: flushed at the pass end. */
void log_flush_soon(server *srv);
/** Lockout state is in wall-clock time: it is stored and outlives the process. */
uint64_t wall_now_ms(void);
/** Queues a job for the store at the end of this pass. */
void submit_soon(server *srv, server_store_job *job);

#endif /* CPNS_EXAMPLES_SERVER_CONN_H */
