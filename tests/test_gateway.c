/*
 * Gateway engine: the exchange against the real server session, and every
 * check on what a (possibly malicious) server sends (PROTOCOL.md §4, §7).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <sodium.h>

#include "exchange/gateway_internal.h"
#include "exchange/server_internal.h"
#include "tests/exchange_harness.h"

static const uint8_t zeros[1024];

static cpns_gateway *new_gateway(const cpns_gateway_settings *st) {
  cpns_gateway *gw = NULL;
  ck_assert_int_eq(cpns_gateway_new(&gw, st, NULL, 0), 0);
  return gw;
}

/* A gateway that has written its first KeyRequest (decoded into req) at now. */
static cpns_gateway *gateway_waiting(const cpns_gateway_settings *st, cpns_key_request *req,
                                     uint64_t now) {
  cpns_gateway *gw = NULL;
  cpns_pdu pdu;
  uint8_t buf[CPNS_PDU_MAX_ENCODED];
  size_t len;
  ck_assert_int_eq(cpns_gateway_new(&gw, st, NULL, now), 0);
  ck_assert_int_eq(cpns_gateway_write(gw, buf, sizeof buf, &len, now), 0);
  ck_assert_int_eq(cpns_pdu_decode(&pdu, buf, len, NULL), 0);
  ck_assert_int_eq(pdu.type, CPNS_PDU_KEY_REQUEST);
  if (req != NULL) {
    *req = pdu.u.key_request;
  }
  return gw;
}

static void challenge_for(cpns_key_challenge *c) {
  memset(c, 0, sizeof *c);
  c->version = 2; /* suite 1 under version 2: the tests' gateway offers {2, 1} */
  c->realm_len = strlen(HX_REALM);
  memcpy(c->realm, HX_REALM, c->realm_len);
  memset(c->server_nonce, 0x5a, sizeof c->server_nonce);
  c->suite = CPNS_SUITE_ARGON2ID_HMACSHA256_XCHACHA20POLY1305;
  memcpy(c->kdf.salt, "0123456789abcdef", CPNS_SALT_LEN);
  c->kdf.ops_limit = HX_OPS;
  c->kdf.mem_limit_kib = HX_MEM_KIB;
}

static void delivery_for(cpns_key_delivery *d, const cpns_key_request *req, cpns_result result) {
  memset(d, 0, sizeof *d);
  d->version = 2;
  d->result = result;
  d->entity_id_len = req->entity_id_len;
  memcpy(d->entity_id, req->entity_id, req->entity_id_len);
  d->user_id_len = req->user_id_len;
  memcpy(d->user_id, req->user_id, req->user_id_len);
}

static int feed_pdu(cpns_gateway *gw, const cpns_pdu *pdu) {
  uint8_t buf[CPNS_PDU_MAX_ENCODED];
  size_t len = hx_encode(pdu, buf, sizeof buf);
  return hx_gateway_feed(gw, buf, len, 0, 0);
}

static int feed_challenge(cpns_gateway *gw, const cpns_key_challenge *c) {
  cpns_pdu pdu;
  memset(&pdu, 0, sizeof pdu);
  pdu.type = CPNS_PDU_KEY_CHALLENGE;
  pdu.u.key_challenge = *c;
  return feed_pdu(gw, &pdu);
}

static int feed_delivery(cpns_gateway *gw, const cpns_key_delivery *d) {
  cpns_pdu pdu;
  memset(&pdu, 0, sizeof pdu);
  pdu.type = CPNS_PDU_KEY_DELIVERY;
  pdu.u.key_delivery = *d;
  return feed_pdu(gw, &pdu);
}

static void expect_failed(cpns_gateway *gw, int error) {
  uint8_t eukey[CPNS_EUKEY_LEN], key_id[CPNS_KEY_ID_LEN];
  ck_assert_int_eq(cpns_gateway_get_state(gw), CPNS_GATEWAY_FAILED);
  ck_assert_int_eq(cpns_gateway_get_error(gw), error);
  ck_assert_int_eq(cpns_gateway_get_eukey(gw, eukey, key_id), CPNS_ERR_STATE);
  ck_assert_uint_eq(cpns_gateway_get_expiry(gw), UINT64_MAX);
  /* Nothing secret survives a failure. */
  ck_assert_mem_eq(gw->sec, zeros, sizeof *gw->sec);
  ck_assert_uint_eq(gw->password_len, 0);
}

START_TEST(test_gateway_new_invalid_arguments) {
  cpns_gateway_settings st = hx_gateway_settings(HX_PASSWORD);
  cpns_gateway *gw = (cpns_gateway *)&st;
  char long_id[300];
  ck_assert_int_eq(cpns_gateway_new(NULL, &st, NULL, 0), CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(cpns_gateway_new(&gw, NULL, NULL, 0), CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_ptr_null(gw);
  st.mode = (cpns_mode)7;
  ck_assert_int_eq(cpns_gateway_new(&gw, &st, NULL, 0), CPNS_ERR_INVALID_ARGUMENT);
  st = hx_gateway_settings(HX_PASSWORD);
  st.password = NULL;
  ck_assert_int_eq(cpns_gateway_new(&gw, &st, NULL, 0), CPNS_ERR_INVALID_ARGUMENT);
  st = hx_gateway_settings(HX_PASSWORD);
  st.entity_id = NULL;
  ck_assert_int_eq(cpns_gateway_new(&gw, &st, NULL, 0), CPNS_ERR_INVALID_ARGUMENT);
  st = hx_gateway_settings(HX_PASSWORD);
  st.entity_id_len = 0;
  ck_assert_int_eq(cpns_gateway_new(&gw, &st, NULL, 0), CPNS_ERR_ID_EMPTY);
  st = hx_gateway_settings(HX_PASSWORD);
  st.entity_id = (const uint8_t *)"urn:uuid:1234";
  st.entity_id_len = 13;
  ck_assert_int_eq(cpns_gateway_new(&gw, &st, NULL, 0), CPNS_ERR_ID_NAMESPACE);
  st = hx_gateway_settings(HX_PASSWORD);
  memset(long_id, 'a', sizeof long_id);
  st.user_id = (const uint8_t *)long_id;
  st.user_id_len = sizeof long_id;
  ck_assert_int_eq(cpns_gateway_new(&gw, &st, NULL, 0), CPNS_ERR_ID_TOO_LONG);
  st.user_id = (const uint8_t *)"alice@";
  st.user_id_len = 6;
  ck_assert_int_lt(cpns_gateway_new(&gw, &st, NULL, 0), -199); /* an identifier error */
  ck_assert_ptr_null(gw);
  cpns_gateway_del(NULL);
}
END_TEST

START_TEST(test_gateway_write_first_request) {
  cpns_gateway_settings st = hx_gateway_settings(HX_PASSWORD);
  cpns_gateway *gw = new_gateway(&st);
  uint8_t buf[CPNS_PDU_MAX_ENCODED];
  size_t len;
  cpns_pdu pdu;
  const cpns_key_request *req = &pdu.u.key_request;
  ck_assert_int_eq(cpns_gateway_get_state(gw), CPNS_GATEWAY_SEND);
  ck_assert_uint_eq(cpns_gateway_get_expiry(gw), UINT64_MAX);
  ck_assert_int_eq(hx_gateway_result(gw), -1);
  ck_assert_int_eq(cpns_gateway_write(gw, buf, 20, &len, 0), CPNS_ERR_BUFFER_TOO_SMALL);
  ck_assert_int_eq(cpns_gateway_get_state(gw), CPNS_GATEWAY_SEND);
  ck_assert_int_eq(cpns_gateway_write(gw, buf, sizeof buf, &len, 500), 0);
  ck_assert_int_eq(cpns_gateway_get_state(gw), CPNS_GATEWAY_RECEIVE);
  ck_assert_uint_eq(cpns_gateway_get_expiry(gw), 500 + 30000);
  ck_assert_int_eq(cpns_pdu_decode(&pdu, buf, len, NULL), 0);
  ck_assert_int_eq(pdu.type, CPNS_PDU_KEY_REQUEST);
  ck_assert_int_eq(req->version, 2);
  ck_assert_uint_eq(req->entity_id_len, strlen(HX_ENTITY));
  ck_assert_mem_eq(req->entity_id, HX_ENTITY, req->entity_id_len); /* as given, not normalized */
  ck_assert_mem_eq(req->user_id, HX_USER, req->user_id_len);
  ck_assert_int_eq(req->mode, CPNS_MODE_PNE_PLUS_PN_GW);
  /* allow_suite1: suite 2 first, then suite 1 (§7); ke1 goes with suite 2. */
  ck_assert_uint_eq(req->offered_suites_len, 2);
  ck_assert_int_eq(req->offered_suites[0], CPNS_SUITE_OPAQUE3DH_RISTRETTO255_SHA512_ARGON2ID);
  ck_assert_int_eq(req->offered_suites[1], CPNS_SUITE_ARGON2ID_HMACSHA256_XCHACHA20POLY1305);
  ck_assert_int_eq(req->has_response, 0);
  ck_assert_int_eq(req->has_ke1, 1);
  ck_assert_int_eq(req->has_ke3, 0);
  ck_assert_int_eq(crypto_core_ristretto255_is_valid_point(req->ke1.blinded_message), 1);
  ck_assert_int_eq(crypto_core_ristretto255_is_valid_point(req->ke1.client_public_keyshare), 1);
  ck_assert_int_eq(cpns_key_request_validate_first(req), 0);
  ck_assert_mem_ne(req->gateway_nonce, zeros, CPNS_NONCE_LEN);
  ck_assert_int_eq(cpns_gateway_write(gw, buf, sizeof buf, &len, 0), CPNS_ERR_STATE);
  cpns_gateway_del(gw);
}
END_TEST

START_TEST(test_gateway_exchange_success) {
  hx h;
  cpns_kdf_params kdf;
  uint8_t realm[CPNS_REALM_MAX], eukey[CPNS_EUKEY_LEN], key_id[CPNS_KEY_ID_LEN];
  size_t realm_len;
  cpns_pdu first, second;
  hx_init(&h, HX_PASSWORD);
  h.chunk = (size_t)_i * 7; /* all at once, then in 7-octet pieces */
  hx_run(&h);
  ck_assert_int_eq(cpns_gateway_get_state(h.gw), CPNS_GATEWAY_DONE);
  ck_assert_int_eq(cpns_gateway_get_error(h.gw), 0);
  ck_assert_int_eq(hx_gateway_result(h.gw), CPNS_RESULT_SUCCESS);
  ck_assert_int_eq(cpns_gateway_get_eukey(h.gw, eukey, key_id), 0);
  ck_assert_mem_eq(eukey, h.stored_eukey, CPNS_EUKEY_LEN);
  ck_assert_mem_eq(key_id, h.stored_key_id, CPNS_KEY_ID_LEN);
  ck_assert_int_eq(cpns_gateway_get_challenge(h.gw, &kdf, realm, &realm_len), 0);
  ck_assert_uint_eq(realm_len, strlen(HX_REALM));
  ck_assert_mem_eq(realm, HX_REALM, realm_len);
  ck_assert_int_eq(kdf.ops_limit, HX_OPS);
  ck_assert_int_eq(kdf.mem_limit_kib, HX_MEM_KIB);
  ck_assert_mem_eq(kdf.salt, "fixed test salt!", CPNS_SALT_LEN);
  /* The second KeyRequest repeats the first and adds the response. */
  ck_assert_int_eq(cpns_pdu_decode(&first, h.to_server[0].bytes, h.to_server[0].len, NULL), 0);
  ck_assert_int_eq(cpns_pdu_decode(&second, h.to_server[1].bytes, h.to_server[1].len, NULL), 0);
  ck_assert_int_eq(second.u.key_request.has_response, 1);
  ck_assert_int_eq(first.u.key_request.has_ke1, 1);
  ck_assert_int_eq(second.u.key_request.has_ke1, 0); /* suite 1's second request: no ke1 (§4) */
  ck_assert_int_eq(second.u.key_request.has_ke3, 0);
  first.u.key_request.has_ke1 = 0;
  memset(&first.u.key_request.ke1, 0, sizeof first.u.key_request.ke1);
  second.u.key_request.has_response = 0;
  memset(second.u.key_request.server_nonce, 0, CPNS_NONCE_LEN);
  memset(second.u.key_request.client_proof, 0, CPNS_PROOF_LEN);
  ck_assert_mem_eq(&first.u.key_request, &second.u.key_request, sizeof first.u.key_request);
  /* Keys that served their purpose are gone. */
  ck_assert_mem_eq(h.gw->sec->client_key, zeros, CPNS_CLIENT_KEY_LEN);
  ck_assert_mem_eq(h.gw->sec->server_key, zeros, CPNS_SERVER_KEY_LEN);
  ck_assert_uint_eq(h.gw->password_len, 0);
  hx_free(&h);
}
END_TEST

START_TEST(test_gateway_exchange_byte_at_a_time) {
  hx h;
  hx_init(&h, HX_PASSWORD);
  h.chunk = 1;
  hx_run(&h);
  ck_assert_int_eq(cpns_gateway_get_state(h.gw), CPNS_GATEWAY_DONE);
  hx_free(&h);
}
END_TEST

START_TEST(test_gateway_exchange_wrong_password) {
  hx h;
  hx_init(&h, "Correct horse battery staple");
  hx_run(&h);
  expect_failed(h.gw, CPNS_ERR_REFUSED);
  ck_assert_int_eq(hx_gateway_result(h.gw), CPNS_RESULT_AUTHENTICATION_FAILED);
  hx_free(&h);
}
END_TEST

START_TEST(test_gateway_derive_wipes_password) {
  hx h;
  hx_init(&h, HX_PASSWORD);
  h.hold_at = 0;
  ck_assert_mem_ne((uint8_t *)(h.gw->sec + 1), zeros, strlen(HX_PASSWORD));
  /* Up to DERIVE by hand. */
  {
    uint8_t buf[CPNS_PDU_MAX_ENCODED];
    size_t len;
    ck_assert_int_eq(cpns_gateway_write(h.gw, buf, sizeof buf, &len, 0), 0);
    ck_assert_int_eq(hx_server_feed(h.s, buf, len, 0, 0), 0);
    ck_assert_int_eq(cpns_server_session_provide_credential(h.s, NULL, 0, 0), 0);
    ck_assert_int_eq(cpns_server_session_write(h.s, buf, sizeof buf, &len, 0), 0);
    ck_assert_int_eq(hx_gateway_feed(h.gw, buf, len, 0, 0), 0);
  }
  ck_assert_int_eq(cpns_gateway_get_state(h.gw), CPNS_GATEWAY_DERIVE);
  ck_assert_uint_eq(cpns_gateway_get_expiry(h.gw), UINT64_MAX);
  ck_assert_int_eq(cpns_gateway_derive(h.gw, 0), 0);
  ck_assert_int_eq(cpns_gateway_get_state(h.gw), CPNS_GATEWAY_SEND);
  ck_assert_uint_eq(h.gw->password_len, 0);
  ck_assert_mem_eq((uint8_t *)(h.gw->sec + 1), zeros, strlen(HX_PASSWORD));
  ck_assert_mem_eq(h.gw->sec->salted_password, zeros, CPNS_SALTED_PASSWORD_LEN);
  ck_assert_int_eq(cpns_gateway_derive(h.gw, 0), CPNS_ERR_STATE);
  hx_free(&h);
}
END_TEST

/* A server must not make the device exhaust itself (§7). */
START_TEST(test_gateway_read_kdf_params_above_bounds) {
  cpns_gateway_settings st = hx_gateway_settings(HX_PASSWORD);
  cpns_key_challenge c;
  cpns_gateway *gw;
  challenge_for(&c);
  switch (_i) {
  case 0: /* the defaults: opsLimit <= 10 */ c.kdf.ops_limit = 11; break;
  case 1: /* the defaults: memLimitKiB <= 1 GiB */ c.kdf.mem_limit_kib = 1048576 + 1; break;
  case 2:
    st.max_ops_limit = 1;
    c.kdf.ops_limit = 2;
    break;
  case 3:
    st.max_mem_limit_kib = 64;
    c.kdf.mem_limit_kib = 65;
    break;
  default: ck_abort();
  }
  gw = gateway_waiting(&st, NULL, 0);
  ck_assert_int_eq(feed_challenge(gw, &c), CPNS_ERR_KDF_PARAMS);
  expect_failed(gw, CPNS_ERR_KDF_PARAMS);
  ck_assert_int_eq(cpns_gateway_derive(gw, 0), CPNS_ERR_STATE);
  cpns_gateway_del(gw);
}
END_TEST

/* At the bounds exactly, the challenge is accepted. */
START_TEST(test_gateway_read_kdf_params_at_bounds) {
  cpns_gateway_settings st = hx_gateway_settings(HX_PASSWORD);
  cpns_key_challenge c;
  cpns_gateway *gw;
  cpns_kdf_params kdf;
  challenge_for(&c);
  st.max_ops_limit = 2;
  st.max_mem_limit_kib = 64;
  c.kdf.ops_limit = 2;
  c.kdf.mem_limit_kib = 64;
  gw = gateway_waiting(&st, NULL, 0);
  ck_assert_int_eq(feed_challenge(gw, &c), 0);
  ck_assert_int_eq(cpns_gateway_get_state(gw), CPNS_GATEWAY_DERIVE);
  ck_assert_int_eq(cpns_gateway_get_challenge(gw, &kdf, NULL, NULL), 0);
  ck_assert_int_eq(kdf.mem_limit_kib, 64);
  cpns_gateway_del(gw);
}
END_TEST

/* The real server with a record above the gateway's bounds. */
START_TEST(test_gateway_exchange_server_params_above_bounds) {
  cpns_gateway_settings gs = hx_gateway_settings(HX_PASSWORD);
  cpns_server_settings ss = hx_server_settings();
  hx h;
  gs.max_mem_limit_kib = 8;
  ss.fake_mem_limit_kib = 16;
  hx_init_with(&h, &gs, &ss);
  h.cred_mode = HX_UNKNOWN;
  hx_run(&h);
  expect_failed(h.gw, CPNS_ERR_KDF_PARAMS);
  hx_free(&h);
}
END_TEST

/*
 * Suite 1 floors (§7, §9): a server impostor asking for cheap parameters
 * gets no proof. The engine fails on the challenge itself, so it never
 * reaches DERIVE (no Argon2id) and has nothing to write (no proof sent).
 */
/* The defaults come from the library, every field; 0 is no longer a default. */
START_TEST(test_gateway_settings_defaults_and_version) {
  cpns_gateway_settings st;
  cpns_gateway *gw = NULL;
  memset(&st, 0xa5, sizeof st);
  ck_assert_int_eq(cpns_gateway_settings_default(&st), 0);
  ck_assert_int_eq(st.mode, CPNS_MODE_PN_GW);
  ck_assert_uint_eq(st.max_ops_limit, CPNS_GATEWAY_MAX_OPS_DEFAULT);
  ck_assert_uint_eq(st.min_ops_limit, CPNS_GATEWAY_MIN_OPS_DEFAULT);
  ck_assert_uint_eq(st.max_mem_limit_kib, CPNS_GATEWAY_MAX_MEM_KIB_DEFAULT);
  ck_assert_uint_eq(st.min_mem_limit_kib, CPNS_GATEWAY_MIN_MEM_KIB_DEFAULT);
  ck_assert_uint_eq(st.max_pdu_len, CPNS_PDU_MAX_DEFAULT);
  ck_assert_uint_eq(st.reply_timeout_ms, CPNS_GATEWAY_REPLY_TIMEOUT_DEFAULT_MS);
  ck_assert_ptr_null(st.secpool);
  ck_assert_ptr_null(st.password);
  ck_assert_int_eq(cpns_gateway_settings_default_versioned(CPNS_GATEWAY_SETTINGS_VERSION + 1, &st),
                   CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(cpns_gateway_settings_default_versioned(0, &st), CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(cpns_gateway_settings_default(NULL), CPNS_ERR_INVALID_ARGUMENT);
  st = hx_gateway_settings(HX_PASSWORD);
  ck_assert_int_eq(cpns_gateway_new_versioned(&gw, CPNS_GATEWAY_SETTINGS_VERSION + 1, &st, NULL, 0),
                   CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_ptr_null(gw);
  st.reply_timeout_ms = 0;
  ck_assert_int_eq(cpns_gateway_new(&gw, &st, NULL, 0), CPNS_ERR_INVALID_ARGUMENT);
  st = hx_gateway_settings(HX_PASSWORD);
  st.max_pdu_len = 0;
  ck_assert_int_eq(cpns_gateway_new(&gw, &st, NULL, 0), CPNS_ERR_INVALID_ARGUMENT);
  st = hx_gateway_settings(HX_PASSWORD);
  st.min_ops_limit = 0;
  ck_assert_int_eq(cpns_gateway_new(&gw, &st, NULL, 0), CPNS_ERR_INVALID_ARGUMENT);
  st = hx_gateway_settings(HX_PASSWORD);
  ck_assert_int_eq(cpns_gateway_new(&gw, &st, NULL, 0), 0);
  ck_assert_int_eq(cpns_gateway_get_state(gw), CPNS_GATEWAY_SEND);
  cpns_gateway_del(gw);
}
END_TEST

START_TEST(test_gateway_read_kdf_params_below_minimums) {
  cpns_gateway_settings st = hx_gateway_settings(HX_PASSWORD);
  cpns_key_challenge c;
  cpns_kdf_params kdf;
  cpns_gateway *gw;
  uint8_t out[CPNS_PDU_MAX_ENCODED];
  size_t written = 0;
  st.min_ops_limit =
      CPNS_GATEWAY_MIN_OPS_DEFAULT; /* the defaults: opsLimit >= 3, memLimitKiB >= 65536 */
  st.min_mem_limit_kib = CPNS_GATEWAY_MIN_MEM_KIB_DEFAULT;
  challenge_for(&c);
  c.kdf.ops_limit = 3;
  c.kdf.mem_limit_kib = 65536;
  switch (_i) {
  case 0: /* what an impostor asks for */
    c.kdf.ops_limit = 1;
    c.kdf.mem_limit_kib = 8;
    break;
  case 1: /* the defaults: opsLimit >= 3 */ c.kdf.ops_limit = 2; break;
  case 2: /* the defaults: memLimitKiB >= 65536 */ c.kdf.mem_limit_kib = 65535; break;
  case 3: st.min_ops_limit = 4; break;
  case 4: st.min_mem_limit_kib = 65537; break;
  default: ck_abort();
  }
  gw = gateway_waiting(&st, NULL, 0);
  ck_assert_int_eq(feed_challenge(gw, &c), CPNS_ERR_KDF_PARAMS);
  expect_failed(gw, CPNS_ERR_KDF_PARAMS);
  ck_assert_int_eq(cpns_gateway_derive(gw, 0), CPNS_ERR_STATE);
  ck_assert_int_eq(cpns_gateway_write(gw, out, sizeof out, &written, 0), CPNS_ERR_STATE);
  ck_assert_uint_eq(written, 0);
  /* The host can still say what the server asked for. */
  ck_assert_int_eq(cpns_gateway_get_challenge(gw, &kdf, NULL, NULL), 0);
  ck_assert_uint_eq(kdf.ops_limit, c.kdf.ops_limit);
  ck_assert_uint_eq(kdf.mem_limit_kib, c.kdf.mem_limit_kib);
  cpns_gateway_del(gw);
}
END_TEST

/* At the minimums exactly (defaults and explicit ones), the challenge is accepted. */
START_TEST(test_gateway_read_kdf_params_at_minimums) {
  cpns_gateway_settings st = hx_gateway_settings(HX_PASSWORD);
  cpns_key_challenge c;
  cpns_gateway *gw;
  challenge_for(&c);
  if (_i == 0) {
    st.min_ops_limit = CPNS_GATEWAY_MIN_OPS_DEFAULT;
    st.min_mem_limit_kib = CPNS_GATEWAY_MIN_MEM_KIB_DEFAULT;
    c.kdf.ops_limit = CPNS_GATEWAY_MIN_OPS_DEFAULT;
    c.kdf.mem_limit_kib = CPNS_GATEWAY_MIN_MEM_KIB_DEFAULT;
  } else {
    st.min_ops_limit = 2;
    st.min_mem_limit_kib = 64;
    c.kdf.ops_limit = 2;
    c.kdf.mem_limit_kib = 64;
  }
  gw = gateway_waiting(&st, NULL, 0);
  ck_assert_int_eq(feed_challenge(gw, &c), 0);
  ck_assert_int_eq(cpns_gateway_get_state(gw), CPNS_GATEWAY_DERIVE);
  cpns_gateway_del(gw);
}
END_TEST

/* A range that no challenge can meet is refused when the engine is made. */
START_TEST(test_gateway_new_minimum_above_maximum) {
  cpns_gateway_settings st = hx_gateway_settings(HX_PASSWORD);
  cpns_gateway *gw = (cpns_gateway *)&st;
  switch (_i) {
  case 0:
    st.min_ops_limit = 5;
    st.max_ops_limit = 4;
    break;
  case 1:
    st.min_mem_limit_kib = 65;
    st.max_mem_limit_kib = 64;
    break;
  case 2: /* the default floor (3) above an explicit ceiling */
    st.min_ops_limit = CPNS_GATEWAY_MIN_OPS_DEFAULT;
    st.max_ops_limit = 2;
    break;
  case 3: /* the default floor (65536 KiB) above an explicit ceiling */
    st.min_mem_limit_kib = CPNS_GATEWAY_MIN_MEM_KIB_DEFAULT;
    st.max_mem_limit_kib = 65535;
    break;
  default: ck_abort();
  }
  ck_assert_int_eq(cpns_gateway_new(&gw, &st, NULL, 0), CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_ptr_null(gw);
  /* Equal bounds are a valid (one-point) range. */
  st.min_ops_limit = st.max_ops_limit = 4;
  st.min_mem_limit_kib = st.max_mem_limit_kib = 64;
  gw = new_gateway(&st);
  cpns_gateway_del(gw);
}
END_TEST

/* The real server with a record below the gateway's default minimums: one
 * KeyRequest crosses the wire, never a proof. */
START_TEST(test_gateway_exchange_server_params_below_minimums) {
  cpns_gateway_settings gs = hx_gateway_settings(HX_PASSWORD);
  cpns_server_settings ss = hx_server_settings();
  cpns_pdu pdu;
  hx h;
  gs.min_ops_limit = CPNS_GATEWAY_MIN_OPS_DEFAULT;
  gs.min_mem_limit_kib = CPNS_GATEWAY_MIN_MEM_KIB_DEFAULT;
  hx_init_with(&h, &gs, &ss);
  h.cred_mode = _i == 0 ? HX_KNOWN : HX_UNKNOWN;
  hx_run(&h);
  expect_failed(h.gw, CPNS_ERR_KDF_PARAMS);
  ck_assert_uint_eq(h.n_to_gateway, 1);
  ck_assert_uint_eq(h.n_to_server, 1);
  ck_assert_int_eq(cpns_pdu_decode(&pdu, h.to_server[0].bytes, h.to_server[0].len, NULL), 0);
  ck_assert_int_eq(pdu.u.key_request.has_response, 0);
  ck_assert_int_eq(cpns_server_session_get_state(h.s), CPNS_SERVER_RECEIVE);
  hx_free(&h);
}
END_TEST

START_TEST(test_gateway_check_challenge_suite_not_offered) {
  cpnsi_kdf_bounds bounds = {HX_OPS, HX_MEM_KIB, 10, 1048576};
  cpns_key_request req;
  cpns_key_challenge c;
  hx_first_request(&req);
  challenge_for(&c);
  c.version = req.version;
  ck_assert_int_eq(cpnsi_gateway_check_challenge(&req, &c, &bounds), 0);
  req.offered_suites[0] = 9;
  ck_assert_int_eq(cpnsi_gateway_check_challenge(&req, &c, &bounds), CPNS_ERR_SUITE_NOT_OFFERED);
  req.offered_suites_len = 2;
  req.offered_suites[1] = 5;
  c.suite = (cpns_suite)5;
  ck_assert_int_eq(cpnsi_gateway_check_challenge(&req, &c, &bounds), CPNS_ERR_UNSUPPORTED_SUITE);
}
END_TEST

/* On the wire, a suite outside the module does not even decode. */
START_TEST(test_gateway_read_challenge_unknown_suite) {
  cpns_gateway_settings st = hx_gateway_settings(HX_PASSWORD);
  cpns_gateway *gw = gateway_waiting(&st, NULL, 0);
  cpns_key_challenge c;
  cpns_pdu pdu;
  uint8_t buf[CPNS_PDU_MAX_ENCODED];
  size_t len, i;
  int patched = 0;
  challenge_for(&c);
  memset(&pdu, 0, sizeof pdu);
  pdu.type = CPNS_PDU_KEY_CHALLENGE;
  pdu.u.key_challenge = c;
  len = hx_encode(&pdu, buf, sizeof buf);
  /* suite is [3] IMPLICIT ENUMERATED: 83 01 01 */
  for (i = 0; i + 2 < len; ++i) {
    if (buf[i] == 0x83 && buf[i + 1] == 0x01 && buf[i + 2] == 0x01) {
      buf[i + 2] = 0x03;
      patched = 1;
      break;
    }
  }
  ck_assert(patched);
  ck_assert_int_lt(hx_gateway_feed(gw, buf, len, 0, 0), 0);
  ck_assert_int_eq(cpns_gateway_get_state(gw), CPNS_GATEWAY_FAILED);
  cpns_gateway_del(gw);
}
END_TEST

/* The challenge answers a version-2 request with version 1. */
START_TEST(test_gateway_read_challenge_version_mismatch) {
  cpns_gateway_settings st = hx_gateway_settings(HX_PASSWORD);
  cpns_gateway *gw = gateway_waiting(&st, NULL, 0);
  cpns_key_challenge c;
  challenge_for(&c);
  c.version = 1;
  ck_assert_int_eq(feed_challenge(gw, &c), CPNS_ERR_PROTOCOL);
  expect_failed(gw, CPNS_ERR_PROTOCOL);
  cpns_gateway_del(gw);
}
END_TEST

/* A server may refuse at once; the result is reported, nothing trusted. */
START_TEST(test_gateway_read_refusal_before_challenge) {
  static const cpns_result results[] = {
      CPNS_RESULT_UNSUPPORTED_VERSION,  CPNS_RESULT_UNSUPPORTED_SUITE,
      CPNS_RESULT_BAD_REQUEST,          CPNS_RESULT_TRY_LATER,
      CPNS_RESULT_SERVER_ERROR,         CPNS_RESULT_ENTITY_CONFLICT,
      CPNS_RESULT_AUTHENTICATION_FAILED};
  /* Suite 2 alone (the default): unsupportedVersion too ends it, no fall back (§7). */
  cpns_gateway_settings st = hx_gateway_settings_s2(HX_PASSWORD);
  cpns_key_request req;
  cpns_gateway *gw = gateway_waiting(&st, &req, 0);
  cpns_key_delivery d;
  delivery_for(&d, &req, results[_i]);
  ck_assert_int_eq(feed_delivery(gw, &d), CPNS_ERR_REFUSED);
  expect_failed(gw, CPNS_ERR_REFUSED);
  ck_assert_int_eq(hx_gateway_result(gw), (int)results[_i]);
  cpns_gateway_del(gw);
}
END_TEST

/* A successful delivery needs a challenge to be authenticated against. */
START_TEST(test_gateway_read_success_before_challenge) {
  cpns_gateway_settings st = hx_gateway_settings(HX_PASSWORD);
  cpns_key_request req;
  cpns_gateway *gw = gateway_waiting(&st, &req, 0);
  cpns_key_delivery d;
  delivery_for(&d, &req, CPNS_RESULT_SUCCESS);
  d.has_assignment = 1;
  memset(&d.assignment, 7, sizeof d.assignment);
  ck_assert_int_eq(feed_delivery(gw, &d), CPNS_ERR_PROTOCOL);
  expect_failed(gw, CPNS_ERR_PROTOCOL);
  cpns_gateway_del(gw);
}
END_TEST

START_TEST(test_gateway_read_result_assignment_disagree) {
  cpns_gateway_settings st = hx_gateway_settings(HX_PASSWORD);
  cpns_key_request req;
  cpns_gateway *gw = gateway_waiting(&st, &req, 0);
  cpns_key_delivery d;
  if (_i == 0) {
    delivery_for(&d, &req, CPNS_RESULT_SUCCESS); /* success without assignment */
  } else {
    delivery_for(&d, &req, CPNS_RESULT_TRY_LATER); /* refusal carrying a key */
    d.has_assignment = 1;
    memset(&d.assignment, 7, sizeof d.assignment);
  }
  ck_assert_int_eq(feed_delivery(gw, &d), CPNS_ERR_PROTOCOL);
  expect_failed(gw, CPNS_ERR_PROTOCOL);
  cpns_gateway_del(gw);
}
END_TEST

START_TEST(test_gateway_read_delivery_echo_mismatch) {
  cpns_gateway_settings st = hx_gateway_settings(HX_PASSWORD);
  cpns_key_request req;
  cpns_gateway *gw = gateway_waiting(&st, &req, 0);
  cpns_key_delivery d;
  delivery_for(&d, &req, CPNS_RESULT_TRY_LATER);
  switch (_i) {
  case 0: /* the normal form is not an echo */
    memcpy(d.entity_id, HX_ENTITY_NORM, d.entity_id_len);
    break;
  case 1: d.user_id_len -= 1; break;
  case 2: d.user_id[0] = 'b'; break;
  default: ck_abort();
  }
  ck_assert_int_eq(feed_delivery(gw, &d), CPNS_ERR_ECHO_MISMATCH);
  expect_failed(gw, CPNS_ERR_ECHO_MISMATCH);
  cpns_gateway_del(gw);
}
END_TEST

/* Only unsupportedVersion may carry another version than the request's (§3). */
START_TEST(test_gateway_read_delivery_version_mismatch) {
  cpns_gateway_settings st = hx_gateway_settings(HX_PASSWORD);
  cpns_key_request req;
  cpns_gateway *gw = gateway_waiting(&st, &req, 0);
  cpns_key_delivery d;
  delivery_for(&d, &req, CPNS_RESULT_TRY_LATER);
  d.version = 1;
  ck_assert_int_eq(feed_delivery(gw, &d), CPNS_ERR_PROTOCOL);
  expect_failed(gw, CPNS_ERR_PROTOCOL);
  cpns_gateway_del(gw);
}
END_TEST

/* A KeyRequest from the server, or a second KeyChallenge. */
START_TEST(test_gateway_read_wrong_pdu) {
  hx h;
  cpns_pdu pdu;
  hx_init(&h, HX_PASSWORD);
  h.hold_at = 2;
  hx_run(&h);
  ck_assert_int_eq(cpns_gateway_get_state(h.gw), CPNS_GATEWAY_RECEIVE);
  if (_i == 0) {
    ck_assert_int_eq(cpns_pdu_decode(&pdu, h.to_gateway[0].bytes, h.to_gateway[0].len, NULL), 0);
  } else {
    ck_assert_int_eq(cpns_pdu_decode(&pdu, h.to_server[1].bytes, h.to_server[1].len, NULL), 0);
  }
  ck_assert_int_eq(feed_pdu(h.gw, &pdu), CPNS_ERR_PROTOCOL);
  expect_failed(h.gw, CPNS_ERR_PROTOCOL);
  hx_free(&h);
}
END_TEST

START_TEST(test_gateway_read_request_before_challenge) {
  cpns_gateway_settings st = hx_gateway_settings(HX_PASSWORD);
  cpns_key_request req;
  cpns_gateway *gw = gateway_waiting(&st, &req, 0);
  cpns_pdu pdu;
  memset(&pdu, 0, sizeof pdu);
  pdu.type = CPNS_PDU_KEY_REQUEST;
  pdu.u.key_request = req; /* reflected back */
  ck_assert_int_eq(feed_pdu(gw, &pdu), CPNS_ERR_PROTOCOL);
  expect_failed(gw, CPNS_ERR_PROTOCOL);
  cpns_gateway_del(gw);
}
END_TEST

/* The real server's successful delivery, tampered field by field. */
START_TEST(test_gateway_read_delivery_tampered) {
  hx h;
  cpns_pdu pdu;
  cpns_key_assignment *a = &pdu.u.key_delivery.assignment;
  int expected;
  hx_init(&h, HX_PASSWORD);
  h.hold_at = 2;
  hx_run(&h);
  ck_assert_int_eq(cpns_gateway_get_state(h.gw), CPNS_GATEWAY_RECEIVE);
  hx_server_take(h.s, &pdu, NULL);
  ck_assert_int_eq(pdu.u.key_delivery.result, CPNS_RESULT_SUCCESS);
  switch (_i) {
  case 0:
    a->server_signature[0] ^= 1;
    expected = CPNS_ERR_SIGNATURE;
    break;
  case 1:
    a->wrapped_eukey[3] ^= 0x10;
    expected = CPNS_ERR_DECRYPT;
    break;
  case 2:
    a->wrapped_eukey[CPNS_WRAPPED_EUKEY_LEN - 1] ^= 1; /* the tag */
    expected = CPNS_ERR_DECRYPT;
    break;
  case 3:
    a->key_id[15] ^= 1; /* bound as associated data */
    expected = CPNS_ERR_DECRYPT;
    break;
  case 4:
    a->aead_nonce[0] ^= 1;
    expected = CPNS_ERR_DECRYPT;
    break;
  case 5:
    pdu.u.key_delivery.entity_id[0] = 'x';
    expected = CPNS_ERR_ECHO_MISMATCH;
    break;
  default: ck_abort();
  }
  ck_assert_int_eq(feed_pdu(h.gw, &pdu), expected);
  expect_failed(h.gw, expected);
  ck_assert_int_eq(hx_gateway_result(h.gw), CPNS_RESULT_SUCCESS);
  hx_free(&h);
}
END_TEST

/* Untampered, the held delivery is accepted (control for the test above). */
START_TEST(test_gateway_read_delivery_held_untampered) {
  hx h;
  cpns_pdu pdu;
  hx_init(&h, HX_PASSWORD);
  h.hold_at = 2;
  hx_run(&h);
  hx_server_take(h.s, &pdu, NULL);
  ck_assert_int_eq(feed_pdu(h.gw, &pdu), 0);
  ck_assert_int_eq(cpns_gateway_get_state(h.gw), CPNS_GATEWAY_DONE);
  hx_free(&h);
}
END_TEST

/* A delivery signed for another exchange (a replay) does not verify. */
START_TEST(test_gateway_read_delivery_replayed) {
  hx a, b;
  cpns_pdu pdu;
  hx_init(&a, HX_PASSWORD);
  hx_init(&b, HX_PASSWORD);
  a.hold_at = 2;
  b.hold_at = 2;
  hx_run(&a);
  hx_run(&b);
  hx_server_take(a.s, &pdu, NULL);
  ck_assert_int_eq(feed_pdu(b.gw, &pdu), CPNS_ERR_SIGNATURE);
  hx_free(&a);
  hx_free(&b);
}
END_TEST

START_TEST(test_gateway_handle_expiry) {
  cpns_gateway_settings st = hx_gateway_settings(HX_PASSWORD);
  cpns_gateway *gw;
  static const uint8_t part[] = {0xa1, 0x40, 0x02};
  st.reply_timeout_ms = 250;
  gw = gateway_waiting(&st, NULL, 1000);
  ck_assert_uint_eq(cpns_gateway_get_expiry(gw), 1250);
  ck_assert_int_eq(cpns_gateway_read(gw, part, sizeof part, 1100), 0);
  ck_assert_int_eq(cpns_gateway_handle_expiry(gw, 1249), 0);
  ck_assert_int_eq(cpns_gateway_get_state(gw), CPNS_GATEWAY_RECEIVE);
  ck_assert_int_eq(cpns_gateway_handle_expiry(gw, 1250), CPNS_ERR_TIMEOUT);
  expect_failed(gw, CPNS_ERR_TIMEOUT);
  ck_assert_int_eq(cpns_gateway_handle_expiry(gw, 5000), 0);
  cpns_gateway_del(gw);
}
END_TEST

START_TEST(test_gateway_read_peer_closed) {
  cpns_gateway_settings st = hx_gateway_settings_s2(HX_PASSWORD); /* no fall back */
  cpns_gateway *gw = gateway_waiting(&st, NULL, 0);
  ck_assert_int_eq(cpns_gateway_read(gw, NULL, 0, 0), CPNS_ERR_PEER_CLOSED);
  expect_failed(gw, CPNS_ERR_PEER_CLOSED);
  cpns_gateway_del(gw);
}
END_TEST

START_TEST(test_gateway_read_non_der) {
  static const uint8_t indefinite[] = {0xa1, 0x80, 0x02, 0x01, 0x01, 0x00, 0x00};
  static const uint8_t text[] = "HTTP/1.1 400 Bad Request\r\n";
  static const uint8_t bad_body[] = {0xa2, 0x03, 0x01, 0x02, 0x03};
  static const struct {
    const uint8_t *bytes;
    size_t len;
    int error;
  } cases[] = {{indefinite, sizeof indefinite, CPNS_ERR_DER_INDEFINITE_LENGTH},
               {text, sizeof text - 1, CPNS_ERR_FRAME_INVALID},
               {bad_body, sizeof bad_body, 0}};
  cpns_gateway_settings st = hx_gateway_settings(HX_PASSWORD);
  cpns_gateway *gw = gateway_waiting(&st, NULL, 0);
  int rv = hx_gateway_feed(gw, cases[_i].bytes, cases[_i].len, 0, 0);
  ck_assert_int_lt(rv, 0);
  if (cases[_i].error != 0) {
    ck_assert_int_eq(rv, cases[_i].error);
  }
  expect_failed(gw, rv);
  cpns_gateway_del(gw);
}
END_TEST

START_TEST(test_gateway_read_oversized_length) {
  cpns_gateway_settings st = hx_gateway_settings(HX_PASSWORD);
  cpns_gateway *gw = gateway_waiting(&st, NULL, 0);
  uint8_t big[100];
  memset(big, 0, sizeof big);
  big[0] = 0xa2;
  big[1] = 0x82;
  big[2] = 0x10; /* 4096 + 1 */
  big[3] = 0x01;
  ck_assert_int_eq(cpns_gateway_read(gw, big, sizeof big, 0), CPNS_ERR_PDU_TOO_LONG);
  expect_failed(gw, CPNS_ERR_PDU_TOO_LONG);
  cpns_gateway_del(gw);
}
END_TEST

/* Encodes a KeyChallenge and then a tryLater KeyDelivery for req into buf. */
static size_t challenge_then_refusal(const cpns_key_request *req, uint8_t *buf, size_t buflen,
                                     size_t *challenge_len) {
  cpns_pdu pdu;
  size_t len;
  memset(&pdu, 0, sizeof pdu);
  pdu.type = CPNS_PDU_KEY_CHALLENGE;
  challenge_for(&pdu.u.key_challenge);
  *challenge_len = hx_encode(&pdu, buf, buflen);
  memset(&pdu, 0, sizeof pdu);
  pdu.type = CPNS_PDU_KEY_DELIVERY;
  delivery_for(&pdu.u.key_delivery, req, CPNS_RESULT_TRY_LATER);
  len = hx_encode(&pdu, buf + *challenge_len, buflen - *challenge_len);
  return *challenge_len + len;
}

/* Runs Argon2id and writes the second KeyRequest: the engine's next RECEIVE. */
static void derive_and_write(cpns_gateway *gw) {
  uint8_t out[CPNS_PDU_MAX_ENCODED];
  size_t written;
  ck_assert_int_eq(cpns_gateway_derive(gw, 0), 0);
  ck_assert_int_eq(cpns_gateway_write(gw, out, sizeof out, &written, 0), 0);
}

/* Two PDUs in one read: the second is kept, then handled when RECEIVE returns. */
START_TEST(test_gateway_read_two_pdus_at_once) {
  cpns_gateway_settings st = hx_gateway_settings(HX_PASSWORD);
  cpns_key_request req;
  cpns_gateway *gw = gateway_waiting(&st, &req, 0);
  uint8_t buf[2 * CPNS_PDU_MAX_ENCODED];
  size_t challenge_len, len = challenge_then_refusal(&req, buf, sizeof buf, &challenge_len);
  ck_assert_int_eq(cpns_gateway_read(gw, buf, len, 0), 0);
  ck_assert_int_eq(cpns_gateway_get_state(gw), CPNS_GATEWAY_DERIVE);
  derive_and_write(gw);
  expect_failed(gw, CPNS_ERR_REFUSED);
  ck_assert_int_eq(hx_gateway_result(gw), CPNS_RESULT_TRY_LATER);
  cpns_gateway_del(gw);
}
END_TEST

/* A KeyChallenge split after every octet still completes on its last one. */
START_TEST(test_gateway_read_split_at_every_octet) {
  cpns_gateway_settings st = hx_gateway_settings(HX_PASSWORD);
  cpns_key_request req;
  uint8_t buf[2 * CPNS_PDU_MAX_ENCODED];
  size_t challenge_len, at;
  cpns_gateway *gw = gateway_waiting(&st, &req, 0);
  (void)challenge_then_refusal(&req, buf, sizeof buf, &challenge_len);
  cpns_gateway_del(gw);
  for (at = 1; at < challenge_len; ++at) {
    gw = gateway_waiting(&st, NULL, 0);
    ck_assert_int_eq(cpns_gateway_read(gw, buf, at, 0), 0);
    ck_assert_int_eq(cpns_gateway_get_state(gw), CPNS_GATEWAY_RECEIVE);
    ck_assert_int_eq(cpns_gateway_read(gw, buf + at, challenge_len - at, 0), 0);
    ck_assert_int_eq(cpns_gateway_get_state(gw), CPNS_GATEWAY_DERIVE);
    cpns_gateway_del(gw);
  }
}
END_TEST

/* A PDU and the start of the next: the part kept waits for the rest. */
START_TEST(test_gateway_read_pdu_and_partial_next) {
  cpns_gateway_settings st = hx_gateway_settings(HX_PASSWORD);
  cpns_key_request req;
  uint8_t buf[2 * CPNS_PDU_MAX_ENCODED];
  size_t challenge_len, len, at;
  cpns_gateway *gw = gateway_waiting(&st, &req, 0);
  len = challenge_then_refusal(&req, buf, sizeof buf, &challenge_len);
  cpns_gateway_del(gw);
  for (at = challenge_len + 1; at < len; ++at) {
    gw = gateway_waiting(&st, &req, 0);
    /* The nonce differs per engine: re-encode the echo for this one. */
    len = challenge_then_refusal(&req, buf, sizeof buf, &challenge_len);
    ck_assert_int_eq(cpns_gateway_read(gw, buf, at, 0), 0);
    ck_assert_int_eq(cpns_gateway_get_state(gw), CPNS_GATEWAY_DERIVE);
    derive_and_write(gw);
    ck_assert_int_eq(cpns_gateway_get_state(gw), CPNS_GATEWAY_RECEIVE);
    ck_assert_int_eq(cpns_gateway_read(gw, buf + at, len - at, 0), CPNS_ERR_REFUSED);
    expect_failed(gw, CPNS_ERR_REFUSED);
    cpns_gateway_del(gw);
  }
}
END_TEST

/* At most one PDU of max_pdu_len octets may follow the KeyChallenge. */
START_TEST(test_gateway_read_too_many_octets_ahead) {
  cpns_gateway_settings st = hx_gateway_settings(HX_PASSWORD);
  uint8_t buf[3 * CPNS_PDU_MAX_ENCODED];
  size_t limit = _i == 0 ? CPNS_PDU_MAX_ENCODED : 600; /* default 4096 acts as the capacity */
  size_t len;
  cpns_key_challenge c;
  cpns_pdu pdu;
  cpns_gateway *gw;
  st.max_pdu_len = _i == 0 ? CPNS_PDU_MAX_DEFAULT : limit;
  challenge_for(&c);
  memset(&pdu, 0, sizeof pdu);
  pdu.type = CPNS_PDU_KEY_CHALLENGE;
  pdu.u.key_challenge = c;
  len = hx_encode(&pdu, buf, sizeof buf);
  memset(buf + len, 0xa2, sizeof buf - len);
  gw = gateway_waiting(&st, NULL, 0);
  ck_assert_int_eq(cpns_gateway_read(gw, buf, len + limit, 0), 0);
  ck_assert_int_eq(cpns_gateway_get_state(gw), CPNS_GATEWAY_DERIVE);
  cpns_gateway_del(gw);
  gw = gateway_waiting(&st, NULL, 0);
  ck_assert_int_eq(cpns_gateway_read(gw, buf, len + limit + 1, 0), CPNS_ERR_PROTOCOL);
  expect_failed(gw, CPNS_ERR_PROTOCOL);
  cpns_gateway_del(gw);
  /* Split over two reads: the second one is no longer taken in DERIVE. */
  gw = gateway_waiting(&st, NULL, 0);
  ck_assert_int_eq(cpns_gateway_read(gw, buf, len + 1, 0), 0);
  ck_assert_int_eq(cpns_gateway_read(gw, buf + len + 1, limit, 0), CPNS_ERR_STATE);
  cpns_gateway_del(gw);
}
END_TEST

/* Nothing follows the KeyDelivery (§3): octets after it are dropped unread. */
START_TEST(test_gateway_read_drops_octets_after_delivery) {
  hx h;
  uint8_t buf[3 * CPNS_PDU_MAX_ENCODED];
  uint8_t eukey[CPNS_EUKEY_LEN], key_id[CPNS_KEY_ID_LEN];
  size_t len;
  hx_init(&h, HX_PASSWORD);
  h.hold_at = 2;
  hx_run(&h);
  ck_assert_int_eq(cpns_gateway_get_state(h.gw), CPNS_GATEWAY_RECEIVE);
  ck_assert_int_eq(cpns_server_session_write(h.s, buf, sizeof buf, &len, 0), 0);
  memset(buf + len, 0xff, sizeof buf - len); /* not even a frame, and over the limit */
  ck_assert_int_eq(cpns_gateway_read(h.gw, buf, sizeof buf, 0), 0);
  ck_assert_int_eq(cpns_gateway_get_state(h.gw), CPNS_GATEWAY_DONE);
  ck_assert_int_eq(cpns_gateway_get_eukey(h.gw, eukey, key_id), 0);
  ck_assert_mem_eq(eukey, h.stored_eukey, CPNS_EUKEY_LEN);
  ck_assert_ptr_null(h.gw->framer.ahead);
  hx_free(&h);
}
END_TEST

START_TEST(test_gateway_state_errors) {
  cpns_gateway_settings st = hx_gateway_settings(HX_PASSWORD);
  cpns_gateway *gw = new_gateway(&st);
  uint8_t buf[CPNS_PDU_MAX_ENCODED], eukey[CPNS_EUKEY_LEN], key_id[CPNS_KEY_ID_LEN];
  size_t realm_len;
  cpns_kdf_params kdf;
  ck_assert_int_eq(cpns_gateway_read(gw, buf, 1, 0), CPNS_ERR_STATE);
  ck_assert_int_eq(cpns_gateway_derive(gw, 0), CPNS_ERR_STATE);
  ck_assert_int_eq(cpns_gateway_get_challenge(gw, &kdf, buf, &realm_len), CPNS_ERR_STATE);
  ck_assert_int_eq(cpns_gateway_get_eukey(gw, eukey, key_id), CPNS_ERR_STATE);
  ck_assert_int_eq(cpns_gateway_get_eukey(gw, NULL, key_id), CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(cpns_gateway_get_challenge(gw, &kdf, buf, NULL), CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(cpns_gateway_handle_expiry(gw, UINT64_MAX), 0);
  ck_assert_int_eq(cpns_gateway_get_state(gw), CPNS_GATEWAY_SEND);
  ck_assert_int_eq(cpns_gateway_get_state(NULL), CPNS_GATEWAY_FAILED);
  ck_assert_uint_eq(cpns_gateway_get_expiry(NULL), UINT64_MAX);
  cpns_gateway_del(gw);
}
END_TEST

/* Bounded memory per engine: a few KiB of fixed buffers. */
START_TEST(test_gateway_sizeof_bounded) {
  printf("sizeof(cpns_gateway) = %zu, guarded secrets = %zu + password\n",
         sizeof(struct cpns_gateway), sizeof(cpnsi_gateway_secrets));
  ck_assert_uint_le(sizeof(struct cpns_gateway), 6 * 1024);
}
END_TEST

/* ---- Suite 2 (OPAQUE-3DH, §5.2) and the version policy of §7 ---- */

/* Octets of the secret block before the EUKey: all wiped once DONE. */
static void expect_only_eukey_left(const cpns_gateway *gw) {
  ck_assert_mem_eq(gw->sec, zeros, 256);
  ck_assert_mem_eq((const uint8_t *)gw->sec + 256, zeros,
                   offsetof(cpnsi_gateway_secrets, eukey) - 256);
  ck_assert_uint_eq(gw->password_len, 0);
}

static void hx_init_s2(hx *h, const char *password) {
  cpns_gateway_settings gs = hx_gateway_settings_s2(password);
  cpns_server_settings ss = hx_server_settings_s2();
  hx_init_with(h, &gs, &ss);
}

START_TEST(test_gateway_s2_exchange_success) {
  hx h;
  cpns_pdu first, second, chal, del;
  uint8_t eukey[CPNS_EUKEY_LEN], key_id[CPNS_KEY_ID_LEN];
  int suite = 0;
  hx_init_s2(&h, HX_PASSWORD);
  h.chunk = (size_t)_i * 7;
  hx_run(&h);
  ck_assert_int_eq(cpns_gateway_get_state(h.gw), CPNS_GATEWAY_DONE);
  ck_assert_int_eq(hx_gateway_result(h.gw), CPNS_RESULT_SUCCESS);
  ck_assert_int_eq(cpns_gateway_get_suite(h.gw, &suite), 0);
  ck_assert_int_eq(suite, CPNS_SUITE_OPAQUE3DH_RISTRETTO255_SHA512_ARGON2ID);
  ck_assert_int_eq(cpns_gateway_get_eukey(h.gw, eukey, key_id), 0);
  ck_assert_mem_eq(eukey, h.stored_eukey, CPNS_EUKEY_LEN);
  ck_assert_mem_eq(key_id, h.stored_key_id, CPNS_KEY_ID_LEN);
  ck_assert_uint_eq(h.n_to_server, 2);
  ck_assert_int_eq(cpns_pdu_decode(&first, h.to_server[0].bytes, h.to_server[0].len, NULL), 0);
  ck_assert_int_eq(cpns_pdu_decode(&second, h.to_server[1].bytes, h.to_server[1].len, NULL), 0);
  ck_assert_int_eq(cpns_pdu_decode(&chal, h.to_gateway[0].bytes, h.to_gateway[0].len, NULL), 0);
  ck_assert_int_eq(cpns_pdu_decode(&del, h.to_gateway[1].bytes, h.to_gateway[1].len, NULL), 0);
  /* Default policy: version 2, suite 2 alone, ke1 (§7). */
  ck_assert_int_eq(first.u.key_request.version, 2);
  ck_assert_uint_eq(first.u.key_request.offered_suites_len, 1);
  ck_assert_int_eq(first.u.key_request.offered_suites[0],
                   CPNS_SUITE_OPAQUE3DH_RISTRETTO255_SHA512_ARGON2ID);
  ck_assert_int_eq(first.u.key_request.has_ke1, 1);
  ck_assert_int_eq(chal.u.key_challenge.version, 2);
  ck_assert_int_eq(chal.u.key_challenge.has_ke2, 1);
  ck_assert_int_eq(del.u.key_delivery.version, 2);
  /* Second request: the six root fields byte for byte, ke3 alone (§4). */
  ck_assert_int_eq(cpns_key_request_validate_second(
                       &second.u.key_request, CPNS_SUITE_OPAQUE3DH_RISTRETTO255_SHA512_ARGON2ID),
                   0);
  ck_assert_int_eq(second.u.key_request.has_ke3, 1);
  ck_assert_int_eq(second.u.key_request.has_ke1, 0);
  ck_assert_int_eq(second.u.key_request.has_response, 0);
  ck_assert(cpnsi_server_repeats_first(&first.u.key_request, &second.u.key_request));
  expect_only_eukey_left(h.gw);
  hx_free(&h);
}
END_TEST

/* Wrong password, unknown user, or a user without a suite-2 record: found
 * at the gateway from KE2, no ke3 sent (§7, §8 note). */
START_TEST(test_gateway_s2_auth_failed_without_ke3) {
  hx h;
  hx_init_s2(&h, _i == 0 ? "wrong password" : HX_PASSWORD);
  if (_i == 1) {
    h.cred_mode = HX_UNKNOWN;
  } else if (_i == 2) {
    h.no_suite2_record = 1; /* suite 1 not offered: the fake suite-2 record answers */
  }
  hx_run(&h);
  expect_failed(h.gw, CPNS_ERR_AUTH_FAILED);
  ck_assert_int_eq(hx_gateway_result(h.gw), CPNS_RESULT_AUTHENTICATION_FAILED);
  ck_assert_uint_eq(h.n_to_server, 1); /* the first KeyRequest only */
  ck_assert_int_eq(h.stored, 0);
  /* The server still waits; the host closes, which the server counts (§6). */
  ck_assert_int_eq(cpns_server_session_get_state(h.s), CPNS_SERVER_RECEIVE);
  ck_assert_int_eq(hx_session_result(h.s), -1);
  ck_assert_int_eq(cpns_server_session_read(h.s, NULL, 0, h.now), CPNS_ERR_PEER_CLOSED);
  ck_assert_int_eq(hx_session_result(h.s), CPNS_RESULT_AUTHENTICATION_FAILED);
  hx_free(&h);
}
END_TEST

/* Runs an s2 exchange up to the challenge, kept from the gateway; returns it decoded. */
static void s2_hold_challenge(hx *h, cpns_pdu *chal) {
  hx_init_s2(h, HX_PASSWORD);
  h->hold_at = 1;
  hx_run(h);
  ck_assert_int_eq(cpns_gateway_get_state(h->gw), CPNS_GATEWAY_RECEIVE);
  hx_server_take(h->s, chal, NULL);
  ck_assert_int_eq(chal->type, CPNS_PDU_KEY_CHALLENGE);
}

/* Any change to KE2 or to what AuthMessage covers fails GenerateKE3 (§9). */
START_TEST(test_gateway_s2_tampered_challenge) {
  hx h;
  cpns_pdu chal;
  cpns_key_challenge *c = &chal.u.key_challenge;
  s2_hold_challenge(&h, &chal);
  switch (_i) {
  case 0: c->ke2.evaluated_message[3] ^= 1; break;
  case 1: c->ke2.masking_nonce[0] ^= 1; break;
  case 2: c->ke2.masked_response[100] ^= 0x80; break;
  case 3: c->ke2.server_public_keyshare[5] ^= 1; break;
  case 4: c->ke2.server_mac[63] ^= 1; break;
  case 5: c->server_nonce[0] ^= 1; break;
  case 6: c->kdf.salt[0] ^= 1; break;
  case 7: c->realm[0] = 'X'; break;
  default: c->kdf.ops_limit = 2; break;
  }
  ck_assert_int_eq(feed_pdu(h.gw, &chal), 0);
  ck_assert_int_eq(cpns_gateway_get_state(h.gw), CPNS_GATEWAY_DERIVE);
  ck_assert_int_eq(cpns_gateway_derive(h.gw, h.now), CPNS_ERR_AUTH_FAILED);
  expect_failed(h.gw, CPNS_ERR_AUTH_FAILED);
  ck_assert_int_eq(hx_gateway_result(h.gw), CPNS_RESULT_AUTHENTICATION_FAILED);
  hx_free(&h);
}
END_TEST

/* A tampered KeyDelivery of suite 2: nothing in it is trusted (§7). */
START_TEST(test_gateway_s2_tampered_delivery) {
  static const int errors[] = {CPNS_ERR_SIGNATURE, CPNS_ERR_SIGNATURE, CPNS_ERR_DECRYPT,
                               CPNS_ERR_DECRYPT};
  hx h;
  cpns_pdu del;
  cpns_key_assignment *a = &del.u.key_delivery.assignment;
  hx_init_s2(&h, HX_PASSWORD);
  h.hold_at = 2;
  hx_run(&h);
  ck_assert_int_eq(cpns_gateway_get_state(h.gw), CPNS_GATEWAY_RECEIVE);
  hx_server_take(h.s, &del, NULL);
  ck_assert_int_eq(del.u.key_delivery.result, CPNS_RESULT_SUCCESS);
  switch (_i) {
  case 0: a->server_signature[0] ^= 1; break;
  case 1: a->key_id[0] ^= 1; break; /* signed, and the AEAD's ad */
  case 2: a->wrapped_eukey[0] ^= 1; break;
  default: a->aead_nonce[0] ^= 1; break;
  }
  ck_assert_int_eq(feed_pdu(h.gw, &del), errors[_i]);
  expect_failed(h.gw, errors[_i]);
  hx_free(&h);
}
END_TEST

/* §4 presence rules and §3 version rules on the KeyChallenge: a protocol error. */
START_TEST(test_gateway_s2_challenge_presence) {
  cpns_gateway_settings st = hx_gateway_settings(HX_PASSWORD); /* offers {2, 1} */
  cpns_gateway *gw = gateway_waiting(&st, NULL, 0);
  cpns_key_challenge c;
  challenge_for(&c);
  switch (_i) {
  case 0: c.suite = CPNS_SUITE_OPAQUE3DH_RISTRETTO255_SHA512_ARGON2ID; break; /* no ke2 */
  case 1: c.has_ke2 = 1; break;                                               /* suite 1 + ke2 */
  default:                                                                    /* suite 2 in v1 */
    c.version = 1;
    c.suite = CPNS_SUITE_OPAQUE3DH_RISTRETTO255_SHA512_ARGON2ID;
    c.has_ke2 = 1;
    break;
  }
  ck_assert_int_eq(feed_challenge(gw, &c), CPNS_ERR_PROTOCOL);
  expect_failed(gw, CPNS_ERR_PROTOCOL);
  cpns_gateway_del(gw);
}
END_TEST

/* §7: suite 2 has no KDF floor, the ceilings apply; suite 1 is not offered by default. */
START_TEST(test_gateway_s2_kdf_bounds_and_offer) {
  cpns_gateway_settings st = hx_gateway_settings_s2(HX_PASSWORD); /* default floors 3, 64 MiB */
  cpns_gateway *gw = gateway_waiting(&st, NULL, 0);
  cpns_key_challenge c;
  challenge_for(&c);
  c.suite = CPNS_SUITE_OPAQUE3DH_RISTRETTO255_SHA512_ARGON2ID;
  c.has_ke2 = 1;
  memset(&c.ke2, 0x11, sizeof c.ke2);
  if (_i == 0) { /* ops 1, 8 KiB: accepted for suite 2 */
    ck_assert_int_eq(feed_challenge(gw, &c), 0);
    ck_assert_int_eq(cpns_gateway_get_state(gw), CPNS_GATEWAY_DERIVE);
  } else if (_i == 1) {
    c.kdf.ops_limit = CPNS_GATEWAY_MAX_OPS_DEFAULT + 1;
    ck_assert_int_eq(feed_challenge(gw, &c), CPNS_ERR_KDF_PARAMS);
    expect_failed(gw, CPNS_ERR_KDF_PARAMS);
  } else if (_i == 2) {
    c.kdf.mem_limit_kib = CPNS_GATEWAY_MAX_MEM_KIB_DEFAULT + 1;
    ck_assert_int_eq(feed_challenge(gw, &c), CPNS_ERR_KDF_PARAMS);
    expect_failed(gw, CPNS_ERR_KDF_PARAMS);
  } else {
    challenge_for(&c); /* suite 1, never offered by the default gateway */
    ck_assert_int_eq(feed_challenge(gw, &c), CPNS_ERR_SUITE_NOT_OFFERED);
    expect_failed(gw, CPNS_ERR_SUITE_NOT_OFFERED);
  }
  cpns_gateway_del(gw);
}
END_TEST

/* With allow_suite1 a server may pick suite 1 under version 2, with its floors (§7). */
START_TEST(test_gateway_s2_suite1_under_v2_keeps_floors) {
  cpns_gateway_settings st = hx_gateway_settings(HX_PASSWORD);
  cpns_gateway *gw;
  cpns_key_challenge c;
  st.min_ops_limit = 2;
  gw = gateway_waiting(&st, NULL, 0);
  challenge_for(&c); /* ops 1 */
  ck_assert_int_eq(feed_challenge(gw, &c), CPNS_ERR_KDF_PARAMS);
  cpns_gateway_del(gw);
}
END_TEST

/* Drives a gateway in RECONNECT through the fall back against a fresh
 * suite-1 server: a version-1 exchange to DONE. */
static void fall_back_to_v1(hx *h, const cpns_key_request *v2req) {
  cpns_server_settings ss = hx_server_settings();
  cpns_pdu first;
  ck_assert_int_eq(cpns_gateway_get_state(h->gw), CPNS_GATEWAY_RECONNECT);
  ck_assert_int_eq(cpns_gateway_restart_v1(h->gw, h->now), 0);
  ck_assert_int_eq(cpns_gateway_restart_v1(h->gw, h->now), CPNS_ERR_STATE);
  ck_assert_int_eq(cpns_gateway_get_state(h->gw), CPNS_GATEWAY_SEND);
  ck_assert_int_eq(cpns_gateway_get_error(h->gw), 0);
  ck_assert_int_eq(hx_gateway_result(h->gw), -1);
  cpns_server_session_del(h->s);
  ck_assert_int_eq(cpns_server_session_new(&h->s, &ss, NULL, h->now), 0);
  h->n_to_server = h->n_to_gateway = 0;
  hx_run(h);
  ck_assert_int_eq(cpns_gateway_get_state(h->gw), CPNS_GATEWAY_DONE);
  ck_assert_int_eq(cpns_pdu_decode(&first, h->to_server[0].bytes, h->to_server[0].len, NULL), 0);
  ck_assert_int_eq(first.u.key_request.version, 1);
  ck_assert_uint_eq(first.u.key_request.offered_suites_len, 1);
  ck_assert_int_eq(first.u.key_request.offered_suites[0],
                   CPNS_SUITE_ARGON2ID_HMACSHA256_XCHACHA20POLY1305);
  ck_assert_int_eq(first.u.key_request.has_ke1, 0);
  ck_assert_mem_ne(first.u.key_request.gateway_nonce, v2req->gateway_nonce, CPNS_NONCE_LEN);
  ck_assert_int_eq(h->s->version, 1);
}

/* §7 fall back: unsupportedVersion (_i 0) or a close without answer (_i 1). */
START_TEST(test_gateway_s2_fall_back_to_v1) {
  hx h;
  cpns_key_request req;
  cpns_key_delivery d;
  hx_init(&h, HX_PASSWORD); /* allow_suite1 */
  cpns_gateway_del(h.gw);
  {
    cpns_gateway_settings st = hx_gateway_settings(HX_PASSWORD);
    h.gw = gateway_waiting(&st, &req, h.now);
  }
  ck_assert_int_eq(cpns_gateway_restart_v1(h.gw, h.now), CPNS_ERR_STATE);
  if (_i == 0) {
    delivery_for(&d, &req, CPNS_RESULT_UNSUPPORTED_VERSION);
    d.version = 1; /* a v1 server's highest */
    ck_assert_int_eq(feed_delivery(h.gw, &d), 0);
    ck_assert_int_eq(hx_gateway_result(h.gw), CPNS_RESULT_UNSUPPORTED_VERSION);
    ck_assert_int_eq(cpns_gateway_get_error(h.gw), CPNS_ERR_REFUSED);
  } else {
    ck_assert_int_eq(cpns_gateway_read(h.gw, NULL, 0, h.now), 0);
    ck_assert_int_eq(cpns_gateway_get_error(h.gw), CPNS_ERR_PEER_CLOSED);
  }
  ck_assert_uint_eq(cpns_gateway_get_expiry(h.gw), UINT64_MAX);
  ck_assert_uint_ne(h.gw->password_len, 0); /* kept for the new attempt, nothing else */
  ck_assert_mem_eq(h.gw->sec, zeros, 256);
  fall_back_to_v1(&h, &req);
  hx_free(&h);
}
END_TEST

/* No fall back once the server answered with a challenge, nor for other refusals. */
START_TEST(test_gateway_s2_no_fall_back_after_answer) {
  cpns_gateway_settings st = hx_gateway_settings(HX_PASSWORD);
  cpns_key_request req;
  cpns_gateway *gw = gateway_waiting(&st, &req, 0);
  cpns_key_delivery d;
  cpns_key_challenge c;
  if (_i == 0) {
    delivery_for(&d, &req, CPNS_RESULT_UNSUPPORTED_SUITE);
    ck_assert_int_eq(feed_delivery(gw, &d), CPNS_ERR_REFUSED);
    expect_failed(gw, CPNS_ERR_REFUSED);
  } else {
    challenge_for(&c);
    ck_assert_int_eq(feed_challenge(gw, &c), 0);
    ck_assert_int_eq(cpns_gateway_derive(gw, 0), 0);
    ck_assert_int_eq(cpns_gateway_write(gw, (uint8_t[CPNS_PDU_MAX_ENCODED]){0},
                                        CPNS_PDU_MAX_ENCODED, &(size_t){0}, 0),
                     0);
    ck_assert_int_eq(cpns_gateway_read(gw, NULL, 0, 0), CPNS_ERR_PEER_CLOSED);
    expect_failed(gw, CPNS_ERR_PEER_CLOSED);
  }
  ck_assert_int_eq(cpns_gateway_restart_v1(gw, 0), CPNS_ERR_STATE);
  cpns_gateway_del(gw);
}
END_TEST

/* Settings layout V1 still works and reads allow_suite1 as 0; V1 defaults leave it alone. */
START_TEST(test_gateway_s2_settings_v1_layout) {
  cpns_gateway_settings st;
  cpns_gateway *gw = NULL;
  uint8_t buf[CPNS_PDU_MAX_ENCODED];
  size_t len;
  cpns_pdu pdu;
  memset(&st, 0xa5, sizeof st);
  ck_assert_int_eq(cpns_gateway_settings_default_versioned(CPNS_GATEWAY_SETTINGS_V1, &st), 0);
  ck_assert_int_eq(st.allow_suite1, (int)0xa5a5a5a5);
  ck_assert_int_eq(cpns_gateway_settings_default(&st), 0);
  ck_assert_int_eq(st.allow_suite1, 0);
  st = hx_gateway_settings(HX_PASSWORD);
  ck_assert_int_eq(st.allow_suite1, 1);
  ck_assert_int_eq(cpns_gateway_new_versioned(&gw, CPNS_GATEWAY_SETTINGS_V1, &st, NULL, 0), 0);
  ck_assert_int_eq(cpns_gateway_write(gw, buf, sizeof buf, &len, 0), 0);
  ck_assert_int_eq(cpns_pdu_decode(&pdu, buf, len, NULL), 0);
  ck_assert_int_eq(pdu.u.key_request.version, 2);
  ck_assert_uint_eq(pdu.u.key_request.offered_suites_len, 1);
  ck_assert_int_eq(cpns_gateway_get_suite(gw, &(int){0}), CPNS_ERR_STATE);
  ck_assert_int_eq(cpns_gateway_get_suite(gw, NULL), CPNS_ERR_INVALID_ARGUMENT);
  cpns_gateway_del(gw);
}
END_TEST

static Suite *gateway_suite(void) {
  Suite *su = suite_create("gateway");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_gateway_new_invalid_arguments);
  tcase_add_test(tc, test_gateway_write_first_request);
  tcase_add_loop_test(tc, test_gateway_exchange_success, 0, 2);
  tcase_add_test(tc, test_gateway_exchange_byte_at_a_time);
  tcase_add_test(tc, test_gateway_exchange_wrong_password);
  tcase_add_test(tc, test_gateway_derive_wipes_password);
  tcase_add_loop_test(tc, test_gateway_read_kdf_params_above_bounds, 0, 4);
  tcase_add_test(tc, test_gateway_read_kdf_params_at_bounds);
  tcase_add_test(tc, test_gateway_exchange_server_params_above_bounds);
  tcase_add_test(tc, test_gateway_settings_defaults_and_version);
  tcase_add_loop_test(tc, test_gateway_read_kdf_params_below_minimums, 0, 5);
  tcase_add_loop_test(tc, test_gateway_read_kdf_params_at_minimums, 0, 2);
  tcase_add_loop_test(tc, test_gateway_new_minimum_above_maximum, 0, 4);
  tcase_add_loop_test(tc, test_gateway_exchange_server_params_below_minimums, 0, 2);
  tcase_add_test(tc, test_gateway_check_challenge_suite_not_offered);
  tcase_add_test(tc, test_gateway_read_challenge_unknown_suite);
  tcase_add_test(tc, test_gateway_read_challenge_version_mismatch);
  tcase_add_loop_test(tc, test_gateway_read_refusal_before_challenge, 0, 7);
  tcase_add_test(tc, test_gateway_read_success_before_challenge);
  tcase_add_loop_test(tc, test_gateway_read_result_assignment_disagree, 0, 2);
  tcase_add_loop_test(tc, test_gateway_read_delivery_echo_mismatch, 0, 3);
  tcase_add_test(tc, test_gateway_read_delivery_version_mismatch);
  tcase_add_loop_test(tc, test_gateway_read_wrong_pdu, 0, 2);
  tcase_add_test(tc, test_gateway_read_request_before_challenge);
  tcase_add_loop_test(tc, test_gateway_read_delivery_tampered, 0, 6);
  tcase_add_test(tc, test_gateway_read_delivery_held_untampered);
  tcase_add_test(tc, test_gateway_read_delivery_replayed);
  tcase_add_test(tc, test_gateway_handle_expiry);
  tcase_add_test(tc, test_gateway_read_peer_closed);
  tcase_add_loop_test(tc, test_gateway_read_non_der, 0, 3);
  tcase_add_test(tc, test_gateway_read_oversized_length);
  tcase_add_test(tc, test_gateway_read_two_pdus_at_once);
  tcase_add_test(tc, test_gateway_read_split_at_every_octet);
  tcase_add_test(tc, test_gateway_read_pdu_and_partial_next);
  tcase_add_loop_test(tc, test_gateway_read_too_many_octets_ahead, 0, 2);
  tcase_add_test(tc, test_gateway_read_drops_octets_after_delivery);
  tcase_add_test(tc, test_gateway_state_errors);
  tcase_add_test(tc, test_gateway_sizeof_bounded);
  suite_add_tcase(su, tc);
  tc = tcase_create("suite2");
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, test_gateway_s2_exchange_success, 0, 2);
  tcase_add_loop_test(tc, test_gateway_s2_auth_failed_without_ke3, 0, 3);
  tcase_add_loop_test(tc, test_gateway_s2_tampered_challenge, 0, 9);
  tcase_add_loop_test(tc, test_gateway_s2_tampered_delivery, 0, 4);
  tcase_add_loop_test(tc, test_gateway_s2_challenge_presence, 0, 3);
  tcase_add_loop_test(tc, test_gateway_s2_kdf_bounds_and_offer, 0, 4);
  tcase_add_test(tc, test_gateway_s2_suite1_under_v2_keeps_floors);
  tcase_add_loop_test(tc, test_gateway_s2_fall_back_to_v1, 0, 2);
  tcase_add_loop_test(tc, test_gateway_s2_no_fall_back_after_answer, 0, 2);
  tcase_add_test(tc, test_gateway_s2_settings_v1_layout);
  suite_add_tcase(su, tc);
  return su;
}

int main(void) {
  SRunner *sr;
  int failed;
  if (cpns_init() != 0) {
    return EXIT_FAILURE;
  }
  sr = srunner_create(gateway_suite());
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
