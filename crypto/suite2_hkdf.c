/* Suite 2 key derivation: HKDF-SHA-512 Extract and Expand (RFC 5869 §2.2, §2.3). */
#include <string.h>

#include <sodium.h>

#include "crypto/suite2_prims.h"

#include <cpns/common.h>

int cpnsi_hkdf_sha512_extract(uint8_t prk[CPNSI_SHA512_LEN], const uint8_t *salt, size_t saltlen,
                              const uint8_t *ikm, size_t ikmlen) {
  static const uint8_t zero_salt[CPNSI_SHA512_LEN];
  crypto_auth_hmacsha512_state st;

  if (prk == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  if ((salt == NULL && saltlen > 0) || (ikm == NULL && ikmlen > 0)) {
    sodium_memzero(prk, CPNSI_SHA512_LEN);
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  /* RFC 5869 §2.2: "if not provided, [salt] is set to a string of HashLen zeros". */
  if (saltlen == 0) {
    salt = zero_salt;
    saltlen = sizeof(zero_salt);
  }
  crypto_auth_hmacsha512_init(&st, salt, saltlen);
  if (ikmlen > 0) {
    crypto_auth_hmacsha512_update(&st, ikm, ikmlen);
  }
  crypto_auth_hmacsha512_final(&st, prk);
  sodium_memzero(&st, sizeof(st));
  return 0;
}

int cpnsi_hkdf_sha512_expand(uint8_t *out, size_t outlen, const uint8_t prk[CPNSI_SHA512_LEN],
                             const uint8_t *info, size_t infolen) {
  crypto_auth_hmacsha512_state st;
  uint8_t t[CPNSI_SHA512_LEN];
  uint8_t counter;
  size_t off, take;

  if (out == NULL || outlen == 0 || outlen > CPNSI_HKDF_SHA512_MAX_LEN || prk == NULL ||
      (info == NULL && infolen > 0)) {
    if (out != NULL && outlen <= CPNSI_HKDF_SHA512_MAX_LEN) {
      sodium_memzero(out, outlen);
    }
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  /* T(0) = empty; T(i) = HMAC(PRK, T(i-1) || info || i); OKM = first L octets of T(1)..T(N). */
  for (off = 0, counter = 1; off < outlen; off += take, counter++) {
    crypto_auth_hmacsha512_init(&st, prk, CPNSI_SHA512_LEN);
    if (counter > 1) {
      crypto_auth_hmacsha512_update(&st, t, sizeof(t));
    }
    if (infolen > 0) {
      crypto_auth_hmacsha512_update(&st, info, infolen);
    }
    crypto_auth_hmacsha512_update(&st, &counter, 1);
    crypto_auth_hmacsha512_final(&st, t);
    take = outlen - off < sizeof(t) ? outlen - off : sizeof(t);
    memcpy(out + off, t, take);
  }
  sodium_memzero(&st, sizeof(st));
  sodium_memzero(t, sizeof(t));
  return 0;
}
