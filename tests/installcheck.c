/*
 * `make installcheck`: a program built only from the installed headers and
 * libraries (shared, then static), through libcpns.pc. It encodes and
 * strictly decodes a KeyChallenge and checks the version macros.
 */
#include <stdio.h>
#include <string.h>

#include <cpns/cpns.h>

int main(void) {
  cpns_pdu pdu, back;
  uint8_t der[CPNS_PDU_MAX_ENCODED];
  size_t len;
  int rv;

  if ((rv = cpns_init()) != CPNS_OK) {
    fprintf(stderr, "cpns_init: %s\n", cpns_strerror(rv));
    return 1;
  }
  memset(&pdu, 0, sizeof pdu);
  pdu.type = CPNS_PDU_KEY_CHALLENGE;
  pdu.u.key_challenge.version = CPNS_PROTOCOL_VERSION;
  pdu.u.key_challenge.realm_len = 11;
  memcpy(pdu.u.key_challenge.realm, "example.org", 11);
  pdu.u.key_challenge.suite = CPNS_SUITE_ARGON2ID_HMACSHA256_XCHACHA20POLY1305;
  pdu.u.key_challenge.kdf.ops_limit = 3;
  pdu.u.key_challenge.kdf.mem_limit_kib = 65536;
  if ((rv = cpns_pdu_encode(&pdu, der, sizeof der, &len)) != CPNS_OK ||
      (rv = cpns_pdu_decode(&back, der, len, NULL)) != CPNS_OK) {
    fprintf(stderr, "codec: %s\n", cpns_strerror(rv));
    return 1;
  }
  if (back.type != CPNS_PDU_KEY_CHALLENGE || back.u.key_challenge.kdf.mem_limit_kib != 65536 ||
      strcmp(cpns_strerror(CPNS_ERR_NOMEM), "unknown error") == 0 || CPNS_VERSION_NUM < 0x000100) {
    fprintf(stderr, "installed libcpns misbehaves\n");
    return 1;
  }
  printf("installed libcpns %s works (%zu-byte KeyChallenge)\n", CPNS_VERSION, len);
  return 0;
}
