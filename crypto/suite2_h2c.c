/*
 * Suite 2 hashing to ristretto255: expand_message_xmd with SHA-512
 * (RFC 9380 §5.3.1), HashToGroup and HashToScalar (RFC 9497 §4.1).
 */
#include <string.h>

#include <sodium.h>

#include "crypto/internal.h"
#include "crypto/suite2_prims.h"

/* RFC 9380 §5.3.1: s_in_bytes, the input block size of SHA-512. */
#define XMD_SHA512_BLOCK 128

static int spans_ok(const cpnsi_span *parts, size_t nparts) {
  size_t i;

  if (parts == NULL && nparts > 0) {
    return 0;
  }
  for (i = 0; i < nparts; i++) {
    if (parts[i].p == NULL && parts[i].len > 0) {
      return 0;
    }
  }
  return 1;
}

int cpnsi_expand_message_xmd_sha512_parts(uint8_t *out, size_t outlen, const cpnsi_span *parts,
                                          size_t nparts, const uint8_t *dst, size_t dstlen) {
  static const uint8_t z_pad[XMD_SHA512_BLOCK];
  crypto_hash_sha512_state st;
  uint8_t b0[CPNSI_SHA512_LEN], bi[CPNSI_SHA512_LEN];
  uint8_t len_be[2], dst_len, index;
  size_t ell, i, j, off;

  if (out == NULL || outlen == 0 || outlen > CPNSI_XMD_SHA512_MAX_LEN || dst == NULL ||
      dstlen == 0 || dstlen > CPNSI_DST_MAX_LEN || !spans_ok(parts, nparts)) {
    if (out != NULL && outlen <= CPNSI_XMD_SHA512_MAX_LEN) {
      sodium_memzero(out, outlen);
    }
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  ell = (outlen + CPNSI_SHA512_LEN - 1) / CPNSI_SHA512_LEN;
  cpnsi_put_be16(len_be, (uint16_t)outlen);
  dst_len = (uint8_t)dstlen;

  /* b_0 = H(Z_pad || msg || I2OSP(len_in_bytes, 2) || I2OSP(0, 1) || DST_prime) */
  crypto_hash_sha512_init(&st);
  crypto_hash_sha512_update(&st, z_pad, sizeof(z_pad));
  for (j = 0; j < nparts; j++) {
    if (parts[j].len > 0) {
      crypto_hash_sha512_update(&st, parts[j].p, parts[j].len);
    }
  }
  crypto_hash_sha512_update(&st, len_be, sizeof(len_be));
  index = 0;
  crypto_hash_sha512_update(&st, &index, 1);
  crypto_hash_sha512_update(&st, dst, dstlen);
  crypto_hash_sha512_update(&st, &dst_len, 1);
  crypto_hash_sha512_final(&st, b0);

  /* b_1 = H(b_0 || 1 || DST_prime); b_i = H((b_0 XOR b_(i-1)) || i || DST_prime) */
  memset(bi, 0, sizeof(bi));
  for (i = 1, off = 0; i <= ell; i++) {
    size_t take = outlen - off < CPNSI_SHA512_LEN ? outlen - off : CPNSI_SHA512_LEN;

    for (j = 0; j < CPNSI_SHA512_LEN; j++) {
      bi[j] ^= b0[j]; /* bi held b_(i-1), or zeros for i = 1 */
    }
    index = (uint8_t)i;
    crypto_hash_sha512_init(&st);
    crypto_hash_sha512_update(&st, bi, sizeof(bi));
    crypto_hash_sha512_update(&st, &index, 1);
    crypto_hash_sha512_update(&st, dst, dstlen);
    crypto_hash_sha512_update(&st, &dst_len, 1);
    crypto_hash_sha512_final(&st, bi);
    memcpy(out + off, bi, take);
    off += take;
  }
  /* The message may be secret (a password, an OPRF seed): so may be b_0. */
  sodium_memzero(&st, sizeof(st));
  sodium_memzero(b0, sizeof(b0));
  sodium_memzero(bi, sizeof(bi));
  return 0;
}

int cpnsi_expand_message_xmd_sha512(uint8_t *out, size_t outlen, const uint8_t *msg, size_t msglen,
                                    const uint8_t *dst, size_t dstlen) {
  cpnsi_span part;

  part.p = msg;
  part.len = msglen;
  return cpnsi_expand_message_xmd_sha512_parts(out, outlen, &part, 1, dst, dstlen);
}

int cpnsi_hash_to_ristretto255(uint8_t element[CPNSI_RISTRETTO_LEN], const cpnsi_span *parts,
                               size_t nparts, const uint8_t *dst, size_t dstlen) {
  uint8_t uniform[CPNSI_SHA512_LEN];
  int rc;

  if (element == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  rc = cpnsi_expand_message_xmd_sha512_parts(uniform, sizeof(uniform), parts, nparts, dst, dstlen);
  if (rc != 0) {
    sodium_memzero(element, CPNSI_RISTRETTO_LEN);
    return rc;
  }
  crypto_core_ristretto255_from_hash(element, uniform);
  sodium_memzero(uniform, sizeof(uniform));
  return 0;
}

int cpnsi_hash_to_scalar_ristretto255(uint8_t scalar[CPNSI_RISTRETTO_LEN], const cpnsi_span *parts,
                                      size_t nparts, const uint8_t *dst, size_t dstlen) {
  uint8_t uniform[CPNSI_SHA512_LEN];
  int rc;

  if (scalar == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  rc = cpnsi_expand_message_xmd_sha512_parts(uniform, sizeof(uniform), parts, nparts, dst, dstlen);
  if (rc != 0) {
    sodium_memzero(scalar, CPNSI_RISTRETTO_LEN);
    return rc;
  }
  crypto_core_ristretto255_scalar_reduce(scalar, uniform);
  sodium_memzero(uniform, sizeof(uniform));
  return 0;
}
