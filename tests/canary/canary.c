/*
 * Symbol-isolation canary: this program links, whole, the localized
 * libcpns.a and libcanary.a, a second asn1c 0.9.28 user whose type names
 * (KeyRequest, Suite) and runtime (ber_decode, asn_DEF_NativeEnumerated,
 * cpnsi_asn_malloc, ...) are the same as libcpns's internals. If libcpns let
 * one internal symbol escape, the link fails with a duplicate definition or
 * one side decodes with the other's tables; here each decodes its own PDU.
 */
#include <stdio.h>
#include <string.h>

#include <cpns/cpns.h>

#include "KeyRequest.h"

static int failures;

static void expect(int ok, const char *what) {
  printf("%s: %s\n", ok ? "ok" : "FAIL", what);
  if (!ok)
    failures++;
}

/* Their KeyRequest { label "canary", suite green, count 42 } in DER. */
static const uint8_t their_der[] = {0x30, 0x0e, 0x80, 0x06, 'c',  'a',  'n',  'a',
                                    'r',  'y',  0x81, 0x01, 0x01, 0x82, 0x01, 0x2a};

static int collect(const void *buf, size_t size, void *key) {
  uint8_t **pos = key;
  memcpy(*pos, buf, size);
  *pos += size;
  return 0;
}

static void check_theirs(void) {
  KeyRequest_t *req = NULL;
  asn_dec_rval_t rv =
      ber_decode(NULL, &asn_DEF_KeyRequest, (void **)&req, their_der, sizeof their_der);
  expect(rv.code == RC_OK && rv.consumed == sizeof their_der,
         "their ber_decode reads their KeyRequest");
  if (rv.code != RC_OK || req == NULL) {
    ASN_STRUCT_FREE(asn_DEF_KeyRequest, req);
    return;
  }
  expect(req->label.size == 6 && memcmp(req->label.buf, "canary", 6) == 0 &&
             req->suite == Suite_green && req->count == 42,
         "their fields are label \"canary\", suite green, count 42");
  expect(asn_check_constraints(&asn_DEF_KeyRequest, req, NULL, NULL) == 0,
         "their constraints hold");

  uint8_t out[sizeof their_der];
  uint8_t *pos = out;
  asn_enc_rval_t er = der_encode(&asn_DEF_KeyRequest, req, collect, &pos);
  expect(er.encoded == (ssize_t)sizeof their_der && memcmp(out, their_der, sizeof their_der) == 0,
         "their der_encode gives the same bytes back");
  ASN_STRUCT_FREE(asn_DEF_KeyRequest, req);
}

static void fill_ours(cpns_key_request *req) {
  static const char entity[] = "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66";
  static const char user[] = "alice@example.org";
  memset(req, 0, sizeof *req);
  req->version = CPNS_PROTOCOL_VERSION;
  req->entity_id_len = sizeof entity - 1;
  memcpy(req->entity_id, entity, sizeof entity - 1);
  req->user_id_len = sizeof user - 1;
  memcpy(req->user_id, user, sizeof user - 1);
  req->mode = CPNS_MODE_PN_GW;
  for (size_t i = 0; i < CPNS_NONCE_LEN; i++)
    req->gateway_nonce[i] = (uint8_t)(i * 7 + 1);
  req->offered_suites_len = 1;
  req->offered_suites[0] = CPNS_SUITE_ARGON2ID_HMACSHA256_XCHACHA20POLY1305;
}

static void check_ours(void) {
  cpns_pdu pdu, back;
  uint8_t der[CPNS_PDU_MAX_ENCODED];
  size_t len = 0;

  expect(cpns_init() == CPNS_OK, "cpns_init");
  memset(&pdu, 0, sizeof pdu);
  pdu.type = CPNS_PDU_KEY_REQUEST;
  fill_ours(&pdu.u.key_request);
  expect(cpns_pdu_encode(&pdu, der, sizeof der, &len) == CPNS_OK && len > 0,
         "cpns_pdu_encode writes our KeyRequest");
  expect(cpns_pdu_decode(&back, der, len, NULL) == CPNS_OK, "cpns_pdu_decode reads it back");
  const cpns_key_request *a = &pdu.u.key_request, *b = &back.u.key_request;
  expect(back.type == CPNS_PDU_KEY_REQUEST && b->version == a->version &&
             b->entity_id_len == a->entity_id_len &&
             memcmp(b->entity_id, a->entity_id, a->entity_id_len) == 0 &&
             b->user_id_len == a->user_id_len &&
             memcmp(b->user_id, a->user_id, a->user_id_len) == 0 && b->mode == a->mode &&
             memcmp(b->gateway_nonce, a->gateway_nonce, CPNS_NONCE_LEN) == 0 &&
             b->offered_suites_len == 1 && b->offered_suites[0] == a->offered_suites[0] &&
             !b->has_response,
         "our fields survive the round trip");

  /* Each side refuses the other's bytes: neither sees the other's tables. */
  expect(cpns_pdu_decode(&back, their_der, sizeof their_der, NULL) < 0,
         "cpns_pdu_decode refuses their KeyRequest");
  KeyRequest_t *req = NULL;
  asn_dec_rval_t rv = ber_decode(NULL, &asn_DEF_KeyRequest, (void **)&req, der, len);
  expect(rv.code != RC_OK, "their ber_decode refuses our KeyRequest");
  ASN_STRUCT_FREE(asn_DEF_KeyRequest, req);
}

int main(void) {
  check_theirs();
  check_ours();
  /* And theirs still works after libcpns has initialised its tables. */
  check_theirs();
  printf("%d failure(s)\n", failures);
  return failures ? 1 : 0;
}
