/* The server's rules on KeyRequests (PROTOCOL.md §3, §4, §8). */
#include <string.h>

#include "exchange/server_internal.h"

static int knows_an_offered_suite(const cpns_key_request *req) {
  size_t i;
  /* Unknown suite numbers are how later suites are introduced: skip them (§3). */
  for (i = 0; i < req->offered_suites_len && i < CPNS_MAX_OFFERED_SUITES; ++i) {
    if (req->offered_suites[i] == CPNS_SUITE_ARGON2ID_HMACSHA256_XCHACHA20POLY1305) {
      return 1;
    }
  }
  return 0;
}

int cpnsi_server_check_first(const cpns_key_request *req, int ids_valid) {
  /* A later version may change everything else, so version comes first. */
  if (req->version != CPNS_PROTOCOL_VERSION) {
    return CPNS_RESULT_UNSUPPORTED_VERSION;
  }
  /* A response before any challenge answers nothing. */
  if (req->has_response) {
    return CPNS_RESULT_BAD_REQUEST;
  }
  if (!ids_valid || cpns_key_request_validate(req) != 0) {
    return CPNS_RESULT_BAD_REQUEST;
  }
  if (!knows_an_offered_suite(req)) {
    return CPNS_RESULT_UNSUPPORTED_SUITE;
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
