/*
 * Semantic validation of decoded PDUs beyond the ASN.1 module
 * (PROTOCOL.md §2, §3, §4): identifier syntax through the Ragel parsers,
 * the version and presence rules of the v2 fields, and "result = success
 * iff assignment is present" for KeyDelivery. The exchange layer answers
 * badRequest when a KeyRequest fails here.
 */
#include <cpns/codec.h>
#include <cpns/ident.h>

/* Both identifiers of a PDU; the normal form itself is not needed here. */
static int validate_ids(const uint8_t *entity_id, size_t entity_id_len, const uint8_t *user_id,
                        size_t user_id_len) {
  uint8_t scratch[CPNS_ENTITY_ID_MAX];
  size_t written;
  int rc =
      cpns_entity_id_normalize(entity_id, entity_id_len, scratch, sizeof scratch, &written, NULL);
  if (rc != 0)
    return rc;
  return cpns_user_id_normalize(user_id, user_id_len, scratch, sizeof scratch, &written, NULL);
}

/* v2 extension additions in a version-1 KeyRequest, or fields of two roles or suites. */
static int request_shape(const cpns_key_request *req) {
  if (req->version < CPNS_PROTOCOL_VERSION_2 && (req->has_ke1 || req->has_ke3))
    return CPNS_ERR_V2_FIELD_IN_V1;
  if ((req->has_ke1 && (req->has_response || req->has_ke3)) || (req->has_response && req->has_ke3))
    return CPNS_ERR_PRESENCE;
  return 0;
}

int cpns_key_request_validate(const cpns_key_request *req) {
  if (req == NULL)
    return CPNS_ERR_INVALID_ARGUMENT;
  int rc = validate_ids(req->entity_id, req->entity_id_len, req->user_id, req->user_id_len);
  if (rc != 0)
    return rc;
  return request_shape(req);
}

static int offers_suite(const cpns_key_request *req, cpns_suite suite) {
  size_t n = req->offered_suites_len <= CPNS_MAX_OFFERED_SUITES ? req->offered_suites_len
                                                                : CPNS_MAX_OFFERED_SUITES;
  for (size_t i = 0; i < n; i++)
    if (req->offered_suites[i] == (int32_t)suite)
      return 1;
  return 0;
}

int cpns_key_request_validate_first(const cpns_key_request *req) {
  int rc = cpns_key_request_validate(req);
  if (rc != 0)
    return rc;
  if (req->has_response || req->has_ke3)
    return CPNS_ERR_PRESENCE;
  /* Version 1 may list suite 2 (ignored, §3) but cannot carry ke1 (checked above). */
  if (req->version >= CPNS_PROTOCOL_VERSION_2 &&
      offers_suite(req, CPNS_SUITE_OPAQUE3DH_RISTRETTO255_SHA512_ARGON2ID) != (req->has_ke1 != 0))
    return CPNS_ERR_PRESENCE;
  return 0;
}

int cpns_key_request_validate_second(const cpns_key_request *req, cpns_suite suite) {
  int rc = cpns_key_request_validate(req);
  if (rc != 0)
    return rc;
  switch (suite) {
  case CPNS_SUITE_ARGON2ID_HMACSHA256_XCHACHA20POLY1305:
    return req->has_ke1 || !req->has_response || req->has_ke3 ? CPNS_ERR_PRESENCE : 0;
  case CPNS_SUITE_OPAQUE3DH_RISTRETTO255_SHA512_ARGON2ID:
    return req->has_ke1 || req->has_response || !req->has_ke3 ? CPNS_ERR_PRESENCE : 0;
  }
  return CPNS_ERR_UNSUPPORTED_SUITE;
}

int cpns_key_challenge_validate(const cpns_key_challenge *chal) {
  if (chal == NULL)
    return CPNS_ERR_INVALID_ARGUMENT;
  int suite2 = chal->suite == CPNS_SUITE_OPAQUE3DH_RISTRETTO255_SHA512_ARGON2ID;
  if (chal->version < CPNS_PROTOCOL_VERSION_2 && (suite2 || chal->has_ke2))
    return CPNS_ERR_V2_FIELD_IN_V1;
  if (suite2 != (chal->has_ke2 != 0))
    return CPNS_ERR_PRESENCE;
  return 0;
}

int cpns_key_delivery_validate(const cpns_key_delivery *del) {
  if (del == NULL)
    return CPNS_ERR_INVALID_ARGUMENT;
  int rc = validate_ids(del->entity_id, del->entity_id_len, del->user_id, del->user_id_len);
  if (rc != 0)
    return rc;
  int success = del->result == CPNS_RESULT_SUCCESS;
  if (success != (del->has_assignment != 0))
    return CPNS_ERR_PROTOCOL;
  return 0;
}
