/*
 * libFuzzer target: cpns_credential_decode on hostile bytes. Decoding is a
 * strict inverse of encoding: whatever decodes must encode to the input.
 */
#include <stdlib.h>
#include <string.h>

#include <cpns/crypto.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cpns_credential rec;
  uint8_t out[CPNS_CREDENTIAL_ENCODED_MAX];
  size_t n;
  int rv;

  rv = cpns_credential_decode(&rec, data, size);
  if (rv != 0) {
    if (rv != CPNS_ERR_RECORD_FORMAT) {
      abort();
    }
    return 0;
  }
  if (cpns_credential_encode(&rec, out, sizeof(out), &n) != 0 || n != size ||
      memcmp(out, data, size) != 0) {
    abort();
  }
  return 0;
}
