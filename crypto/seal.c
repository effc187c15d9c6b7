/*
 * Server at-rest sealing of EUKeys (PROTOCOL.md §6) under the server master
 * key; the layout and associated data are in doc/formats.md.
 */
#include <string.h>

#include <sodium.h>

#include "crypto/internal.h"

#define NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define AD_MAX (2 + CPNS_ENTITY_ID_MAX + 2 + CPNS_USER_ID_MAX + 2 + CPNS_KEY_ID_LEN)

_Static_assert(CPNS_SEALED_EUKEY_LEN ==
                   NONCE_LEN + CPNS_EUKEY_LEN + crypto_aead_xchacha20poly1305_ietf_ABYTES,
               "sealed EUKey layout");

static size_t put_field(uint8_t *p, const uint8_t *v, size_t len) {
  cpnsi_put_be16(p, (uint16_t)len);
  memcpy(p + 2, v, len);
  return 2 + len;
}

/* ad = len16(entity) || entity || len16(user) || user || len16(keyId) || keyId */
static int build_ad(uint8_t ad[AD_MAX], size_t *adlen, const uint8_t *entity, size_t entity_len,
                    const uint8_t *user, size_t user_len, const uint8_t *key_id) {
  size_t n = 0;

  if (entity == NULL || user == NULL || key_id == NULL || entity_len == 0 ||
      entity_len > CPNS_ENTITY_ID_MAX || user_len == 0 || user_len > CPNS_USER_ID_MAX) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  n += put_field(ad + n, entity, entity_len);
  n += put_field(ad + n, user, user_len);
  n += put_field(ad + n, key_id, CPNS_KEY_ID_LEN);
  *adlen = n;
  return CPNS_OK;
}

int cpns_crypto_eukey_seal(uint8_t sealed[CPNS_SEALED_EUKEY_LEN],
                           const uint8_t eukey[CPNS_EUKEY_LEN],
                           const uint8_t master_key[CPNS_MASTER_KEY_LEN],
                           const uint8_t *entity_id_norm, size_t entity_id_norm_len,
                           const uint8_t *user_id_norm, size_t user_id_norm_len,
                           const uint8_t key_id[CPNS_KEY_ID_LEN]) {
  uint8_t ad[AD_MAX];
  size_t adlen;
  int rv;

  if (sealed == NULL || eukey == NULL || master_key == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  rv = build_ad(ad, &adlen, entity_id_norm, entity_id_norm_len, user_id_norm, user_id_norm_len,
                key_id);
  if (rv != 0) {
    return rv;
  }
  randombytes_buf(sealed, NONCE_LEN);
  cpnsi_eukey_encrypt(sealed + NONCE_LEN, eukey, master_key, sealed, ad, adlen);
  return CPNS_OK;
}

int cpns_crypto_eukey_unseal(uint8_t eukey[CPNS_EUKEY_LEN],
                             const uint8_t sealed[CPNS_SEALED_EUKEY_LEN],
                             const uint8_t master_key[CPNS_MASTER_KEY_LEN],
                             const uint8_t *entity_id_norm, size_t entity_id_norm_len,
                             const uint8_t *user_id_norm, size_t user_id_norm_len,
                             const uint8_t key_id[CPNS_KEY_ID_LEN]) {
  uint8_t ad[AD_MAX];
  size_t adlen;
  int rv;

  if (eukey == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  sodium_memzero(eukey, CPNS_EUKEY_LEN);
  if (sealed == NULL || master_key == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  rv = build_ad(ad, &adlen, entity_id_norm, entity_id_norm_len, user_id_norm, user_id_norm_len,
                key_id);
  if (rv != 0) {
    return rv;
  }
  return cpnsi_eukey_decrypt(eukey, sealed + NONCE_LEN, master_key, sealed, ad, adlen);
}
