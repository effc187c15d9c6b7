/*
 * Fuzz target for the strict DER codec: arbitrary bytes through
 * cpns_pdu_decode, cpns_auth_transcript_decode and cpns_frame_pdu_length.
 * Whatever is accepted must re-encode to exactly the input (only canonical
 * DER passes), with the direct writer and with asn1c's der_encode alike,
 * must frame to its own length, must format, and must pass or fail
 * validation with a documented code (never a version-1 PDU carrying a v2
 * field); whatever is rejected must be rejected with a documented code. A
 * tight allocation budget must fail cleanly too.
 */
#include <stdlib.h>
#include <string.h>

#include <cpns/codec.h>

#include "codec/der_writer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok) {
  if (!ok)
    abort();
}

static int documented(int rc) {
  switch (rc) {
  case CPNS_ERR_PDU_TOO_LONG:
  case CPNS_ERR_DER_TRUNCATED:
  case CPNS_ERR_DER_INDEFINITE_LENGTH:
  case CPNS_ERR_DER_NON_MINIMAL_LENGTH:
  case CPNS_ERR_DER_HIGH_TAG_FORM:
  case CPNS_ERR_DER_TOO_DEEP:
  case CPNS_ERR_DER_TRAILING_BYTES:
  case CPNS_ERR_DER_CONSTRUCTED_STRING:
  case CPNS_ERR_DER_NON_MINIMAL_INTEGER:
  case CPNS_ERR_DER_NON_CANONICAL:
  case CPNS_ERR_DECODE:
  case CPNS_ERR_WRONG_CHOICE:
  case CPNS_ERR_CONSTRAINT:
  case CPNS_ERR_EXTENSION_PRESENT:
  case CPNS_ERR_UNKNOWN_ENUM:
  case CPNS_ERR_ALLOC_BUDGET:
  case CPNS_ERR_STACK_BUDGET: return 1;
  default: return 0;
  }
}

/* Codes of the cpns_*_validate functions. */
static int validation_code(int rc) {
  return rc == 0 || rc == CPNS_ERR_V2_FIELD_IN_V1 || rc == CPNS_ERR_PRESENCE ||
         rc == CPNS_ERR_PROTOCOL || (rc <= CPNS_ERR_ID_EMPTY && rc >= CPNS_ERR_ID_TRUNCATED);
}

static void fuzz_validate(const cpns_pdu *p) {
  const cpns_suite s1 = CPNS_SUITE_ARGON2ID_HMACSHA256_XCHACHA20POLY1305;
  const cpns_suite s2 = CPNS_SUITE_OPAQUE3DH_RISTRETTO255_SHA512_ARGON2ID;
  int a, b, c, d;
  switch (p->type) {
  case CPNS_PDU_KEY_REQUEST: {
    const cpns_key_request *r = &p->u.key_request;
    a = cpns_key_request_validate(r);
    b = cpns_key_request_validate_first(r);
    c = cpns_key_request_validate_second(r, s1);
    d = cpns_key_request_validate_second(r, s2);
    check(validation_code(a) && validation_code(b) && validation_code(c) && validation_code(d));
    if (r->version < 2 && (r->has_ke1 || r->has_ke3))
      check(a == CPNS_ERR_V2_FIELD_IN_V1 || (a <= CPNS_ERR_ID_EMPTY && a >= CPNS_ERR_ID_TRUNCATED));
    check(b != 0 || c != 0); /* never both a first and a second request */
    check(c != 0 || d != 0); /* never the second request of both suites */
    break;
  }
  case CPNS_PDU_KEY_CHALLENGE:
    a = cpns_key_challenge_validate(&p->u.key_challenge);
    check(validation_code(a));
    if (p->u.key_challenge.version < 2 && p->u.key_challenge.suite == s2)
      check(a == CPNS_ERR_V2_FIELD_IN_V1);
    break;
  case CPNS_PDU_KEY_DELIVERY:
    check(validation_code(cpns_key_delivery_validate(&p->u.key_delivery)));
  }
}

static void fuzz_pdu(const uint8_t *data, size_t size) {
  cpns_pdu p;
  uint8_t again[CPNS_PDU_MAX_ENCODED];
  char text[8192];
  size_t n = 0, framed = 0;
  int rc = cpns_pdu_decode(&p, data, size, NULL);
  int frc = cpns_frame_pdu_length(data, size, 0, &framed);
  if (rc != 0) {
    check(documented(rc));
    return;
  }
  check(cpns_pdu_encode(&p, again, sizeof(again), &n) == 0);
  check(n == size && memcmp(again, data, size) == 0);
  check(cpnsi_pdu_encode_asn1c(&p, again, sizeof(again), &n) == 0);
  check(n == size && memcmp(again, data, size) == 0);
  check(frc == 0 && framed == size);
  check(cpns_pdu_format(&p, text, sizeof(text)) == 0);
  check(strlen(text) < sizeof(text));
  fuzz_validate(&p);
}

static void fuzz_transcript(const uint8_t *data, size_t size) {
  cpns_auth_transcript t;
  uint8_t again[CPNS_PDU_MAX_ENCODED];
  size_t n = 0;
  int rc = cpns_auth_transcript_decode(&t, data, size, NULL);
  if (rc != 0) {
    check(documented(rc));
    return;
  }
  check(cpns_auth_transcript_encode(&t, again, sizeof(again), &n) == 0);
  check(n == size && memcmp(again, data, size) == 0);
  check(cpnsi_auth_transcript_encode_asn1c(&t, again, sizeof(again), &n) == 0);
  check(n == size && memcmp(again, data, size) == 0);
}

static void fuzz_tight_budget(const uint8_t *data, size_t size) {
  cpns_pdu p;
  cpns_decode_limits lim;
  int rc;
  cpns_decode_limits_default(&lim);
  lim.alloc_budget = (size % 7 + 1) * 64;
  lim.stack_budget = 512 + (size % 5) * 512;
  rc = cpns_pdu_decode(&p, data, size, &lim);
  check(rc == 0 || documented(rc));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_pdu(data, size);
  fuzz_transcript(data, size);
  fuzz_tight_budget(data, size);
  return 0;
}
