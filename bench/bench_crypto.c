/*
 * Prints the server-side cost of one exchange's crypto after the record is
 * loaded (proof verification, ServerSignature, WrapKey, EUKey wrap) and of
 * one Argon2id at the enrollment defaults (what a gateway pays per attempt).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cpns/crypto.h>

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
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
  return 0;
}
