/*
 * Credential records sealed at rest under a sub-key of the server master
 * key (PROTOCOL.md §6), bound to the normalized User ID; the layout and the
 * associated data are in doc/formats.md "Sealed credential record".
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
#define TAG_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES

/* Domain label opening the associated data: a sealed record can only ever
 * be opened as one, whatever else the key seals. */
static const char ad_label[] = "CPNS Credential Record";
#define AD_LABEL_LEN (sizeof(ad_label) - 1)
#define AD_MAX (AD_LABEL_LEN + HEADER_LEN + 2 + CPNS_USER_ID_MAX)

_Static_assert(OFF_CIPHER + SECRET_LEN + TAG_LEN == CPNS_SEALED_CREDENTIAL_LEN,
               "sealed credential layout");
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

int cpns_crypto_credential_seal(uint8_t sealed[CPNS_SEALED_CREDENTIAL_LEN],
                                const cpns_credential *rec,
                                const uint8_t seal_key[CPNS_CREDENTIAL_SEAL_KEY_LEN],
                                const uint8_t *user_id_norm, size_t user_id_norm_len) {
  uint8_t ad[AD_MAX];
  uint8_t secret[SECRET_LEN];
  size_t adlen;
  int rv;

  if (sealed == NULL || rec == NULL || seal_key == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  /* A record that would not unseal again is not written. */
  if (cpns_crypto_kdf_check_enrollment(&rec->kdf) != 0) {
    return CPNS_ERR_ENCODE;
  }
  cpnsi_cred_header_put(sealed, sealed_magic, SEALED_VERSION, &rec->kdf);
  rv = build_ad(ad, &adlen, sealed, user_id_norm, user_id_norm_len);
  if (rv != 0) {
    sodium_memzero(sealed, CPNS_SEALED_CREDENTIAL_LEN);
    return rv;
  }
  memcpy(secret, rec->stored_key, CPNS_STORED_KEY_LEN);
  memcpy(secret + CPNS_STORED_KEY_LEN, rec->server_key, CPNS_SERVER_KEY_LEN);
  randombytes_buf(sealed + OFF_NONCE, NONCE_LEN);
  (void)crypto_aead_xchacha20poly1305_ietf_encrypt(sealed + OFF_CIPHER, NULL, secret,
                                                   sizeof(secret), ad, adlen, NULL,
                                                   sealed + OFF_NONCE, seal_key);
  sodium_memzero(secret, sizeof(secret));
  return CPNS_OK;
}

/* Checks the clear header and reads its KDF parameters. */
static int read_header(cpns_kdf_params *kdf, const uint8_t *in, size_t inlen) {
  if (inlen != CPNS_SEALED_CREDENTIAL_LEN) {
    return CPNS_ERR_RECORD_FORMAT;
  }
  return cpnsi_cred_header_get(kdf, in, sealed_magic, SEALED_VERSION);
}

int cpns_crypto_credential_sealed_kdf(cpns_kdf_params *kdf, const uint8_t *sealed,
                                      size_t sealed_len) {
  int rv;

  if (kdf == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  memset(kdf, 0, sizeof(*kdf));
  if (sealed == NULL && sealed_len > 0) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  rv = read_header(kdf, sealed, sealed_len);
  if (rv != 0) {
    memset(kdf, 0, sizeof(*kdf));
  }
  return rv;
}

int cpns_crypto_credential_unseal(cpns_credential *rec, const uint8_t *sealed, size_t sealed_len,
                                  const uint8_t seal_key[CPNS_CREDENTIAL_SEAL_KEY_LEN],
                                  const uint8_t *user_id_norm, size_t user_id_norm_len) {
  uint8_t ad[AD_MAX];
  uint8_t secret[SECRET_LEN];
  cpns_kdf_params kdf;
  size_t adlen;
  int rv;

  if (rec == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  sodium_memzero(rec, sizeof(*rec));
  if ((sealed == NULL && sealed_len > 0) || seal_key == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  if (user_id_norm == NULL || user_id_norm_len == 0 || user_id_norm_len > CPNS_USER_ID_MAX) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  rv = read_header(&kdf, sealed, sealed_len);
  if (rv == 0) {
    rv = build_ad(ad, &adlen, sealed, user_id_norm, user_id_norm_len);
  }
  if (rv != 0) {
    return rv;
  }
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(secret, NULL, NULL, sealed + OFF_CIPHER,
                                                 SECRET_LEN + TAG_LEN, ad, adlen,
                                                 sealed + OFF_NONCE, seal_key) != 0) {
    sodium_memzero(secret, sizeof(secret));
    return CPNS_ERR_DECRYPT;
  }
  rec->kdf = kdf;
  memcpy(rec->stored_key, secret, CPNS_STORED_KEY_LEN);
  memcpy(rec->server_key, secret + CPNS_STORED_KEY_LEN, CPNS_SERVER_KEY_LEN);
  sodium_memzero(secret, sizeof(secret));
  return CPNS_OK;
}
