/*
 * Load benchmark for cpns-server: starts a server on loopback (temporary
 * database, suites 1 and 2 enabled, one user per gateway enrolled with
 * Argon2id t=1, 8 KiB), runs N concurrent gateways doing real exchanges, for
 * each N of --clients (64 and 1,000 by default) and each suite of --suites
 * (1 and 2 by default), in 1 s rounds alternating with a bare-TCP baseline
 * of the same shape (connect + 2 request/response round trips with the
 * suite-1 byte sizes, against a trivial libevent server). It prints per N
 * the rate of each suite and of bare TCP, their ratio and the p50/p99/max
 * latency (connect to KeyDelivery read, see the table's heading); then the
 * server's RSS per idle connection. With --pg URI a second server runs on that PostgreSQL database
 * (empty: the bench runs `init` on it), and each round of the SQLite server
 * is followed by one of the PostgreSQL server: both rates and their ratio
 * come from the same run (bench/backends.sh starts a throwaway cluster).
 * With --metrics BEFORE a third server (its own SQLite database) serves
 * metrics (--metrics-listen), and its rounds follow those of the server
 * without: the rate with metrics on against the rate before, same run, bare
 * TCP alongside. BEFORE is "same" (the --server binary without metrics) or
 * another cpns-server binary (e.g. a build of the previous version), which
 * then is the server without metrics. The metrics server is scraped at the
 * end: its success counter against the exchanges the bench saw succeed.
 *
 * Suite 1: the gateways keep their Argon2id result per (user, salt, params)
 * by default (see cached_exchange()); --gateway engine runs the gateway
 * engine with a full Argon2id per exchange instead. Suite 2 always runs the
 * gateway engine (OPAQUE-3DH with fresh blinds and key shares each time;
 * its Argon2id at t=1, 8 KiB is small beside its group operations), so the
 * generator's CPU per suite-2 exchange is about the server's: read the
 * server's CPU per exchange, not only the rate, when both share the cores.
 * The generator's per-exchange suite-1 work is kept small: HMAC key pads
 * set up once per key, gateway nonces from a per-thread ChaCha20 stream (no
 * getrandom() per exchange), latencies into a per-thread histogram.
 *
 * Usage: bench_server_load [--server PATH] [--clients N[,N...]] [--seconds S]
 *                          [--idle N] [--gateway cached|engine] [--suites 1,2|1|2]
 *                          [--log FILE]   (FILE receives the server's stderr)
 *                          [--pg URI]     (FILE.pg: the PostgreSQL server's)
 *                          [--pg-postmaster PID]  (local: count its children's CPU)
 *                          [--metrics same|PATH]  (a server with metrics beside)
 * PATH defaults to $CPNS_SERVER or examples/cpns-server (run from the build dir).
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include <sodium.h>

#include <cpns/gateway.h>

#include "bench/latency_hist.h"

#define MAX_CLIENTS 1024

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ms(void) { return now_ns() / 1000000u; }

static void die(const char *what) {
  fprintf(stderr, "bench_server_load: %s: %s\n", what, strerror(errno));
  exit(1);
}

static int connect_loopback(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    return -1;
  }
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

static int send_all(int fd, const uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static int recv_exact(int fd, uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t r = recv(fd, p, n, 0);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return -1;
    p += r;
    n -= (size_t)r;
  }
  return 0;
}

/* ---- one real exchange with the gateway engine over a blocking socket ---- */

/* PDU sizes of the exchange: request 1, challenge, request 2, delivery. */
static size_t pdu_sizes[4];

/* Each client is its own user: the server's lockout counts a user's
 * concurrent attempts, and gateways of different owners is the real load.
 * Suite 2: the engine's default (version 2, offering suite 2 only). Suite 1:
 * it offers suites 2 and 1 (allow_suite1), and the server, which prefers
 * suite 1 (init --suites 1,2 below), chooses suite 1. */
static int run_exchange(uint16_t port, const char *entity, int user_no, int suite,
                        cpns_secpool *pool, int record_sizes, uint64_t *latency_ns) {
  static const uint8_t password[] = "bench password";
  char user[64];
  snprintf(user, sizeof(user), "bench%d@example.com", user_no);
  cpns_gateway_settings gs;
  cpns_gateway_settings_default(&gs);
  gs.entity_id = (const uint8_t *)entity;
  gs.entity_id_len = strlen(entity);
  gs.user_id = (const uint8_t *)user;
  gs.user_id_len = strlen(user);
  gs.mode = CPNS_MODE_PN_GW;
  gs.password = password;
  gs.password_len = sizeof(password) - 1;
  gs.secpool = pool;
  gs.min_ops_limit = 1; /* users are enrolled with --ops 1 --mem-kib 8 below */
  gs.min_mem_limit_kib = 8;
  gs.allow_suite1 = suite == 1;
  cpns_gateway *gw = NULL;
  if (cpns_gateway_new(&gw, &gs, NULL, now_ms()) != 0) {
    return -1;
  }
  uint64_t t0 = now_ns(), t_delivery = 0;
  int fd = connect_loopback(port);
  int ok = -1, pdu = 0;
  uint8_t buf[CPNS_PDU_MAX_ENCODED];
  size_t pdu_bytes = 0;
  while (fd >= 0) {
    cpns_gateway_state st = cpns_gateway_get_state(gw);
    if (st == CPNS_GATEWAY_SEND) {
      size_t n = 0;
      if (cpns_gateway_write(gw, buf, sizeof(buf), &n, now_ms()) != 0 || send_all(fd, buf, n) != 0)
        break;
      if (record_sizes && pdu < 4)
        pdu_sizes[pdu] = n;
      pdu++;
    } else if (st == CPNS_GATEWAY_RECEIVE) {
      ssize_t r = recv(fd, buf, sizeof(buf), 0);
      if (r < 0 && errno == EINTR)
        continue;
      size_t in = r > 0 ? (size_t)r : 0;
      cpns_gateway_read(gw, buf, in, now_ms()); /* takes all: the server sends one PDU a turn */
      pdu_bytes += in;
      if (cpns_gateway_get_state(gw) != CPNS_GATEWAY_RECEIVE) {
        if (record_sizes && pdu < 4)
          pdu_sizes[pdu] = pdu_bytes;
        if (pdu == 3)
          t_delivery = now_ns(); /* read and checked by the engine */
        pdu++;
        pdu_bytes = 0;
      }
      if (r <= 0)
        break;
    } else if (st == CPNS_GATEWAY_DERIVE) {
      if (cpns_gateway_derive(gw, now_ms()) != 0)
        break;
    } else {
      ok = st == CPNS_GATEWAY_DONE ? 0 : -1;
      break;
    }
  }
  int chosen = 0;
  if (cpns_gateway_get_state(gw) == CPNS_GATEWAY_DONE && cpns_gateway_get_suite(gw, &chosen) == 0 &&
      chosen == suite)
    ok = 0;
  if (ok == 0 && latency_ns != NULL)
    *latency_ns = t_delivery - t0;
  if (fd >= 0)
    close(fd);
  cpns_gateway_del(gw);
  return ok;
}

/* ---- the same exchange with cached keys (the default load) ----
 *
 * A real exchange the server verifies in full, but the gateway side keeps
 * ClientKey/ServerKey/StoredKey per (user, salt, KDF params) instead of
 * running Argon2id each time, as RFC 5802 §5.1 lets a SCRAM client do:
 * re-running the KDF (and its mmap) would measure the load generator, not
 * the server. The server still runs its Argon2id-free path as always; the
 * PDUs are byte-for-byte those the gateway engine sends. */

typedef struct key_cache {
  int valid;
  cpns_kdf_params kdf; /* salt and params the keys belong to */
  uint8_t client_key[CPNS_CLIENT_KEY_LEN];
  uint8_t server_key[CPNS_SERVER_KEY_LEN];
  uint8_t stored_key[CPNS_STORED_KEY_LEN];
  uint8_t wrap_key[CPNS_WRAP_KEY_LEN];
  uint8_t eukey[CPNS_EUKEY_LEN];
  /* HMAC states with the key pads already absorbed: the same result as
   * cpns_crypto_client_proof() etc. for 2 fewer SHA-256 blocks each (checked
   * against them in derive_keys()). */
  crypto_auth_hmacsha256_state proof_st;              /* key StoredKey */
  crypto_auth_hmacsha256_state sig_st;                /* key ServerKey */
  crypto_auth_hmacsha256_state wrap_st;               /* key ClientKey */
  uint8_t nonce_key[crypto_stream_chacha20_KEYBYTES]; /* gateway nonce stream */
  uint64_t nonce_ctr;
} key_cache; /* in sodium_malloc() memory, one per load thread */

/* out = HMAC(key of st, a || b), st left as it was. */
static void hmac_from(uint8_t out[32], const crypto_auth_hmacsha256_state *st, const uint8_t *a,
                      size_t alen, const uint8_t *b, size_t blen) {
  crypto_auth_hmacsha256_state t = *st;
  crypto_auth_hmacsha256_update(&t, a, alen);
  if (blen > 0)
    crypto_auth_hmacsha256_update(&t, b, blen);
  crypto_auth_hmacsha256_final(&t, out);
  sodium_memzero(&t, sizeof(t));
}

static const uint8_t wrap_label[] = "CPNS EUKey Wrap"; /* as crypto/suite1.c */

/* The three per-exchange keyed values, from the cached states. */
static void fast_proof(const key_cache *kc, uint8_t proof[CPNS_PROOF_LEN], const uint8_t *am,
                       size_t am_len) {
  uint8_t sig[32];
  hmac_from(sig, &kc->proof_st, am, am_len, NULL, 0);
  for (size_t i = 0; i < CPNS_PROOF_LEN; i++)
    proof[i] = kc->client_key[i] ^ sig[i];
  sodium_memzero(sig, sizeof(sig));
}

static int fast_signature_verify(const key_cache *kc, const uint8_t sig[CPNS_SIGNATURE_LEN],
                                 const uint8_t *am, size_t am_len) {
  uint8_t expected[32];
  hmac_from(expected, &kc->sig_st, am, am_len, NULL, 0);
  int ok = crypto_verify_32(expected, sig) == 0;
  sodium_memzero(expected, sizeof(expected));
  return ok ? 0 : -1;
}

static void fast_wrap_key(const key_cache *kc, uint8_t out[CPNS_WRAP_KEY_LEN], const uint8_t *am,
                          size_t am_len) {
  uint8_t h[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(h, am, am_len);
  hmac_from(out, &kc->wrap_st, wrap_label, sizeof(wrap_label) - 1, h, sizeof(h));
}

/* A fresh gateway nonce without a system call: unique per thread and call. */
static void gateway_nonce(key_cache *kc, uint8_t *out, size_t len) {
  uint8_t n[crypto_stream_chacha20_NONCEBYTES];
  uint64_t ctr = kc->nonce_ctr++;
  for (size_t i = 0; i < sizeof(n); i++)
    n[i] = (uint8_t)(ctr >> (8 * i));
  crypto_stream_chacha20(out, len, n, kc->nonce_key);
}

/* Reads one complete PDU into buf (len out); extra bytes are an error here. */
static int recv_pdu(int fd, uint8_t *buf, size_t cap, size_t *len) {
  size_t have = 0, want = 0;
  for (;;) {
    if (have > 0) {
      int rv = cpns_frame_pdu_length(buf, have, cap, &want);
      if (rv != 0)
        return -1;
      if (want != 0 && have >= want) {
        *len = want;
        return have == want ? 0 : -1;
      }
    }
    ssize_t r = recv(fd, buf + have, cap - have, 0);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return -1;
    have += (size_t)r;
  }
}

static int send_pdu(int fd, const cpns_pdu *pdu, uint8_t *buf, size_t *len) {
  return cpns_pdu_encode(pdu, buf, CPNS_PDU_MAX_ENCODED, len) == 0 ? send_all(fd, buf, *len) : -1;
}

static int derive_keys(key_cache *kc, const cpns_kdf_params *kdf) {
  static const uint8_t password[] = "bench password";
  uint8_t *salted = sodium_malloc(CPNS_SALTED_PASSWORD_LEN);
  int rc = salted != NULL &&
                   cpns_crypto_salted_password(salted, password, sizeof(password) - 1, kdf) == 0 &&
                   cpns_crypto_client_key(kc->client_key, salted) == 0 &&
                   cpns_crypto_server_key(kc->server_key, salted) == 0 &&
                   cpns_crypto_stored_key(kc->stored_key, kc->client_key) == 0
               ? 0
               : -1;
  sodium_free(salted);
  if (rc == 0) {
    crypto_auth_hmacsha256_init(&kc->proof_st, kc->stored_key, sizeof(kc->stored_key));
    crypto_auth_hmacsha256_init(&kc->sig_st, kc->server_key, sizeof(kc->server_key));
    crypto_auth_hmacsha256_init(&kc->wrap_st, kc->client_key, sizeof(kc->client_key));
    /* The shortcuts must give the library's values. */
    static const uint8_t am[] = "derive_keys self-check: any auth message will do";
    uint8_t want[32], got[32];
    fast_proof(kc, got, am, sizeof(am));
    rc = cpns_crypto_client_proof(want, kc->client_key, kc->stored_key, am, sizeof(am)) != 0 ||
                 memcmp(want, got, 32) != 0 ||
                 cpns_crypto_server_signature(want, kc->server_key, am, sizeof(am)) != 0 ||
                 fast_signature_verify(kc, want, am, sizeof(am)) != 0 ||
                 cpns_crypto_wrap_key(want, kc->client_key, am, sizeof(am)) != 0
             ? -1
             : 0;
    fast_wrap_key(kc, got, am, sizeof(am));
    if (rc == 0 && memcmp(want, got, 32) != 0)
      rc = -1;
    sodium_memzero(want, sizeof(want));
    sodium_memzero(got, sizeof(got));
    if (rc != 0)
      fprintf(stderr, "bench_server_load: cached HMAC states disagree with the library\n");
  }
  kc->valid = rc == 0;
  kc->kdf = *kdf;
  return rc;
}

static int cached_exchange(uint16_t port, const char *entity, int user_no, key_cache *kc,
                           int record_sizes, uint64_t *latency_ns) {
  cpns_pdu pdu, in;
  cpns_key_request *req = &pdu.u.key_request;
  uint8_t buf[CPNS_PDU_MAX_ENCODED], auth[CPNS_PDU_MAX_ENCODED];
  size_t len[4] = {0, 0, 0, 0}, auth_len = 0;
  memset(&pdu, 0, sizeof(pdu));
  pdu.type = CPNS_PDU_KEY_REQUEST;
  req->version = 1; /* a gateway of the first release: version 1, suite 1 */
  req->entity_id_len = strlen(entity);
  memcpy(req->entity_id, entity, req->entity_id_len);
  req->user_id_len =
      (size_t)snprintf((char *)req->user_id, sizeof(req->user_id), "bench%d@example.com", user_no);
  req->mode = CPNS_MODE_PN_GW;
  gateway_nonce(kc, req->gateway_nonce, sizeof(req->gateway_nonce));
  req->offered_suites[0] = CPNS_SUITE_ARGON2ID_HMACSHA256_XCHACHA20POLY1305;
  req->offered_suites_len = 1;
  uint64_t t0 = now_ns(), t_delivery = 0;
  int fd = connect_loopback(port);
  if (fd < 0)
    return -1;
  int ok = -1;
  if (send_pdu(fd, &pdu, buf, &len[0]) != 0 || recv_pdu(fd, buf, sizeof(buf), &len[1]) != 0 ||
      cpns_pdu_decode(&in, buf, len[1], NULL) != 0 || in.type != CPNS_PDU_KEY_CHALLENGE) {
    goto out;
  }
  const cpns_key_challenge *chal = &in.u.key_challenge;
  if (!kc->valid || memcmp(&kc->kdf, &chal->kdf, sizeof(chal->kdf)) != 0) {
    if (derive_keys(kc, &chal->kdf) != 0)
      goto out;
  }
  cpns_auth_transcript t;
  if (cpns_auth_transcript_from(&t, req, chal) != 0 ||
      cpns_auth_transcript_encode(&t, auth, sizeof(auth), &auth_len) != 0) {
    goto out;
  }
  fast_proof(kc, req->client_proof, auth, auth_len);
  memcpy(req->server_nonce, chal->server_nonce, sizeof(req->server_nonce));
  req->has_response = 1;
  if (send_pdu(fd, &pdu, buf, &len[2]) != 0 || recv_pdu(fd, buf, sizeof(buf), &len[3]) != 0) {
    goto out;
  }
  t_delivery = now_ns();
  if (cpns_pdu_decode(&in, buf, len[3], NULL) != 0 || in.type != CPNS_PDU_KEY_DELIVERY) {
    goto out;
  }
  /* The gateway's checks: signed by the server, and the key unwraps. */
  const cpns_key_delivery *del = &in.u.key_delivery;
  const cpns_key_assignment *a = &del->assignment;
  if (del->result == CPNS_RESULT_SUCCESS && del->has_assignment &&
      fast_signature_verify(kc, a->server_signature, auth, auth_len) == 0 &&
      (fast_wrap_key(kc, kc->wrap_key, auth, auth_len), 1) &&
      cpns_crypto_eukey_unwrap(kc->eukey, a->wrapped_eukey, kc->wrap_key, a->aead_nonce, auth,
                               auth_len, a->key_id) == 0) {
    ok = 0;
  }
  sodium_memzero(kc->wrap_key, sizeof(kc->wrap_key));
  sodium_memzero(kc->eukey, sizeof(kc->eukey));
  if (ok == 0 && record_sizes)
    memcpy(pdu_sizes, len, sizeof(pdu_sizes));
  if (ok == 0 && latency_ns != NULL)
    *latency_ns = t_delivery - t0;
out:
  close(fd);
  return ok;
}

/* ---- the bare-TCP baseline: same shape, no protocol ---- */

static int bare_exchange(uint16_t port, uint64_t *latency_ns) {
  uint8_t buf[CPNS_PDU_MAX_ENCODED];
  memset(buf, 0xa5, sizeof(buf));
  uint64_t t0 = now_ns();
  int fd = connect_loopback(port);
  if (fd < 0)
    return -1;
  int rc = (send_all(fd, buf, pdu_sizes[0]) == 0 && recv_exact(fd, buf, pdu_sizes[1]) == 0 &&
            send_all(fd, buf, pdu_sizes[2]) == 0 && recv_exact(fd, buf, pdu_sizes[3]) == 0)
               ? 0
               : -1;
  if (rc == 0)
    *latency_ns = now_ns() - t0;
  close(fd);
  return rc;
}

typedef struct bare_conn {
  struct event *ev;
  size_t got;
  int step; /* 0: reading request 1, 1: reading request 2 */
} bare_conn;

static void bare_on_read(evutil_socket_t fd, short what, void *arg) {
  (void)what;
  bare_conn *c = arg;
  uint8_t buf[CPNS_PDU_MAX_ENCODED];
  ssize_t r = recv(fd, buf, sizeof(buf), 0);
  if (r < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (r <= 0)
    goto done;
  c->got += (size_t)r;
  size_t want = pdu_sizes[c->step == 0 ? 0 : 2];
  if (c->got < want)
    return;
  memset(buf, 0x5a, sizeof(buf));
  if (send(fd, buf, pdu_sizes[c->step == 0 ? 1 : 3], MSG_NOSIGNAL) < 0 || c->step == 1)
    goto done;
  c->step = 1;
  c->got = 0;
  return;
done:
  event_free(c->ev);
  close(fd);
  free(c);
}

static void bare_on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                           int len, void *arg) {
  (void)l;
  (void)sa;
  (void)len;
  struct event_base *base = arg;
  bare_conn *c = calloc(1, sizeof(*c));
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  c->ev = event_new(base, fd, EV_READ | EV_PERSIST, bare_on_read, c);
  event_add(c->ev, NULL);
}

/* Child process: serves the baseline until killed; writes its port to out_fd. */
static void bare_server(int out_fd) {
  struct event_base *base = event_base_new();
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  struct evconnlistener *l =
      evconnlistener_new_bind(base, bare_on_accept, base, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
                              1024, (struct sockaddr *)&sa, sizeof(sa));
  if (l == NULL)
    _exit(1);
  socklen_t slen = sizeof(sa);
  getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&sa, &slen);
  uint16_t port = ntohs(sa.sin_port);
  if (write(out_fd, &port, sizeof(port)) != sizeof(port))
    _exit(1);
  close(out_fd);
  event_base_dispatch(base);
  _exit(0);
}

/* ---- load threads ---- */

/* Load: suite 1 with cached keys (default), suite 1 with the gateway engine
 * and Argon2id each time (--gateway engine), suite 2 (the engine), or the
 * bare-TCP baseline. */
enum { LOAD_CACHED, LOAD_ENGINE, LOAD_S2, LOAD_BARE, LOAD_KINDS };

static const char *const load_names[LOAD_KINDS] = {"suite 1, cached keys",
                                                   "suite 1, engine (Argon2id each)",
                                                   "suite 2, engine (OPAQUE-3DH)", "bare TCP"};

/* One gateway's state kept across rounds and concurrency levels, so that
 * only its very first exchange derives keys. */
typedef struct gateway_keys {
  key_cache *kc; /* sodium_malloc() */
  cpns_secpool *pool;
} gateway_keys;

typedef struct load {
  uint16_t port;
  int kind;
  uint64_t deadline;
  int id;
  gateway_keys *keys;
  lat_hist *hist; /* this thread's, merged after the join: no lock per exchange */
  uint64_t done, failed;
} load;

static void *load_main(void *arg) {
  load *w = arg;
  char entity[64];
  snprintf(entity, sizeof(entity), "urn:dev:mac:%012x", (unsigned)w->id); /* one per gateway */
  while (now_ms() < w->deadline) {
    uint64_t ns = 0;
    int rc = w->kind == LOAD_BARE ? bare_exchange(w->port, &ns)
             : w->kind == LOAD_ENGINE
                 ? run_exchange(w->port, entity, w->id, 1, w->keys->pool, 0, &ns)
             : w->kind == LOAD_S2 ? run_exchange(w->port, entity, w->id, 2, w->keys->pool, 0, &ns)
                                  : cached_exchange(w->port, entity, w->id, w->keys->kc, 0, &ns);
    if (rc == 0) {
      w->done++;
      lat_hist_record(w->hist, ns);
    } else {
      w->failed++;
    }
  }
  return NULL;
}

/* CPU time (user + system) of this process, in ms. */
static double self_cpu_ms(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000.0 +
         (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000.0;
}

/* CPU time of another process, in ms (from /proc, clock ticks). */
static double proc_cpu_ms(pid_t pid) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "r");
  unsigned long ut = 0, st = 0;
  if (f != NULL) {
    /* Fields 14 and 15 after "pid (comm) state"; comm has no spaces here. */
    if (fscanf(f, "%*d %*s %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2) {
      ut = st = 0;
    }
    fclose(f);
  }
  return (double)(ut + st) * 1000.0 / (double)sysconf(_SC_CLK_TCK);
}

/* CPU time of every child of parent (PostgreSQL's backends and helpers under
 * its postmaster), in ms; 0 without a parent. */
static double children_cpu_ms(pid_t parent) {
  double sum = 0.0;
  DIR *d = parent > 0 ? opendir("/proc") : NULL;
  struct dirent *e;
  while (d != NULL && (e = readdir(d)) != NULL) {
    char path[300];
    if (e->d_name[0] < '1' || e->d_name[0] > '9')
      continue;
    snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
    FILE *f = fopen(path, "r");
    int ppid = 0;
    unsigned long ut = 0, st = 0;
    /* comm ("postgres: ...") has spaces: read past its closing parenthesis. */
    char line[1024];
    if (f != NULL && fgets(line, sizeof(line), f) != NULL) {
      const char *rp = strrchr(line, ')');
      if (rp != NULL &&
          sscanf(rp + 1, " %*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ppid, &ut, &st) ==
              3 &&
          ppid == (int)parent) {
        sum += (double)(ut + st) * 1000.0 / (double)sysconf(_SC_CLK_TCK);
      }
    }
    if (f != NULL)
      fclose(f);
  }
  if (d != NULL)
    closedir(d);
  return sum;
}

/* A TcpExt counter of /proc/net/netstat (whole machine), or -1. */
static long long tcp_ext_counter(const char *name) {
  FILE *f = fopen("/proc/net/netstat", "r");
  char names[4096], values[4096];
  long long found = -1;
  while (f != NULL && found < 0 && fgets(names, sizeof(names), f) != NULL &&
         fgets(values, sizeof(values), f) != NULL) {
    if (strncmp(names, "TcpExt:", 7) != 0)
      continue;
    char *ns = NULL, *vs = NULL;
    char *n = strtok_r(names, " \n", &ns), *v = strtok_r(values, " \n", &vs);
    while (n != NULL && v != NULL) {
      if (strcmp(n, name) == 0) {
        found = strtoll(v, NULL, 10);
        break;
      }
      n = strtok_r(NULL, " \n", &ns);
      v = strtok_r(NULL, " \n", &vs);
    }
  }
  if (f != NULL)
    fclose(f);
  return found;
}

/* One kind of load at one concurrency, summed over its rounds. */
typedef struct tally {
  uint64_t done, failed;
  /* SYNs the kernel dropped at a full listen queue during the rounds (the
   * whole machine's count): each costs its exchange a 1 s retransmission. */
  long long listen_drops;
  double ms, server_cpu_ms, self_cpu_ms;
  double db_cpu_ms; /* PostgreSQL's processes (--pg-postmaster), else 0 */
  lat_hist hist;
} tally;

/* Runs clients load threads of this kind for ms; server is the pid serving
 * them; hists holds one zeroed histogram per thread and is left zeroed. */
/* db_parent: the postmaster whose children's CPU the round also counts, or 0. */
static void run_round(tally *t, uint16_t port, int kind, int clients, unsigned ms, pid_t server,
                      pid_t db_parent, gateway_keys *keys, lat_hist *hists) {
  pthread_t th[MAX_CLIENTS];
  load w[MAX_CLIENTS];
  double c0 = self_cpu_ms(), s0 = proc_cpu_ms(server);
  double d0 = children_cpu_ms(db_parent);
  long long drops0 = tcp_ext_counter("ListenDrops");
  uint64_t start = now_ms();
  for (int i = 0; i < clients; i++) {
    w[i] = (load){.port = port,
                  .kind = kind,
                  .deadline = start + ms,
                  .id = i,
                  .keys = &keys[i],
                  .hist = &hists[i]};
    if (pthread_create(&th[i], NULL, load_main, &w[i]) != 0) {
      fprintf(stderr, "bench_server_load: cannot start load thread %d\n", i);
      exit(1);
    }
  }
  for (int i = 0; i < clients; i++) {
    pthread_join(th[i], NULL);
    t->done += w[i].done;
    t->failed += w[i].failed;
  }
  t->ms += (double)(now_ms() - start);
  t->server_cpu_ms += proc_cpu_ms(server) - s0;
  t->self_cpu_ms += self_cpu_ms() - c0;
  t->db_cpu_ms += children_cpu_ms(db_parent) - d0;
  long long drops1 = tcp_ext_counter("ListenDrops");
  if (drops0 >= 0 && drops1 >= drops0)
    t->listen_drops += drops1 - drops0;
  for (int i = 0; i < clients; i++) {
    lat_hist_merge(&t->hist, &hists[i]);
    memset(&hists[i], 0, sizeof(hists[i]));
  }
}

/* ---- the server under test ---- */

/* The server's command lines, all here: when its options change, only this
 * block does. Users are enrolled with the cheapest Argon2id (t=1, 8 KiB):
 * the gateways' side is cached anyway, and the server never runs it. */
#define BENCH_OPS_LIMIT "1"
#define BENCH_MEM_KIB "8"
#define ARGV_MAX 32

typedef struct server_files {
  const char *server, *db, *key, *password_file;
  int metrics; /* serve --metrics-listen 127.0.0.1:0 */
} server_files;

/* Suite 1 preferred: an engine offering both gets suite 1 (run_exchange). */
static void command_init(char *argv[ARGV_MAX], const server_files *sf) {
  char *a[] = {(char *)sf->server,
               "init",
               "--db",
               (char *)sf->db,
               "--key-file",
               (char *)sf->key,
               "--ops",
               BENCH_OPS_LIMIT,
               "--mem-kib",
               BENCH_MEM_KIB,
               "--suites",
               "1,2",
               NULL};
  _Static_assert(sizeof(a) <= ARGV_MAX * sizeof(a[0]), "ARGV_MAX too small");
  memcpy(argv, a, sizeof(a));
}

static void command_user_add(char *argv[ARGV_MAX], const server_files *sf, char *user) {
  char *a[] = {(char *)sf->server,
               "user",
               "add",
               "--db",
               (char *)sf->db,
               "--key-file",
               (char *)sf->key,
               "--user",
               user,
               "--password-file",
               (char *)sf->password_file,
               NULL};
  _Static_assert(sizeof(a) <= ARGV_MAX * sizeof(a[0]), "ARGV_MAX too small");
  memcpy(argv, a, sizeof(a));
}

/* max_conns: the bench opens them all from 127.0.0.1. A PDU timeout far
 * beyond any round, so that the idle connections stay. */
static void command_serve(char *argv[ARGV_MAX], const server_files *sf, char *max_conns) {
  char *a[] = {(char *)sf->server, "serve", "--db", (char *)sf->db, "--key-file", (char *)sf->key,
               "--listen", "127.0.0.1:0", "--realm", "example.com", "--pdu-timeout-ms", "120000",
               "--max-conns", max_conns, "--max-conns-per-addr", max_conns,
               /* Every gateway comes from 127.0.0.1: no per-source budget. */
               "--source-rate", "1000000", "--source-burst", "1000000",
               /* Last, replaced by NULL without metrics. */
               "--metrics-listen", "127.0.0.1:0", NULL};
  _Static_assert(sizeof(a) <= ARGV_MAX * sizeof(a[0]), "ARGV_MAX too small");
  if (!sf->metrics) {
    a[sizeof(a) / sizeof(a[0]) - 3] = NULL;
  }
  memcpy(argv, a, sizeof(a));
}

static char tmpdir[256];

static int run_cmd(char *const argv[]) {
  pid_t pid = fork();
  if (pid == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    execv(argv[0], argv);
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static const char *server_log_path; /* --log: keep the server's stderr */

typedef struct drain {
  int fd;
  char log_path[300]; /* "" = discard */
} drain;

static void *drain_main(void *arg) {
  drain *d = arg;
  int fd = d->fd;
  int out = d->log_path[0] != '\0' ? open(d->log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600) : -1;
  free(d);
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) {
    if (out >= 0 && write(out, buf, (size_t)n) != n) {
      close(out);
      out = -1;
    }
  }
  if (out >= 0)
    close(out);
  return NULL;
}

/* Starts `cpns-server serve`; returns its pid and port once it printed "listening on"
 * (and *metrics_port the port of "metrics on" before it, when sf->metrics).
 * Its stderr goes to log_suffix appended to --log's FILE, or nowhere. */
static pid_t start_server(const server_files *sf, int max_conns, const char *log_suffix,
                          uint16_t *port, uint16_t *metrics_port) {
  int p[2];
  if (pipe(p) != 0)
    die("pipe");
  char conns[16], *argv[ARGV_MAX];
  snprintf(conns, sizeof(conns), "%d", max_conns);
  command_serve(argv, sf, conns);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(p[1], 2);
    close(p[0]);
    close(p[1]);
    execv(argv[0], argv);
    _exit(127);
  }
  close(p[1]);
  FILE *f = fdopen(p[0], "r");
  char line[256];
  *port = 0;
  while (fgets(line, sizeof(line), f) != NULL) {
    unsigned v;
    if (metrics_port != NULL && sscanf(line, "metrics on 127.0.0.1:%u", &v) == 1) {
      *metrics_port = (uint16_t)v;
    }
    if (sscanf(line, "listening on 127.0.0.1:%u", &v) == 1) {
      *port = (uint16_t)v;
      break;
    }
  }
  if (*port == 0 || (sf->metrics && (metrics_port == NULL || *metrics_port == 0))) {
    fprintf(stderr, "bench_server_load: %s did not start\n", sf->server);
    exit(1);
  }
  /* Keep reading its log lines so the server never blocks on stderr. */
  drain *d = calloc(1, sizeof(*d));
  if (d == NULL)
    die("calloc");
  d->fd = fileno(f);
  if (server_log_path != NULL)
    snprintf(d->log_path, sizeof(d->log_path), "%s%s", server_log_path, log_suffix);
  pthread_t th;
  pthread_create(&th, NULL, drain_main, d);
  pthread_detach(th);
  return pid;
}

static long vm_rss_kib(pid_t pid) {
  char path[64], line[256];
  snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
  FILE *f = fopen(path, "r");
  long kib = -1;
  while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
    if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
      break;
  }
  if (f != NULL)
    fclose(f);
  return kib;
}

/* The server's RSS with idle connections open, then with each inside an
 * exchange (one octet sent), against none; measured on a fresh server, whose
 * heap has not grown under load yet. Kernel socket buffers are not in it. */
static void report_idle_rss(pid_t server, uint16_t port, int idle) {
  long before = vm_rss_kib(server);
  int *fds = calloc((size_t)idle, sizeof(int));
  int opened = 0;
  if (fds == NULL)
    die("calloc");
  for (int i = 0; i < idle; i++) {
    fds[i] = connect_loopback(port);
    if (fds[i] >= 0)
      opened++;
  }
  /* The server accepts in order: once a later exchange completes, every
   * idle connection before it has been accepted (no session until its
   * first octet). */
  run_exchange(port, "urn:dev:mac:00000000fffe", 0, 1, NULL, 0, NULL);
  long after = vm_rss_kib(server);
  printf("server RSS: %ld KiB before, %ld KiB with %d idle connections: %.2f KiB per connection\n",
         before, after, opened, opened > 0 ? (double)(after - before) / opened : 0.0);
  /* One octet of a KeyRequest each: now every connection holds a session. */
  const uint8_t first = 0xa0;
  for (int i = 0; i < idle; i++) {
    if (fds[i] >= 0 && send(fds[i], &first, 1, MSG_NOSIGNAL) != 1) {
      close(fds[i]);
      fds[i] = -1;
      opened--;
    }
  }
  run_exchange(port, "urn:dev:mac:00000000fffe", 0, 1, NULL, 0, NULL);
  long busy = vm_rss_kib(server);
  printf("server RSS: %ld KiB with %d connections inside an exchange: %.2f KiB per connection\n",
         busy, opened, opened > 0 ? (double)(busy - before) / opened : 0.0);
  for (int i = 0; i < idle; i++) {
    if (fds[i] >= 0)
      close(fds[i]);
  }
  free(fds);
}

#define MAX_LEVELS 8

/* "64,1000" -> levels; 0 if every one is in 1..MAX_CLIENTS. */
static int parse_levels(const char *list, int levels[MAX_LEVELS], int *nlevels) {
  *nlevels = 0;
  for (;;) {
    char *end;
    long v = strtol(list, &end, 10);
    if (end == list || v < 1 || v > MAX_CLIENTS || *nlevels == MAX_LEVELS ||
        (*end != ',' && *end != '\0')) {
      return -1;
    }
    levels[(*nlevels)++] = (int)v;
    if (*end == '\0')
      return 0;
    list = end + 1; /* a number must follow the comma */
  }
}

static double ms_of(uint64_t ns) { return (double)ns / 1e6; }

/* init, then one user per gateway; 0 or -1. */
static int setup_server(const server_files *sf, int users) {
  char *cmd_argv[ARGV_MAX], user[64];
  command_init(cmd_argv, sf);
  int setup = run_cmd(cmd_argv);
  command_user_add(cmd_argv, sf, user);
  for (int i = 0; i < users && setup == 0; i++) {
    snprintf(user, sizeof(user), "bench%d@example.com", i);
    setup = run_cmd(cmd_argv);
  }
  if (setup != 0)
    fprintf(stderr, "bench_server_load: cannot set up %s with %s (build it first)\n", sf->db,
            sf->server);
  return setup;
}

/* Gateway state for each of max_clients gateways (see gateway_keys). */
static gateway_keys *new_gateway_keys(int max_clients, int engine) {
  gateway_keys *keys = calloc((size_t)max_clients, sizeof(*keys));
  if (keys == NULL)
    die("calloc");
  for (int i = 0; i < max_clients; i++) {
    keys[i].kc = sodium_malloc(sizeof(*keys[i].kc));
    if (keys[i].kc == NULL || (engine && cpns_secpool_new(&keys[i].pool, 1, 0, NULL) != 0)) {
      fprintf(stderr, "bench_server_load: out of guarded memory\n");
      exit(1);
    }
    memset(keys[i].kc, 0, sizeof(*keys[i].kc));
    randombytes_buf(keys[i].kc->nonce_key, sizeof(keys[i].kc->nonce_key));
  }
  return keys;
}

static void del_gateway_keys(gateway_keys *keys, int max_clients) {
  for (int i = 0; keys != NULL && i < max_clients; i++) {
    cpns_secpool_del(keys[i].pool);
    sodium_free(keys[i].kc);
  }
  free(keys);
}

/* PDU sizes of the first exchanges (pdu_sizes: the cached suite-1 one). */
static size_t engine_sizes[4], s2_sizes[4];

/*
 * The first exchanges must succeed: suite 2, suite 1 with the engine and
 * with cached keys. Suite 1's engine and cached exchanges differ in their
 * requests only (version 2 offering both suites, the first with ke1,
 * against version 1 offering suite 1), so the server's PDUs must have the
 * same sizes. Returns 0 or -1.
 */
static int first_exchanges(uint16_t port) {
  key_cache *kc = sodium_malloc(sizeof(*kc));
  if (kc == NULL)
    die("sodium_malloc");
  memset(kc, 0, sizeof(*kc));
  randombytes_buf(kc->nonce_key, sizeof(kc->nonce_key));
  int rc = run_exchange(port, "urn:dev:mac:00000000ffff", 0, 2, NULL, 1, NULL);
  memcpy(s2_sizes, pdu_sizes, sizeof(pdu_sizes));
  if (rc == 0)
    rc = run_exchange(port, "urn:dev:mac:00000000ffff", 0, 1, NULL, 1, NULL);
  memcpy(engine_sizes, pdu_sizes, sizeof(pdu_sizes));
  if (rc == 0 && (cached_exchange(port, "urn:dev:mac:00000000ffff", 0, kc, 1, NULL) != 0 ||
                  engine_sizes[1] != pdu_sizes[1] || engine_sizes[3] != pdu_sizes[3]))
    rc = -1;
  sodium_free(kc);
  return rc;
}

static double rate_of(const tally *t) { return t->ms > 0 ? (double)t->done * 1000.0 / t->ms : 0.0; }

static void print_level(const char *what, int clients, int kind, unsigned seconds, const tally *t) {
  double n = (double)t->done;
  printf("%s: %d concurrent gateways (%s), %u s: %llu exchanges (%llu failed); "
         "CPU per exchange: server %.0f us, gateways %.0f us; listen drops %lld\n",
         what, clients, load_names[kind], seconds, (unsigned long long)t->done,
         (unsigned long long)t->failed, n > 0 ? t->server_cpu_ms * 1000.0 / n : 0.0,
         n > 0 ? t->self_cpu_ms * 1000.0 / n : 0.0, t->listen_drops);
  if (t->db_cpu_ms > 0 && n > 0)
    printf("  PostgreSQL's processes: CPU per exchange %.0f us\n", t->db_cpu_ms * 1000.0 / n);
}

/* GET /metrics from the server's metrics port: the sum of its
 * cpns_exchanges_total{result="success",...} series, or -1. */
static long long scrape_successes(uint16_t port) {
  int fd = connect_loopback(port);
  static const char req[] = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  if (fd < 0 || send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof(req) - 1)) {
    if (fd >= 0)
      close(fd);
    return -1;
  }
  FILE *f = fdopen(fd, "r");
  if (f == NULL) {
    close(fd);
    return -1;
  }
  char line[512];
  long long sum = 0, v = 0;
  int ok = 0;
  while (fgets(line, sizeof(line), f) != NULL) {
    ok |= strncmp(line, "HTTP/1.", 7) == 0 && strstr(line, " 200 ") != NULL;
    static const char series[] = "cpns_exchanges_total{result=\"success\"";
    if (strncmp(line, series, sizeof(series) - 1) == 0) {
      const char *sp = strrchr(line, ' ');
      if (sp != NULL && sscanf(sp + 1, "%lld", &v) == 1)
        sum += v;
    }
  }
  fclose(f);
  return ok ? sum : -1;
}

int main(int argc, char **argv) {
  const char *server = getenv("CPNS_SERVER") ? getenv("CPNS_SERVER") : "examples/cpns-server";
  const char *clients_list = "64,1000", *pg_uri = NULL, *suites = "1,2", *before = NULL;
  pid_t pg_postmaster = 0;
  int idle = 1000, kind = LOAD_CACHED, levels[MAX_LEVELS], nlevels = 0;
  unsigned seconds = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--server") == 0)
      server = argv[i + 1];
    else if (strcmp(argv[i], "--clients") == 0)
      clients_list = argv[i + 1];
    else if (strcmp(argv[i], "--seconds") == 0)
      seconds = (unsigned)atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--idle") == 0)
      idle = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--log") == 0)
      server_log_path = argv[i + 1];
    else if (strcmp(argv[i], "--pg") == 0)
      pg_uri = argv[i + 1];
    else if (strcmp(argv[i], "--suites") == 0)
      suites = argv[i + 1];
    else if (strcmp(argv[i], "--metrics") == 0)
      before = argv[i + 1];
    else if (strcmp(argv[i], "--pg-postmaster") == 0)
      pg_postmaster = (pid_t)atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--gateway") == 0)
      kind = strcmp(argv[i + 1], "engine") == 0   ? LOAD_ENGINE
             : strcmp(argv[i + 1], "cached") == 0 ? LOAD_CACHED
                                                  : -1;
    else
      kind = -1;
  }
  /* The protocol loads of each level, in the order their rounds alternate
   * (bare TCP after them). */
  int loads[LOAD_KINDS], nloads = 0;
  int want1 = strcmp(suites, "1,2") == 0 || strcmp(suites, "2,1") == 0 || strcmp(suites, "1") == 0;
  int want2 = strcmp(suites, "1,2") == 0 || strcmp(suites, "2,1") == 0 || strcmp(suites, "2") == 0;
  if (want1)
    loads[nloads++] = kind;
  if (want2)
    loads[nloads++] = LOAD_S2;
  if (argc % 2 == 0 || parse_levels(clients_list, levels, &nlevels) != 0 || seconds < 1 ||
      seconds > 60 || idle < 0 || idle > 10000 || kind < 0 || (!want1 && !want2)) {
    fprintf(stderr,
            "usage: bench_server_load [--server PATH] [--clients N[,N...]] "
            "[--seconds 1..60] [--idle 0..10000] [--gateway cached|engine] "
            "[--suites 1,2|1|2] [--log FILE] [--pg URI [--pg-postmaster PID]]\n"
            "       [--metrics same|PATH]\n"
            "  --clients: concurrent gateways, 1..%d, up to %d levels (default 64,1000)\n"
            "  --seconds: alternating 1 s rounds per level and load (default 3)\n"
            "  --gateway: suite 1's load (default cached)\n"
            "  --suites: the suites measured beside bare TCP (default 1,2)\n"
            "  --pg: also a server on this empty PostgreSQL database, side by side\n"
            "  --pg-postmaster: its postmaster (local): its processes' CPU is counted too\n"
            "  --metrics: also a server with --metrics-listen, side by side with the one\n"
            "             without (same: --server; PATH: that binary, e.g. the previous build)\n",
            MAX_CLIENTS, MAX_LEVELS);
    return 2;
  }
  int max_clients = 0;
  for (int l = 0; l < nlevels; l++) {
    if (levels[l] > max_clients)
      max_clients = levels[l];
  }
  if (cpns_init() != 0 || lat_hist_self_check() != 0)
    return 1;
  signal(SIGPIPE, SIG_IGN);
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }

  snprintf(tmpdir, sizeof(tmpdir), "%s/cpns-bench.XXXXXX",
           getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  if (mkdtemp(tmpdir) == NULL)
    die("mkdtemp");
  char db[300], key[300], pgkey[300], pw[300], mdb[300], mkey[300];
  snprintf(db, sizeof(db), "%s/db", tmpdir);
  snprintf(mdb, sizeof(mdb), "%s/metrics.db", tmpdir);
  snprintf(mkey, sizeof(mkey), "%s/metrics.key", tmpdir);
  snprintf(key, sizeof(key), "%s/key", tmpdir);
  snprintf(pgkey, sizeof(pgkey), "%s/pgkey", tmpdir);
  snprintf(pw, sizeof(pw), "%s/pw", tmpdir);
  int pw_fd = open(pw, O_WRONLY | O_CREAT | O_EXCL, 0600); /* a password file is private */
  static const char pw_line[] = "bench password\n";
  if (pw_fd < 0 || write(pw_fd, pw_line, sizeof(pw_line) - 1) != sizeof(pw_line) - 1 ||
      close(pw_fd) != 0) {
    die("password file");
  }
  const server_files sf = {.server =
                               before != NULL && strcmp(before, "same") != 0 ? before : server,
                           .db = db,
                           .key = key,
                           .password_file = pw};
  const server_files msf = {
      .server = server, .db = mdb, .key = mkey, .password_file = pw, .metrics = 1};
  const server_files pgsf = {.server = server, .db = pg_uri, .key = pgkey, .password_file = pw};
  if (setup_server(&sf, max_clients) != 0 ||
      (pg_uri != NULL && setup_server(&pgsf, max_clients) != 0) ||
      (before != NULL && setup_server(&msf, max_clients) != 0))
    return 1;
  uint16_t port = 0, pgport = 0, mport = 0, mmetrics = 0;
  pid_t spid = start_server(&sf, idle + max_clients + 16, "", &port, NULL), pgpid = -1, mpid = -1;
  if (pg_uri != NULL)
    pgpid = start_server(&pgsf, max_clients + 16, ".pg", &pgport, NULL);
  if (before != NULL)
    mpid = start_server(&msf, max_clients + 16, ".metrics", &mport, &mmetrics);
  if (first_exchanges(port) != 0 || (pg_uri != NULL && first_exchanges(pgport) != 0) ||
      (before != NULL && first_exchanges(mport) != 0)) {
    fprintf(stderr, "bench_server_load: the first exchanges failed\n");
    kill(spid, SIGTERM);
    if (pgpid > 0)
      kill(pgpid, SIGTERM);
    if (mpid > 0)
      kill(mpid, SIGTERM);
    return 1;
  }
  printf("suite 1 PDU sizes: request %zu, challenge %zu, request %zu, delivery %zu octets "
         "(version 2 engine: requests %zu and %zu)\n",
         pdu_sizes[0], pdu_sizes[1], pdu_sizes[2], pdu_sizes[3], engine_sizes[0], engine_sizes[2]);
  printf("suite 2 PDU sizes: request %zu, challenge %zu, request %zu, delivery %zu octets\n",
         s2_sizes[0], s2_sizes[1], s2_sizes[2], s2_sizes[3]);
  if (idle > 0)
    report_idle_rss(spid, port, idle);

  int p[2];
  if (pipe(p) != 0)
    die("pipe");
  pid_t bpid = fork();
  if (bpid == 0) {
    close(p[0]);
    bare_server(p[1]);
  }
  close(p[1]);
  uint16_t bport = 0;
  if (read(p[0], &bport, sizeof(bport)) != sizeof(bport))
    die("baseline server");
  close(p[0]);

  /* Per server: its users' salts differ, so does what the gateways cache. */
  int engine = kind == LOAD_ENGINE || want2;
  gateway_keys *keys = new_gateway_keys(max_clients, engine);
  gateway_keys *pgkeys = pg_uri != NULL ? new_gateway_keys(max_clients, engine) : NULL;
  gateway_keys *mkeys = before != NULL ? new_gateway_keys(max_clients, engine) : NULL;
  lat_hist *hists = calloc((size_t)max_clients, sizeof(*hists));
  /* [level * LOAD_KINDS + load] */
  tally *cpns = calloc(MAX_LEVELS * LOAD_KINDS, sizeof(*cpns));
  tally *pg = calloc(MAX_LEVELS * LOAD_KINDS, sizeof(*pg));
  tally *met = calloc(MAX_LEVELS * LOAD_KINDS, sizeof(*met));
  if (hists == NULL || cpns == NULL || pg == NULL || met == NULL)
    die("calloc");
  for (int l = 0; l < nlevels; l++) {
    int clients = levels[l];
    tally *at = &cpns[l * LOAD_KINDS], *pat = &pg[l * LOAD_KINDS], *mat = &met[l * LOAD_KINDS];
    /* Alternating 1 s rounds: a machine whose load changes meanwhile weighs
     * on every figure alike. */
    for (unsigned r = 0; r < seconds; r++) {
      for (int k = 0; k < nloads; k++) {
        run_round(&at[loads[k]], port, loads[k], clients, 1000, spid, 0, keys, hists);
        if (pg_uri != NULL)
          run_round(&pat[loads[k]], pgport, loads[k], clients, 1000, pgpid, pg_postmaster, pgkeys,
                    hists);
        if (before != NULL)
          run_round(&mat[loads[k]], mport, loads[k], clients, 1000, mpid, 0, mkeys, hists);
      }
      run_round(&at[LOAD_BARE], bport, LOAD_BARE, clients, 1000, bpid, 0, keys, hists);
    }
    for (int k = 0; k < nloads; k++) {
      print_level(pg_uri != NULL ? "cpns-server on SQLite" : "cpns-server", clients, loads[k],
                  seconds, &at[loads[k]]);
      if (pg_uri != NULL)
        print_level("cpns-server on PostgreSQL", clients, loads[k], seconds, &pat[loads[k]]);
      if (before != NULL)
        print_level("cpns-server with metrics", clients, loads[k], seconds, &mat[loads[k]]);
    }
    const tally *b = &at[LOAD_BARE];
    double bn = (double)b->done;
    printf("bare TCP baseline: %d concurrent clients, %u s: %llu exchanges (%llu failed); "
           "CPU per exchange: server %.0f us, clients %.0f us; listen drops %lld\n",
           clients, seconds, (unsigned long long)b->done, (unsigned long long)b->failed,
           bn > 0 ? b->server_cpu_ms * 1000.0 / bn : 0.0,
           bn > 0 ? b->self_cpu_ms * 1000.0 / bn : 0.0, b->listen_drops);
    fflush(stdout);
  }
  kill(bpid, SIGTERM);
  waitpid(bpid, NULL, 0);
  del_gateway_keys(keys, max_clients);
  del_gateway_keys(pgkeys, max_clients);
  del_gateway_keys(mkeys, max_clients);
  free(hists);

  printf("\nRates in exchanges/s over %u alternating 1 s rounds per load. Latency in ms, of each\n"
         "successful exchange: from socket()+connect() until the last octet of the KeyDelivery\n"
         "(bare TCP: of the 4th message) has been read, so it includes the gateway's own work\n"
         "between the PDUs; closed loop: each gateway starts its next exchange when one ends.\n"
         "A max near 1000 ms is a SYN the kernel dropped at a full listen queue and resent\n"
         "1 s later (\"listen drops\" above, counted for the whole machine).\n",
         seconds);
  printf("%8s  %-31s %10s %8s %12s | %7s %7s %7s\n", "gateways", "load", "rate/s", "vs bare",
         "server us/ex", "p50", "p99", "max");
  for (int l = 0; l < nlevels; l++) {
    const tally *at = &cpns[l * LOAD_KINDS];
    double brate = rate_of(&at[LOAD_BARE]);
    for (int k = 0; k <= nloads; k++) {
      int kk = k < nloads ? loads[k] : LOAD_BARE;
      const tally *t = &at[kk];
      printf("%8d  %-31s %10.0f %7.1f%% %12.0f | %7.2f %7.2f %7.2f\n", levels[l], load_names[kk],
             rate_of(t), brate > 0 ? 100.0 * rate_of(t) / brate : 0.0,
             t->done > 0 ? t->server_cpu_ms * 1000.0 / (double)t->done : 0.0,
             ms_of(lat_hist_percentile(&t->hist, 50)), ms_of(lat_hist_percentile(&t->hist, 99)),
             ms_of(lat_hist_percentile(&t->hist, 100)));
    }
  }
  if (pg_uri != NULL) {
    /* Same durability: SQLite commits with fsync (WAL), PostgreSQL with
     * fsync and synchronous_commit on (the cluster's settings). */
    printf(
        "\nBackends side by side (same run, same rounds; SQLite then PostgreSQL for each load,\n"
        "then bare TCP, in each 1 s turn), exchanges/s; latency of the PostgreSQL server in ms:\n");
    printf("%8s  %-31s %10s %10s %10s %9s %9s | %7s %7s %7s\n", "gateways", "load", "sqlite/s",
           "pg/s", "bare/s", "pg/sqlite", "pg/bare", "pg p50", "p99", "max");
    for (int l = 0; l < nlevels; l++) {
      for (int k = 0; k < nloads; k++) {
        double rate = rate_of(&cpns[l * LOAD_KINDS + loads[k]]);
        double prate = rate_of(&pg[l * LOAD_KINDS + loads[k]]);
        double brate = rate_of(&cpns[l * LOAD_KINDS + LOAD_BARE]);
        const lat_hist *ph = &pg[l * LOAD_KINDS + loads[k]].hist;
        printf("%8d  %-31s %10.0f %10.0f %10.0f %8.2fx %8.1f%% | %7.2f %7.2f %7.2f\n", levels[l],
               load_names[loads[k]], rate, prate, brate, rate > 0 ? prate / rate : 0.0,
               brate > 0 ? 100.0 * prate / brate : 0.0, ms_of(lat_hist_percentile(ph, 50)),
               ms_of(lat_hist_percentile(ph, 99)), ms_of(lat_hist_percentile(ph, 100)));
      }
    }
  }
  if (before != NULL) {
    printf("\nMetrics side by side (same run, same rounds; the server without metrics (%s),\n"
           "then the one with --metrics-listen (%s), each on its own SQLite database, then bare\n"
           "TCP, in each 1 s turn), exchanges/s; server CPU per exchange in us:\n",
           sf.server, msf.server);
    printf("%8s  %-31s %10s %10s %10s %9s | %9s %9s\n", "gateways", "load", "before/s", "metrics/s",
           "bare/s", "met/before", "before us", "metrics us");
    uint64_t seen = 3; /* first_exchanges() */
    for (int l = 0; l < nlevels; l++) {
      for (int k = 0; k < nloads; k++) {
        const tally *bt = &cpns[l * LOAD_KINDS + loads[k]], *mt = &met[l * LOAD_KINDS + loads[k]];
        double rate = rate_of(bt), mrate = rate_of(mt);
        seen += mt->done;
        printf("%8d  %-31s %10.0f %10.0f %10.0f %8.3fx | %9.0f %9.0f\n", levels[l],
               load_names[loads[k]], rate, mrate, rate_of(&cpns[l * LOAD_KINDS + LOAD_BARE]),
               rate > 0 ? mrate / rate : 0.0,
               bt->done > 0 ? bt->server_cpu_ms * 1000.0 / (double)bt->done : 0.0,
               mt->done > 0 ? mt->server_cpu_ms * 1000.0 / (double)mt->done : 0.0);
      }
    }
    long long counted = scrape_successes(mmetrics);
    printf("metrics server: GET /metrics counts %lld successful exchanges; the bench saw %llu "
           "succeed%s\n",
           counted, (unsigned long long)seen,
           counted == (long long)seen ? "" : " (differ: exchanges failed or the scrape did)");
  }
  free(cpns);
  free(pg);
  free(met);

  kill(spid, SIGTERM);
  waitpid(spid, NULL, 0);
  if (pgpid > 0) {
    kill(pgpid, SIGTERM);
    waitpid(pgpid, NULL, 0);
  }
  if (mpid > 0) {
    kill(mpid, SIGTERM);
    waitpid(mpid, NULL, 0);
  }
  char cmd[320];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
  if (system(cmd) != 0)
    fprintf(stderr, "bench_server_load: could not remove %s\n", tmpdir);
  return 0;
}
