/*
 * Suite 2 OPRF: RFC 9497 mode 0 (modeOPRF), ciphersuite ristretto255-SHA512:
 * DeriveKeyPair (§3.2.1), Blind, BlindEvaluate and Finalize (§3.3.1).
 */
#include <string.h>

#include <sodium.h>

#include "crypto/internal.h"
#include "crypto/suite2_prims.h"

/* RFC 9497 §3.1 CreateContextString(modeOPRF, "ristretto255-SHA512"). */
#define OPRF_CONTEXT "OPRFV1-\x00-ristretto255-SHA512"

static const uint8_t dst_hash_to_group[] = "HashToGroup-" OPRF_CONTEXT;
static const uint8_t dst_derive_key_pair[] = "DeriveKeyPair" OPRF_CONTEXT;

/* Nonzero iff s is the canonical encoding of a nonzero scalar (DeserializeScalar). */
static int scalar_is_canonical_nonzero(const uint8_t s[CPNSI_RISTRETTO_LEN]) {
  uint8_t wide[64], reduced[CPNSI_RISTRETTO_LEN];
  int canonical, nonzero, ok;

  /* s is canonical iff reducing it modulo the order leaves it unchanged. */
  memcpy(wide, s, CPNSI_RISTRETTO_LEN);
  memset(wide + CPNSI_RISTRETTO_LEN, 0, sizeof(wide) - CPNSI_RISTRETTO_LEN);
  crypto_core_ristretto255_scalar_reduce(reduced, wide);
  /* Both checks run, whatever the secret scalar is: & of two ints, not &&. */
  canonical = sodium_memcmp(reduced, s, CPNSI_RISTRETTO_LEN) == 0;
  nonzero = sodium_is_zero(s, CPNSI_RISTRETTO_LEN) == 0;
  ok = canonical & nonzero;
  sodium_memzero(wide, sizeof(wide));
  sodium_memzero(reduced, sizeof(reduced));
  return ok;
}

/* RFC 9497 §4.1 DeserializeElement: a valid encoding, and not the identity. */
static int element_is_valid(const uint8_t e[CPNSI_RISTRETTO_LEN]) {
  return cpnsi_ristretto255_element_ok(e);
}

int cpnsi_ristretto255_element_ok(const uint8_t e[CPNSI_RISTRETTO_LEN]) {
  /* libsodium 1.0.18 ignores bit 255 when decoding, but RFC 9496 §4.3.1
   * reads all 32 octets as s and refuses s >= p: a set top bit is non-canonical. */
  return (e[CPNSI_RISTRETTO_LEN - 1] & 0x80) == 0 &&
         crypto_core_ristretto255_is_valid_point(e) == 1 && !sodium_is_zero(e, CPNSI_RISTRETTO_LEN);
}

/* HashToGroup(input) with the suite's DST, refusing the identity (InvalidInputError). */
static int hash_input_to_group(uint8_t element[CPNSI_RISTRETTO_LEN], const uint8_t *input,
                               size_t inputlen) {
  cpnsi_span part;

  part.p = input;
  part.len = inputlen;
  if (cpnsi_hash_to_ristretto255(element, &part, 1, dst_hash_to_group,
                                 sizeof(dst_hash_to_group) - 1) != 0 ||
      sodium_is_zero(element, CPNSI_RISTRETTO_LEN)) {
    sodium_memzero(element, CPNSI_RISTRETTO_LEN);
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  return 0;
}

int cpnsi_oprf_derive_key_pair(uint8_t sk[CPNSI_RISTRETTO_LEN], uint8_t pk[CPNSI_RISTRETTO_LEN],
                               const uint8_t seed[CPNSI_OPRF_SEED_LEN], const uint8_t *info,
                               size_t infolen) {
  cpnsi_span parts[4];
  uint8_t info_len_be[2], counter_octet;
  unsigned counter;

  if (sk == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  sodium_memzero(sk, CPNSI_RISTRETTO_LEN);
  if (pk != NULL) {
    sodium_memzero(pk, CPNSI_RISTRETTO_LEN);
  }
  if (seed == NULL || (info == NULL && infolen > 0) || infolen > CPNSI_OPRF_INPUT_MAX_LEN) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  /* deriveInput = seed || I2OSP(len(info), 2) || info; then || I2OSP(counter, 1). */
  cpnsi_put_be16(info_len_be, (uint16_t)infolen);
  parts[0].p = seed;
  parts[0].len = CPNSI_OPRF_SEED_LEN;
  parts[1].p = info_len_be;
  parts[1].len = sizeof(info_len_be);
  parts[2].p = info;
  parts[2].len = infolen;
  parts[3].p = &counter_octet;
  parts[3].len = 1;
  for (counter = 0; counter <= 255; counter++) {
    counter_octet = (uint8_t)counter;
    if (cpnsi_hash_to_scalar_ristretto255(sk, parts, 4, dst_derive_key_pair,
                                          sizeof(dst_derive_key_pair) - 1) != 0) {
      return CPNS_ERR_INTERNAL;
    }
    if (!sodium_is_zero(sk, CPNSI_RISTRETTO_LEN)) {
      /* pkS = ScalarMultGen(skS); a nonzero scalar below the order never gives the identity. */
      if (pk != NULL && crypto_scalarmult_ristretto255_base(pk, sk) != 0) {
        break;
      }
      return 0;
    }
  }
  sodium_memzero(sk, CPNSI_RISTRETTO_LEN);
  if (pk != NULL) {
    sodium_memzero(pk, CPNSI_RISTRETTO_LEN);
  }
  return CPNS_ERR_INTERNAL;
}

int cpnsi_oprf_blind(uint8_t blind[CPNSI_RISTRETTO_LEN], uint8_t blinded[CPNSI_RISTRETTO_LEN],
                     const uint8_t *input, size_t inputlen, const uint8_t *fixed_blind) {
  uint8_t input_element[CPNSI_RISTRETTO_LEN];

  if (blind == NULL || blinded == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  sodium_memzero(blinded, CPNSI_RISTRETTO_LEN);
  if ((input == NULL && inputlen > 0) || inputlen > CPNSI_OPRF_INPUT_MAX_LEN ||
      (fixed_blind != NULL && !scalar_is_canonical_nonzero(fixed_blind))) {
    sodium_memzero(blind, CPNSI_RISTRETTO_LEN);
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  if (fixed_blind != NULL) {
    memmove(blind, fixed_blind, CPNSI_RISTRETTO_LEN);
  } else {
    /* RandomScalar(): libsodium draws uniformly from [1, order - 1]. */
    crypto_core_ristretto255_scalar_random(blind);
  }
  if (hash_input_to_group(input_element, input, inputlen) != 0 ||
      crypto_scalarmult_ristretto255(blinded, blind, input_element) != 0) {
    sodium_memzero(blind, CPNSI_RISTRETTO_LEN);
    sodium_memzero(blinded, CPNSI_RISTRETTO_LEN);
    sodium_memzero(input_element, sizeof(input_element));
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  sodium_memzero(input_element, sizeof(input_element));
  return 0;
}

int cpnsi_oprf_blind_evaluate(uint8_t evaluated[CPNSI_RISTRETTO_LEN],
                              const uint8_t sk[CPNSI_RISTRETTO_LEN],
                              const uint8_t blinded[CPNSI_RISTRETTO_LEN]) {
  if (evaluated == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  if (sk == NULL || blinded == NULL || !element_is_valid(blinded) ||
      !scalar_is_canonical_nonzero(sk) ||
      crypto_scalarmult_ristretto255(evaluated, sk, blinded) != 0) {
    sodium_memzero(evaluated, CPNSI_RISTRETTO_LEN);
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  return 0;
}

int cpnsi_oprf_finalize(uint8_t out[CPNSI_SHA512_LEN], const uint8_t *input, size_t inputlen,
                        const uint8_t blind[CPNSI_RISTRETTO_LEN],
                        const uint8_t evaluated[CPNSI_RISTRETTO_LEN]) {
  static const uint8_t finalize_label[] = "Finalize";
  crypto_hash_sha512_state st;
  uint8_t inverse[CPNSI_RISTRETTO_LEN], unblinded[CPNSI_RISTRETTO_LEN], len_be[2];
  int rc = CPNS_ERR_INVALID_ARGUMENT;

  if (out == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  sodium_memzero(out, CPNSI_SHA512_LEN);
  if ((input == NULL && inputlen > 0) || inputlen > CPNSI_OPRF_INPUT_MAX_LEN || blind == NULL ||
      evaluated == NULL || !element_is_valid(evaluated) || !scalar_is_canonical_nonzero(blind)) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  /* N = ScalarInverse(blind) * evaluatedElement */
  if (crypto_core_ristretto255_scalar_invert(inverse, blind) != 0 ||
      crypto_scalarmult_ristretto255(unblinded, inverse, evaluated) != 0) {
    goto out;
  }
  /* Hash(I2OSP(len(input), 2) || input || I2OSP(Ne, 2) || N || "Finalize") */
  crypto_hash_sha512_init(&st);
  cpnsi_put_be16(len_be, (uint16_t)inputlen);
  crypto_hash_sha512_update(&st, len_be, sizeof(len_be));
  if (inputlen > 0) {
    crypto_hash_sha512_update(&st, input, inputlen);
  }
  cpnsi_put_be16(len_be, CPNSI_RISTRETTO_LEN);
  crypto_hash_sha512_update(&st, len_be, sizeof(len_be));
  crypto_hash_sha512_update(&st, unblinded, sizeof(unblinded));
  crypto_hash_sha512_update(&st, finalize_label, sizeof(finalize_label) - 1);
  crypto_hash_sha512_final(&st, out);
  sodium_memzero(&st, sizeof(st));
  rc = 0;
out:
  sodium_memzero(inverse, sizeof(inverse));
  sodium_memzero(unblinded, sizeof(unblinded));
  return rc;
}
