/* In-memory drive of the exchange engines for the Check suites. */
#include <string.h>

#include <check.h>
#include <sodium.h>

#include "exchange/server_internal.h"
#include "tests/exchange_harness.h"

const uint8_t hx_server_secret[CPNS_SERVER_SECRET_LEN] = {
    0x53, 0x65, 0x72, 0x76, 0x65, 0x72, 0x20, 0x73, 0x65, 0x63, 0x72, 0x65, 0x74, 0x20, 0x66, 0x6f,
    0x72, 0x20, 0x74, 0x65, 0x73, 0x74, 0x73, 0x20, 0x6f, 0x6e, 0x6c, 0x79, 0x2e, 0x2e, 0x2e, 0x21};

cpns_credential *hx_credential(const char *password) {
  cpns_kdf_params kdf;
  cpns_credential *cred = sodium_malloc(sizeof *cred);
  ck_assert_ptr_nonnull(cred);
  memset(&kdf, 0, sizeof kdf);
  memcpy(kdf.salt, "fixed test salt!", CPNS_SALT_LEN);
  kdf.ops_limit = HX_OPS;
  kdf.mem_limit_kib = HX_MEM_KIB;
  ck_assert_int_eq(
      cpns_crypto_credential_create(cred, (const uint8_t *)password, strlen(password), &kdf), 0);
  return cred;
}

int hx_gateway_result(const cpns_gateway *gw) {
  cpns_result result;
  int rv = cpns_gateway_get_result(gw, &result);
  ck_assert(rv == 0 || rv == CPNS_ERR_STATE);
  return rv == 0 ? (int)result : -1;
}

int hx_session_result(const cpns_server_session *s) {
  cpns_result result;
  int rv = cpns_server_session_get_result(s, &result);
  ck_assert(rv == 0 || rv == CPNS_ERR_STATE);
  return rv == 0 ? (int)result : -1;
}

cpns_server_settings hx_server_settings(void) {
  cpns_server_settings st;
  cpns_server_settings_default(&st);
  st.realm = (const uint8_t *)HX_REALM;
  st.realm_len = strlen(HX_REALM);
  st.server_secret = hx_server_secret;
  st.fake_ops_limit = HX_OPS;
  st.fake_mem_limit_kib = HX_MEM_KIB;
  return st;
}

const cpns_s2_server_keys *hx_s2_keys(void) {
  static cpns_s2_server_keys *keys;
  if (keys == NULL) {
    keys = sodium_malloc(sizeof *keys);
    ck_assert_ptr_nonnull(keys);
    ck_assert_int_eq(cpns_crypto_s2_server_keys_generate(keys), 0);
  }
  return keys;
}

cpns_s2_record *hx_s2_record(const char *password) {
  cpns_s2_record *rec = sodium_malloc(sizeof *rec);
  ck_assert_ptr_nonnull(rec);
  ck_assert_int_eq(cpns_crypto_s2_register(rec, (const uint8_t *)password, strlen(password),
                                           (const uint8_t *)HX_USER_NORM, strlen(HX_USER_NORM),
                                           HX_OPS, HX_MEM_KIB, hx_s2_keys()),
                   0);
  return rec;
}

cpns_server_settings hx_server_settings_s2(void) {
  cpns_server_settings st = hx_server_settings();
  st.s2_keys = hx_s2_keys();
  return st;
}

cpns_gateway_settings hx_gateway_settings_s2(const char *password) {
  cpns_gateway_settings st;
  cpns_gateway_settings_default(&st);
  st.entity_id = (const uint8_t *)HX_ENTITY;
  st.entity_id_len = strlen(HX_ENTITY);
  st.user_id = (const uint8_t *)HX_USER;
  st.user_id_len = strlen(HX_USER);
  st.mode = CPNS_MODE_PNE_PLUS_PN_GW;
  st.password = (const uint8_t *)password;
  st.password_len = strlen(password);
  return st;
}

cpns_gateway_settings hx_gateway_settings(const char *password) {
  cpns_gateway_settings st = hx_gateway_settings_s2(password);
  st.allow_suite1 = 1;
  /* The records use HX_OPS/HX_MEM_KIB, below the suite 1 floors (§7). */
  st.min_ops_limit = HX_OPS;
  st.min_mem_limit_kib = HX_MEM_KIB;
  return st;
}

void hx_init_with(hx *h, const cpns_gateway_settings *gs, const cpns_server_settings *ss) {
  memset(h, 0, sizeof *h);
  h->now = 1000;
  ck_assert_int_eq(cpns_gateway_new(&h->gw, gs, NULL, h->now), 0);
  ck_assert_int_eq(cpns_server_session_new(&h->s, ss, NULL, h->now), 0);
}

void hx_init(hx *h, const char *password) {
  cpns_gateway_settings gs = hx_gateway_settings(password);
  cpns_server_settings ss = hx_server_settings();
  hx_init_with(h, &gs, &ss);
}

void hx_free(hx *h) {
  cpns_gateway_del(h->gw);
  cpns_server_session_del(h->s);
  h->gw = NULL;
  h->s = NULL;
}

/* Feeds in chunk octets at a time (0: all at once); the engine takes every chunk. */
static int feed(int (*read)(void *, const uint8_t *, size_t, uint64_t), void *engine,
                const uint8_t *in, size_t len, size_t chunk, uint64_t now) {
  size_t off = 0;
  int rv = 0;
  if (chunk == 0) {
    chunk = len;
  }
  while (off < len && rv == 0) {
    size_t n = len - off < chunk ? len - off : chunk;
    rv = read(engine, in + off, n, now);
    off += n;
  }
  return rv;
}

static int server_read(void *e, const uint8_t *in, size_t n, uint64_t now) {
  return cpns_server_session_read(e, in, n, now);
}

static int gateway_read(void *e, const uint8_t *in, size_t n, uint64_t now) {
  return cpns_gateway_read(e, in, n, now);
}

int hx_server_feed(cpns_server_session *s, const uint8_t *in, size_t len, size_t chunk,
                   uint64_t now) {
  return feed(server_read, s, in, len, chunk, now);
}

int hx_gateway_feed(cpns_gateway *gw, const uint8_t *in, size_t len, size_t chunk, uint64_t now) {
  return feed(gateway_read, gw, in, len, chunk, now);
}

static int step(hx *h) {
  cpns_gateway_state g = cpns_gateway_get_state(h->gw);
  cpns_server_state sv = cpns_server_session_get_state(h->s);
  hx_wire *w;
  if (g == CPNS_GATEWAY_SEND && sv == CPNS_SERVER_RECEIVE) {
    ck_assert_uint_lt(h->n_to_server, 2);
    w = &h->to_server[h->n_to_server++];
    ck_assert_int_eq(cpns_gateway_write(h->gw, w->bytes, sizeof w->bytes, &w->len, h->now), 0);
    hx_server_feed(h->s, w->bytes, w->len, h->chunk, h->now);
    return 1;
  }
  if (sv == CPNS_SERVER_SEND && g == CPNS_GATEWAY_RECEIVE &&
      (h->hold_at == 0 || h->n_to_gateway + 1 != h->hold_at)) {
    ck_assert_uint_lt(h->n_to_gateway, 2);
    w = &h->to_gateway[h->n_to_gateway++];
    ck_assert_int_eq(cpns_server_session_write(h->s, w->bytes, sizeof w->bytes, &w->len, h->now),
                     0);
    hx_gateway_feed(h->gw, w->bytes, w->len, h->chunk, h->now);
    return 1;
  }
  if (sv == CPNS_SERVER_NEED_CREDENTIAL) {
    int known = h->cred_mode == HX_KNOWN;
    cpns_credential *cred = known && !h->no_suite1_record ? hx_credential(HX_PASSWORD) : NULL;
    cpns_s2_record *rec =
        known && !h->no_suite2_record && h->s->s2_keys != NULL ? hx_s2_record(HX_PASSWORD) : NULL;
    ck_assert_int_eq(
        cpns_server_session_provide_records(h->s, cred, rec, h->cred_mode == HX_THROTTLED, h->now),
        0);
    sodium_free(cred);
    sodium_free(rec);
    return 1;
  }
  if (sv == CPNS_SERVER_NEED_STORE) {
    cpns_server_assignment a;
    ck_assert_int_eq(cpns_server_session_get_assignment(h->s, &a), 0);
    h->stored = 1;
    h->assignment_seen = a;
    memcpy(h->stored_eukey, a.eukey, CPNS_EUKEY_LEN);
    memcpy(h->stored_key_id, a.key_id, CPNS_KEY_ID_LEN);
    ck_assert_int_eq(cpns_server_session_store_done(h->s, h->store_status, h->now), 0);
    return 1;
  }
  if (g == CPNS_GATEWAY_DERIVE) {
    /* Suite 2 may fail here (wrong password, unknown user): no ke3 then. */
    int rv = cpns_gateway_derive(h->gw, h->now);
    ck_assert(rv == 0 ||
              (rv == CPNS_ERR_AUTH_FAILED && cpns_gateway_get_state(h->gw) == CPNS_GATEWAY_FAILED));
    return 1;
  }
  return 0;
}

void hx_run(hx *h) {
  int steps = 0;
  while (step(h)) {
    ck_assert_int_lt(++steps, 32);
  }
}

size_t hx_encode(const cpns_pdu *pdu, uint8_t *out, size_t outlen) {
  size_t n = 0;
  ck_assert_int_eq(cpns_pdu_encode(pdu, out, outlen, &n), 0);
  return n;
}

void hx_server_take(cpns_server_session *s, cpns_pdu *pdu, hx_wire *wire) {
  hx_wire local;
  if (wire == NULL) {
    wire = &local;
  }
  ck_assert_int_eq(cpns_server_session_get_state(s), CPNS_SERVER_SEND);
  ck_assert_int_eq(cpns_server_session_write(s, wire->bytes, sizeof wire->bytes, &wire->len, 0), 0);
  ck_assert_int_eq(cpns_pdu_decode(pdu, wire->bytes, wire->len, NULL), 0);
}

void hx_expect_refusal(cpns_server_session *s, cpns_result result) {
  cpns_pdu pdu;
  ck_assert_int_eq(hx_session_result(s), (int)result);
  hx_server_take(s, &pdu, NULL);
  ck_assert_int_eq(pdu.type, CPNS_PDU_KEY_DELIVERY);
  ck_assert_int_eq(pdu.u.key_delivery.result, result);
  ck_assert_int_eq(pdu.u.key_delivery.has_assignment, 0);
  ck_assert_int_eq(cpns_server_session_get_state(s), CPNS_SERVER_DONE);
}

void hx_proof(const cpns_key_request *req, const cpns_key_challenge *chal, const char *password,
              uint8_t proof[CPNS_PROOF_LEN]) {
  uint8_t salted[CPNS_SALTED_PASSWORD_LEN], client_key[CPNS_CLIENT_KEY_LEN];
  uint8_t stored_key[CPNS_STORED_KEY_LEN], auth[CPNS_PDU_MAX_ENCODED];
  cpns_auth_transcript t;
  size_t auth_len;
  ck_assert_int_eq(
      cpns_crypto_salted_password(salted, (const uint8_t *)password, strlen(password), &chal->kdf),
      0);
  ck_assert_int_eq(cpns_crypto_client_key(client_key, salted), 0);
  ck_assert_int_eq(cpns_crypto_stored_key(stored_key, client_key), 0);
  ck_assert_int_eq(cpns_auth_transcript_from(&t, req, chal), 0);
  ck_assert_int_eq(cpns_auth_transcript_encode(&t, auth, sizeof auth, &auth_len), 0);
  ck_assert_int_eq(cpns_crypto_client_proof(proof, client_key, stored_key, auth, auth_len), 0);
}

void hx_first_request(cpns_key_request *req) {
  memset(req, 0, sizeof *req);
  req->version = 1;
  req->entity_id_len = strlen(HX_ENTITY);
  memcpy(req->entity_id, HX_ENTITY, req->entity_id_len);
  req->user_id_len = strlen(HX_USER);
  memcpy(req->user_id, HX_USER, req->user_id_len);
  req->mode = CPNS_MODE_PN_GW;
  memset(req->gateway_nonce, 0x42, sizeof req->gateway_nonce);
  req->offered_suites_len = 1;
  req->offered_suites[0] = CPNS_SUITE_ARGON2ID_HMACSHA256_XCHACHA20POLY1305;
}

cpns_server_session *hx_session_after_first(const cpns_key_request *req, hx_cred_mode mode,
                                            cpns_key_challenge *chal) {
  cpns_server_settings ss = hx_server_settings();
  cpns_server_session *s = NULL;
  cpns_credential *cred = NULL;
  cpns_pdu pdu;
  uint8_t buf[CPNS_PDU_MAX_ENCODED];
  size_t len;
  memset(&pdu, 0, sizeof pdu);
  pdu.type = CPNS_PDU_KEY_REQUEST;
  pdu.u.key_request = *req;
  len = hx_encode(&pdu, buf, sizeof buf);
  ck_assert_int_eq(cpns_server_session_new(&s, &ss, NULL, 0), 0);
  ck_assert_int_eq(hx_server_feed(s, buf, len, 0, 0), 0);
  ck_assert_int_eq(cpns_server_session_get_state(s), CPNS_SERVER_NEED_CREDENTIAL);
  if (mode == HX_KNOWN) {
    cred = hx_credential(HX_PASSWORD);
  }
  ck_assert_int_eq(cpns_server_session_provide_credential(s, cred, mode == HX_THROTTLED, 0), 0);
  sodium_free(cred);
  if (mode != HX_THROTTLED) {
    hx_server_take(s, &pdu, NULL);
    ck_assert_int_eq(pdu.type, CPNS_PDU_KEY_CHALLENGE);
    if (chal != NULL) {
      *chal = pdu.u.key_challenge;
    }
    ck_assert_int_eq(cpns_server_session_get_state(s), CPNS_SERVER_RECEIVE);
  }
  return s;
}
