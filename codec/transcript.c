/*
 * AuthTranscript (PROTOCOL.md §5): built from the exchange, DER-encoded as
 * AuthMessage, strictly decoded for tools and test vectors.
 */
#include <string.h>

#include "codec/codec_internal.h"
#include "codec/der_writer.h"
#include "AuthTranscript.h"

int cpns_auth_transcript_from(cpns_auth_transcript *t, const cpns_key_request *req,
                              const cpns_key_challenge *chal) {
  if (!t || !req || !chal)
    return CPNS_ERR_INVALID_ARGUMENT;
  memset(t, 0, sizeof(*t));
  t->version = req->version; /* the exchange's version (§4): 1, or 2 */
  t->offered_suites_len = req->offered_suites_len;
  if (t->offered_suites_len > CPNS_MAX_OFFERED_SUITES)
    t->offered_suites_len = CPNS_MAX_OFFERED_SUITES; /* encode rejects it */
  memcpy(t->offered_suites, req->offered_suites,
         t->offered_suites_len * sizeof(t->offered_suites[0]));
  t->offered_suites_wide = req->offered_suites_wide; /* suites as sent, known or not */
  t->suite = chal->suite;
  t->realm_len = chal->realm_len <= CPNS_REALM_MAX ? chal->realm_len : 0;
  memcpy(t->realm, chal->realm, t->realm_len);
  t->entity_id_len = req->entity_id_len <= CPNS_ENTITY_ID_MAX ? req->entity_id_len : 0;
  memcpy(t->entity_id, req->entity_id, t->entity_id_len);
  t->user_id_len = req->user_id_len <= CPNS_USER_ID_MAX ? req->user_id_len : 0;
  memcpy(t->user_id, req->user_id, t->user_id_len);
  t->mode = req->mode;
  memcpy(t->gateway_nonce, req->gateway_nonce, CPNS_NONCE_LEN);
  memcpy(t->server_nonce, chal->server_nonce, CPNS_NONCE_LEN);
  t->kdf = chal->kdf;
  return 0;
}

int cpnsi_transcript_check(const cpns_auth_transcript *t) {
  if (t->version < 1 || t->version > 255 || !cpnsi_suite_known((long)t->suite) ||
      cpnsi_check_text(t->realm_len, CPNS_REALM_MAX) < 0 ||
      cpnsi_check_text(t->entity_id_len, CPNS_ENTITY_ID_MAX) < 0 ||
      cpnsi_check_text(t->user_id_len, CPNS_USER_ID_MAX) < 0 ||
      (t->mode != CPNS_MODE_PN_GW && t->mode != CPNS_MODE_PNE_PLUS_PN_GW) ||
      cpnsi_suite_list_check(t->offered_suites, &t->offered_suites_wide, t->offered_suites_len) < 0)
    return CPNS_ERR_CONSTRAINT;
  return cpnsi_kdf_check(&t->kdf);
}

int cpns_auth_transcript_encode(const cpns_auth_transcript *t, uint8_t *out, size_t outlen,
                                size_t *written) {
  int rv;
  if (!t || (!out && outlen) || !written)
    return CPNS_ERR_INVALID_ARGUMENT;
  if ((rv = cpnsi_transcript_check(t)) < 0)
    return rv;
  return cpnsi_der_write_transcript(t, out, outlen, written);
}

int cpnsi_auth_transcript_encode_asn1c(const cpns_auth_transcript *t, uint8_t *out, size_t outlen,
                                       size_t *written) {
  AuthTranscript_t a;
  cpnsi_suite_storage st;
  int rv;
  if (!t || (!out && outlen) || !written)
    return CPNS_ERR_INVALID_ARGUMENT;
  if ((rv = cpnsi_transcript_check(t)) < 0)
    return rv;
  cpnsi_codec_once();
  memset(&a, 0, sizeof(a));
  a.version = (long)t->version;
  rv = cpnsi_suite_list_to_asn(&a.offeredSuites.list, &st, t->offered_suites,
                               &t->offered_suites_wide, t->offered_suites_len);
  if (rv < 0)
    return rv;
  a.suite = (long)t->suite;
  cpnsi_octets_to_asn(&a.realm, t->realm, t->realm_len);
  cpnsi_octets_to_asn(&a.entityId, t->entity_id, t->entity_id_len);
  cpnsi_octets_to_asn(&a.userId, t->user_id, t->user_id_len);
  a.mode = (long)t->mode;
  cpnsi_octets_to_asn(&a.gatewayNonce, t->gateway_nonce, CPNS_NONCE_LEN);
  cpnsi_octets_to_asn(&a.serverNonce, t->server_nonce, CPNS_NONCE_LEN);
  cpnsi_kdf_to_asn(&a.kdfParams, &t->kdf);
  return cpnsi_encode(&asn_DEF_AuthTranscript, &a, out, outlen, written);
}

static int transcript_write(const void *plain, uint8_t scratch[CPNS_PDU_MAX_ENCODED],
                            const uint8_t **der, size_t *len) {
  return cpnsi_der_write_transcript_in(plain, scratch, der, len);
}

static int transcript_from_asn(void *out, const void *asn) {
  cpns_auth_transcript *t = out;
  const AuthTranscript_t *a = asn;
  int rv;
  if ((rv = cpnsi_version_from_asn(&t->version, a->version)) < 0 ||
      (rv = cpnsi_suite_list_from_asn(t->offered_suites, &t->offered_suites_wide,
                                      &t->offered_suites_len, &a->offeredSuites.list)) < 0 ||
      (rv = cpnsi_suite_from_asn(&t->suite, a->suite)) < 0 ||
      (rv = cpnsi_text_from_asn(t->realm, &t->realm_len, CPNS_REALM_MAX, &a->realm)) < 0 ||
      (rv = cpnsi_text_from_asn(t->entity_id, &t->entity_id_len, CPNS_ENTITY_ID_MAX,
                                &a->entityId)) < 0 ||
      (rv = cpnsi_text_from_asn(t->user_id, &t->user_id_len, CPNS_USER_ID_MAX, &a->userId)) < 0 ||
      (rv = cpnsi_mode_from_asn(&t->mode, a->mode)) < 0 ||
      (rv = cpnsi_octets_from_asn(t->gateway_nonce, CPNS_NONCE_LEN, &a->gatewayNonce)) < 0 ||
      (rv = cpnsi_octets_from_asn(t->server_nonce, CPNS_NONCE_LEN, &a->serverNonce)) < 0)
    return rv;
  return cpnsi_kdf_from_asn(&t->kdf, &a->kdfParams);
}

static int transcript_outer_tag(uint8_t tag) { return tag == 0x30 ? 0 : CPNS_ERR_DECODE; }

int cpns_auth_transcript_decode_versioned(cpns_auth_transcript *t, const uint8_t *in, size_t inlen,
                                          int limits_version, const cpns_decode_limits *limits) {
  int rv;
  if (!t)
    return CPNS_ERR_INVALID_ARGUMENT;
  cpnsi_zero(t, sizeof(*t));
  if (!in && inlen)
    return CPNS_ERR_INVALID_ARGUMENT;
  if (limits_version != CPNS_DECODE_LIMITS_V1)
    return CPNS_ERR_INVALID_ARGUMENT;
  cpnsi_codec_once();
  rv = cpnsi_strict_decode(&asn_DEF_AuthTranscript, in, inlen, limits, transcript_outer_tag,
                           transcript_from_asn, transcript_write, t);
  if (rv < 0)
    cpnsi_zero(t, sizeof(*t));
  return rv;
}
