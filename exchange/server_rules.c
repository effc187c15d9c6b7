/* The server's rules on KeyRequests (PROTOCOL.md §3, §4, §8). */
#include <string.h>

#include <sodium.h>

#include "exchange/server_internal.h"

static int offered(const cpns_key_request *req, int suite) {
  size_t i;
  /* Unknown suite numbers are how later suites are introduced: skip them (§3). */
  for (i = 0; i < req->offered_suites_len && i < CPNS_MAX_OFFERED_SUITES; ++i) {
    if (req->offered_suites[i] == suite) {
      return 1;
    }
  }
  return 0;
}

/* Offered, and allowed by the request's version: suite 2 needs ke1, which v1 lacks (§3). */
static int allowed(const cpns_key_request *req, int suite) {
  if (suite == CPNS_SUITE_OPAQUE3DH_RISTRETTO255_SHA512_ARGON2ID &&
      req->version < CPNS_PROTOCOL_VERSION_2) {
    return 0;
  }
  return offered(req, suite);
}

/*
 * A canonical ristretto255 encoding other than the identity (§5.2, RFC 9807
 * §10.7). libsodium 1.0.18 ignores bit 255 when decoding; RFC 9496 §4.3.1
 * calls such encodings non-canonical.
 */
static int valid_element(const uint8_t e[CPNS_OPAQUE_ELEMENT_LEN]) {
  return (e[CPNS_OPAQUE_ELEMENT_LEN - 1] & 0x80) == 0 &&
         crypto_core_ristretto255_is_valid_point(e) == 1 &&
         !sodium_is_zero(e, CPNS_OPAQUE_ELEMENT_LEN);
}

int cpnsi_server_choose_suite(const cpns_key_request *req, const int *suites, size_t n,
                              int has_suite1, int has_suite2, int *fake) {
  size_t i;
  int first = 0;
  for (i = 0; i < n; ++i) {
    int has =
        suites[i] == CPNS_SUITE_ARGON2ID_HMACSHA256_XCHACHA20POLY1305 ? has_suite1 : has_suite2;
    if (!allowed(req, suites[i])) {
      continue;
    }
    if (has) {
      *fake = 0;
      return suites[i];
    }
    if (first == 0) {
      first = suites[i];
    }
  }
  *fake = 1;
  return first;
}

int cpnsi_server_check_first(const cpns_key_request *req, int ids_valid, const int *suites,
                             size_t n) {
  int fake;
  int suite;
  /* A later version may change everything else, so version comes first. */
  if (req->version != CPNS_PROTOCOL_VERSION && req->version != CPNS_PROTOCOL_VERSION_2) {
    return CPNS_RESULT_UNSUPPORTED_VERSION;
  }
  /* A response or ke3 before any challenge answers nothing; a v2 field in a
   * v1 request, or ke1 without suite 2 offered (or the reverse), breaks §3/§4. */
  if (req->has_response || req->has_ke3 || !ids_valid ||
      cpns_key_request_validate_first(req) != 0) {
    return CPNS_RESULT_BAD_REQUEST;
  }
  suite = cpnsi_server_choose_suite(req, suites, n, 0, 0, &fake);
  if (suite == 0) {
    return CPNS_RESULT_UNSUPPORTED_SUITE;
  }
  /* Checked before the lookup, whatever suite the records will pick: the
   * request is malformed either way (§8). */
  if (req->has_ke1 && (!valid_element(req->ke1.blinded_message) ||
                       !valid_element(req->ke1.client_public_keyshare))) {
    return CPNS_RESULT_BAD_REQUEST;
  }
  return -1;
}

int cpnsi_server_repeats_first(const cpns_key_request *first, const cpns_key_request *second) {
  size_t i;
  if (second->version != first->version || second->mode != first->mode ||
      second->entity_id_len != first->entity_id_len || second->user_id_len != first->user_id_len ||
      second->offered_suites_len != first->offered_suites_len ||
      first->offered_suites_len > CPNS_MAX_OFFERED_SUITES) {
    return 0;
  }
  if (memcmp(second->entity_id, first->entity_id, first->entity_id_len) != 0 ||
      memcmp(second->user_id, first->user_id, first->user_id_len) != 0 ||
      memcmp(second->gateway_nonce, first->gateway_nonce, sizeof first->gateway_nonce) != 0) {
    return 0;
  }
  for (i = 0; i < first->offered_suites_len; ++i) {
    if (second->offered_suites[i] != first->offered_suites[i]) {
      return 0;
    }
  }
  /* Suite numbers outside int32_t too (decoding zeroes what is unused). */
  return memcmp(&second->offered_suites_wide, &first->offered_suites_wide,
                sizeof first->offered_suites_wide) == 0;
}
