/* KDF parameter policies: what a gateway will run, what enrollment accepts. */
#include <sodium.h>

#include "crypto/internal.h"

int cpnsi_kdf_in_range(const cpns_kdf_params *kdf) {
  /* The module's ranges (KdfParams) first, then libsodium's own floor,
   * which crypto_pwhash would otherwise reject at run time. */
  if (kdf->ops_limit < CPNS_OPS_LIMIT_MIN || kdf->ops_limit > CPNS_OPS_LIMIT_MAX ||
      kdf->mem_limit_kib < CPNS_MEM_LIMIT_KIB_MIN ||
      kdf->mem_limit_kib > CPNS_MEM_LIMIT_KIB_MAX) {
    return 0;
  }
  if (kdf->ops_limit < crypto_pwhash_argon2id_OPSLIMIT_MIN ||
      (uint64_t)kdf->mem_limit_kib * 1024u < crypto_pwhash_argon2id_MEMLIMIT_MIN) {
    return 0;
  }
  return 1;
}

int cpns_kdf_check_gateway(const cpns_kdf_params *kdf, uint32_t max_ops,
                           uint32_t max_mem_kib) {
  if (kdf == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  if (max_ops == 0) {
    max_ops = CPNS_GATEWAY_MAX_OPS_DEFAULT;
  }
  if (max_mem_kib == 0) {
    max_mem_kib = CPNS_GATEWAY_MAX_MEM_KIB_DEFAULT;
  }
  if (!cpnsi_kdf_in_range(kdf) || kdf->ops_limit > max_ops ||
      kdf->mem_limit_kib > max_mem_kib) {
    return CPNS_ERR_KDF_PARAMS;
  }
  return CPNS_OK;
}

int cpns_kdf_check_enrollment(const cpns_kdf_params *kdf) {
  if (kdf == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  return cpnsi_kdf_in_range(kdf) ? CPNS_OK : CPNS_ERR_KDF_PARAMS;
}
