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
void cpnsi_hmac2(uint8_t out[32], const uint8_t *key, size_t keylen, const uint8_t *a, size_t alen,
                 const uint8_t *b, size_t blen);

/**
 * The one way an EUKey is encrypted, on the wire (wrap) and at rest (seal):
 * XChaCha20-Poly1305-IETF of its 32 octets, 48 octets out.
 */
void cpnsi_eukey_encrypt(uint8_t out[CPNS_EUKEY_LEN + 16], const uint8_t eukey[CPNS_EUKEY_LEN],
                         const uint8_t key[32], const uint8_t nonce[CPNS_AEAD_NONCE_LEN],
                         const uint8_t *ad, size_t adlen);

/** Inverse of cpnsi_eukey_encrypt(): 0, or CPNS_ERR_DECRYPT with eukey zeroed. */
int cpnsi_eukey_decrypt(uint8_t eukey[CPNS_EUKEY_LEN], const uint8_t in[CPNS_EUKEY_LEN + 16],
                        const uint8_t key[32], const uint8_t nonce[CPNS_AEAD_NONCE_LEN],
                        const uint8_t *ad, size_t adlen);

/** Nonzero iff kdf is within the ASN.1 module's ranges and libsodium's minimums. */
int cpnsi_kdf_in_range(const cpns_kdf_params *kdf);

/** Big-endian helpers for the at-rest layouts of doc/formats.md. */
void cpnsi_put_be16(uint8_t *p, uint16_t v);
void cpnsi_put_be32(uint8_t *p, uint32_t v);
void cpnsi_put_be64(uint8_t *p, uint64_t v);
uint16_t cpnsi_get_be16(const uint8_t *p);
uint32_t cpnsi_get_be32(const uint8_t *p);
uint64_t cpnsi_get_be64(const uint8_t *p);

/*
 * The header that credential records, plain and sealed, share
 * (doc/formats.md): magic(4) version(1) suite(1) reserved(2) opsLimit(4)
 * memLimitKiB(4) salt(16), integers big-endian.
 */
#define CPNSI_CRED_HEADER_LEN (16 + CPNS_SALT_LEN)

/** Suite 2 (opaque3dh-ristretto255-sha512-argon2id, PROTOCOL.md §5.2) in record headers. */
#define CPNSI_SUITE_OPAQUE3DH 2

/** Writes the header of a record of this suite with this magic and layout version. */
void cpnsi_cred_header_put(uint8_t out[CPNSI_CRED_HEADER_LEN], const uint8_t magic[4],
                           uint8_t version, uint8_t suite, const cpns_kdf_params *kdf);

/**
 * Checks a header against magic, version and suite (reserved zero, KDF
 * parameters an enrollment may use) and reads its parameters into *kdf.
 * Returns 0 or CPNS_ERR_RECORD_FORMAT.
 */
int cpnsi_cred_header_get(cpns_kdf_params *kdf, const uint8_t in[CPNSI_CRED_HEADER_LEN],
                          const uint8_t magic[4], uint8_t version, uint8_t suite);

#endif /* CPNS_CRYPTO_INTERNAL_H */
