/*
 * Declarations shared by the files of the crypto module (cpnsi_ prefix:
 * never exported).
 */
#ifndef CPNS_CRYPTO_INTERNAL_H
#define CPNS_CRYPTO_INTERNAL_H

#include <cpns/crypto.h>

/**
 * out = HMAC-SHA-256(key, a || b). b may be NULL when blen is 0. The HMAC
 * state is wiped before returning.
 */
void cpnsi_hmac2(uint8_t out[32], const uint8_t *key, size_t keylen,
                 const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

/** Nonzero iff kdf is within the ASN.1 module's ranges and libsodium's minimums. */
int cpnsi_kdf_in_range(const cpns_kdf_params *kdf);

/** Big-endian helpers for the at-rest layouts of doc/formats.md. */
void cpnsi_put_be16(uint8_t *p, uint16_t v);
void cpnsi_put_be32(uint8_t *p, uint32_t v);
void cpnsi_put_be64(uint8_t *p, uint64_t v);
uint16_t cpnsi_get_be16(const uint8_t *p);
uint32_t cpnsi_get_be32(const uint8_t *p);
uint64_t cpnsi_get_be64(const uint8_t *p);

#endif /* CPNS_CRYPTO_INTERNAL_H */
