/*
 * Credential records of suite 1 and suite 2 sealed at rest under a
 * sub-key of the server master key (PROTOCOL.md §6), bound to the
 * normalized User ID; the layout and the associated data are in
 * doc/formats.md "Sealed credential record". Both suites share the clear
 * header (with their suite octet) and differ only in the secret's length.
 */
#include <string.h>

#include <sodium.h>

#include "crypto/internal.h"

#define LABEL(s) (const uint8_t *)(s), (sizeof(s) - 1)

/* Layout version 1. The header is stored in the clear (the KDF parameters
 * and salt are what the server shows any gateway asking for this User ID)
 * and authenticated as part of the associated data. */
static const uint8_t sealed_magic[4] = {'C', 'P', 'C', 'S'};
#define SEALED_VERSION 1
#define HEADER_LEN CPNSI_CRED_HEADER_LEN
#define NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define OFF_NONCE HEADER_LEN
#define OFF_CIPHER (OFF_NONCE + NONCE_LEN)
#define SECRET_LEN (CPNS_STORED_KEY_LEN + CPNS_SERVER_KEY_LEN)
#define S2_SECRET_LEN CPNS_S2_REGISTRATION_RECORD_LEN
#define TAG_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES

/* Domain label opening the associated data: a sealed record can only ever
 * be opened as one, whatever else the key seals. */
static const char ad_label[] = "CPNS Credential Record";
#define AD_LABEL_LEN (sizeof(ad_label) - 1)
#define AD_MAX (AD_LABEL_LEN + HEADER_LEN + 2 + CPNS_USER_ID_MAX)

_Static_assert(OFF_CIPHER + SECRET_LEN + TAG_LEN == CPNS_SEALED_CREDENTIAL_LEN,
               "sealed credential layout");
_Static_assert(OFF_CIPHER + S2_SECRET_LEN + TAG_LEN == CPNS_S2_SEALED_RECORD_LEN,
               "sealed suite-2 record layout");
_Static_assert(CPNS_CREDENTIAL_SEAL_KEY_LEN == crypto_aead_xchacha20poly1305_ietf_KEYBYTES,
               "seal key is an XChaCha20-Poly1305 key");

int cpns_crypto_credential_seal_key(uint8_t out[CPNS_CREDENTIAL_SEAL_KEY_LEN],
                                    const uint8_t master_key[CPNS_MASTER_KEY_LEN]) {
  if (out == NULL || master_key == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  cpnsi_hmac2(out, master_key, CPNS_MASTER_KEY_LEN, LABEL("CPNS Credential Seal Key"), NULL, 0);
  return CPNS_OK;
}

/* ad = label || header || len16(user) || user */
static int build_ad(uint8_t ad[AD_MAX], size_t *adlen, const uint8_t header[HEADER_LEN],
                    const uint8_t *user, size_t user_len) {
  if (user == NULL || user_len == 0 || user_len > CPNS_USER_ID_MAX) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  memcpy(ad, ad_label, AD_LABEL_LEN);
  memcpy(ad + AD_LABEL_LEN, header, HEADER_LEN);
  cpnsi_put_be16(ad + AD_LABEL_LEN + HEADER_LEN, (uint16_t)user_len);
  memcpy(ad + AD_LABEL_LEN + HEADER_LEN + 2, user, user_len);
  *adlen = AD_LABEL_LEN + HEADER_LEN + 2 + user_len;
  return CPNS_OK;
}

/* The one sealing of both suites: header(suite, kdf) || nonce || AEAD(secret). */
static int seal_secret(uint8_t *sealed, size_t sealed_len, uint8_t suite,
                       const cpns_kdf_params *kdf, const uint8_t *secret, size_t secret_len,
                       const uint8_t seal_key[CPNS_CREDENTIAL_SEAL_KEY_LEN],
                       const uint8_t *user_id_norm, size_t user_id_norm_len) {
  uint8_t ad[AD_MAX];
  size_t adlen;
  int rv;

  /* A record that would not unseal again is not written. */
  if (cpns_crypto_kdf_check_enrollment(kdf) != 0) {
    sodium_memzero(sealed, sealed_len);
    return CPNS_ERR_ENCODE;
  }
  cpnsi_cred_header_put(sealed, sealed_magic, SEALED_VERSION, suite, kdf);
  rv = build_ad(ad, &adlen, sealed, user_id_norm, user_id_norm_len);
  if (rv != 0) {
    sodium_memzero(sealed, sealed_len);
    return rv;
  }
  randombytes_buf(sealed + OFF_NONCE, NONCE_LEN);
  (void)crypto_aead_xchacha20poly1305_ietf_encrypt(sealed + OFF_CIPHER, NULL, secret, secret_len,
                                                   ad, adlen, NULL, sealed + OFF_NONCE, seal_key);
  return CPNS_OK;
}

/* Checks the clear header of a sealed record of this suite and length. */
static int read_header(cpns_kdf_params *kdf, const uint8_t *in, size_t inlen, uint8_t suite,
                       size_t expected_len) {
  if (inlen != expected_len) {
    return CPNS_ERR_RECORD_FORMAT;
  }
  return cpnsi_cred_header_get(kdf, in, sealed_magic, SEALED_VERSION, suite);
}

/* Inverse of seal_secret(); secret (secret_len octets) is zeroed on failure. */
static int unseal_secret(uint8_t *secret, size_t secret_len, cpns_kdf_params *kdf,
                         const uint8_t *sealed, size_t sealed_len, uint8_t suite,
                         const uint8_t seal_key[CPNS_CREDENTIAL_SEAL_KEY_LEN],
                         const uint8_t *user_id_norm, size_t user_id_norm_len) {
  uint8_t ad[AD_MAX];
  size_t adlen;
  int rv;

  if ((sealed == NULL && sealed_len > 0) || seal_key == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  if (user_id_norm == NULL || user_id_norm_len == 0 || user_id_norm_len > CPNS_USER_ID_MAX) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  rv = read_header(kdf, sealed, sealed_len, suite, OFF_CIPHER + secret_len + TAG_LEN);
  if (rv == 0) {
    rv = build_ad(ad, &adlen, sealed, user_id_norm, user_id_norm_len);
  }
  if (rv != 0) {
    return rv;
  }
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(secret, NULL, NULL, sealed + OFF_CIPHER,
                                                 secret_len + TAG_LEN, ad, adlen,
                                                 sealed + OFF_NONCE, seal_key) != 0) {
    sodium_memzero(secret, secret_len);
    return CPNS_ERR_DECRYPT;
  }
  return CPNS_OK;
}

/* Reads the KDF parameters of a sealed record's clear header, without the key. */
static int sealed_kdf(cpns_kdf_params *kdf, const uint8_t *sealed, size_t sealed_len, uint8_t suite,
                      size_t expected_len) {
  int rv;

  if (kdf == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  memset(kdf, 0, sizeof(*kdf));
  if (sealed == NULL && sealed_len > 0) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  rv = read_header(kdf, sealed, sealed_len, suite, expected_len);
  if (rv != 0) {
    memset(kdf, 0, sizeof(*kdf));
  }
  return rv;
}

int cpns_crypto_credential_seal(uint8_t sealed[CPNS_SEALED_CREDENTIAL_LEN],
                                const cpns_credential *rec,
                                const uint8_t seal_key[CPNS_CREDENTIAL_SEAL_KEY_LEN],
                                const uint8_t *user_id_norm, size_t user_id_norm_len) {
  uint8_t secret[SECRET_LEN];
  int rv;

  if (sealed == NULL || rec == NULL || seal_key == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  memcpy(secret, rec->stored_key, CPNS_STORED_KEY_LEN);
  memcpy(secret + CPNS_STORED_KEY_LEN, rec->server_key, CPNS_SERVER_KEY_LEN);
  rv = seal_secret(sealed, CPNS_SEALED_CREDENTIAL_LEN,
                   CPNS_SUITE_ARGON2ID_HMACSHA256_XCHACHA20POLY1305, &rec->kdf, secret,
                   sizeof(secret), seal_key, user_id_norm, user_id_norm_len);
  sodium_memzero(secret, sizeof(secret));
  return rv;
}

int cpns_crypto_credential_sealed_kdf(cpns_kdf_params *kdf, const uint8_t *sealed,
                                      size_t sealed_len) {
  return sealed_kdf(kdf, sealed, sealed_len, CPNS_SUITE_ARGON2ID_HMACSHA256_XCHACHA20POLY1305,
                    CPNS_SEALED_CREDENTIAL_LEN);
}

int cpns_crypto_credential_unseal(cpns_credential *rec, const uint8_t *sealed, size_t sealed_len,
                                  const uint8_t seal_key[CPNS_CREDENTIAL_SEAL_KEY_LEN],
                                  const uint8_t *user_id_norm, size_t user_id_norm_len) {
  uint8_t secret[SECRET_LEN];
  cpns_kdf_params kdf;
  int rv;

  if (rec == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  sodium_memzero(rec, sizeof(*rec));
  rv = unseal_secret(secret, sizeof(secret), &kdf, sealed, sealed_len,
                     CPNS_SUITE_ARGON2ID_HMACSHA256_XCHACHA20POLY1305, seal_key, user_id_norm,
                     user_id_norm_len);
  if (rv != 0) {
    return rv;
  }
  rec->kdf = kdf;
  memcpy(rec->stored_key, secret, CPNS_STORED_KEY_LEN);
  memcpy(rec->server_key, secret + CPNS_STORED_KEY_LEN, CPNS_SERVER_KEY_LEN);
  sodium_memzero(secret, sizeof(secret));
  return CPNS_OK;
}

int cpns_crypto_s2_record_seal(uint8_t out[CPNS_S2_SEALED_RECORD_LEN], const cpns_s2_record *rec,
                               const uint8_t *user_id_norm, size_t user_id_norm_len,
                               const uint8_t key[CPNS_CREDENTIAL_SEAL_KEY_LEN]) {
  if (out == NULL || rec == NULL || key == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  return seal_secret(out, CPNS_S2_SEALED_RECORD_LEN, CPNSI_SUITE_OPAQUE3DH, &rec->kdf,
                     rec->registration_record, S2_SECRET_LEN, key, user_id_norm, user_id_norm_len);
}

int cpns_crypto_s2_record_unseal(cpns_s2_record *rec, const uint8_t *sealed, size_t sealed_len,
                                 const uint8_t *user_id_norm, size_t user_id_norm_len,
                                 const uint8_t key[CPNS_CREDENTIAL_SEAL_KEY_LEN]) {
  int rv;

  if (rec == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  sodium_memzero(rec, sizeof(*rec));
  /* Decrypted straight into rec: unseal_secret() wipes it on failure. */
  rv = unseal_secret(rec->registration_record, S2_SECRET_LEN, &rec->kdf, sealed, sealed_len,
                     CPNSI_SUITE_OPAQUE3DH, key, user_id_norm, user_id_norm_len);
  if (rv != 0) {
    sodium_memzero(rec, sizeof(*rec));
  }
  return rv;
}

int cpns_crypto_s2_record_sealed_kdf(cpns_kdf_params *kdf, const uint8_t *sealed,
                                     size_t sealed_len) {
  return sealed_kdf(kdf, sealed, sealed_len, CPNSI_SUITE_OPAQUE3DH, CPNS_S2_SEALED_RECORD_LEN);
}
