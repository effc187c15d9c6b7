/* KDF parameter policies: what a gateway will run, what enrollment accepts. */
#include <sodium.h>

#include "crypto/internal.h"

int cpnsi_kdf_in_range(const cpns_kdf_params *kdf) {
  /* The module's ranges (KdfParams) first, then libsodium's own floor,
   * which crypto_pwhash would otherwise reject at run time. */
  if (kdf->ops_limit < CPNS_OPS_LIMIT_MIN || kdf->ops_limit > CPNS_OPS_LIMIT_MAX ||
      kdf->mem_limit_kib < CPNS_MEM_LIMIT_KIB_MIN || kdf->mem_limit_kib > CPNS_MEM_LIMIT_KIB_MAX) {
    return 0;
  }
  if (kdf->ops_limit < crypto_pwhash_argon2id_OPSLIMIT_MIN ||
      (uint64_t)kdf->mem_limit_kib * 1024u < crypto_pwhash_argon2id_MEMLIMIT_MIN) {
    return 0;
  }
  return 1;
}

static uint32_t or_default(uint32_t v, uint32_t dflt) { return v != 0 ? v : dflt; }

int cpns_crypto_kdf_check_gateway(const cpns_kdf_params *kdf, uint32_t min_ops,
                                  uint32_t min_mem_kib, uint32_t max_ops, uint32_t max_mem_kib) {
  min_ops = or_default(min_ops, CPNS_GATEWAY_MIN_OPS_DEFAULT);
  min_mem_kib = or_default(min_mem_kib, CPNS_GATEWAY_MIN_MEM_KIB_DEFAULT);
  max_ops = or_default(max_ops, CPNS_GATEWAY_MAX_OPS_DEFAULT);
  max_mem_kib = or_default(max_mem_kib, CPNS_GATEWAY_MAX_MEM_KIB_DEFAULT);
  if (kdf == NULL || min_ops > max_ops || min_mem_kib > max_mem_kib) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  /* The floors matter as much as the ceilings: a server impostor asking for
   * t = 1, 8 KiB would get a ClientProof that is cheap to attack offline (§9). */
  if (!cpnsi_kdf_in_range(kdf) || kdf->ops_limit < min_ops || kdf->ops_limit > max_ops ||
      kdf->mem_limit_kib < min_mem_kib || kdf->mem_limit_kib > max_mem_kib) {
    return CPNS_ERR_KDF_PARAMS;
  }
  return CPNS_OK;
}

int cpns_crypto_kdf_check_enrollment(const cpns_kdf_params *kdf) {
  if (kdf == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  return cpnsi_kdf_in_range(kdf) ? CPNS_OK : CPNS_ERR_KDF_PARAMS;
}
