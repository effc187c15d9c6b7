/*
 * Server credential records (PROTOCOL.md §6): made from a password once at
 * enrollment, stored in the fixed versioned layout of doc/formats.md.
 */
#include <string.h>

#include <sodium.h>

#include "crypto/internal.h"

/* Layout version 1, doc/formats.md "Credential record". */
static const uint8_t cred_magic[4] = {'C', 'P', 'C', 'R'};
#define CRED_VERSION 1
#define CRED_LEN 96
#define OFF_STORED CPNSI_CRED_HEADER_LEN
#define OFF_SERVER (OFF_STORED + CPNS_STORED_KEY_LEN)

_Static_assert(OFF_SERVER + CPNS_SERVER_KEY_LEN == CRED_LEN, "credential layout");
_Static_assert(CRED_LEN <= CPNS_CREDENTIAL_ENCODED_MAX, "credential fits the public bound");

int cpns_crypto_credential_create(cpns_credential *out, const uint8_t *password,
                                  size_t password_len, const cpns_kdf_params *kdf) {
  uint8_t salted[CPNS_SALTED_PASSWORD_LEN];
  uint8_t client_key[CPNS_CLIENT_KEY_LEN];
  cpns_kdf_params params;
  int rv;

  if (out == NULL || (password == NULL && password_len > 0)) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  if (kdf == NULL) {
    cpns_crypto_random(params.salt, sizeof(params.salt));
    params.ops_limit = CPNS_KDF_OPS_DEFAULT;
    params.mem_limit_kib = CPNS_KDF_MEM_KIB_DEFAULT;
  } else {
    rv = cpns_crypto_kdf_check_enrollment(kdf);
    if (rv != 0) {
      return rv;
    }
    params = *kdf;
  }
  rv = cpns_crypto_salted_password(salted, password, password_len, &params);
  if (rv == 0) {
    out->kdf = params;
    (void)cpns_crypto_client_key(client_key, salted);
    (void)cpns_crypto_stored_key(out->stored_key, client_key);
    (void)cpns_crypto_server_key(out->server_key, salted);
  }
  sodium_memzero(salted, sizeof(salted));
  sodium_memzero(client_key, sizeof(client_key));
  return rv;
}

int cpns_crypto_credential_encode(uint8_t *out, size_t outlen, size_t *written,
                                  const cpns_credential *rec) {
  if (rec == NULL || out == NULL || written == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  /* A record that would not decode again is not written. */
  if (cpns_crypto_kdf_check_enrollment(&rec->kdf) != 0) {
    return CPNS_ERR_ENCODE;
  }
  if (outlen < CRED_LEN) {
    return CPNS_ERR_BUFFER_TOO_SMALL;
  }
  cpnsi_cred_header_put(out, cred_magic, CRED_VERSION,
                        CPNS_SUITE_ARGON2ID_HMACSHA256_XCHACHA20POLY1305, &rec->kdf);
  memcpy(out + OFF_STORED, rec->stored_key, CPNS_STORED_KEY_LEN);
  memcpy(out + OFF_SERVER, rec->server_key, CPNS_SERVER_KEY_LEN);
  *written = CRED_LEN;
  return CPNS_OK;
}

int cpns_crypto_credential_decode(cpns_credential *rec, const uint8_t *in, size_t inlen) {
  cpns_credential tmp;

  if (rec == NULL || (in == NULL && inlen > 0)) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  sodium_memzero(rec, sizeof(*rec));
  if (inlen != CRED_LEN ||
      cpnsi_cred_header_get(&tmp.kdf, in, cred_magic, CRED_VERSION,
                            CPNS_SUITE_ARGON2ID_HMACSHA256_XCHACHA20POLY1305) != 0) {
    sodium_memzero(&tmp, sizeof(tmp));
    return CPNS_ERR_RECORD_FORMAT;
  }
  memcpy(tmp.stored_key, in + OFF_STORED, CPNS_STORED_KEY_LEN);
  memcpy(tmp.server_key, in + OFF_SERVER, CPNS_SERVER_KEY_LEN);
  *rec = tmp;
  sodium_memzero(&tmp, sizeof(tmp));
  return CPNS_OK;
}

void cpnsi_cred_header_put(uint8_t out[CPNSI_CRED_HEADER_LEN], const uint8_t magic[4],
                           uint8_t version, uint8_t suite, const cpns_kdf_params *kdf) {
  memcpy(out, magic, 4);
  out[4] = version;
  out[5] = suite;
  cpnsi_put_be16(out + 6, 0);
  cpnsi_put_be32(out + 8, kdf->ops_limit);
  cpnsi_put_be32(out + 12, kdf->mem_limit_kib);
  memcpy(out + 16, kdf->salt, CPNS_SALT_LEN);
}

int cpnsi_cred_header_get(cpns_kdf_params *kdf, const uint8_t in[CPNSI_CRED_HEADER_LEN],
                          const uint8_t magic[4], uint8_t version, uint8_t suite) {
  if (memcmp(in, magic, 4) != 0 || in[4] != version || in[5] != suite ||
      cpnsi_get_be16(in + 6) != 0) {
    return CPNS_ERR_RECORD_FORMAT;
  }
  kdf->ops_limit = cpnsi_get_be32(in + 8);
  kdf->mem_limit_kib = cpnsi_get_be32(in + 12);
  memcpy(kdf->salt, in + 16, CPNS_SALT_LEN);
  return cpns_crypto_kdf_check_enrollment(kdf) == 0 ? CPNS_OK : CPNS_ERR_RECORD_FORMAT;
}
