/*
 * Prints the server-side cost of one exchange's crypto after the record is
 * loaded (proof verification, ServerSignature, WrapKey, EUKey wrap) and of
 * one Argon2id at the enrollment defaults (what a gateway pays per attempt).
 * Suite 2: the server's part of one exchange (KE2, ServerFinish, WrapKey,
 * DeliveryKey, serverSignature, EUKey wrap; the KSF runs only at the
 * gateway) for a real and an unknown user, against the ristretto255
 * operations that part cannot avoid, measured in the same run.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include <cpns/crypto.h>

#include "crypto/opaque.h"

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/*
 * The ristretto255 work one suite-2 server exchange needs (PROTOCOL.md
 * §5.2, RFC 9807 §6.2.2): decoding the two peer elements (blindedMessage,
 * clientPublicKeyshare) to check them, BlindEvaluate (1 scalar mult), the
 * server keyshare (1 fixed-base mult) and 3DH (3 scalar mults).
 */
#define S2_PEER_DECODES 2
#define S2_SCALARMULTS 4
#define S2_BASE_MULTS 1

/* The floor's operations once each, on fresh inputs; returns 0 if all behaved. */
static int ristretto_floor_once(uint8_t p[2][32], uint8_t s[32]) {
  uint8_t q[32];
  int bad = 0, i;

  for (i = 0; i < S2_PEER_DECODES; i++) {
    bad |= crypto_core_ristretto255_is_valid_point(p[i & 1]) != 1;
  }
  for (i = 0; i < S2_SCALARMULTS; i++) {
    bad |= crypto_scalarmult_ristretto255(q, s, p[i & 1]) != 0;
  }
  for (i = 0; i < S2_BASE_MULTS; i++) {
    bad |= crypto_scalarmult_ristretto255_base(q, s) != 0;
  }
  s[0] ^= q[0] & 1; /* next call on another scalar: nothing to hoist */
  return bad ? -1 : 0;
}

/* Server part of one exchange; ke3 NULL: an unknown user, who never sends a valid one. */
static int s2_server_exchange(const cpns_s2_server_keys *keys, const uint8_t record[192],
                              const uint8_t *uid, size_t uid_len, const uint8_t ke1[96],
                              const uint8_t am[300], const uint8_t fixed_masking_nonce[32],
                              const uint8_t fixed_keyshare_seed[32], const uint8_t *ke3) {
  cpnsi_opaque_server st;
  uint8_t server_nonce[32], masking_nonce[32], seed[32], ke2[320], session_key[64];
  uint8_t wk[32], dk[32], sig[32], kid[16], nonce[24], eukey[32], wrapped[48];
  static const uint8_t wrong_ke3[64];

  /* The values a real server draws (the fixed ones replace them so that ke3 stays valid). */
  cpns_crypto_random(server_nonce, sizeof(server_nonce));
  cpns_crypto_random(masking_nonce, sizeof(masking_nonce));
  cpns_crypto_random(seed, sizeof(seed));
  memset(server_nonce, 0x22, sizeof(server_nonce));
  if (cpnsi_opaque_server_ke2(&st, ke2, keys, record, uid, uid_len, ke1, server_nonce, NULL, 0,
                              NULL, 0, am, 300, fixed_masking_nonce, fixed_keyshare_seed) != 0) {
    return -1;
  }
  if (ke3 == NULL) {
    return cpnsi_opaque_server_finish(&st, session_key, wrong_ke3) == CPNS_ERR_PROOF ? 0 : -1;
  }
  if (cpnsi_opaque_server_finish(&st, session_key, ke3) != 0) {
    return -1;
  }
  cpns_crypto_random(eukey, sizeof(eukey));
  cpns_crypto_random(kid, sizeof(kid));
  cpns_crypto_random(nonce, sizeof(nonce));
  if (cpnsi_s2_delivery_keys(wk, dk, session_key) != 0 ||
      cpnsi_s2_server_signature(sig, dk, am, 300, kid) != 0 ||
      cpns_crypto_eukey_wrap(wrapped, eukey, wk, nonce, am, 300, kid) != 0) {
    return -1;
  }
  sodium_memzero(session_key, sizeof(session_key));
  return 0;
}

static int bench_suite2(const uint8_t am[300]) {
  static const uint8_t uid[] = "alice@example.org", unknown[] = "mallory@example.org";
  static const uint8_t pw[] = "benchmark password";
  cpns_s2_server_keys *keys = sodium_malloc(sizeof(*keys));
  cpns_s2_record *rec = sodium_malloc(sizeof(*rec)), *fake = sodium_malloc(sizeof(*fake));
  cpnsi_opaque_client *cst = sodium_malloc(sizeof(*cst));
  cpnsi_opaque_server *sst = sodium_malloc(sizeof(*sst));
  uint8_t ke1[96], ke2[320], ke3[64], sk[64], gw_nonce[32], server_nonce[32], secret[32];
  uint8_t masking_nonce[32], seed[32];
  const int iters = 2000;
  uint8_t pts[2][32], scalar[32];
  double t0, t1, t2, t3, real_us, fake_us, floor_us;
  int i, rv = -1;

  if (keys == NULL || rec == NULL || fake == NULL || cst == NULL || sst == NULL ||
      cpns_crypto_s2_server_keys_generate(keys) != 0 ||
      cpns_crypto_s2_register(rec, pw, sizeof(pw) - 1, uid, sizeof(uid) - 1, 1, 8192, keys) != 0) {
    goto out;
  }
  cpns_crypto_random(secret, sizeof(secret));
  cpns_crypto_random(gw_nonce, sizeof(gw_nonce));
  cpns_crypto_random(masking_nonce, sizeof(masking_nonce));
  cpns_crypto_random(seed, sizeof(seed));
  memset(server_nonce, 0x22, sizeof(server_nonce));
  if (cpns_crypto_s2_fake_record(fake, unknown, sizeof(unknown) - 1, keys, secret, 3, 65536) != 0 ||
      cpnsi_opaque_client_ke1(cst, ke1, pw, sizeof(pw) - 1, gw_nonce, NULL, NULL) != 0 ||
      cpnsi_opaque_server_ke2(sst, ke2, keys, rec->registration_record, uid, sizeof(uid) - 1, ke1,
                              server_nonce, NULL, 0, NULL, 0, am, 300, masking_nonce, seed) != 0 ||
      cpnsi_opaque_client_ke3(cst, ke3, sk, NULL, pw, sizeof(pw) - 1, ke2, NULL, 0, NULL, 0, am,
                              300, cpnsi_ksf_argon2id, &rec->kdf) != 0) {
    goto out;
  }
  /* The machine is shared: each iteration times one real exchange, one
   * floor and one fake exchange back to back, so that all three see the
   * same load; the figures are the sums' means. */
  crypto_core_ristretto255_random(pts[0]);
  crypto_core_ristretto255_random(pts[1]);
  crypto_core_ristretto255_scalar_random(scalar);
  real_us = fake_us = floor_us = 0;
  for (i = 0; i < iters; i++) {
    t0 = now_us();
    if (s2_server_exchange(keys, rec->registration_record, uid, sizeof(uid) - 1, ke1, am,
                           masking_nonce, seed, ke3) != 0) {
      goto out;
    }
    t1 = now_us();
    if (ristretto_floor_once(pts, scalar) != 0) {
      goto out;
    }
    t2 = now_us();
    if (s2_server_exchange(keys, fake->registration_record, unknown, sizeof(unknown) - 1, ke1, am,
                           masking_nonce, seed, NULL) != 0) {
      goto out;
    }
    t3 = now_us();
    real_us += t1 - t0;
    floor_us += t2 - t1;
    fake_us += t3 - t2;
  }
  real_us /= iters;
  floor_us /= iters;
  fake_us /= iters;

  printf("suite 2 ristretto255 floor (%d is_valid_point + %d scalarmult + %d scalarmult_base): "
         "%.2f us\n",
         S2_PEER_DECODES, S2_SCALARMULTS, S2_BASE_MULTS, floor_us);
  printf("suite 2 server KE2 + ServerFinish + WrapKey, DeliveryKey, serverSignature, wrap "
         "(real user): %.2f us, ratio %.2f\n",
         real_us, real_us / floor_us);
  printf("suite 2 server KE2 + ServerFinish (unknown user, fake record): %.2f us, ratio %.2f\n",
         fake_us, fake_us / floor_us);
  rv = 0;
out:
  sodium_free(keys);
  sodium_free(rec);
  sodium_free(fake);
  sodium_free(cst);
  sodium_free(sst);
  return rv;
}

int main(void) {
  uint8_t am[300], ck[32], sk[32], st[32], sp[32], proof[32], out_ck[32], sig[32], wk[32];
  uint8_t eukey[32], nonce[24], kid[16], wrapped[48];
  cpns_kdf_params kdf;
  const int iters = 20000;
  double t0, per_verify, argon_ms;
  int i;

  if (cpns_init() != 0) {
    return 1;
  }
  cpns_crypto_random(am, sizeof(am)); /* a typical AuthMessage is ~200-300 octets */
  cpns_crypto_random(sp, sizeof(sp));
  cpns_crypto_client_key(ck, sp);
  cpns_crypto_server_key(sk, sp);
  cpns_crypto_stored_key(st, ck);
  cpns_crypto_client_proof(proof, ck, st, am, sizeof(am));

  t0 = now_us();
  for (i = 0; i < iters; i++) {
    cpns_crypto_random(eukey, sizeof(eukey));
    cpns_crypto_random(kid, sizeof(kid));
    cpns_crypto_random(nonce, sizeof(nonce));
    if (cpns_crypto_client_proof_verify(out_ck, proof, st, am, sizeof(am)) != 0) {
      return 1;
    }
    cpns_crypto_server_signature(sig, sk, am, sizeof(am));
    cpns_crypto_wrap_key(wk, out_ck, am, sizeof(am));
    cpns_crypto_eukey_wrap(wrapped, eukey, wk, nonce, am, sizeof(am), kid);
  }
  per_verify = (now_us() - t0) / iters;

  cpns_crypto_random(kdf.salt, sizeof(kdf.salt));
  kdf.ops_limit = CPNS_KDF_OPS_DEFAULT;
  kdf.mem_limit_kib = CPNS_KDF_MEM_KIB_DEFAULT;
  t0 = now_us();
  for (i = 0; i < 3; i++) {
    if (cpns_crypto_salted_password(sp, (const uint8_t *)"benchmark password", 18, &kdf) != 0) {
      return 1;
    }
  }
  argon_ms = (now_us() - t0) / 3 / 1000.0;

  printf("server verify + sign + wrap (AuthMessage %zu octets): %.2f us\n", sizeof(am), per_verify);
  printf("Argon2id opsLimit %u memLimitKiB %u: %.1f ms\n", kdf.ops_limit, kdf.mem_limit_kib,
         argon_ms);
  return bench_suite2(am) == 0 ? 0 : 1;
}
