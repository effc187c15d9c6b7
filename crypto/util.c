/* Small helpers of the crypto module: HMAC over two parts, EUKey AEAD, byte order. */
#include <sodium.h>

#include "crypto/internal.h"

void cpnsi_hmac2(uint8_t out[32], const uint8_t *key, size_t keylen, const uint8_t *a, size_t alen,
                 const uint8_t *b, size_t blen) {
  crypto_auth_hmacsha256_state st;

  crypto_auth_hmacsha256_init(&st, key, keylen);
  crypto_auth_hmacsha256_update(&st, a, alen);
  if (blen > 0) {
    crypto_auth_hmacsha256_update(&st, b, blen);
  }
  crypto_auth_hmacsha256_final(&st, out);
  /* The state holds key-derived pads. */
  sodium_memzero(&st, sizeof(st));
}

void cpnsi_put_be16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

void cpnsi_put_be32(uint8_t *p, uint32_t v) {
  cpnsi_put_be16(p, (uint16_t)(v >> 16));
  cpnsi_put_be16(p + 2, (uint16_t)v);
}

void cpnsi_put_be64(uint8_t *p, uint64_t v) {
  cpnsi_put_be32(p, (uint32_t)(v >> 32));
  cpnsi_put_be32(p + 4, (uint32_t)v);
}

uint16_t cpnsi_get_be16(const uint8_t *p) { return (uint16_t)(((unsigned)p[0] << 8) | p[1]); }

uint32_t cpnsi_get_be32(const uint8_t *p) {
  return ((uint32_t)cpnsi_get_be16(p) << 16) | cpnsi_get_be16(p + 2);
}

uint64_t cpnsi_get_be64(const uint8_t *p) {
  return ((uint64_t)cpnsi_get_be32(p) << 32) | cpnsi_get_be32(p + 4);
}

void cpnsi_eukey_encrypt(uint8_t out[CPNS_EUKEY_LEN + 16], const uint8_t eukey[CPNS_EUKEY_LEN],
                         const uint8_t key[32], const uint8_t nonce[CPNS_AEAD_NONCE_LEN],
                         const uint8_t *ad, size_t adlen) {
  crypto_aead_xchacha20poly1305_ietf_encrypt(out, NULL, eukey, CPNS_EUKEY_LEN, ad, adlen, NULL,
                                             nonce, key);
}

int cpnsi_eukey_decrypt(uint8_t eukey[CPNS_EUKEY_LEN], const uint8_t in[CPNS_EUKEY_LEN + 16],
                        const uint8_t key[32], const uint8_t nonce[CPNS_AEAD_NONCE_LEN],
                        const uint8_t *ad, size_t adlen) {
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(eukey, NULL, NULL, in, CPNS_EUKEY_LEN + 16, ad,
                                                 adlen, nonce, key) != 0) {
    sodium_memzero(eukey, CPNS_EUKEY_LEN);
    return CPNS_ERR_DECRYPT;
  }
  return CPNS_OK;
}
