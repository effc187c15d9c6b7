/*
 * Fuzz target for the strict DER codec: arbitrary bytes through
 * cpns_pdu_decode, cpns_auth_transcript_decode and cpns_frame_pdu_length.
 * Whatever is accepted must re-encode to exactly the input (only canonical
 * DER passes), with the direct writer and with asn1c's der_encode alike,
 * must frame to its own length, and must format; whatever is
 * rejected must be rejected with a documented code. A tight allocation
 * budget must fail cleanly too.
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
