/*
 * The Identity KSF of RFC 9807 Appendix C (Stretch(msg) = msg), for the
 * RFC's test vectors. Tests only: PROTOCOL.md §5.2 forbids it in the
 * library.
 */
#ifndef CPNS_TESTS_KSF_IDENTITY_H
#define CPNS_TESTS_KSF_IDENTITY_H

#include "crypto/opaque.h"

/** out = in; kdf is ignored. Always returns 0. */
int test_ksf_identity(uint8_t out[CPNSI_KSF_LEN], const uint8_t in[CPNSI_KSF_LEN],
                      const cpns_kdf_params *kdf);

#endif /* CPNS_TESTS_KSF_IDENTITY_H */
