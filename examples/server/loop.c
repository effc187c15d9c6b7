/*
 * cpns-server event loop (see loop.h). One libevent loop thread
 * owns every connection and session; the store thread only writes the
 * database and wakes the loop through a pipe, so libevent runs without locks.
 * Here: the event base, listener, accept limits, signals, shutdown and grace,
 * pass-end batching and the store wake-up; one connection is conn.c.
 */
#define _POSIX_C_SOURCE 200809L

#include "examples/server/loop.h"

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
#include "examples/server/conn.h"
#include "examples/server/store.h"
#include "examples/server/log.h"
#include "examples/server/notify.h"
#include "examples/server/ratelimit.h"
#include "examples/server/store_thread.h"

/* Grace period for exchanges waiting on the store at shutdown. */
#define SHUTDOWN_GRACE_MS 5000
/* Pause of the listener after accept() fails (EMFILE) so the loop does not spin. */
#define ACCEPT_PAUSE_MS 100
/* Session secret slots kept locked (of CPNS_SECPOOL_SLOT_DEFAULT octets). */
#define SECPOOL_SLOTS_MAX 4096
/* Lockout upkeep (expired entries purged from memory and table, failed
 * writes retried) this often. */
#define LOCKOUT_MAINTAIN_MS 60000
/* Lookups the PostgreSQL lookup worker takes at once (one statement each). */
#define LOOKUP_BATCH_MAX 64
/* Sources (IPv4 addresses, IPv6 /64s) whose request budget is tracked at once. */
#define SOURCE_TABLE_MAX 65536

/* Runs on_pass_end() after the callbacks already due in this pass. */
void pass_end_soon(server *srv) {
  if (srv->ev_pass_end != NULL) {
    event_active(srv->ev_pass_end, EV_TIMEOUT, 0);
  } else {
    fflush(stderr);
  }
}

/* stderr is line-buffered while the loop runs: nothing is left to flush. */
void log_flush_soon(server *srv) { (void)srv; }

/* Lockout state is in wall-clock time: it is stored and outlives the process. */
uint64_t wall_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Queues a job for the store at the end of this pass, after those already
 * queued: one wake-up of the store thread and a larger group commit. */
void submit_soon(server *srv, server_store_job *job) {
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

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
                      void *arg) {
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
  if (conn_start(srv, fd, &key, peer) != 0) {
    fprintf(stderr, "refused peer=%s reason=\"out of memory\"\n", peer);
    log_flush_soon(srv);
    server_addrlimit_release(srv->addrs, &key);
    evutil_closesocket(fd);
  }
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
  if (srv->lookup_head != NULL) {
    server_store_submit(srv->lookups, srv->lookup_head);
    srv->lookup_head = srv->lookup_tail = NULL;
  }
  server_db_read_end(srv->reader);
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
  /* Lookups first: their answers do not depend on this pass's commits. */
  server_store_job *looked = srv->lookups != NULL ? server_store_take_done(srv->lookups) : NULL;
  while (looked != NULL) {
    server_store_job *next = looked->next;
    srv->metrics.db_errors += looked->status != CPNS_STORE_OK;
    conn_lookup_done(looked->owner, looked);
    free(looked);
    looked = next;
  }
  while (job != NULL) {
    server_store_job *next = job->next;
    conn *c = job->owner;
    if (job->batch_jobs != 0) {
      server_metrics_store_batch(&srv->metrics, job->batch_jobs, job->batch_us);
    }
    srv->metrics.db_errors += job->status == CPNS_STORE_FAILED;
    if (job->kind != SERVER_STORE_ASSIGN) {
      server_lockout_stored(srv->lockout, job);
    }
    if (c != NULL) {
      conn_store_done(c, job);
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

/* The gauges of a scrape (server_metrics_gauges_fn). */
static void read_gauges(void *arg, server_metrics_gauges *g) {
  server *srv = arg;
  g->connections_open = srv->nconns;
  g->lockouts_active = server_lockout_active(srv->lockout, wall_now_ms());
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
  server_log_info("shutting down (signal %d)", (int)sig);
  log_flush_soon(srv);
  server_notify_stopping();
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

/* The defaults of the numbers serve fills in itself (the others are the
 * library's and the lockout table's). */
static void fill_defaults(server_config *cfg) {
  if (cfg->max_conns == 0) {
    cfg->max_conns = SERVER_MAX_CONNS_DEFAULT;
  }
  if (cfg->max_conns_per_addr == 0) {
    cfg->max_conns_per_addr = SERVER_MAX_CONNS_PER_ADDR_DEFAULT;
  }
  if (cfg->source_rate == 0) {
    cfg->source_rate = SERVER_SOURCE_RATE_DEFAULT;
  }
  if (cfg->source_burst == 0) {
    cfg->source_burst = SERVER_SOURCE_BURST_DEFAULT;
  }
}

static int str_differs(const char *a, const char *b) {
  return (a == NULL) != (b == NULL) || (a != NULL && strcmp(a, b) != 0);
}

/* Appends ", name" (or "name") to list when differs. */
static void note_kept(char *list, size_t len, int differs, const char *name) {
  if (differs) {
    size_t used = strlen(list);
    snprintf(list + used, len - used, "%s%s", used > 0 ? ", " : "", name);
  }
}

/* Applies the live options of next; names the others that changed. */
static void apply_reload(server *srv, server_config *next) {
  server_config *cur = srv->cfg;
  fill_defaults(next);
  char kept[512] = "";
  note_kept(kept, sizeof(kept), str_differs(cur->db_path, next->db_path), "db");
  note_kept(kept, sizeof(kept), str_differs(cur->key_file, next->key_file), "key-file");
  note_kept(kept, sizeof(kept), str_differs(cur->listen, next->listen), "listen");
  note_kept(kept, sizeof(kept),
            cur->realm_len != next->realm_len ||
                memcmp(cur->realm, next->realm, cur->realm_len) != 0,
            "realm");
  note_kept(kept, sizeof(kept), cur->max_pdu_len != next->max_pdu_len, "max-pdu");
  note_kept(kept, sizeof(kept), cur->pdu_timeout_ms != next->pdu_timeout_ms, "pdu-timeout-ms");
  note_kept(kept, sizeof(kept), cur->exchange_timeout_ms != next->exchange_timeout_ms,
            "exchange-timeout-ms");
  note_kept(kept, sizeof(kept), cur->max_conns != next->max_conns, "max-conns");
  note_kept(kept, sizeof(kept), cur->store_batch_max != next->store_batch_max, "store-batch");
  note_kept(kept, sizeof(kept), cur->lockout.capacity != next->lockout.capacity, "lockout-table");
  note_kept(kept, sizeof(kept), str_differs(cur->metrics_listen, next->metrics_listen),
            "metrics-listen");
  if (kept[0] != '\0') {
    fprintf(stderr, "reload: changed but kept until a restart: %s\n", kept);
  }
  cur->max_conns_per_addr = next->max_conns_per_addr;
  cur->source_rate = next->source_rate;
  cur->source_burst = next->source_burst;
  size_t capacity = cur->lockout.capacity;
  cur->lockout = next->lockout;
  cur->lockout.capacity = capacity;
  server_addrlimit_set_max_per_addr(srv->addrs, cur->max_conns_per_addr);
  server_ratelimit_set(srv->sources, cur->source_rate, cur->source_burst);
  server_lockout_set_policy(srv->lockout, &cur->lockout);
  if (next->log_target != cur->log_target || next->log_facility != cur->log_facility) {
    server_log_close();
    server_log_open((server_log_target)next->log_target, next->log_facility);
    cur->log_target = next->log_target;
    cur->log_facility = next->log_facility;
    fprintf(stderr, "reload: exchange lines now go to %s\n",
            cur->log_target == SERVER_LOG_SYSLOG ? "syslog" : "stderr");
  }
  server_lockout_settings lo;
  server_lockout_get_policy(srv->lockout, &lo);
  fprintf(stderr,
          "reloaded %s: max-conns-per-addr %zu, source-rate %u, source-burst %u, "
          "lockout-threshold %u, lockout-base-ms %llu, lockout-max-ms %llu, "
          "lockout-window-ms %llu\n",
          cur->config_path, cur->max_conns_per_addr, (unsigned)cur->source_rate,
          (unsigned)cur->source_burst, (unsigned)lo.threshold, (unsigned long long)lo.base_ms,
          (unsigned long long)lo.max_ms, (unsigned long long)lo.window_ms);
}

/* SIGHUP: rereads the configuration file; a bad one changes nothing. */
static void on_sighup(evutil_socket_t sig, short what, void *arg) {
  (void)sig;
  (void)what;
  server *srv = arg;
  if (srv->shutting_down) {
    return;
  }
  server_notify_reloading();
  server_config next;
  memset(&next, 0, sizeof(next));
  if (srv->cfg->reload == NULL) {
    fprintf(stderr, "reload: nothing to reread (serve was started without --config)\n");
  } else if (srv->cfg->reload(srv->cfg->reload_arg, &next) != 0) {
    fprintf(stderr, "reload: %s refused, the running configuration stays\n", srv->cfg->config_path);
  } else {
    apply_reload(srv, &next);
  }
  fflush(stderr); /* the log says what happened before READY=1 acknowledges it */
  char status[sizeof(srv->bound) + 32];
  snprintf(status, sizeof(status), "serving on %s", srv->bound);
  server_notify_ready(status);
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
    srv->listener =
        evconnlistener_new_bind(srv->base, on_accept, srv,
                                LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
                                1024, ai->ai_addr, (int)ai->ai_addrlen);
  }
  freeaddrinfo(res);
  if (srv->listener == NULL) {
    fprintf(stderr, "cannot listen on %s: %s\n", srv->cfg->listen, strerror(errno));
    return -1;
  }
  evconnlistener_set_error_cb(srv->listener, on_accept_error);
  struct sockaddr_storage ss;
  socklen_t sslen = sizeof(ss);
  char *bound = srv->bound;
  if (getsockname(evconnlistener_get_fd(srv->listener), (struct sockaddr *)&ss, &sslen) != 0) {
    fprintf(stderr, "getsockname: %s\n", strerror(errno));
    return -1;
  }
  peer_name(bound, sizeof(srv->bound), (struct sockaddr *)&ss);
  fprintf(stderr, "listening on %s\n", bound);
  fflush(stderr);
  server_log_info("listening on %s", bound);
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
  /* Lookups not handed over are dropped; the worker answers what it has
   * (the answers are freed unread: their connections close below). */
  while (srv->lookup_head != NULL) {
    server_store_job *next = srv->lookup_head->next;
    free(srv->lookup_head);
    srv->lookup_head = next;
  }
  srv->lookup_tail = NULL;
  server_store_stop(srv->lookups);
  srv->lookups = NULL;
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
  server_metrics_http_stop(srv->metrics_http);
  srv->metrics_http = NULL;
  if (srv->ev_sigint != NULL)
    event_free(srv->ev_sigint);
  if (srv->ev_sigterm != NULL)
    event_free(srv->ev_sigterm);
  if (srv->ev_sighup != NULL)
    event_free(srv->ev_sighup);
  if (srv->ev_store_done != NULL)
    event_free(srv->ev_store_done);
  for (int i = 0; i < 2; i++) {
    if (srv->wake_pipe[i] >= 0)
      close(srv->wake_pipe[i]);
  }
  if (srv->ev_pass_end != NULL)
    event_free(srv->ev_pass_end);
  if (srv->ev_grace != NULL)
    event_free(srv->ev_grace);
  if (srv->ev_accept_pause != NULL)
    event_free(srv->ev_accept_pause);
  if (srv->ev_lockout_maintain != NULL)
    event_free(srv->ev_lockout_maintain);
  if (srv->reader != NULL)
    server_db_read_end(srv->reader);
  server_db_close(srv->reader);
  server_lockout_del(srv->lockout);
  server_addrlimit_del(srv->addrs);
  server_ratelimit_del(srv->sources);
  if (srv->cred != NULL)
    sodium_free(srv->cred);
  if (srv->record2 != NULL)
    sodium_free(srv->record2);
  free(srv->lookup);
  cpns_secpool_del(srv->secpool); /* after the last session */
  if (srv->base != NULL)
    event_base_free(srv->base);
}

int server_run(const server_config *cfg_in) {
  server_config cfg = *cfg_in;
  fill_defaults(&cfg);
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
  /* Whole lines, each written when made (the exchange lines bypass stdio:
   * log.c); messages from the store thread too. */
  setvbuf(stderr, NULL, _IOLBF, 1 << 12);
  raise_fd_limit(cfg.max_conns + 64);
  /* Only the loop thread touches libevent (the store thread writes to
   * wake_pipe), so the base runs without evthread's locks. */
  int rc = -1;
  srv.wake_pipe[0] = srv.wake_pipe[1] = -1;
  srv.base = event_base_new();
  srv.cred = sodium_malloc(sizeof(*srv.cred));
  srv.record2 = sodium_malloc(sizeof(*srv.record2));
  srv.lookup = malloc(sizeof(*srv.lookup));
  /* One slot per connection the server admits, up to a locked-memory
   * budget; a session that finds none free gets its own sodium_malloc(). */
  size_t pool_slots = cfg.max_conns < SECPOOL_SLOTS_MAX ? cfg.max_conns : SECPOOL_SLOTS_MAX;
  if (srv.base == NULL || srv.cred == NULL || srv.record2 == NULL || srv.lookup == NULL ||
      cpns_secpool_new(&srv.secpool, pool_slots, 0, NULL) != 0 ||
      server_addrlimit_new(&srv.addrs, cfg.max_conns, cfg.max_conns_per_addr) != 0 ||
      server_ratelimit_new(&srv.sources, cfg.source_rate, cfg.source_burst, SOURCE_TABLE_MAX) !=
          0) {
    fprintf(stderr, "out of memory starting the server\n");
    goto out;
  }
  srv.settings.secpool = srv.secpool;
  /* Opened first, with the key: upgrades an old schema before anything runs.
   * Unknown User IDs get the enrollment defaults, like enrolled users. */
  server_db_defaults defaults;
  uint32_t suites = 0;
  if (server_db_open_with_key(&srv.reader, cfg.db_path, SERVER_DB_READER, cfg.keys->record_key) !=
          0 ||
      server_db_get_defaults(srv.reader, &defaults) != 0 ||
      server_db_get_suites(srv.reader, &suites) != 0) {
    goto out;
  }
  srv.settings.fake_ops_limit = defaults.ops_limit;
  srv.settings.fake_mem_limit_kib = defaults.mem_limit_kib;
  /* The enabled suites, as the database keeps them (digits in preference
   * order); suite 2 with the key file's suite-2 keys. */
  char digits[12];
  snprintf(digits, sizeof(digits), "%u", (unsigned)suites);
  for (const char *d = digits; *d != '\0' && srv.settings.suites_len < CPNS_SERVER_SUITES_MAX;
       d++) {
    srv.suites[srv.settings.suites_len++] = *d - '0';
    if (*d == '2') {
      srv.settings.s2_keys = &cfg.keys->s2;
    }
  }
  srv.settings.suites = srv.suites;
  fprintf(stderr, "suites: %s%s%s\n", digits[0] == '2' ? "2 (OPAQUE-3DH)" : "1 (Argon2id)",
          digits[1] == '\0' ? "" : ", then ",
          digits[1] == '\0'  ? ""
          : digits[1] == '2' ? "2 (OPAQUE-3DH)"
                             : "1 (Argon2id)");
  /* PostgreSQL: lockout rows shared with the other servers, read with each
   * lookup by the lookup worker. */
  int shared = server_db_get_kind(srv.reader) == SERVER_DB_POSTGRES;
  if ((shared ? server_lockout_new_shared(&srv.lockout, &cfg.lockout, emit_lockout_job, &srv)
              : server_lockout_new(&srv.lockout, &cfg.lockout, srv.reader, emit_lockout_job,
                                   &srv)) != 0) {
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
  srv.ev_sighup = evsignal_new(srv.base, SIGHUP, on_sighup, &srv);
  srv.ev_grace = evtimer_new(srv.base, on_grace_end, &srv);
  srv.ev_accept_pause = evtimer_new(srv.base, on_accept_pause_end, &srv);
  srv.ev_lockout_maintain = event_new(srv.base, -1, EV_PERSIST, on_lockout_maintain, &srv);
  struct timeval maintain_tv = {.tv_sec = LOCKOUT_MAINTAIN_MS / 1000, .tv_usec = 0};
  if (srv.ev_store_done == NULL || srv.ev_pass_end == NULL || srv.ev_lockout_maintain == NULL ||
      event_add(srv.ev_lockout_maintain, &maintain_tv) != 0 || srv.ev_sigint == NULL ||
      srv.ev_sigterm == NULL || srv.ev_grace == NULL || srv.ev_accept_pause == NULL ||
      srv.ev_sighup == NULL || event_add(srv.ev_sighup, NULL) != 0 ||
      event_add(srv.ev_sigint, NULL) != 0 || event_add(srv.ev_sigterm, NULL) != 0 ||
      event_add(srv.ev_store_done, NULL) != 0) {
    fprintf(stderr, "cannot set up the event loop\n");
    goto out;
  }
  if (server_store_start(&srv.store, cfg.db_path, cfg.store_batch_max, notify_store_done, &srv) !=
          0 ||
      (shared && server_store_start_role(&srv.lookups, cfg.db_path, SERVER_STORE_LOOKUPS,
                                         LOOKUP_BATCH_MAX, notify_store_done, &srv) != 0)) {
    goto out;
  }
  server_metrics_init(&srv.metrics);
  if (cfg.metrics_listen != NULL &&
      server_metrics_http_start(&srv.metrics_http, srv.base, cfg.metrics_listen, &srv.metrics,
                                read_gauges, &srv) != 0) {
    goto out;
  }
  if (bind_listener(&srv) != 0) {
    goto out;
  }
  /* Bound, database open, store threads running: a connection is served. */
  char status[sizeof(srv.bound) + 32];
  snprintf(status, sizeof(status), "serving on %s", srv.bound);
  server_notify_ready(status);
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
