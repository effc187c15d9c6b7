/* The gateway's checks on what the server sends (PROTOCOL.md §4, §7). */
#include <string.h>

#include "exchange/gateway_internal.h"

static int suite_offered(const cpns_key_request *req, int32_t suite) {
  size_t i;
  for (i = 0; i < req->offered_suites_len && i < CPNS_MAX_OFFERED_SUITES; ++i) {
    if (req->offered_suites[i] == suite) {
      return 1;
    }
  }
  return 0;
}

int cpnsi_gateway_check_challenge(const cpns_key_request *req, const cpns_key_challenge *chal,
                                  const cpnsi_kdf_bounds *bounds) {
  uint32_t min_ops = bounds->min_ops, min_mem_kib = bounds->min_mem_kib;
  if (chal->version != req->version || cpns_key_challenge_validate(chal) != 0) {
    return CPNS_ERR_PROTOCOL;
  }
  if (!suite_offered(req, (int32_t)chal->suite)) {
    return CPNS_ERR_SUITE_NOT_OFFERED;
  }
  switch (chal->suite) {
  case CPNS_SUITE_ARGON2ID_HMACSHA256_XCHACHA20POLY1305: break;
  case CPNS_SUITE_OPAQUE3DH_RISTRETTO255_SHA512_ARGON2ID:
    /* An impostor learns nothing offline from suite 2, so no floor (§7, §9);
     * a version-1 request never offers it, and ke1 went with the offer. */
    if (!req->has_ke1) {
      return CPNS_ERR_PROTOCOL;
    }
    min_ops = CPNS_OPS_LIMIT_MIN;
    min_mem_kib = CPNS_MEM_LIMIT_KIB_MIN;
    break;
  default: return CPNS_ERR_UNSUPPORTED_SUITE;
  }
  /* A malicious server must not make the device exhaust itself, nor get a
   * suite-1 proof that is cheap to attack offline (§7, §9). */
  return cpns_crypto_kdf_check_gateway(&chal->kdf, min_ops, min_mem_kib, bounds->max_ops,
                                       bounds->max_mem_kib) == 0
             ? 0
             : CPNS_ERR_KDF_PARAMS;
}

static int same_octets(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen) {
  return alen == blen && memcmp(a, b, alen) == 0;
}

int cpnsi_gateway_check_delivery(const cpns_key_request *req, const cpns_key_delivery *del) {
  /* unsupportedVersion carries the server's highest version, not ours (§3). */
  if (del->version != req->version && del->result != CPNS_RESULT_UNSUPPORTED_VERSION) {
    return CPNS_ERR_PROTOCOL;
  }
  /* Echo first: our own identifiers are valid, so a matching echo also
   * passes the identifier syntax part of the validation below. */
  if (!same_octets(del->entity_id, del->entity_id_len, req->entity_id, req->entity_id_len) ||
      !same_octets(del->user_id, del->user_id_len, req->user_id, req->user_id_len)) {
    return CPNS_ERR_ECHO_MISMATCH;
  }
  if (cpns_key_delivery_validate(del) != 0) {
    return CPNS_ERR_PROTOCOL;
  }
  /* Do not rely on the validator alone for the rule the key depends on. */
  if ((del->result == CPNS_RESULT_SUCCESS) != (del->has_assignment != 0)) {
    return CPNS_ERR_PROTOCOL;
  }
  return 0;
}
