/*
 * cpns_pdu_encode / cpns_pdu_decode: CpnsPdu between the plain structs of
 * codec.h and asn1c. Encoding builds the asn1c value on the stack, pointing
 * into the caller's struct, so it allocates nothing.
 */
#include <string.h>

#include "codec/codec_internal.h"
#include "codec/der_writer.h"
#include "AuthResponse.h"
#include "CpnsPdu.h"
#include "KeyAssignment.h"
#include "OpaqueKE1.h"
#include "OpaqueKE2.h"

static int request_check(const cpns_key_request *r) {
  if (r->version < 1 || r->version > 255 ||
      cpnsi_check_text(r->entity_id_len, CPNS_ENTITY_ID_MAX) < 0 ||
      cpnsi_check_text(r->user_id_len, CPNS_USER_ID_MAX) < 0 ||
      (r->mode != CPNS_MODE_PN_GW && r->mode != CPNS_MODE_PNE_PLUS_PN_GW) ||
      cpnsi_suite_list_check(r->offered_suites, &r->offered_suites_wide, r->offered_suites_len) < 0)
    return CPNS_ERR_CONSTRAINT;
  return 0;
}

static int challenge_check(const cpns_key_challenge *c) {
  if (c->version < 1 || c->version > 255 || cpnsi_check_text(c->realm_len, CPNS_REALM_MAX) < 0 ||
      !cpnsi_suite_known((long)c->suite))
    return CPNS_ERR_CONSTRAINT;
  return cpnsi_kdf_check(&c->kdf);
}

static int delivery_check(const cpns_key_delivery *d) {
  if (d->version < 1 || d->version > 255 || (int)d->result < CPNS_RESULT_SUCCESS ||
      (int)d->result > CPNS_RESULT_SERVER_ERROR ||
      cpnsi_check_text(d->entity_id_len, CPNS_ENTITY_ID_MAX) < 0 ||
      cpnsi_check_text(d->user_id_len, CPNS_USER_ID_MAX) < 0)
    return CPNS_ERR_CONSTRAINT;
  return 0;
}

int cpnsi_pdu_check(const cpns_pdu *pdu) {
  switch (pdu->type) {
  case CPNS_PDU_KEY_REQUEST: return request_check(&pdu->u.key_request);
  case CPNS_PDU_KEY_CHALLENGE: return challenge_check(&pdu->u.key_challenge);
  case CPNS_PDU_KEY_DELIVERY: return delivery_check(&pdu->u.key_delivery);
  }
  return CPNS_ERR_INVALID_ARGUMENT;
}

/* Backing store of the optional members built for encoding. */
typedef struct optional_storage {
  AuthResponse_t response;
  OpaqueKE1_t ke1;
  OCTET_STRING_t ke3;
  OpaqueKE2_t ke2;
  KeyAssignment_t assignment;
} optional_storage;

static int request_to_asn(KeyRequest_t *a, const cpns_key_request *r, optional_storage *opt,
                          cpnsi_suite_storage *st) {
  a->version = (long)r->version;
  cpnsi_octets_to_asn(&a->entityId, r->entity_id, r->entity_id_len);
  cpnsi_octets_to_asn(&a->userId, r->user_id, r->user_id_len);
  a->mode = (long)r->mode;
  cpnsi_octets_to_asn(&a->gatewayNonce, r->gateway_nonce, CPNS_NONCE_LEN);
  if (r->has_response) {
    cpnsi_octets_to_asn(&opt->response.serverNonce, r->server_nonce, CPNS_NONCE_LEN);
    cpnsi_octets_to_asn(&opt->response.clientProof, r->client_proof, CPNS_PROOF_LEN);
    a->response = &opt->response;
  }
  if (r->has_ke1) {
    cpnsi_octets_to_asn(&opt->ke1.blindedMessage, r->ke1.blinded_message, CPNS_OPAQUE_ELEMENT_LEN);
    cpnsi_octets_to_asn(&opt->ke1.clientPublicKeyshare, r->ke1.client_public_keyshare,
                        CPNS_OPAQUE_ELEMENT_LEN);
    a->ke1 = &opt->ke1;
  }
  if (r->has_ke3) {
    cpnsi_octets_to_asn(&opt->ke3, r->ke3, CPNS_OPAQUE_MAC_LEN);
    a->ke3 = &opt->ke3;
  }
  return cpnsi_suite_list_to_asn(&a->offeredSuites.list, st, r->offered_suites,
                                 &r->offered_suites_wide, r->offered_suites_len);
}

static int challenge_to_asn(KeyChallenge_t *a, const cpns_key_challenge *c, OpaqueKE2_t *ke2) {
  a->version = (long)c->version;
  cpnsi_octets_to_asn(&a->realm, c->realm, c->realm_len);
  cpnsi_octets_to_asn(&a->serverNonce, c->server_nonce, CPNS_NONCE_LEN);
  a->suite = (long)c->suite;
  if (c->has_ke2) {
    const cpns_opaque_ke2 *k = &c->ke2;
    cpnsi_octets_to_asn(&ke2->evaluatedMessage, k->evaluated_message, CPNS_OPAQUE_ELEMENT_LEN);
    cpnsi_octets_to_asn(&ke2->maskingNonce, k->masking_nonce, CPNS_OPAQUE_NONCE_LEN);
    cpnsi_octets_to_asn(&ke2->maskedResponse, k->masked_response, CPNS_OPAQUE_MASKED_RESPONSE_LEN);
    cpnsi_octets_to_asn(&ke2->serverPublicKeyshare, k->server_public_keyshare,
                        CPNS_OPAQUE_ELEMENT_LEN);
    cpnsi_octets_to_asn(&ke2->serverMac, k->server_mac, CPNS_OPAQUE_MAC_LEN);
    a->ke2 = ke2;
  }
  return cpnsi_kdf_to_asn(&a->kdfParams, &c->kdf);
}

static int delivery_to_asn(KeyDelivery_t *a, const cpns_key_delivery *d, KeyAssignment_t *asg) {
  a->version = (long)d->version;
  a->result = (long)d->result;
  cpnsi_octets_to_asn(&a->entityId, d->entity_id, d->entity_id_len);
  cpnsi_octets_to_asn(&a->userId, d->user_id, d->user_id_len);
  if (d->has_assignment) {
    const cpns_key_assignment *s = &d->assignment;
    cpnsi_octets_to_asn(&asg->keyId, s->key_id, CPNS_KEY_ID_LEN);
    cpnsi_octets_to_asn(&asg->serverSignature, s->server_signature, CPNS_SIGNATURE_LEN);
    cpnsi_octets_to_asn(&asg->aeadNonce, s->aead_nonce, CPNS_AEAD_NONCE_LEN);
    cpnsi_octets_to_asn(&asg->wrappedEUKey, s->wrapped_eukey, CPNS_WRAPPED_EUKEY_LEN);
    a->assignment = asg;
  }
  return 0;
}

int cpns_pdu_encode(const cpns_pdu *pdu, uint8_t *out, size_t outlen, size_t *written) {
  int rv;
  if (!pdu || (!out && outlen) || !written)
    return CPNS_ERR_INVALID_ARGUMENT;
  if ((rv = cpnsi_pdu_check(pdu)) < 0)
    return rv;
  return cpnsi_der_write_pdu(pdu, out, outlen, written);
}

int cpnsi_pdu_encode_asn1c(const cpns_pdu *pdu, uint8_t *out, size_t outlen, size_t *written) {
  CpnsPdu_t a;
  optional_storage opt;
  cpnsi_suite_storage st;
  int rv;
  if (!pdu || (!out && outlen) || !written)
    return CPNS_ERR_INVALID_ARGUMENT;
  if ((rv = cpnsi_pdu_check(pdu)) < 0)
    return rv;
  cpnsi_codec_once();
  memset(&a, 0, sizeof(a));
  memset(&opt, 0, sizeof(opt));
  switch (pdu->type) {
  case CPNS_PDU_KEY_REQUEST:
    a.present = CpnsPdu_PR_keyRequest;
    rv = request_to_asn(&a.choice.keyRequest, &pdu->u.key_request, &opt, &st);
    break;
  case CPNS_PDU_KEY_CHALLENGE:
    a.present = CpnsPdu_PR_keyChallenge;
    rv = challenge_to_asn(&a.choice.keyChallenge, &pdu->u.key_challenge, &opt.ke2);
    break;
  default:
    a.present = CpnsPdu_PR_keyDelivery;
    rv = delivery_to_asn(&a.choice.keyDelivery, &pdu->u.key_delivery, &opt.assignment);
    break;
  }
  if (rv < 0)
    return rv;
  return cpnsi_encode(&asn_DEF_CpnsPdu, &a, out, outlen, written);
}

static int request_from_asn(cpns_key_request *r, const KeyRequest_t *a) {
  int rv;
  if ((rv = cpnsi_version_from_asn(&r->version, a->version)) < 0 ||
      (rv = cpnsi_text_from_asn(r->entity_id, &r->entity_id_len, CPNS_ENTITY_ID_MAX,
                                &a->entityId)) < 0 ||
      (rv = cpnsi_text_from_asn(r->user_id, &r->user_id_len, CPNS_USER_ID_MAX, &a->userId)) < 0 ||
      (rv = cpnsi_mode_from_asn(&r->mode, a->mode)) < 0 ||
      (rv = cpnsi_octets_from_asn(r->gateway_nonce, CPNS_NONCE_LEN, &a->gatewayNonce)) < 0 ||
      (rv = cpnsi_suite_list_from_asn(r->offered_suites, &r->offered_suites_wide,
                                      &r->offered_suites_len, &a->offeredSuites.list)) < 0)
    return rv;
  if (a->response) {
    r->has_response = 1;
    if ((rv = cpnsi_octets_from_asn(r->server_nonce, CPNS_NONCE_LEN, &a->response->serverNonce)) <
            0 ||
        (rv = cpnsi_octets_from_asn(r->client_proof, CPNS_PROOF_LEN, &a->response->clientProof)) <
            0)
      return rv;
  }
  /* v2 additions, whatever the version: cpns_key_request_validate() applies §3. */
  if (a->ke1) {
    r->has_ke1 = 1;
    if ((rv = cpnsi_octets_from_asn(r->ke1.blinded_message, CPNS_OPAQUE_ELEMENT_LEN,
                                    &a->ke1->blindedMessage)) < 0 ||
        (rv = cpnsi_octets_from_asn(r->ke1.client_public_keyshare, CPNS_OPAQUE_ELEMENT_LEN,
                                    &a->ke1->clientPublicKeyshare)) < 0)
      return rv;
  }
  if (a->ke3) {
    r->has_ke3 = 1;
    if ((rv = cpnsi_octets_from_asn(r->ke3, CPNS_OPAQUE_MAC_LEN, a->ke3)) < 0)
      return rv;
  }
  return 0;
}

static int challenge_from_asn(cpns_key_challenge *c, const KeyChallenge_t *a) {
  int rv;
  if ((rv = cpnsi_version_from_asn(&c->version, a->version)) < 0 ||
      (rv = cpnsi_text_from_asn(c->realm, &c->realm_len, CPNS_REALM_MAX, &a->realm)) < 0 ||
      (rv = cpnsi_octets_from_asn(c->server_nonce, CPNS_NONCE_LEN, &a->serverNonce)) < 0 ||
      (rv = cpnsi_suite_from_asn(&c->suite, a->suite)) < 0 ||
      (rv = cpnsi_kdf_from_asn(&c->kdf, &a->kdfParams)) < 0)
    return rv;
  if (a->ke2) {
    const OpaqueKE2_t *k = a->ke2;
    cpns_opaque_ke2 *o = &c->ke2;
    c->has_ke2 = 1;
    if ((rv = cpnsi_octets_from_asn(o->evaluated_message, CPNS_OPAQUE_ELEMENT_LEN,
                                    &k->evaluatedMessage)) < 0 ||
        (rv = cpnsi_octets_from_asn(o->masking_nonce, CPNS_OPAQUE_NONCE_LEN, &k->maskingNonce)) <
            0 ||
        (rv = cpnsi_octets_from_asn(o->masked_response, CPNS_OPAQUE_MASKED_RESPONSE_LEN,
                                    &k->maskedResponse)) < 0 ||
        (rv = cpnsi_octets_from_asn(o->server_public_keyshare, CPNS_OPAQUE_ELEMENT_LEN,
                                    &k->serverPublicKeyshare)) < 0 ||
        (rv = cpnsi_octets_from_asn(o->server_mac, CPNS_OPAQUE_MAC_LEN, &k->serverMac)) < 0)
      return rv;
  }
  return 0;
}

static int delivery_from_asn(cpns_key_delivery *d, const KeyDelivery_t *a) {
  int rv;
  if ((rv = cpnsi_version_from_asn(&d->version, a->version)) < 0)
    return rv;
  if (a->result < CPNS_RESULT_SUCCESS || a->result > CPNS_RESULT_SERVER_ERROR)
    return CPNS_ERR_UNKNOWN_ENUM;
  d->result = (cpns_result)a->result;
  if ((rv = cpnsi_text_from_asn(d->entity_id, &d->entity_id_len, CPNS_ENTITY_ID_MAX,
                                &a->entityId)) < 0 ||
      (rv = cpnsi_text_from_asn(d->user_id, &d->user_id_len, CPNS_USER_ID_MAX, &a->userId)) < 0)
    return rv;
  if (a->assignment) {
    const KeyAssignment_t *s = a->assignment;
    cpns_key_assignment *o = &d->assignment;
    d->has_assignment = 1;
    if ((rv = cpnsi_octets_from_asn(o->key_id, CPNS_KEY_ID_LEN, &s->keyId)) < 0 ||
        (rv = cpnsi_octets_from_asn(o->server_signature, CPNS_SIGNATURE_LEN, &s->serverSignature)) <
            0 ||
        (rv = cpnsi_octets_from_asn(o->aead_nonce, CPNS_AEAD_NONCE_LEN, &s->aeadNonce)) < 0 ||
        (rv = cpnsi_octets_from_asn(o->wrapped_eukey, CPNS_WRAPPED_EUKEY_LEN, &s->wrappedEUKey)) <
            0)
      return rv;
  }
  return 0;
}

static int pdu_from_asn(void *out, const void *asn) {
  cpns_pdu *pdu = out;
  const CpnsPdu_t *a = asn;
  switch (a->present) {
  case CpnsPdu_PR_keyRequest:
    pdu->type = CPNS_PDU_KEY_REQUEST;
    return request_from_asn(&pdu->u.key_request, &a->choice.keyRequest);
  case CpnsPdu_PR_keyChallenge:
    pdu->type = CPNS_PDU_KEY_CHALLENGE;
    return challenge_from_asn(&pdu->u.key_challenge, &a->choice.keyChallenge);
  case CpnsPdu_PR_keyDelivery:
    pdu->type = CPNS_PDU_KEY_DELIVERY;
    return delivery_from_asn(&pdu->u.key_delivery, &a->choice.keyDelivery);
  default: return CPNS_ERR_WRONG_CHOICE;
  }
}

static int pdu_write(const void *plain, uint8_t scratch[CPNS_PDU_MAX_ENCODED], const uint8_t **der,
                     size_t *len) {
  return cpnsi_der_write_pdu_in(plain, scratch, der, len);
}

/* v1 alternatives are [0]..[2], each a constructed SEQUENCE. */
static int pdu_outer_tag(uint8_t tag) {
  return tag == 0xa0 || tag == 0xa1 || tag == 0xa2 ? 0 : CPNS_ERR_WRONG_CHOICE;
}

int cpns_pdu_decode_versioned(cpns_pdu *pdu, const uint8_t *in, size_t inlen, int limits_version,
                              const cpns_decode_limits *limits) {
  int rv;
  if (!pdu)
    return CPNS_ERR_INVALID_ARGUMENT;
  cpnsi_zero(pdu, sizeof(*pdu));
  if (!in && inlen)
    return CPNS_ERR_INVALID_ARGUMENT;
  if (limits_version != CPNS_DECODE_LIMITS_V1)
    return CPNS_ERR_INVALID_ARGUMENT;
  cpnsi_codec_once();
  rv = cpnsi_strict_decode(&asn_DEF_CpnsPdu, in, inlen, limits, pdu_outer_tag, pdu_from_asn,
                           pdu_write, pdu);
  if (rv < 0)
    cpnsi_zero(pdu, sizeof(*pdu));
  return rv;
}
