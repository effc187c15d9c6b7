/*
 * Server session engine: every rule of PROTOCOL.md §4, §6, §8 and every
 * result code, against the real gateway engine and hand-built hostile PDUs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <sodium.h>

#include "exchange/server_internal.h"
#include "tests/exchange_harness.h"

static const uint8_t zeros[1024];

/* Encodes a KeyRequest and feeds it whole. */
static int feed_request(cpns_server_session *s, const cpns_key_request *req) {
  cpns_pdu pdu;
  uint8_t buf[CPNS_PDU_MAX_ENCODED];
  size_t len;
  memset(&pdu, 0, sizeof pdu);
  pdu.type = CPNS_PDU_KEY_REQUEST;
  pdu.u.key_request = *req;
  len = hx_encode(&pdu, buf, sizeof buf);
  return hx_server_feed(s, buf, len, 0, 0);
}

/* The second KeyRequest matching req and chal, with a correct proof. */
static void second_request(cpns_key_request *second, const cpns_key_request *first,
                           const cpns_key_challenge *chal) {
  *second = *first;
  second->has_response = 1;
  memcpy(second->server_nonce, chal->server_nonce, CPNS_NONCE_LEN);
  hx_proof(first, chal, HX_PASSWORD, second->client_proof);
}

static cpns_server_session *new_session(const cpns_server_settings *st, uint64_t now) {
  cpns_server_session *s = NULL;
  ck_assert_int_eq(cpns_server_session_new(&s, st, NULL, now), 0);
  return s;
}

/* The defaults come from the library, every field; 0 is no longer a default. */
START_TEST(test_server_settings_defaults_and_version) {
  cpns_server_settings st;
  cpns_server_session *s = NULL;
  memset(&st, 0xa5, sizeof st);
  ck_assert_int_eq(cpns_server_settings_default(&st), 0);
  ck_assert_ptr_null(st.realm);
  ck_assert_ptr_null(st.server_secret);
  ck_assert_ptr_null(st.secpool);
  ck_assert_uint_eq(st.fake_ops_limit, CPNS_KDF_OPS_DEFAULT);
  ck_assert_uint_eq(st.fake_mem_limit_kib, CPNS_KDF_MEM_KIB_DEFAULT);
  ck_assert_uint_eq(st.max_pdu_len, CPNS_PDU_MAX_DEFAULT);
  ck_assert_uint_eq(st.pdu_timeout_ms, CPNS_SERVER_PDU_TIMEOUT_DEFAULT_MS);
  ck_assert_uint_eq(st.exchange_timeout_ms, CPNS_SERVER_EXCHANGE_TIMEOUT_DEFAULT_MS);
  ck_assert_int_eq(cpns_server_settings_default_versioned(CPNS_SERVER_SETTINGS_VERSION + 1, &st),
                   CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(cpns_server_settings_default(NULL), CPNS_ERR_INVALID_ARGUMENT);
  st = hx_server_settings();
  ck_assert_int_eq(
      cpns_server_session_new_versioned(&s, CPNS_SERVER_SETTINGS_VERSION + 1, &st, NULL, 0),
      CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_ptr_null(s);
  st.pdu_timeout_ms = 0;
  ck_assert_int_eq(cpns_server_session_new(&s, &st, NULL, 0), CPNS_ERR_INVALID_ARGUMENT);
  st = hx_server_settings();
  st.exchange_timeout_ms = 0;
  ck_assert_int_eq(cpns_server_session_new(&s, &st, NULL, 0), CPNS_ERR_INVALID_ARGUMENT);
  st = hx_server_settings();
  ck_assert_int_eq(cpns_server_session_new(&s, &st, NULL, 0), 0);
  /* The first PDU's deadline is the library's default. */
  ck_assert_uint_eq(cpns_server_session_get_expiry(s), CPNS_SERVER_PDU_TIMEOUT_DEFAULT_MS);
  cpns_server_session_del(s);
}
END_TEST

START_TEST(test_server_session_new_invalid_arguments) {
  cpns_server_settings st = hx_server_settings();
  cpns_server_session *s = (cpns_server_session *)&st;
  cpns_mem partial = *cpns_mem_default();
  ck_assert_int_eq(cpns_server_session_new(NULL, &st, NULL, 0), CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(cpns_server_session_new(&s, NULL, NULL, 0), CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_ptr_null(s);
  st.realm = NULL;
  ck_assert_int_eq(cpns_server_session_new(&s, &st, NULL, 0), CPNS_ERR_INVALID_ARGUMENT);
  st = hx_server_settings();
  st.realm_len = 0;
  ck_assert_int_eq(cpns_server_session_new(&s, &st, NULL, 0), CPNS_ERR_INVALID_ARGUMENT);
  st.realm_len = CPNS_REALM_MAX + 1;
  ck_assert_int_eq(cpns_server_session_new(&s, &st, NULL, 0), CPNS_ERR_INVALID_ARGUMENT);
  st = hx_server_settings();
  st.server_secret = NULL;
  ck_assert_int_eq(cpns_server_session_new(&s, &st, NULL, 0), CPNS_ERR_INVALID_ARGUMENT);
  st = hx_server_settings();
  st.fake_mem_limit_kib = 4; /* below Argon2id's minimum */
  ck_assert_int_eq(cpns_server_session_new(&s, &st, NULL, 0), CPNS_ERR_INVALID_ARGUMENT);
  st = hx_server_settings();
  partial.realloc = NULL;
  ck_assert_int_eq(cpns_server_session_new(&s, &st, &partial, 0), CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_ptr_null(s);
  cpns_server_session_del(NULL);
}
END_TEST

static void check_success(hx *h) {
  uint8_t eukey[CPNS_EUKEY_LEN], key_id[CPNS_KEY_ID_LEN];
  const uint8_t *eid, *uid;
  size_t eid_len, uid_len;
  ck_assert_int_eq(cpns_server_session_get_state(h->s), CPNS_SERVER_DONE);
  ck_assert_int_eq(hx_session_result(h->s), CPNS_RESULT_SUCCESS);
  ck_assert_int_eq(cpns_gateway_get_state(h->gw), CPNS_GATEWAY_DONE);
  ck_assert_int_eq(hx_gateway_result(h->gw), CPNS_RESULT_SUCCESS);
  ck_assert_int_eq(h->stored, 1);
  ck_assert_int_eq(cpns_gateway_get_eukey(h->gw, eukey, key_id), 0);
  ck_assert_mem_eq(eukey, h->stored_eukey, CPNS_EUKEY_LEN);
  ck_assert_mem_eq(key_id, h->stored_key_id, CPNS_KEY_ID_LEN);
  ck_assert_mem_ne(eukey, zeros, CPNS_EUKEY_LEN);
  ck_assert_uint_eq(h->assignment_seen.entity_id_norm_len, strlen(HX_ENTITY_NORM));
  ck_assert_int_eq(h->assignment_seen.mode, CPNS_MODE_PNE_PLUS_PN_GW);
  cpns_server_session_get_ids(h->s, &eid, &eid_len, &uid, &uid_len);
  ck_assert_uint_eq(eid_len, strlen(HX_ENTITY_NORM));
  ck_assert_mem_eq(eid, HX_ENTITY_NORM, eid_len);
  ck_assert_uint_eq(uid_len, strlen(HX_USER_NORM));
  ck_assert_mem_eq(uid, HX_USER_NORM, uid_len);
  ck_assert_uint_eq(cpns_server_session_get_expiry(h->s), UINT64_MAX);
}

START_TEST(test_server_session_exchange_success) {
  hx h;
  cpns_pdu pdu;
  hx_init(&h, HX_PASSWORD);
  hx_run(&h);
  check_success(&h);
  ck_assert_uint_eq(h.n_to_server, 2);
  ck_assert_uint_eq(h.n_to_gateway, 2);
  /* The delivery echoes the identifiers as sent, not their normal form. */
  ck_assert_int_eq(cpns_pdu_decode(&pdu, h.to_gateway[1].bytes, h.to_gateway[1].len, NULL), 0);
  ck_assert_uint_eq(pdu.u.key_delivery.entity_id_len, strlen(HX_ENTITY));
  ck_assert_mem_eq(pdu.u.key_delivery.entity_id, HX_ENTITY, strlen(HX_ENTITY));
  ck_assert_uint_eq(pdu.u.key_delivery.user_id_len, strlen(HX_USER));
  /* The tests' gateway speaks version 2; this server has suite 1 alone. */
  ck_assert_int_eq(pdu.u.key_delivery.version, 2);
  ck_assert_int_eq(h.s->suite, CPNS_SUITE_ARGON2ID_HMACSHA256_XCHACHA20POLY1305);
  hx_free(&h);
}
END_TEST

START_TEST(test_server_session_exchange_byte_at_a_time) {
  hx h;
  hx_init(&h, HX_PASSWORD);
  h.chunk = 1;
  hx_run(&h);
  check_success(&h);
  hx_free(&h);
}
END_TEST

START_TEST(test_server_session_exchange_wrong_password) {
  hx h;
  hx_init(&h, "wrong password");
  hx_run(&h);
  ck_assert_int_eq(h.stored, 0);
  ck_assert_int_eq(cpns_server_session_get_state(h.s), CPNS_SERVER_DONE);
  ck_assert_int_eq(hx_session_result(h.s), CPNS_RESULT_AUTHENTICATION_FAILED);
  ck_assert_int_eq(cpns_gateway_get_state(h.gw), CPNS_GATEWAY_FAILED);
  ck_assert_int_eq(cpns_gateway_get_error(h.gw), CPNS_ERR_REFUSED);
  ck_assert_int_eq(hx_gateway_result(h.gw), CPNS_RESULT_AUTHENTICATION_FAILED);
  hx_free(&h);
}
END_TEST

START_TEST(test_server_session_exchange_unknown_user_same_shape) {
  hx wrong, unknown, unknown2;
  cpns_pdu cw, cu, cu2, dw, du;
  uint8_t salt[CPNS_SALT_LEN];
  size_t i;
  hx_init(&wrong, "wrong password");
  hx_run(&wrong);
  hx_init(&unknown, HX_PASSWORD);
  unknown.cred_mode = HX_UNKNOWN;
  hx_run(&unknown);
  hx_init(&unknown2, HX_PASSWORD);
  unknown2.cred_mode = HX_UNKNOWN;
  hx_run(&unknown2);
  ck_assert_int_eq(unknown.stored, 0);
  ck_assert_int_eq(hx_session_result(unknown.s), CPNS_RESULT_AUTHENTICATION_FAILED);
  ck_assert_int_eq(cpns_gateway_get_error(unknown.gw), cpns_gateway_get_error(wrong.gw));
  ck_assert_int_eq(hx_gateway_result(unknown.gw), hx_gateway_result(wrong.gw));
  /* Same PDUs, same sizes, in both directions. */
  ck_assert_uint_eq(unknown.n_to_gateway, wrong.n_to_gateway);
  for (i = 0; i < wrong.n_to_gateway; ++i) {
    ck_assert_uint_eq(unknown.to_gateway[i].len, wrong.to_gateway[i].len);
  }
  ck_assert_int_eq(cpns_pdu_decode(&cw, wrong.to_gateway[0].bytes, wrong.to_gateway[0].len, NULL),
                   0);
  ck_assert_int_eq(
      cpns_pdu_decode(&cu, unknown.to_gateway[0].bytes, unknown.to_gateway[0].len, NULL), 0);
  ck_assert_int_eq(
      cpns_pdu_decode(&cu2, unknown2.to_gateway[0].bytes, unknown2.to_gateway[0].len, NULL), 0);
  ck_assert_int_eq(cu.u.key_challenge.kdf.ops_limit, cw.u.key_challenge.kdf.ops_limit);
  ck_assert_int_eq(cu.u.key_challenge.kdf.mem_limit_kib, cw.u.key_challenge.kdf.mem_limit_kib);
  ck_assert_uint_eq(cu.u.key_challenge.realm_len, cw.u.key_challenge.realm_len);
  /* The fake salt is the §6 derivation: stable per user, not random. */
  ck_assert_int_eq(cpns_crypto_fake_salt(salt, hx_server_secret, (const uint8_t *)HX_USER_NORM,
                                         strlen(HX_USER_NORM)),
                   0);
  ck_assert_mem_eq(cu.u.key_challenge.kdf.salt, salt, CPNS_SALT_LEN);
  ck_assert_mem_eq(cu2.u.key_challenge.kdf.salt, salt, CPNS_SALT_LEN);
  ck_assert_mem_ne(cu.u.key_challenge.server_nonce, cu2.u.key_challenge.server_nonce,
                   CPNS_NONCE_LEN);
  ck_assert_int_eq(cpns_pdu_decode(&dw, wrong.to_gateway[1].bytes, wrong.to_gateway[1].len, NULL),
                   0);
  ck_assert_int_eq(
      cpns_pdu_decode(&du, unknown.to_gateway[1].bytes, unknown.to_gateway[1].len, NULL), 0);
  ck_assert_int_eq(du.u.key_delivery.result, dw.u.key_delivery.result);
  ck_assert_int_eq(du.u.key_delivery.has_assignment, 0);
  hx_free(&wrong);
  hx_free(&unknown);
  hx_free(&unknown2);
}
END_TEST

/* An unknown user goes through proof verification against a random
 * StoredKey, like a known one (§6 timing): the key is set, not zero. */
START_TEST(test_server_session_provide_credential_unknown_uses_random_key) {
  cpns_key_request req;
  cpns_server_session *s;
  hx_first_request(&req);
  s = hx_session_after_first(&req, HX_UNKNOWN, NULL);
  ck_assert_mem_ne(s->sec->fresh.stored_key, zeros, CPNS_STORED_KEY_LEN);
  ck_assert_int_eq(s->user_known, 0);
  /* The server secret is not needed after the challenge. */
  ck_assert_mem_eq(s->sec->server_secret, zeros, CPNS_SERVER_SECRET_LEN);
  cpns_server_session_del(s);
}
END_TEST

/* A host that cannot let the challenge go (suite 2: its lockout failure not
 * stored) replaces it by a KeyDelivery refusal; nothing else is accepted. */
START_TEST(test_server_session_withdraw_challenge) {
  cpns_server_settings ss = hx_server_settings();
  cpns_server_session *s = NULL;
  cpns_key_request req;
  cpns_pdu pdu;
  cpns_result result;
  uint8_t buf[CPNS_PDU_MAX_ENCODED];
  size_t len;
  hx_first_request(&req);
  memset(&pdu, 0, sizeof pdu);
  pdu.type = CPNS_PDU_KEY_REQUEST;
  pdu.u.key_request = req;
  len = hx_encode(&pdu, buf, sizeof buf);
  ck_assert_int_eq(cpns_server_session_new(&s, &ss, NULL, 0), 0);
  ck_assert_int_eq(cpns_server_session_withdraw_challenge(s, CPNS_RESULT_SERVER_ERROR, 0),
                   CPNS_ERR_STATE); /* RECEIVE */
  ck_assert_int_eq(hx_server_feed(s, buf, len, 0, 0), 0);
  cpns_credential *cred = hx_credential(HX_PASSWORD);
  ck_assert_int_eq(cpns_server_session_provide_credential(s, cred, 0, 0), 0);
  sodium_free(cred);
  ck_assert_int_eq(cpns_server_session_get_state(s), CPNS_SERVER_SEND);
  ck_assert_int_eq(cpns_server_session_get_result(s, &result), CPNS_ERR_STATE);
  ck_assert_int_eq(cpns_server_session_withdraw_challenge(NULL, CPNS_RESULT_SERVER_ERROR, 0),
                   CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(cpns_server_session_withdraw_challenge(s, CPNS_RESULT_SUCCESS, 0),
                   CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(cpns_server_session_withdraw_challenge(s, CPNS_RESULT_AUTHENTICATION_FAILED, 0),
                   CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(cpns_server_session_withdraw_challenge(s, CPNS_RESULT_TRY_LATER, 0), 0);
  /* The refusal replaced the challenge: a second withdrawal finds none. */
  ck_assert_int_eq(cpns_server_session_withdraw_challenge(s, CPNS_RESULT_SERVER_ERROR, 0),
                   CPNS_ERR_STATE);
  hx_expect_refusal(s, CPNS_RESULT_TRY_LATER);
  cpns_server_session_del(s);
}
END_TEST

/* Each repeated field of the second KeyRequest changed in turn (§4). */
START_TEST(test_server_session_read_repeat_differs) {
  cpns_key_request first, second;
  cpns_key_challenge chal;
  cpns_server_session *s;
  hx_first_request(&first);
  s = hx_session_after_first(&first, HX_KNOWN, &chal);
  second_request(&second, &first, &chal);
  switch (_i) {
  case 0: second.version = 2; break;
  case 1: second.entity_id[second.entity_id_len - 1] = '7'; break;
  case 2:
    second.user_id[0] = 'b'; /* same length, still valid */
    break;
  case 3: second.mode = CPNS_MODE_PNE_PLUS_PN_GW; break;
  case 4: second.gateway_nonce[31] ^= 1; break;
  case 5:
    second.offered_suites[1] = 9;
    second.offered_suites_len = 2;
    break;
  case 6:
    memcpy(second.entity_id, "URN", 3); /* equivalent, but not byte for byte */
    break;
  default: ck_abort();
  }
  ck_assert_int_eq(feed_request(s, &second), 0);
  hx_expect_refusal(s, CPNS_RESULT_BAD_REQUEST);
  cpns_server_session_del(s);
}
END_TEST

/* The control for the test above: unchanged, the hand-built request succeeds. */
START_TEST(test_server_session_read_repeat_same_succeeds) {
  cpns_key_request first, second;
  cpns_key_challenge chal;
  cpns_server_session *s;
  cpns_pdu pdu;
  hx_first_request(&first);
  s = hx_session_after_first(&first, HX_KNOWN, &chal);
  second_request(&second, &first, &chal);
  ck_assert_int_eq(feed_request(s, &second), 0);
  ck_assert_int_eq(cpns_server_session_get_state(s), CPNS_SERVER_NEED_STORE);
  ck_assert_int_eq(cpns_server_session_store_done(s, CPNS_STORE_OK, 0), 0);
  hx_server_take(s, &pdu, NULL);
  ck_assert_int_eq(pdu.u.key_delivery.result, CPNS_RESULT_SUCCESS);
  ck_assert_int_eq(pdu.u.key_delivery.has_assignment, 1);
  cpns_server_session_del(s);
}
END_TEST

START_TEST(test_server_session_read_wrong_server_nonce) {
  cpns_key_request first, second;
  cpns_key_challenge chal;
  cpns_server_session *s;
  hx_first_request(&first);
  s = hx_session_after_first(&first, HX_KNOWN, &chal);
  second_request(&second, &first, &chal);
  second.server_nonce[0] ^= 0x80;
  ck_assert_int_eq(feed_request(s, &second), 0);
  hx_expect_refusal(s, CPNS_RESULT_BAD_REQUEST);
  cpns_server_session_del(s);
}
END_TEST

START_TEST(test_server_session_read_wrong_proof) {
  cpns_key_request first, second;
  cpns_key_challenge chal;
  cpns_server_session *s;
  hx_first_request(&first);
  s = hx_session_after_first(&first, HX_KNOWN, &chal);
  second_request(&second, &first, &chal);
  second.client_proof[5] ^= 1;
  ck_assert_int_eq(feed_request(s, &second), 0);
  hx_expect_refusal(s, CPNS_RESULT_AUTHENTICATION_FAILED);
  cpns_server_session_del(s);
}
END_TEST

START_TEST(test_server_session_read_second_without_response) {
  cpns_key_request first;
  cpns_server_session *s;
  hx_first_request(&first);
  s = hx_session_after_first(&first, HX_KNOWN, NULL);
  ck_assert_int_eq(feed_request(s, &first), 0);
  hx_expect_refusal(s, CPNS_RESULT_BAD_REQUEST);
  cpns_server_session_del(s);
}
END_TEST

START_TEST(test_server_session_read_first_with_response) {
  cpns_server_settings st = hx_server_settings();
  cpns_key_request req;
  cpns_server_session *s = new_session(&st, 0);
  hx_first_request(&req);
  req.has_response = 1;
  ck_assert_int_eq(feed_request(s, &req), 0);
  hx_expect_refusal(s, CPNS_RESULT_BAD_REQUEST);
  cpns_server_session_del(s);
}
END_TEST

/* A KeyChallenge or KeyDelivery where the second KeyRequest belongs. */
START_TEST(test_server_session_read_wrong_pdu_second) {
  cpns_key_request first;
  cpns_key_challenge chal;
  cpns_server_session *s;
  cpns_pdu pdu, answer;
  uint8_t buf[CPNS_PDU_MAX_ENCODED];
  size_t len;
  hx_first_request(&first);
  s = hx_session_after_first(&first, HX_KNOWN, &chal);
  memset(&pdu, 0, sizeof pdu);
  if (_i == 0) {
    pdu.type = CPNS_PDU_KEY_CHALLENGE;
    pdu.u.key_challenge = chal;
  } else {
    pdu.type = CPNS_PDU_KEY_DELIVERY;
    pdu.u.key_delivery.version = 1;
    pdu.u.key_delivery.result = CPNS_RESULT_TRY_LATER;
    pdu.u.key_delivery.entity_id_len = 5;
    memcpy(pdu.u.key_delivery.entity_id, "urn:x", 5);
    pdu.u.key_delivery.user_id_len = 1;
    pdu.u.key_delivery.user_id[0] = 'x';
  }
  len = hx_encode(&pdu, buf, sizeof buf);
  ck_assert_int_eq(hx_server_feed(s, buf, len, 0, 0), 0);
  ck_assert_int_eq(hx_session_result(s), CPNS_RESULT_BAD_REQUEST);
  hx_server_take(s, &answer, NULL);
  ck_assert_int_eq(answer.u.key_delivery.result, CPNS_RESULT_BAD_REQUEST);
  /* Echoes the first request, whatever the wrong PDU carried. */
  ck_assert_uint_eq(answer.u.key_delivery.entity_id_len, first.entity_id_len);
  ck_assert_mem_eq(answer.u.key_delivery.entity_id, first.entity_id, first.entity_id_len);
  cpns_server_session_del(s);
}
END_TEST

/* Without a first KeyRequest there is nothing to echo: close unanswered. */
START_TEST(test_server_session_read_wrong_pdu_first) {
  cpns_server_settings st = hx_server_settings();
  cpns_server_session *s = new_session(&st, 0);
  cpns_pdu pdu;
  uint8_t buf[CPNS_PDU_MAX_ENCODED];
  size_t len, written;
  memset(&pdu, 0, sizeof pdu);
  pdu.type = CPNS_PDU_KEY_CHALLENGE;
  pdu.u.key_challenge.version = 1;
  pdu.u.key_challenge.realm_len = 1;
  pdu.u.key_challenge.realm[0] = 'r';
  pdu.u.key_challenge.suite = CPNS_SUITE_ARGON2ID_HMACSHA256_XCHACHA20POLY1305;
  pdu.u.key_challenge.kdf.ops_limit = 1;
  pdu.u.key_challenge.kdf.mem_limit_kib = 8;
  len = hx_encode(&pdu, buf, sizeof buf);
  ck_assert_int_eq(hx_server_feed(s, buf, len, 0, 0), CPNS_ERR_PROTOCOL);
  ck_assert_int_eq(cpns_server_session_get_state(s), CPNS_SERVER_CLOSE);
  ck_assert_int_eq(cpns_server_session_write(s, buf, sizeof buf, &written, 0), CPNS_ERR_STATE);
  ck_assert_int_eq(hx_session_result(s), -1);
  cpns_server_session_del(s);
}
END_TEST

START_TEST(test_server_session_read_version_3) {
  cpns_server_settings st = hx_server_settings();
  cpns_server_session *s = new_session(&st, 0);
  cpns_key_request req;
  cpns_pdu pdu;
  hx_first_request(&req);
  req.version = 3;
  ck_assert_int_eq(feed_request(s, &req), 0);
  ck_assert_int_eq(hx_session_result(s), CPNS_RESULT_UNSUPPORTED_VERSION);
  hx_server_take(s, &pdu, NULL);
  ck_assert_int_eq(pdu.u.key_delivery.result, CPNS_RESULT_UNSUPPORTED_VERSION);
  ck_assert_int_eq(pdu.u.key_delivery.version, 2); /* the highest this server speaks (§3) */
  ck_assert_int_eq(pdu.u.key_delivery.has_assignment, 0);
  cpns_server_session_del(s);
}
END_TEST

START_TEST(test_server_session_read_no_known_suite) {
  cpns_server_settings st = hx_server_settings();
  cpns_server_session *s = new_session(&st, 0);
  cpns_key_request req;
  hx_first_request(&req);
  req.offered_suites_len = 3;
  req.offered_suites[0] = 2;
  req.offered_suites[1] = 77;
  req.offered_suites[2] = 1000;
  ck_assert_int_eq(feed_request(s, &req), 0);
  hx_expect_refusal(s, CPNS_RESULT_UNSUPPORTED_SUITE);
  cpns_server_session_del(s);
}
END_TEST

/* Marks offered_suites[i] as a suite number of len octets outside int32_t. */
static void wide_suite(cpns_key_request *r, size_t i, size_t at, size_t len, uint8_t first) {
  r->offered_suites[i] = CPNS_SUITE_WIDE;
  r->offered_suites_wide.len[i] = (uint8_t)len;
  memset(r->offered_suites_wide.octets + at, first & 0x80 ? 0xff : 0x00, len);
  r->offered_suites_wide.octets[at] = first;
}

/*
 * Unknown suite numbers are skipped and stay in the transcript as sent: the
 * exchange only succeeds if the server's AuthMessage has the gateway's
 * octets. _i == 1: numbers outside int32_t (5 and 12 octets, §3).
 */
START_TEST(test_server_session_read_unknown_suites_ignored) {
  cpns_key_request first, second;
  cpns_key_challenge chal;
  cpns_server_session *s;
  cpns_pdu pdu;
  hx_first_request(&first);
  first.offered_suites_len = 3;
  first.offered_suites[0] = 42;
  first.offered_suites[1] = 1;
  first.offered_suites[2] = 7;
  if (_i == 1) {
    wide_suite(&first, 0, 0, 5, 0x01);
    wide_suite(&first, 2, 5, 12, 0xfe);
  }
  s = hx_session_after_first(&first, HX_KNOWN, &chal);
  if (_i == 1) { /* AuthMessage holds the numbers' own octets */
    static const uint8_t tlv[] = {0x0a, 0x0c, 0xfe, 0xff, 0xff, 0xff, 0xff,
                                  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    cpns_auth_transcript t;
    uint8_t am[CPNS_PDU_MAX_ENCODED];
    size_t am_len = 0, at;
    int found = 0;
    ck_assert_int_eq(cpns_auth_transcript_from(&t, &first, &chal), 0);
    ck_assert_int_eq(cpns_auth_transcript_encode(&t, am, sizeof am, &am_len), 0);
    for (at = 0; at + sizeof tlv <= am_len; at++) {
      found |= memcmp(am + at, tlv, sizeof tlv) == 0;
    }
    ck_assert(found);
  }
  ck_assert_int_eq(chal.suite, CPNS_SUITE_ARGON2ID_HMACSHA256_XCHACHA20POLY1305);
  second_request(&second, &first, &chal);
  ck_assert_int_eq(feed_request(s, &second), 0);
  ck_assert_int_eq(cpns_server_session_store_done(s, CPNS_STORE_OK, 0), 0);
  hx_server_take(s, &pdu, NULL);
  ck_assert_int_eq(pdu.u.key_delivery.result, CPNS_RESULT_SUCCESS);
  cpns_server_session_del(s);
}
END_TEST

/* A second KeyRequest whose long suite number differs is not the same request. */
START_TEST(test_server_session_read_second_differs_in_wide_suite) {
  cpns_key_request first, second;
  cpns_key_challenge chal;
  cpns_server_session *s;
  hx_first_request(&first);
  first.offered_suites_len = 2;
  first.offered_suites[1] = 1;
  wide_suite(&first, 0, 0, 9, 0x01);
  s = hx_session_after_first(&first, HX_KNOWN, &chal);
  second_request(&second, &first, &chal);
  second.offered_suites_wide.octets[8] = 0x01;
  ck_assert_int_eq(feed_request(s, &second), 0);
  hx_expect_refusal(s, CPNS_RESULT_BAD_REQUEST);
  cpns_server_session_del(s);
}
END_TEST

START_TEST(test_server_session_read_bad_identifier) {
  cpns_server_settings st = hx_server_settings();
  cpns_server_session *s = new_session(&st, 0);
  cpns_key_request req;
  const uint8_t *eid, *uid;
  size_t eid_len, uid_len;
  static const char *bad_entity[] = {"urn:uuid:not-a-uuid", "not a urn", "urn:x:%zz",
                                     "urn:dev:mac:0011"};
  static const char *bad_user[] = {"alice@", "@example.com", "al ice", "a..b"};
  hx_first_request(&req);
  if (_i < 4) {
    req.entity_id_len = strlen(bad_entity[_i]);
    memcpy(req.entity_id, bad_entity[_i], req.entity_id_len);
  } else {
    req.user_id_len = strlen(bad_user[_i - 4]);
    memcpy(req.user_id, bad_user[_i - 4], req.user_id_len);
  }
  ck_assert_int_eq(feed_request(s, &req), 0);
  /* For the log, an invalid identifier is reported as received. */
  cpns_server_session_get_ids(s, &eid, &eid_len, &uid, &uid_len);
  if (_i < 4) {
    ck_assert_uint_eq(eid_len, req.entity_id_len);
    ck_assert_mem_eq(eid, req.entity_id, eid_len);
  } else {
    ck_assert_uint_eq(uid_len, req.user_id_len);
    ck_assert_mem_eq(uid, req.user_id, uid_len);
  }
  hx_expect_refusal(s, CPNS_RESULT_BAD_REQUEST);
  cpns_server_session_del(s);
}
END_TEST

START_TEST(test_server_session_provide_credential_throttled) {
  cpns_server_settings st = hx_server_settings();
  cpns_server_session *s = new_session(&st, 0);
  cpns_key_request req;
  cpns_credential *cred = _i == 0 ? hx_credential(HX_PASSWORD) : NULL;
  hx_first_request(&req);
  ck_assert_int_eq(feed_request(s, &req), 0);
  ck_assert_int_eq(cpns_server_session_provide_credential(s, cred, 1, 0), 0);
  hx_expect_refusal(s, CPNS_RESULT_TRY_LATER);
  sodium_free(cred);
  cpns_server_session_del(s);
}
END_TEST

START_TEST(test_server_session_provide_credential_bad_record) {
  cpns_server_settings st = hx_server_settings();
  cpns_server_session *s = new_session(&st, 0);
  cpns_key_request req;
  cpns_credential *cred = hx_credential(HX_PASSWORD);
  const uint8_t *uid;
  size_t uid_len;
  hx_first_request(&req);
  ck_assert_int_eq(feed_request(s, &req), 0);
  ck_assert_int_eq(cpns_server_session_get_user_id(s, &uid, &uid_len), 0);
  ck_assert_uint_eq(uid_len, strlen(HX_USER_NORM));
  ck_assert_mem_eq(uid, HX_USER_NORM, uid_len);
  cred->kdf.mem_limit_kib = 1;
  ck_assert_int_eq(cpns_server_session_provide_credential(s, cred, 0, 0),
                   CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(cpns_server_session_get_state(s), CPNS_SERVER_NEED_CREDENTIAL);
  ck_assert_int_eq(cpns_server_session_provide_credential(NULL, cred, 0, 0),
                   CPNS_ERR_INVALID_ARGUMENT);
  sodium_free(cred);
  cpns_server_session_del(s);
}
END_TEST

START_TEST(test_server_session_store_done_conflict) {
  hx h;
  hx_init(&h, HX_PASSWORD);
  h.store_status = CPNS_STORE_CONFLICT;
  hx_run(&h);
  ck_assert_int_eq(h.stored, 1);
  ck_assert_int_eq(hx_session_result(h.s), CPNS_RESULT_ENTITY_CONFLICT);
  ck_assert_int_eq(cpns_server_session_get_state(h.s), CPNS_SERVER_DONE);
  ck_assert_int_eq(cpns_gateway_get_error(h.gw), CPNS_ERR_REFUSED);
  ck_assert_int_eq(hx_gateway_result(h.gw), CPNS_RESULT_ENTITY_CONFLICT);
  hx_free(&h);
}
END_TEST

START_TEST(test_server_session_store_done_failed) {
  hx h;
  uint8_t eukey[CPNS_EUKEY_LEN], key_id[CPNS_KEY_ID_LEN];
  cpns_pdu pdu;
  hx_init(&h, HX_PASSWORD);
  h.store_status = CPNS_STORE_FAILED;
  hx_run(&h);
  ck_assert_int_eq(hx_session_result(h.s), CPNS_RESULT_SERVER_ERROR);
  ck_assert_int_eq(cpns_pdu_decode(&pdu, h.to_gateway[1].bytes, h.to_gateway[1].len, NULL), 0);
  ck_assert_int_eq(pdu.u.key_delivery.has_assignment, 0);
  ck_assert_int_eq(hx_gateway_result(h.gw), CPNS_RESULT_SERVER_ERROR);
  ck_assert_int_eq(cpns_gateway_get_eukey(h.gw, eukey, key_id), CPNS_ERR_STATE);
  hx_free(&h);
}
END_TEST

START_TEST(test_server_session_store_done_wipes_eukey) {
  cpns_key_request first, second;
  cpns_key_challenge chal;
  cpns_server_session *s;
  cpns_server_assignment a;
  hx_first_request(&first);
  s = hx_session_after_first(&first, HX_KNOWN, &chal);
  second_request(&second, &first, &chal);
  ck_assert_int_eq(feed_request(s, &second), 0);
  ck_assert_int_eq(cpns_server_session_get_assignment(s, &a), 0);
  ck_assert_mem_ne(a.eukey, zeros, CPNS_EUKEY_LEN);
  ck_assert_int_eq(cpns_server_session_store_done(s, (cpns_store_status)9, 0),
                   CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(cpns_server_session_get_state(s), CPNS_SERVER_NEED_STORE);
  ck_assert_uint_eq(cpns_server_session_get_expiry(s), UINT64_MAX);
  ck_assert_int_eq(cpns_server_session_store_done(s, CPNS_STORE_OK, 0), 0);
  ck_assert_mem_eq(s->sec, zeros, sizeof *s->sec < sizeof zeros ? sizeof *s->sec : sizeof zeros);
  ck_assert_int_eq(cpns_server_session_get_assignment(s, &a), CPNS_ERR_STATE);
  cpns_server_session_del(s);
}
END_TEST

START_TEST(test_server_session_read_non_der) {
  static const uint8_t indefinite[] = {0xa0, 0x80, 0x02, 0x01, 0x01, 0x00, 0x00};
  static const uint8_t http[] = "GET / HTTP/1.1\r\n\r\n";
  static const uint8_t bad_body[] = {0xa0, 0x03, 0x01, 0x02, 0x03};
  static const uint8_t non_minimal[] = {0xa0, 0x81, 0x03, 0x02, 0x01, 0x01};
  static const struct {
    const uint8_t *bytes;
    size_t len;
  } cases[] = {{indefinite, sizeof indefinite},
               {http, sizeof http - 1},
               {bad_body, sizeof bad_body},
               {non_minimal, sizeof non_minimal}};
  cpns_server_settings st = hx_server_settings();
  cpns_server_session *s = new_session(&st, 0);
  uint8_t out[CPNS_PDU_MAX_ENCODED];
  size_t written;
  int rv = hx_server_feed(s, cases[_i].bytes, cases[_i].len, 0, 0);
  ck_assert_int_lt(rv, 0);
  ck_assert_int_eq(cpns_server_session_get_state(s), CPNS_SERVER_CLOSE);
  ck_assert_int_eq(cpns_server_session_write(s, out, sizeof out, &written, 0), CPNS_ERR_STATE);
  ck_assert_int_eq(cpns_server_session_read(s, out, 1, 0), CPNS_ERR_STATE);
  ck_assert_int_eq(hx_session_result(s), -1);
  cpns_server_session_del(s);
}
END_TEST

/* A length above the limit closes after the length octets, before the body. */
START_TEST(test_server_session_read_oversized_length) {
  cpns_server_settings st = hx_server_settings();
  cpns_server_session *s = new_session(&st, 0);
  uint8_t big[64];
  memset(big, 0x41, sizeof big);
  big[0] = 0xa0;
  big[1] = 0x84;
  big[2] = 0x7f;
  big[3] = 0xff;
  big[4] = 0xff;
  big[5] = 0xff;
  ck_assert_int_eq(cpns_server_session_read(s, big, sizeof big, 0), CPNS_ERR_PDU_TOO_LONG);
  ck_assert_int_eq(cpns_server_session_get_state(s), CPNS_SERVER_CLOSE);
  cpns_server_session_del(s);
}
END_TEST

/* Just above the configured limit: a real request with a small max_pdu_len. */
START_TEST(test_server_session_read_over_configured_limit) {
  cpns_server_settings st = hx_server_settings();
  cpns_server_session *s;
  cpns_key_request req;
  cpns_pdu pdu;
  uint8_t buf[CPNS_PDU_MAX_ENCODED];
  size_t len;
  hx_first_request(&req);
  memset(&pdu, 0, sizeof pdu);
  pdu.type = CPNS_PDU_KEY_REQUEST;
  pdu.u.key_request = req;
  len = hx_encode(&pdu, buf, sizeof buf);
  st.max_pdu_len = len - 1;
  s = new_session(&st, 0);
  ck_assert_int_eq(cpns_server_session_read(s, buf, len, 0), CPNS_ERR_PDU_TOO_LONG);
  cpns_server_session_del(s);
  st.max_pdu_len = len;
  s = new_session(&st, 0);
  ck_assert_int_eq(cpns_server_session_read(s, buf, len, 0), 0);
  ck_assert_int_eq(cpns_server_session_get_state(s), CPNS_SERVER_NEED_CREDENTIAL);
  cpns_server_session_del(s);
}
END_TEST

START_TEST(test_server_session_read_peer_closed) {
  cpns_server_settings st = hx_server_settings();
  cpns_server_session *s = new_session(&st, 0);
  static const uint8_t part[] = {0xa0, 0x40, 0x02};
  ck_assert_int_eq(cpns_server_session_read(s, part, sizeof part, 0), 0);
  ck_assert_int_eq(cpns_server_session_read(s, NULL, 0, 0), CPNS_ERR_PEER_CLOSED);
  ck_assert_int_eq(cpns_server_session_get_state(s), CPNS_SERVER_CLOSE);
  cpns_server_session_del(s);
}
END_TEST

static size_t encode_first_request(uint8_t *buf, size_t buflen) {
  cpns_key_request req;
  cpns_pdu pdu;
  hx_first_request(&req);
  memset(&pdu, 0, sizeof pdu);
  pdu.type = CPNS_PDU_KEY_REQUEST;
  pdu.u.key_request = req;
  return hx_encode(&pdu, buf, buflen);
}

/* Answers NEED_CREDENTIAL and writes the KeyChallenge: the session's next RECEIVE. */
static void challenge_written(cpns_server_session *s) {
  cpns_credential *cred = hx_credential(HX_PASSWORD);
  uint8_t out[CPNS_PDU_MAX_ENCODED];
  size_t written;
  ck_assert_int_eq(cpns_server_session_get_state(s), CPNS_SERVER_NEED_CREDENTIAL);
  ck_assert_int_eq(cpns_server_session_provide_credential(s, cred, 0, 0), 0);
  ck_assert_int_eq(cpns_server_session_write(s, out, sizeof out, &written, 0), 0);
  sodium_free(cred);
}

/* A gateway that did not wait: its second PDU is kept and handled after the challenge. */
START_TEST(test_server_session_read_two_pdus_at_once) {
  cpns_server_settings st = hx_server_settings();
  cpns_server_session *s = new_session(&st, 0);
  uint8_t buf[2 * CPNS_PDU_MAX_ENCODED];
  size_t len = encode_first_request(buf, sizeof buf);
  memcpy(buf + len, buf, len); /* the first again: no response, badRequest */
  ck_assert_int_eq(cpns_server_session_read(s, buf, 2 * len, 0), 0);
  challenge_written(s);
  hx_expect_refusal(s, CPNS_RESULT_BAD_REQUEST);
  cpns_server_session_del(s);
}
END_TEST

START_TEST(test_server_session_read_split_at_every_octet) {
  cpns_server_settings st = hx_server_settings();
  uint8_t buf[CPNS_PDU_MAX_ENCODED];
  size_t len = encode_first_request(buf, sizeof buf), at;
  for (at = 1; at < len; ++at) {
    cpns_server_session *s = new_session(&st, 0);
    ck_assert_int_eq(cpns_server_session_read(s, buf, at, 0), 0);
    ck_assert_int_eq(cpns_server_session_get_state(s), CPNS_SERVER_RECEIVE);
    ck_assert_int_eq(cpns_server_session_read(s, buf + at, len - at, 0), 0);
    ck_assert_int_eq(cpns_server_session_get_state(s), CPNS_SERVER_NEED_CREDENTIAL);
    cpns_server_session_del(s);
  }
}
END_TEST

/* A PDU and the start of the next: after the challenge the session waits for the rest. */
START_TEST(test_server_session_read_pdu_and_partial_next) {
  cpns_server_settings st = hx_server_settings();
  uint8_t buf[2 * CPNS_PDU_MAX_ENCODED];
  size_t len = encode_first_request(buf, sizeof buf), at;
  memcpy(buf + len, buf, len);
  for (at = len + 1; at < 2 * len; ++at) {
    cpns_server_session *s = new_session(&st, 0);
    ck_assert_int_eq(cpns_server_session_read(s, buf, at, 0), 0);
    challenge_written(s);
    ck_assert_int_eq(cpns_server_session_get_state(s), CPNS_SERVER_RECEIVE);
    ck_assert_uint_eq(s->framer.ahead_len, 0); /* the part kept now sits in the PDU buffer */
    ck_assert_int_eq(cpns_server_session_read(s, buf + at, 2 * len - at, 0), 0);
    hx_expect_refusal(s, CPNS_RESULT_BAD_REQUEST);
    cpns_server_session_del(s);
  }
}
END_TEST

/* At most one PDU of max_pdu_len octets may follow the first KeyRequest. */
START_TEST(test_server_session_read_too_many_octets_ahead) {
  cpns_server_settings st = hx_server_settings();
  uint8_t buf[3 * CPNS_PDU_MAX_ENCODED];
  size_t limit = _i == 0 ? CPNS_PDU_MAX_ENCODED : 600; /* default 4096 acts as the capacity */
  size_t len = encode_first_request(buf, sizeof buf);
  cpns_server_session *s;
  st.max_pdu_len = _i == 0 ? CPNS_PDU_MAX_DEFAULT : limit;
  memset(buf + len, 0xee, sizeof buf - len);
  s = new_session(&st, 0);
  ck_assert_int_eq(cpns_server_session_read(s, buf, len + limit, 0), 0);
  ck_assert_ptr_nonnull(s->framer.ahead);
  ck_assert_uint_eq(s->framer.ahead_len, limit);
  /* Handled after the challenge: not a frame, so the session closes unanswered. */
  challenge_written(s);
  ck_assert_int_eq(cpns_server_session_get_state(s), CPNS_SERVER_CLOSE);
  ck_assert_int_eq(s->error, CPNS_ERR_FRAME_INVALID);
  ck_assert_ptr_null(s->framer.ahead);
  cpns_server_session_del(s);
  s = new_session(&st, 0);
  ck_assert_int_eq(cpns_server_session_read(s, buf, len + limit + 1, 0), CPNS_ERR_PROTOCOL);
  ck_assert_int_eq(cpns_server_session_get_state(s), CPNS_SERVER_CLOSE);
  ck_assert_ptr_null(s->framer.ahead);
  cpns_server_session_del(s);
}
END_TEST

/* A PDU answered at once ends the exchange (§3): what follows is dropped unread. */
START_TEST(test_server_session_read_drops_octets_after_last_pdu) {
  cpns_server_settings st = hx_server_settings();
  cpns_server_session *s = new_session(&st, 0);
  cpns_key_request req;
  cpns_pdu pdu;
  uint8_t buf[3 * CPNS_PDU_MAX_ENCODED];
  size_t len;
  hx_first_request(&req);
  req.version = 7; /* unsupportedVersion, answered without a challenge */
  memset(&pdu, 0, sizeof pdu);
  pdu.type = CPNS_PDU_KEY_REQUEST;
  pdu.u.key_request = req;
  len = hx_encode(&pdu, buf, sizeof buf);
  memset(buf + len, 0xee, sizeof buf - len); /* over the limit, and not a frame */
  ck_assert_int_eq(cpns_server_session_read(s, buf, sizeof buf, 0), 0);
  ck_assert_ptr_null(s->framer.ahead);
  hx_expect_refusal(s, CPNS_RESULT_UNSUPPORTED_VERSION);
  cpns_server_session_del(s);
}
END_TEST

START_TEST(test_server_session_handle_expiry_first_pdu) {
  cpns_server_settings st = hx_server_settings();
  cpns_server_session *s;
  static const uint8_t part[] = {0xa0, 0x40};
  st.pdu_timeout_ms = 500;
  s = new_session(&st, 1000);
  ck_assert_uint_eq(cpns_server_session_get_expiry(s), 1500);
  ck_assert_int_eq(cpns_server_session_read(s, part, sizeof part, 1200), 0);
  ck_assert_int_eq(cpns_server_session_handle_expiry(s, 1499), 0);
  ck_assert_int_eq(cpns_server_session_get_state(s), CPNS_SERVER_RECEIVE);
  ck_assert_int_eq(cpns_server_session_handle_expiry(s, 1500), CPNS_ERR_TIMEOUT);
  ck_assert_int_eq(cpns_server_session_get_state(s), CPNS_SERVER_CLOSE);
  ck_assert_uint_eq(cpns_server_session_get_expiry(s), UINT64_MAX);
  cpns_server_session_del(s);
}
END_TEST

START_TEST(test_server_session_handle_expiry_second_pdu) {
  cpns_server_settings st = hx_server_settings();
  cpns_server_session *s;
  cpns_key_request req;
  cpns_pdu pdu;
  uint8_t buf[CPNS_PDU_MAX_ENCODED];
  size_t len, written;
  cpns_credential *cred = hx_credential(HX_PASSWORD);
  st.pdu_timeout_ms = 1000;
  st.exchange_timeout_ms = 5000;
  s = new_session(&st, 10000);
  hx_first_request(&req);
  memset(&pdu, 0, sizeof pdu);
  pdu.type = CPNS_PDU_KEY_REQUEST;
  pdu.u.key_request = req;
  len = hx_encode(&pdu, buf, sizeof buf);
  ck_assert_int_eq(cpns_server_session_read(s, buf, len, 10100), 0);
  /* The host owes the answer: no deadline runs. */
  ck_assert_uint_eq(cpns_server_session_get_expiry(s), UINT64_MAX);
  ck_assert_int_eq(cpns_server_session_handle_expiry(s, 99999), 0);
  ck_assert_int_eq(cpns_server_session_get_state(s), CPNS_SERVER_NEED_CREDENTIAL);
  ck_assert_int_eq(cpns_server_session_provide_credential(s, cred, 0, 10200), 0);
  ck_assert_uint_eq(cpns_server_session_get_expiry(s), UINT64_MAX);
  ck_assert_int_eq(cpns_server_session_write(s, buf, sizeof buf, &written, 10300), 0);
  ck_assert_uint_eq(cpns_server_session_get_expiry(s), 11300);
  ck_assert_int_eq(cpns_server_session_handle_expiry(s, 11299), 0);
  ck_assert_int_eq(cpns_server_session_handle_expiry(s, 11300), CPNS_ERR_TIMEOUT);
  ck_assert_int_eq(cpns_server_session_get_state(s), CPNS_SERVER_CLOSE);
  sodium_free(cred);
  cpns_server_session_del(s);
}
END_TEST

/* The whole-exchange deadline caps the per-PDU one. */
START_TEST(test_server_session_handle_expiry_exchange) {
  cpns_server_settings st = hx_server_settings();
  cpns_server_session *s;
  st.pdu_timeout_ms = 10000;
  st.exchange_timeout_ms = 3000;
  s = new_session(&st, 1000);
  ck_assert_uint_eq(cpns_server_session_get_expiry(s), 4000);
  ck_assert_int_eq(cpns_server_session_handle_expiry(s, 4000), CPNS_ERR_TIMEOUT);
  cpns_server_session_del(s);
  /* A clock near its end does not wrap the deadline around. */
  s = new_session(&st, UINT64_MAX - 5);
  ck_assert_uint_eq(cpns_server_session_get_expiry(s), UINT64_MAX);
  ck_assert_int_eq(cpns_server_session_handle_expiry(s, UINT64_MAX - 4), 0);
  cpns_server_session_del(s);
}
END_TEST

START_TEST(test_server_session_state_errors) {
  cpns_server_settings st = hx_server_settings();
  cpns_server_session *s = new_session(&st, 0);
  cpns_server_assignment a;
  const uint8_t *uid;
  size_t uid_len, written;
  uint8_t out[CPNS_PDU_MAX_ENCODED];
  const uint8_t *eid;
  size_t eid_len;
  ck_assert_int_eq(cpns_server_session_write(s, out, sizeof out, &written, 0), CPNS_ERR_STATE);
  ck_assert_int_eq(cpns_server_session_provide_credential(s, NULL, 0, 0), CPNS_ERR_STATE);
  ck_assert_int_eq(cpns_server_session_store_done(s, CPNS_STORE_OK, 0), CPNS_ERR_STATE);
  ck_assert_int_eq(cpns_server_session_get_user_id(s, &uid, &uid_len), CPNS_ERR_STATE);
  ck_assert_int_eq(cpns_server_session_get_assignment(s, &a), CPNS_ERR_STATE);
  ck_assert_int_eq(cpns_server_session_read(s, NULL, 1, 0), CPNS_ERR_INVALID_ARGUMENT);
  cpns_server_session_get_ids(s, &eid, &eid_len, &uid, &uid_len);
  ck_assert_uint_eq(eid_len, 0);
  ck_assert_uint_eq(uid_len, 0);
  {
    cpns_result result = CPNS_RESULT_SUCCESS;
    ck_assert_int_eq(cpns_server_session_get_result(NULL, &result), CPNS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(cpns_server_session_get_result(s, NULL), CPNS_ERR_INVALID_ARGUMENT);
  }
  ck_assert_int_eq(cpns_server_session_get_state(NULL), CPNS_SERVER_CLOSE);
  cpns_server_session_del(s);
}
END_TEST

START_TEST(test_server_session_write_buffer_too_small) {
  cpns_key_request req;
  cpns_server_settings st = hx_server_settings();
  cpns_server_session *s = new_session(&st, 0);
  uint8_t out[CPNS_PDU_MAX_ENCODED];
  size_t written;
  hx_first_request(&req);
  req.version = 3;
  ck_assert_int_eq(feed_request(s, &req), 0);
  ck_assert_int_eq(cpns_server_session_write(s, out, 10, &written, 0), CPNS_ERR_BUFFER_TOO_SMALL);
  ck_assert_int_eq(cpns_server_session_get_state(s), CPNS_SERVER_SEND);
  ck_assert_int_eq(cpns_server_session_write(s, out, CPNS_PDU_MAX_ENCODED, &written, 0), 0);
  ck_assert_int_eq(cpns_server_session_get_state(s), CPNS_SERVER_DONE);
  cpns_server_session_del(s);
}
END_TEST

/* Bounded memory per session: a few KiB of fixed buffers. */
START_TEST(test_server_session_sizeof_bounded) {
  printf("sizeof(cpns_server_session) = %zu, guarded secrets = %zu\n",
         sizeof(struct cpns_server_session), sizeof(cpnsi_server_secrets));
  ck_assert_uint_le(sizeof(struct cpns_server_session), 6 * 1024);
}
END_TEST

/* ---- Versions 1 and 2, suite 2 (§3, §4, §5.2, §6) ---- */

/* A version-2 first KeyRequest with a valid ke1, offering {2, 1}, from the real gateway. */
static void v2_first_request(cpns_key_request *req) {
  cpns_gateway_settings gs = hx_gateway_settings(HX_PASSWORD);
  cpns_gateway *gw = NULL;
  uint8_t buf[CPNS_PDU_MAX_ENCODED];
  size_t len;
  cpns_pdu pdu;
  ck_assert_int_eq(cpns_gateway_new(&gw, &gs, NULL, 0), 0);
  ck_assert_int_eq(cpns_gateway_write(gw, buf, sizeof buf, &len, 0), 0);
  ck_assert_int_eq(cpns_pdu_decode(&pdu, buf, len, NULL), 0);
  *req = pdu.u.key_request;
  cpns_gateway_del(gw);
}

typedef struct choice_case {
  int server[2];
  size_t nserver; /* 0: the default list */
  int keys;       /* s2_keys set */
  int offered[2];
  size_t noffered;
  uint32_t version;
  int rec1, rec2; /* the user's records */
  int suite;      /* expected; 0: refused at once with result */
  int known;
  int result;
} choice_case;

static const choice_case choice_cases[] = {
    {{0}, 0, 1, {2, 1}, 2, 2, 1, 1, 2, 1, 0},    /* both records: suite 2 */
    {{0}, 0, 1, {2, 1}, 2, 2, 1, 0, 1, 1, 0},    /* suite 1 record only: suite 1 (§9) */
    {{0}, 0, 1, {2, 1}, 2, 2, 0, 0, 2, 0, 0},    /* unknown: first allowed, fake */
    {{1, 2}, 2, 1, {2, 1}, 2, 2, 1, 1, 1, 1, 0}, /* the server's order wins */
    {{0}, 0, 0, {2, 1}, 2, 2, 1, 1, 1, 1, 0},    /* suite-1-only server */
    {{0}, 0, 0, {2, 0}, 1, 2, 1, 1, 0, 0, CPNS_RESULT_UNSUPPORTED_SUITE},
    {{0}, 0, 1, {1, 0}, 1, 2, 1, 1, 1, 1, 0}, /* offered {1} with version 2 */
    {{0}, 0, 1, {1, 0}, 1, 1, 1, 1, 1, 1, 0}, /* version 1 */
    {{0}, 0, 1, {2, 1}, 2, 1, 1, 1, 1, 1, 0}, /* version 1 offering 2: ignored (§3) */
    {{0}, 0, 1, {2, 0}, 1, 2, 1, 0, 2, 0, 0}, /* suite 1 record, suite 2 asked: fake */
    {{2, 0}, 1, 1, {1, 0}, 1, 2, 1, 1, 0, 0, CPNS_RESULT_UNSUPPORTED_SUITE},
    {{0}, 0, 1, {2, 0}, 1, 1, 1, 1, 0, 0, CPNS_RESULT_UNSUPPORTED_SUITE}, /* v1 cannot run 2 */
};

/* The §6 suite choice table, case by case. */
START_TEST(test_server_s2_suite_choice) {
  const choice_case *cc = &choice_cases[_i];
  cpns_server_settings st = cc->keys ? hx_server_settings_s2() : hx_server_settings();
  cpns_server_session *s;
  cpns_key_request req;
  cpns_credential *cred = cc->rec1 ? hx_credential(HX_PASSWORD) : NULL;
  cpns_s2_record *rec = cc->rec2 ? hx_s2_record(HX_PASSWORD) : NULL;
  cpns_pdu pdu;
  uint8_t salt[CPNS_SALT_LEN];
  int suite = -1;
  size_t i;
  if (cc->nserver != 0) {
    st.suites = cc->server;
    st.suites_len = cc->nserver;
  }
  s = new_session(&st, 0);
  v2_first_request(&req);
  req.version = cc->version;
  req.offered_suites_len = cc->noffered;
  for (i = 0; i < cc->noffered; ++i) {
    req.offered_suites[i] = cc->offered[i];
  }
  /* ke1 iff version 2 offering suite 2 (§4) */
  req.has_ke1 = cc->version == 2 && cc->offered[0] == 2;
  if (!req.has_ke1) {
    memset(&req.ke1, 0, sizeof req.ke1);
  }
  ck_assert_int_eq(feed_request(s, &req), 0);
  if (cc->suite == 0) {
    hx_expect_refusal(s, (cpns_result)cc->result);
    goto out;
  }
  ck_assert_int_eq(cpns_server_session_get_state(s), CPNS_SERVER_NEED_CREDENTIAL);
  ck_assert_int_eq(cpns_server_session_get_suite(s, &suite), CPNS_ERR_STATE);
  ck_assert_int_eq(cpns_server_session_provide_records(s, cred, rec, 0, 0), 0);
  ck_assert_int_eq(cpns_server_session_get_suite(s, &suite), 0);
  ck_assert_int_eq(suite, cc->suite);
  ck_assert_int_eq(s->user_known, cc->known);
  hx_server_take(s, &pdu, NULL);
  ck_assert_int_eq(pdu.type, CPNS_PDU_KEY_CHALLENGE);
  ck_assert_int_eq(pdu.u.key_challenge.version, cc->version);
  ck_assert_int_eq(pdu.u.key_challenge.suite, cc->suite);
  ck_assert_int_eq(pdu.u.key_challenge.has_ke2, cc->suite == 2);
  ck_assert_int_eq(cpns_key_challenge_validate(&pdu.u.key_challenge), 0);
  if (!cc->known) {
    ck_assert_int_eq(cpns_crypto_fake_salt(salt, hx_server_secret, (const uint8_t *)HX_USER_NORM,
                                           strlen(HX_USER_NORM)),
                     0);
    ck_assert_mem_eq(pdu.u.key_challenge.kdf.salt, salt, CPNS_SALT_LEN);
  } else if (cc->suite == 2) {
    ck_assert_mem_eq(pdu.u.key_challenge.kdf.salt, rec->kdf.salt, CPNS_SALT_LEN);
  } else {
    ck_assert_mem_eq(pdu.u.key_challenge.kdf.salt, cred->kdf.salt, CPNS_SALT_LEN);
  }
  /* Nothing of the records or the fake one stays but what the exchange needs. */
  ck_assert_mem_eq(&s->sec->fake_record, zeros, sizeof s->sec->fake_record);
  ck_assert_mem_eq(s->sec->server_secret, zeros, CPNS_SERVER_SECRET_LEN);
out:
  sodium_free(cred);
  sodium_free(rec);
  cpns_server_session_del(s);
}
END_TEST

/* §4 presence rules, §3 v2 fields in v1, and invalid ke1 elements (§5.2): badRequest. */
START_TEST(test_server_s2_first_request_bad) {
  cpns_server_settings st = hx_server_settings_s2();
  cpns_server_session *s = new_session(&st, 0);
  cpns_key_request req;
  v2_first_request(&req);
  switch (_i) {
  case 0: req.has_ke1 = 0; break; /* offers 2 without ke1 */
  case 1:                         /* ke1 without offering 2 */
    req.offered_suites[0] = 1;
    req.offered_suites_len = 1;
    break;
  case 2: /* ke1 in a version-1 request */
    req.version = 1;
    req.offered_suites[0] = 1;
    req.offered_suites_len = 1;
    break;
  case 3: /* ke3 in a first request */
    req.has_ke3 = 1;
    memset(req.ke3, 1, sizeof req.ke3);
    break;
  case 4: memset(req.ke1.blinded_message, 0, CPNS_OPAQUE_ELEMENT_LEN); break; /* identity */
  case 5: memset(req.ke1.client_public_keyshare, 0xff, CPNS_OPAQUE_ELEMENT_LEN); break;
  case 6: req.ke1.blinded_message[31] |= 0x80; break;     /* non-canonical: bit 255 */
  default: req.ke1.client_public_keyshare[0] ^= 1; break; /* likely not on the group */
  }
  if (_i == 7 && crypto_core_ristretto255_is_valid_point(req.ke1.client_public_keyshare)) {
    req.ke1.client_public_keyshare[0] ^= 3; /* the flip hit another point: try one more */
    ck_assert(!crypto_core_ristretto255_is_valid_point(req.ke1.client_public_keyshare));
  }
  ck_assert_int_eq(feed_request(s, &req), 0);
  hx_expect_refusal(s, CPNS_RESULT_BAD_REQUEST);
  cpns_server_session_del(s);
}
END_TEST

/* A suite-2 session waiting for the second KeyRequest, and that request as
 * the real gateway made it (password pw). */
static cpns_server_session *s2_until_second(const char *pw, cpns_key_request *second,
                                            const cpns_server_settings *st) {
  cpns_gateway_settings gs = hx_gateway_settings_s2(pw);
  cpns_gateway *gw = NULL;
  cpns_server_session *s = new_session(st, 0);
  cpns_s2_record *rec = hx_s2_record(HX_PASSWORD);
  uint8_t buf[CPNS_PDU_MAX_ENCODED];
  size_t len;
  cpns_pdu pdu;
  ck_assert_int_eq(cpns_gateway_new(&gw, &gs, NULL, 0), 0);
  ck_assert_int_eq(cpns_gateway_write(gw, buf, sizeof buf, &len, 0), 0);
  ck_assert_int_eq(hx_server_feed(s, buf, len, 0, 0), 0);
  ck_assert_int_eq(cpns_server_session_provide_records(s, NULL, rec, 0, 0), 0);
  sodium_free(rec);
  ck_assert_int_eq(cpns_server_session_write(s, buf, sizeof buf, &len, 0), 0);
  ck_assert_int_eq(hx_gateway_feed(gw, buf, len, 0, 0), 0);
  ck_assert_int_eq(cpns_gateway_derive(gw, 0), 0);
  ck_assert_int_eq(cpns_gateway_write(gw, buf, sizeof buf, &len, 0), 0);
  ck_assert_int_eq(cpns_pdu_decode(&pdu, buf, len, NULL), 0);
  *second = pdu.u.key_request;
  cpns_gateway_del(gw);
  ck_assert_int_eq(cpns_server_session_get_state(s), CPNS_SERVER_RECEIVE);
  return s;
}

/* The second KeyRequest of suite 2: presence rules, repeats, and ke3 (§4, §6). */
START_TEST(test_server_s2_second_request) {
  cpns_server_settings st = hx_server_settings_s2();
  cpns_key_request second;
  cpns_server_session *s = s2_until_second(HX_PASSWORD, &second, &st);
  cpns_result expect = CPNS_RESULT_BAD_REQUEST;
  switch (_i) {
  case 0: /* the response of suite 1 instead of ke3 */
    second.has_ke3 = 0;
    second.has_response = 1;
    break;
  case 1: second.has_response = 1; break; /* both */
  case 2: second.has_ke1 = 1; break;      /* ke1 again */
  case 3: second.mode ^= 1; break;        /* a root field differs */
  case 4: second.has_ke3 = 0; break;      /* nothing */
  default:                                /* a wrong ke3 */
    second.ke3[10] ^= 1;
    expect = CPNS_RESULT_AUTHENTICATION_FAILED;
    break;
  }
  ck_assert_int_eq(feed_request(s, &second), 0);
  hx_expect_refusal(s, expect);
  ck_assert_mem_eq(s->sec, zeros, sizeof *s->sec);
  cpns_server_session_del(s);
}
END_TEST

/* A gateway with another password cannot make a ke3 (it sends none); one
 * built from a wrong-password gateway's state is refused all the same. */
START_TEST(test_server_s2_ke3_of_unknown_user_refused) {
  cpns_server_settings st = hx_server_settings_s2();
  cpns_key_request second;
  cpns_server_session *s = s2_until_second(HX_PASSWORD, &second, &st);
  /* The same session forced to treat the user as unknown: a valid ke3 still fails (§6). */
  s->user_known = 0;
  ck_assert_int_eq(feed_request(s, &second), 0);
  hx_expect_refusal(s, CPNS_RESULT_AUTHENTICATION_FAILED);
  cpns_server_session_del(s);
}
END_TEST

/* entityConflict only after ke3 verified (§6); the store step as in suite 1. */
START_TEST(test_server_s2_store_outcomes) {
  static const cpns_store_status status[] = {CPNS_STORE_OK, CPNS_STORE_CONFLICT, CPNS_STORE_FAILED};
  static const int results[] = {CPNS_RESULT_SUCCESS, CPNS_RESULT_ENTITY_CONFLICT,
                                CPNS_RESULT_SERVER_ERROR};
  hx h;
  cpns_gateway_settings gs = hx_gateway_settings_s2(HX_PASSWORD);
  cpns_server_settings ss = hx_server_settings_s2();
  hx_init_with(&h, &gs, &ss);
  h.store_status = status[_i];
  hx_run(&h);
  ck_assert_int_eq(h.stored, 1);
  ck_assert_int_eq(hx_session_result(h.s), results[_i]);
  ck_assert_int_eq(hx_gateway_result(h.gw), results[_i]);
  ck_assert_int_eq(cpns_gateway_get_state(h.gw), _i == 0 ? CPNS_GATEWAY_DONE : CPNS_GATEWAY_FAILED);
  ck_assert_mem_eq(h.s->sec, zeros, sizeof *h.s->sec);
  hx_free(&h);
}
END_TEST

/* §6 lockout: after KE2 every end without a valid ke3 is a failure the host sees. */
START_TEST(test_server_s2_lockout_after_ke2) {
  static const uint8_t not_der[] = {0xa1, 0x80, 0x00, 0x00};
  cpns_server_settings st = hx_server_settings_s2();
  cpns_key_request second;
  cpns_server_session *s = s2_until_second(HX_PASSWORD, &second, &st);
  ck_assert_int_eq(hx_session_result(s), -1);
  if (_i == 0) {
    ck_assert_int_eq(cpns_server_session_read(s, NULL, 0, 0), CPNS_ERR_PEER_CLOSED);
  } else if (_i == 1) {
    ck_assert_int_eq(cpns_server_session_handle_expiry(s, cpns_server_session_get_expiry(s)),
                     CPNS_ERR_TIMEOUT);
  } else {
    ck_assert_int_lt(hx_server_feed(s, not_der, sizeof not_der, 0, 0), 0);
  }
  ck_assert_int_eq(cpns_server_session_get_state(s), CPNS_SERVER_CLOSE);
  ck_assert_int_eq(hx_session_result(s), CPNS_RESULT_AUTHENTICATION_FAILED);
  cpns_server_session_del(s);
}
END_TEST

/* Suite 1 keeps its behaviour: a close after the challenge queues no result. */
START_TEST(test_server_s2_suite1_close_has_no_result) {
  cpns_key_request req;
  cpns_server_session *s;
  hx_first_request(&req);
  s = hx_session_after_first(&req, HX_KNOWN, NULL);
  ck_assert_int_eq(cpns_server_session_read(s, NULL, 0, 0), CPNS_ERR_PEER_CLOSED);
  ck_assert_int_eq(hx_session_result(s), -1);
  cpns_server_session_del(s);
}
END_TEST

/* A version-1 gateway request to a suite-2 server runs exactly as in v1 (§3). */
START_TEST(test_server_s2_serves_v1) {
  cpns_server_settings st = hx_server_settings_s2();
  cpns_server_session *s = new_session(&st, 0);
  cpns_key_request req, second;
  cpns_credential *cred = hx_credential(HX_PASSWORD);
  cpns_s2_record *rec = hx_s2_record(HX_PASSWORD);
  cpns_server_assignment a;
  cpns_pdu pdu;
  hx_first_request(&req);
  ck_assert_int_eq(feed_request(s, &req), 0);
  ck_assert_int_eq(cpns_server_session_provide_records(s, cred, rec, 0, 0), 0);
  hx_server_take(s, &pdu, NULL);
  ck_assert_int_eq(pdu.u.key_challenge.version, 1);
  ck_assert_int_eq(pdu.u.key_challenge.suite, CPNS_SUITE_ARGON2ID_HMACSHA256_XCHACHA20POLY1305);
  ck_assert_int_eq(pdu.u.key_challenge.has_ke2, 0);
  second_request(&second, &req, &pdu.u.key_challenge);
  ck_assert_int_eq(feed_request(s, &second), 0);
  ck_assert_int_eq(cpns_server_session_get_assignment(s, &a), 0);
  ck_assert_int_eq(cpns_server_session_store_done(s, CPNS_STORE_OK, 0), 0);
  hx_server_take(s, &pdu, NULL);
  ck_assert_int_eq(pdu.u.key_delivery.version, 1);
  ck_assert_int_eq(pdu.u.key_delivery.result, CPNS_RESULT_SUCCESS);
  sodium_free(cred);
  sodium_free(rec);
  cpns_server_session_del(s);
}
END_TEST

/* The OPRF key follows the User ID: a fake record answers one KE1 the same way twice (§5.2). */
START_TEST(test_server_s2_fake_record_consistent) {
  cpns_server_settings st = hx_server_settings_s2();
  cpns_key_request req;
  cpns_pdu c[2];
  int i;
  v2_first_request(&req);
  for (i = 0; i < 2; ++i) {
    cpns_server_session *s = new_session(&st, 0);
    ck_assert_int_eq(feed_request(s, &req), 0);
    ck_assert_int_eq(cpns_server_session_provide_records(s, NULL, NULL, 0, 0), 0);
    hx_server_take(s, &c[i], NULL);
    cpns_server_session_del(s);
  }
  ck_assert_mem_eq(c[0].u.key_challenge.ke2.evaluated_message,
                   c[1].u.key_challenge.ke2.evaluated_message, CPNS_OPAQUE_ELEMENT_LEN);
  ck_assert_mem_ne(c[0].u.key_challenge.ke2.masking_nonce, c[1].u.key_challenge.ke2.masking_nonce,
                   CPNS_OPAQUE_NONCE_LEN);
  ck_assert_mem_eq(&c[0].u.key_challenge.kdf, &c[1].u.key_challenge.kdf, sizeof(cpns_kdf_params));
}
END_TEST

/* Settings V2: the suite list is checked; layout V1 reads as suite 1 alone. */
START_TEST(test_server_s2_settings) {
  static const int two[] = {2}, dup[] = {1, 1}, three[] = {3}, both[] = {1, 2, 2};
  cpns_server_settings st = hx_server_settings();
  cpns_server_session *s = NULL;
  st.suites = two;
  st.suites_len = 1; /* suite 2 without keys */
  ck_assert_int_eq(cpns_server_session_new(&s, &st, NULL, 0), CPNS_ERR_INVALID_ARGUMENT);
  st = hx_server_settings_s2();
  st.suites = dup;
  st.suites_len = 2;
  ck_assert_int_eq(cpns_server_session_new(&s, &st, NULL, 0), CPNS_ERR_INVALID_ARGUMENT);
  st.suites = three;
  st.suites_len = 1;
  ck_assert_int_eq(cpns_server_session_new(&s, &st, NULL, 0), CPNS_ERR_INVALID_ARGUMENT);
  st.suites = both;
  st.suites_len = 3;
  ck_assert_int_eq(cpns_server_session_new(&s, &st, NULL, 0), CPNS_ERR_INVALID_ARGUMENT);
  st.suites_len = 0;
  ck_assert_int_eq(cpns_server_session_new(&s, &st, NULL, 0), CPNS_ERR_INVALID_ARGUMENT);
  st.suites = NULL;
  st.suites_len = 1;
  ck_assert_int_eq(cpns_server_session_new(&s, &st, NULL, 0), CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_ptr_null(s);
  st = hx_server_settings_s2();
  s = new_session(&st, 0);
  ck_assert_uint_eq(s->nsuites, 2);
  ck_assert_int_eq(s->suites[0], 2);
  ck_assert_int_eq(s->suites[1], 1);
  cpns_server_session_del(s);
  st.suites = two;
  st.suites_len = 1;
  ck_assert_int_eq(cpns_server_session_new_versioned(&s, CPNS_SERVER_SETTINGS_V1, &st, NULL, 0), 0);
  ck_assert_uint_eq(s->nsuites, 1);
  ck_assert_int_eq(s->suites[0], 1);
  ck_assert_ptr_null(s->s2_keys);
  cpns_server_session_del(s);
  memset(&st, 0xa5, sizeof st);
  ck_assert_int_eq(cpns_server_settings_default_versioned(CPNS_SERVER_SETTINGS_V1, &st), 0);
  ck_assert_uint_eq(st.suites_len, (size_t)0xa5a5a5a5a5a5a5a5ull); /* not in layout V1 */
  ck_assert_int_eq(cpns_server_settings_default(&st), 0);
  ck_assert_ptr_null(st.s2_keys);
  ck_assert_ptr_null(st.suites);
  ck_assert_uint_eq(st.suites_len, 0);
  ck_assert_int_eq(cpns_server_session_provide_records(NULL, NULL, NULL, 0, 0),
                   CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(cpns_server_session_get_suite(NULL, &(int){0}), CPNS_ERR_INVALID_ARGUMENT);
}
END_TEST

/* A suite-2 record whose KDF parameters break the enrollment policy is the host's error. */
START_TEST(test_server_s2_provide_bad_record) {
  cpns_server_settings st = hx_server_settings_s2();
  cpns_server_session *s = new_session(&st, 0);
  cpns_key_request req;
  cpns_s2_record *rec = hx_s2_record(HX_PASSWORD);
  v2_first_request(&req);
  ck_assert_int_eq(feed_request(s, &req), 0);
  rec->kdf.ops_limit = 0;
  ck_assert_int_eq(cpns_server_session_provide_records(s, NULL, rec, 0, 0),
                   CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(cpns_server_session_get_state(s), CPNS_SERVER_NEED_CREDENTIAL);
  ck_assert_int_eq(cpns_server_session_provide_records(s, NULL, rec, 1, 0),
                   CPNS_ERR_INVALID_ARGUMENT);
  sodium_free(rec);
  ck_assert_int_eq(cpns_server_session_provide_records(s, NULL, NULL, 1, 0), 0);
  hx_expect_refusal(s, CPNS_RESULT_TRY_LATER);
  cpns_server_session_del(s);
}
END_TEST

static Suite *server_session_suite(void) {
  Suite *su = suite_create("server_session");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_server_settings_defaults_and_version);
  tcase_add_test(tc, test_server_session_new_invalid_arguments);
  tcase_add_test(tc, test_server_session_exchange_success);
  tcase_add_test(tc, test_server_session_exchange_byte_at_a_time);
  tcase_add_test(tc, test_server_session_exchange_wrong_password);
  tcase_add_test(tc, test_server_session_exchange_unknown_user_same_shape);
  tcase_add_test(tc, test_server_session_provide_credential_unknown_uses_random_key);
  tcase_add_test(tc, test_server_session_withdraw_challenge);
  tcase_add_loop_test(tc, test_server_session_read_repeat_differs, 0, 7);
  tcase_add_test(tc, test_server_session_read_repeat_same_succeeds);
  tcase_add_test(tc, test_server_session_read_wrong_server_nonce);
  tcase_add_test(tc, test_server_session_read_wrong_proof);
  tcase_add_test(tc, test_server_session_read_second_without_response);
  tcase_add_test(tc, test_server_session_read_first_with_response);
  tcase_add_loop_test(tc, test_server_session_read_wrong_pdu_second, 0, 2);
  tcase_add_test(tc, test_server_session_read_wrong_pdu_first);
  tcase_add_test(tc, test_server_session_read_version_3);
  tcase_add_test(tc, test_server_session_read_no_known_suite);
  tcase_add_loop_test(tc, test_server_session_read_unknown_suites_ignored, 0, 2);
  tcase_add_test(tc, test_server_session_read_second_differs_in_wide_suite);
  tcase_add_loop_test(tc, test_server_session_read_bad_identifier, 0, 8);
  tcase_add_loop_test(tc, test_server_session_provide_credential_throttled, 0, 2);
  tcase_add_test(tc, test_server_session_provide_credential_bad_record);
  tcase_add_test(tc, test_server_session_store_done_conflict);
  tcase_add_test(tc, test_server_session_store_done_failed);
  tcase_add_test(tc, test_server_session_store_done_wipes_eukey);
  tcase_add_loop_test(tc, test_server_session_read_non_der, 0, 4);
  tcase_add_test(tc, test_server_session_read_oversized_length);
  tcase_add_test(tc, test_server_session_read_over_configured_limit);
  tcase_add_test(tc, test_server_session_read_peer_closed);
  tcase_add_test(tc, test_server_session_read_two_pdus_at_once);
  tcase_add_test(tc, test_server_session_read_split_at_every_octet);
  tcase_add_test(tc, test_server_session_read_pdu_and_partial_next);
  tcase_add_loop_test(tc, test_server_session_read_too_many_octets_ahead, 0, 2);
  tcase_add_test(tc, test_server_session_read_drops_octets_after_last_pdu);
  tcase_add_test(tc, test_server_session_handle_expiry_first_pdu);
  tcase_add_test(tc, test_server_session_handle_expiry_second_pdu);
  tcase_add_test(tc, test_server_session_handle_expiry_exchange);
  tcase_add_test(tc, test_server_session_state_errors);
  tcase_add_test(tc, test_server_session_write_buffer_too_small);
  tcase_add_test(tc, test_server_session_sizeof_bounded);
  suite_add_tcase(su, tc);
  tc = tcase_create("suite2");
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, test_server_s2_suite_choice, 0,
                      (int)(sizeof choice_cases / sizeof choice_cases[0]));
  tcase_add_loop_test(tc, test_server_s2_first_request_bad, 0, 8);
  tcase_add_loop_test(tc, test_server_s2_second_request, 0, 6);
  tcase_add_test(tc, test_server_s2_ke3_of_unknown_user_refused);
  tcase_add_loop_test(tc, test_server_s2_store_outcomes, 0, 3);
  tcase_add_loop_test(tc, test_server_s2_lockout_after_ke2, 0, 3);
  tcase_add_test(tc, test_server_s2_suite1_close_has_no_result);
  tcase_add_test(tc, test_server_s2_serves_v1);
  tcase_add_test(tc, test_server_s2_fake_record_consistent);
  tcase_add_test(tc, test_server_s2_settings);
  tcase_add_test(tc, test_server_s2_provide_bad_record);
  suite_add_tcase(su, tc);
  return su;
}

int main(void) {
  SRunner *sr;
  int failed;
  if (cpns_init() != 0) {
    return EXIT_FAILURE;
  }
  sr = srunner_create(server_session_suite());
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
