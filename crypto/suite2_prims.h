/*
 * Primitives of suite 2 (OPAQUE-3DH, issue 11) on libsodium 1.0.18 alone:
 * expand_message_xmd with SHA-512 (RFC 9380 §5.3.1), hash to ristretto255
 * (RFC 9380 / RFC 9496 §4.3.4), HKDF-SHA-512 (RFC 5869) and the OPRF of
 * RFC 9497 in mode 0 with ristretto255-SHA512. Internal (cpnsi_ prefix,
 * hidden visibility, never exported) until the protocol on top lands.
 *
 * Every function returns 0 or a negative CPNS_ERR_*; on error every output
 * is zeroed. Secret inputs (OPRF key, blind, OPRF input) stay in the
 * callers' buffers, which the callers keep in guarded memory; temporaries
 * are wiped before return.
 */
#ifndef CPNS_CRYPTO_SUITE2_PRIMS_H
#define CPNS_CRYPTO_SUITE2_PRIMS_H

#include <stddef.h>
#include <stdint.h>

/** SHA-512 output length (RFC 9497 Nh, RFC 5869 HashLen). */
#define CPNSI_SHA512_LEN 64
/** Serialized ristretto255 element and scalar (RFC 9497 Ne, Ns). */
#define CPNSI_RISTRETTO_LEN 32
/** OPRF seed length of DeriveKeyPair (RFC 9497 Nseed). */
#define CPNSI_OPRF_SEED_LEN 32
/** expand_message_xmd(SHA-512): ell = ceil(len / 64) <= 255. */
#define CPNSI_XMD_SHA512_MAX_LEN (255 * CPNSI_SHA512_LEN)
/** RFC 9380 §5.3.3: a DST is at most 255 octets (longer ones are refused here). */
#define CPNSI_DST_MAX_LEN 255
/** HKDF-Expand: L <= 255 * HashLen (RFC 5869 §2.3). */
#define CPNSI_HKDF_SHA512_MAX_LEN (255 * CPNSI_SHA512_LEN)
/** RFC 9497 inputs and KeyInfo travel with a two-octet length. */
#define CPNSI_OPRF_INPUT_MAX_LEN 0xffff

/** One part of a message hashed as the concatenation of its parts. */
typedef struct cpnsi_span {
  const uint8_t *p; /**< May be NULL when len is 0. */
  size_t len;
} cpnsi_span;

/**
 * out = expand_message_xmd(msg, dst, outlen) with SHA-512 (RFC 9380
 * §5.3.1), msg given as the concatenation of nparts spans (so a secret
 * message need not be copied together). 1 <= outlen <= 16320, 1 <= dstlen
 * <= 255. Returns 0 or CPNS_ERR_INVALID_ARGUMENT.
 */
int cpnsi_expand_message_xmd_sha512_parts(uint8_t *out, size_t outlen, const cpnsi_span *parts,
                                          size_t nparts, const uint8_t *dst, size_t dstlen);

/** expand_message_xmd(SHA-512) of one message; as the _parts form. */
int cpnsi_expand_message_xmd_sha512(uint8_t *out, size_t outlen, const uint8_t *msg, size_t msglen,
                                    const uint8_t *dst, size_t dstlen);

/**
 * element = hash_to_ristretto255(msg, dst) (RFC 9380 §6.3 / RFC 9497
 * §4.1): the 64-octet expand_message_xmd(SHA-512) fed to
 * crypto_core_ristretto255_from_hash. Returns 0 or CPNS_ERR_INVALID_ARGUMENT.
 */
int cpnsi_hash_to_ristretto255(uint8_t element[CPNSI_RISTRETTO_LEN], const cpnsi_span *parts,
                               size_t nparts, const uint8_t *dst, size_t dstlen);

/**
 * scalar = the 64-octet expand_message_xmd(SHA-512) read little-endian and
 * reduced modulo the group order (RFC 9497 §4.1 HashToScalar). Returns 0
 * or CPNS_ERR_INVALID_ARGUMENT.
 */
int cpnsi_hash_to_scalar_ristretto255(uint8_t scalar[CPNSI_RISTRETTO_LEN], const cpnsi_span *parts,
                                      size_t nparts, const uint8_t *dst, size_t dstlen);

/**
 * prk = HKDF-Extract(salt, ikm) with HMAC-SHA-512 (RFC 5869 §2.2); an empty
 * salt (NULL, 0) means 64 zero octets. Returns 0 or CPNS_ERR_INVALID_ARGUMENT.
 */
int cpnsi_hkdf_sha512_extract(uint8_t prk[CPNSI_SHA512_LEN], const uint8_t *salt, size_t saltlen,
                              const uint8_t *ikm, size_t ikmlen);

/**
 * out = HKDF-Expand(prk, info, outlen) with HMAC-SHA-512 (RFC 5869 §2.3),
 * 1 <= outlen <= 16320. Returns 0 or CPNS_ERR_INVALID_ARGUMENT.
 */
int cpnsi_hkdf_sha512_expand(uint8_t *out, size_t outlen, const uint8_t prk[CPNSI_SHA512_LEN],
                             const uint8_t *info, size_t infolen);

/**
 * Nonzero iff e is the canonical ristretto255 encoding (RFC 9496 §4.3.1,
 * bit 255 included) of an element other than the identity: RFC 9497
 * DeserializeElement, applied to every element a peer sends.
 */
int cpnsi_ristretto255_element_ok(const uint8_t e[CPNSI_RISTRETTO_LEN]);

/**
 * RFC 9497 §3.2.1 DeriveKeyPair(seed, info) of the OPRF (mode 0)
 * ristretto255-SHA512 suite: sk is the serialized skS, pk the serialized
 * pkS (pk NULL: not computed, when only the key is needed, which saves a
 * fixed-base scalar multiplication). infolen <= 65535. Returns 0, CPNS_ERR_INVALID_ARGUMENT, or
 * CPNS_ERR_INTERNAL (256 counters gave a zero scalar: never in practice).
 */
int cpnsi_oprf_derive_key_pair(uint8_t sk[CPNSI_RISTRETTO_LEN], uint8_t pk[CPNSI_RISTRETTO_LEN],
                               const uint8_t seed[CPNSI_OPRF_SEED_LEN], const uint8_t *info,
                               size_t infolen);

/**
 * RFC 9497 §3.3.1 Blind(input). With fixed_blind NULL a fresh random
 * nonzero scalar is drawn into blind; otherwise fixed_blind (a canonical
 * nonzero scalar, for test vectors) is copied there. blinded is the
 * serialized blindedElement. inputlen <= 65535. Returns 0 or
 * CPNS_ERR_INVALID_ARGUMENT (bad argument, or the input hashes to the
 * identity: RFC 9497 InvalidInputError).
 */
int cpnsi_oprf_blind(uint8_t blind[CPNSI_RISTRETTO_LEN], uint8_t blinded[CPNSI_RISTRETTO_LEN],
                     const uint8_t *input, size_t inputlen, const uint8_t *fixed_blind);

/**
 * RFC 9497 §3.3.1 BlindEvaluate(skS, blindedElement): evaluated = sk *
 * blinded. blinded comes from the peer: an invalid encoding or the
 * identity is refused (DeserializeElement). Returns 0 or
 * CPNS_ERR_INVALID_ARGUMENT.
 */
int cpnsi_oprf_blind_evaluate(uint8_t evaluated[CPNSI_RISTRETTO_LEN],
                              const uint8_t sk[CPNSI_RISTRETTO_LEN],
                              const uint8_t blinded[CPNSI_RISTRETTO_LEN]);

/**
 * RFC 9497 §3.3.1 Finalize(input, blind, evaluatedElement): out = SHA-512
 * of the unblinded element framed as the RFC says. evaluated comes from
 * the peer: an invalid encoding or the identity is refused. Returns 0 or
 * CPNS_ERR_INVALID_ARGUMENT.
 */
int cpnsi_oprf_finalize(uint8_t out[CPNSI_SHA512_LEN], const uint8_t *input, size_t inputlen,
                        const uint8_t blind[CPNSI_RISTRETTO_LEN],
                        const uint8_t evaluated[CPNSI_RISTRETTO_LEN]);

#endif /* CPNS_CRYPTO_SUITE2_PRIMS_H */
