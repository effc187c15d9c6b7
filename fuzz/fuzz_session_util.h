/*
 * Shared by the session fuzz targets and their seed generator.
 *
 * Input format: one options octet, then events. An event is a length octet
 * L followed by L octets of stream data (fewer at the end of the input),
 * except L = 0: the peer closes, and L = 0xff: the clock jumps by the next
 * octet times 1000 ms and the host calls handle_expiry. So the fuzzer
 * chooses where the byte stream is split.
 *
 * The CSPRNG is replaced by a deterministic stream, restarted for every
 * input: the nonces an engine draws are then the same as when the seeds
 * were recorded, and recorded real exchanges reach the success path.
 */
#ifndef CPNS_FUZZ_SESSION_UTIL_H
#define CPNS_FUZZ_SESSION_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <cpns/cpns.h>

#define FZ_EVENT_CLOSE 0x00
#define FZ_EVENT_TIME 0xff
#define FZ_CHUNK_MAX 0xfe

#define FZ_ENTITY "urn:dev:mac:0024BEFFFE804FF1"
#define FZ_USER "gw-owner@Example.org"
#define FZ_PASSWORD "fuzz password"
#define FZ_REALM "fuzz.example.org"
#define FZ_OPS 1
#define FZ_MEM_KIB 8

static uint64_t fz_rng_counter;

static inline void fz_rng_buf(void *buf, size_t size) {
  uint8_t seed[randombytes_SEEDBYTES];
  memset(seed, 0, sizeof seed);
  memcpy(seed, &fz_rng_counter, sizeof fz_rng_counter);
  fz_rng_counter++;
  randombytes_buf_deterministic(buf, size, seed);
}

static inline const char *fz_rng_name(void) { return "cpns-fuzz-deterministic"; }

static inline uint32_t fz_rng_random(void) {
  uint32_t v;
  fz_rng_buf(&v, sizeof v);
  return v;
}

static inline void fz_rng_stir(void) {}

static inline uint32_t fz_rng_uniform(const uint32_t upper) {
  return upper < 2 ? 0 : fz_rng_random() % upper; /* bias is irrelevant here */
}

static inline int fz_rng_close(void) { return 0; }

/* Installs the deterministic stream; must run before cpns_init(). */
static inline void fz_setup(void) {
  static randombytes_implementation impl = {fz_rng_name,    fz_rng_random, fz_rng_stir,
                                            fz_rng_uniform, fz_rng_buf,    fz_rng_close};
  if (randombytes_set_implementation(&impl) != 0 || cpns_init() != 0) {
    abort();
  }
}

/* Restarts the stream: every input sees the same draws. */
static inline void fz_rng_reset(void) { fz_rng_counter = 0; }

/* Suite-2 server keys and the enrolled user's suite-2 record (fz_s2_setup()). */
static cpns_s2_server_keys *fz_s2_keys;
static cpns_s2_record *fz_s2_record;

/* Makes them from a restarted stream, so the targets and the seed generator agree. */
static inline void fz_s2_setup(void) {
  fz_s2_keys = sodium_malloc(sizeof *fz_s2_keys);
  fz_s2_record = sodium_malloc(sizeof *fz_s2_record);
  fz_rng_reset();
  if (fz_s2_keys == NULL || fz_s2_record == NULL ||
      cpns_crypto_s2_server_keys_generate(fz_s2_keys) != 0 ||
      cpns_crypto_s2_register(fz_s2_record, (const uint8_t *)FZ_PASSWORD, strlen(FZ_PASSWORD),
                              (const uint8_t *)"gw-owner@example.org",
                              strlen("gw-owner@example.org"), FZ_OPS, FZ_MEM_KIB,
                              fz_s2_keys) != 0) {
    abort();
  }
}

static inline cpns_server_settings fz_server_settings(uint8_t opts) {
  static const uint8_t fz_server_secret[CPNS_SERVER_SECRET_LEN] = {
      1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
      17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
  cpns_server_settings st;
  cpns_server_settings_default(&st);
  st.realm = (const uint8_t *)FZ_REALM;
  st.realm_len = strlen(FZ_REALM);
  st.server_secret = fz_server_secret;
  st.fake_ops_limit = FZ_OPS;
  st.fake_mem_limit_kib = FZ_MEM_KIB;
  st.max_pdu_len = (opts & 0x10) ? 128 : CPNS_PDU_MAX_DEFAULT;
  st.s2_keys = (opts & 0x20) ? fz_s2_keys : NULL; /* suites {2, 1}, else {1} */
  return st;
}

static inline cpns_gateway_settings fz_gateway_settings(uint8_t opts) {
  cpns_gateway_settings st;
  cpns_gateway_settings_default(&st);
  st.entity_id = (const uint8_t *)FZ_ENTITY;
  st.entity_id_len = strlen(FZ_ENTITY);
  st.user_id = (const uint8_t *)FZ_USER;
  st.user_id_len = strlen(FZ_USER);
  st.mode = (opts & 0x20) ? CPNS_MODE_PNE_PLUS_PN_GW : CPNS_MODE_PN_GW;
  st.password = (const uint8_t *)((opts & 0x01) ? "wrong password" : FZ_PASSWORD);
  st.password_len = strlen((const char *)st.password);
  /* Keep Argon2id cheap whatever a fuzzed challenge asks for; the record
   * itself is below the suite 1 floors (§7). */
  st.min_ops_limit = FZ_OPS;
  st.min_mem_limit_kib = FZ_MEM_KIB;
  st.max_ops_limit = 2;
  st.max_mem_limit_kib = 64;
  st.max_pdu_len = (opts & 0x10) ? 128 : CPNS_PDU_MAX_DEFAULT;
  st.allow_suite1 = !(opts & 0x02); /* offers {2, 1} and may fall back, else {2} */
  return st;
}

/* The enrolled user's record: fixed salt, so no random draw. */
static inline int fz_credential(cpns_credential *cred) {
  cpns_kdf_params kdf;
  memset(&kdf, 0, sizeof kdf);
  memcpy(kdf.salt, "fuzz salt 16 oct", CPNS_SALT_LEN);
  kdf.ops_limit = FZ_OPS;
  kdf.mem_limit_kib = FZ_MEM_KIB;
  return cpns_crypto_credential_create(cred, (const uint8_t *)FZ_PASSWORD, strlen(FZ_PASSWORD),
                                       &kdf);
}

/* Whatever an engine sends must be a valid PDU of its side: KeyRequests
 * from the gateway (from_server 0), the other two from the server. */
static inline void fz_check_sent(const uint8_t *buf, size_t len, int from_server) {
  cpns_pdu pdu;
  if (len > CPNS_PDU_MAX_ENCODED || cpns_pdu_decode(&pdu, buf, len, NULL) != 0) {
    abort();
  }
  if ((pdu.type == CPNS_PDU_KEY_REQUEST) == (from_server != 0)) {
    abort();
  }
  if (pdu.type == CPNS_PDU_KEY_DELIVERY && (pdu.u.key_delivery.result == CPNS_RESULT_SUCCESS) !=
                                               (pdu.u.key_delivery.has_assignment != 0)) {
    abort();
  }
}

/* What the event loop needs of one engine; ctx is the target's own. */
typedef struct fz_engine {
  void *ctx;
  int (*read)(void *ctx, const uint8_t *in, size_t inlen, uint64_t now);
  void (*handle_expiry)(void *ctx, uint64_t now);
  int (*receiving)(void *ctx);                 /* waits for bytes */
  int (*finished)(void *ctx);                  /* nothing more will happen */
  int (*closed_on_error)(void *ctx);           /* the state a read error must leave */
  void (*host_steps)(void *ctx, uint64_t now); /* play the host until it waits */
} fz_engine;

/*
 * Feeds the events of data[1..size) (format above) to an engine. Like a
 * host, it reads only while the engine receives, and the engine takes the
 * whole chunk (it keeps bytes after a PDU itself); a chunk that arrives in
 * another state is dropped. A read that fails must leave the engine in its
 * failed/closed state.
 */
static inline void fz_play(const uint8_t *data, size_t size, const fz_engine *e) {
  uint64_t now = 0;
  size_t off = 1;
  e->host_steps(e->ctx, now);
  while (off < size && !e->finished(e->ctx)) {
    uint8_t ev = data[off++];
    if (ev == FZ_EVENT_CLOSE) {
      (void)e->read(e->ctx, NULL, 0, now);
    } else if (ev == FZ_EVENT_TIME) {
      now += off < size ? (uint64_t)data[off++] * 1000 : 1000;
      e->handle_expiry(e->ctx, now);
    } else {
      size_t n = size - off < ev ? size - off : ev;
      const uint8_t *chunk = data + off;
      off += n;
      if (n > 0 && e->receiving(e->ctx)) {
        int rv = e->read(e->ctx, chunk, n, now);
        if (rv != 0 && !e->closed_on_error(e->ctx)) {
          abort();
        }
      }
    }
    e->host_steps(e->ctx, now);
  }
}

#endif /* CPNS_FUZZ_SESSION_UTIL_H */
