/*
 * Suite 2 as CPNS uses OPAQUE-3DH (PROTOCOL.md §5.2): the Argon2id KSF,
 * the server's secrets, enrollment, the fake record of an unknown user, and
 * the WrapKey / DeliveryKey / serverSignature derivations.
 */
#include <string.h>

#include <sodium.h>

#include "crypto/internal.h"
#include "crypto/opaque.h"
#include "crypto/suite2_prims.h"

#define LABEL(s) (const uint8_t *)(s), (sizeof(s) - 1)

int cpnsi_ksf_argon2id(uint8_t out[CPNSI_KSF_LEN], const uint8_t in[CPNSI_KSF_LEN],
                       const cpns_kdf_params *kdf) {
  if (out == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  sodium_memzero(out, CPNSI_KSF_LEN);
  if (in == NULL || kdf == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  if (!cpnsi_kdf_in_range(kdf)) {
    return CPNS_ERR_KDF_PARAMS;
  }
  if (crypto_pwhash(out, CPNSI_KSF_LEN, (const char *)in, CPNSI_KSF_LEN, kdf->salt, kdf->ops_limit,
                    (size_t)kdf->mem_limit_kib * 1024u, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    sodium_memzero(out, CPNSI_KSF_LEN);
    return CPNS_ERR_KDF;
  }
  return 0;
}

int cpns_crypto_s2_server_keys_generate(cpns_s2_server_keys *keys) {
  uint8_t seed[CPNSI_OPRF_SEED_LEN], fake_private_key[CPNSI_RISTRETTO_LEN];
  static const uint8_t dh_info[] = "OPAQUE-DeriveDiffieHellmanKeyPair";
  int rv;

  if (keys == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  randombytes_buf(keys->oprf_seed, sizeof(keys->oprf_seed));
  randombytes_buf(seed, sizeof(seed));
  /* (server_private_key, server_public_key) = DeriveDiffieHellmanKeyPair(random(32)) */
  rv = cpnsi_oprf_derive_key_pair(keys->private_key, keys->public_key, seed, dh_info,
                                  sizeof(dh_info) - 1);
  /* The fake record (RFC 9807 §6.3.2.2): ScalarMultGen(random non-zero scalar), random(64). */
  crypto_core_ristretto255_scalar_random(fake_private_key);
  if (rv == 0 &&
      crypto_scalarmult_ristretto255_base(keys->fake_client_public_key, fake_private_key) != 0) {
    rv = CPNS_ERR_INTERNAL;
  }
  randombytes_buf(keys->fake_masking_key, sizeof(keys->fake_masking_key));
  sodium_memzero(seed, sizeof(seed));
  sodium_memzero(fake_private_key, sizeof(fake_private_key));
  if (rv != 0) {
    sodium_memzero(keys, sizeof(*keys));
  }
  return rv;
}

static int user_id_ok(const uint8_t *user_id_norm, size_t len) {
  return user_id_norm != NULL && len > 0 && len <= CPNS_USER_ID_MAX;
}

int cpns_crypto_s2_register(cpns_s2_record *rec, const uint8_t *password, size_t password_len,
                            const uint8_t *user_id_norm, size_t user_id_norm_len,
                            uint32_t ops_limit, uint32_t mem_limit_kib,
                            const cpns_s2_server_keys *keys) {
  struct {
    uint8_t blind[CPNSI_RISTRETTO_LEN];
    uint8_t request[CPNSI_REGISTRATION_REQUEST_LEN];
    uint8_t response[CPNSI_REGISTRATION_RESPONSE_LEN];
    uint8_t export_key[CPNSI_EXPORT_KEY_LEN];
  } s;
  int rv;

  if (rec == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  sodium_memzero(rec, sizeof(*rec));
  if ((password == NULL && password_len > 0) || password_len > CPNSI_OPRF_INPUT_MAX_LEN ||
      !user_id_ok(user_id_norm, user_id_norm_len) || keys == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  randombytes_buf(rec->kdf.salt, sizeof(rec->kdf.salt));
  rec->kdf.ops_limit = ops_limit;
  rec->kdf.mem_limit_kib = mem_limit_kib;
  rv = cpns_crypto_kdf_check_enrollment(&rec->kdf);
  if (rv != 0) {
    sodium_memzero(rec, sizeof(*rec));
    return rv;
  }
  /* Both sides of RFC 9807 §5.2, nil identities (§5.2 Enrollment). */
  rv = cpnsi_opaque_registration_request(s.blind, s.request, password, password_len, NULL);
  if (rv == 0) {
    rv = cpnsi_opaque_registration_response(s.response, s.request, keys->public_key, user_id_norm,
                                            user_id_norm_len, keys->oprf_seed);
  }
  if (rv == 0) {
    rv = cpnsi_opaque_registration_finalize(rec->registration_record, s.export_key, password,
                                            password_len, s.blind, s.response, NULL, 0, NULL, 0,
                                            cpnsi_ksf_argon2id, &rec->kdf, NULL);
  }
  sodium_memzero(&s, sizeof(s));
  if (rv != 0) {
    sodium_memzero(rec, sizeof(*rec));
  }
  return rv;
}

int cpns_crypto_s2_fake_record(cpns_s2_record *rec, const uint8_t *user_id_norm,
                               size_t user_id_norm_len, const cpns_s2_server_keys *keys,
                               const uint8_t server_secret[CPNS_SERVER_SECRET_LEN], uint32_t ops,
                               uint32_t mem_kib) {
  uint8_t *r;

  if (rec == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  sodium_memzero(rec, sizeof(*rec));
  if (!user_id_ok(user_id_norm, user_id_norm_len) || keys == NULL || server_secret == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  rec->kdf.ops_limit = ops;
  rec->kdf.mem_limit_kib = mem_kib;
  if (!cpnsi_kdf_in_range(&rec->kdf) ||
      cpns_crypto_fake_salt(rec->kdf.salt, server_secret, user_id_norm, user_id_norm_len) != 0) {
    sodium_memzero(rec, sizeof(*rec));
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  /* client_public_key || masking_key || envelope of 96 zero octets (§5.2) */
  r = rec->registration_record;
  memcpy(r, keys->fake_client_public_key, CPNS_S2_PUBLIC_KEY_LEN);
  memcpy(r + CPNS_S2_PUBLIC_KEY_LEN, keys->fake_masking_key, CPNS_S2_MASKING_KEY_LEN);
  return 0;
}

int cpnsi_s2_delivery_keys(uint8_t wrap_key[CPNS_WRAP_KEY_LEN], uint8_t delivery_key[32],
                           const uint8_t session_key[CPNS_S2_SESSION_KEY_LEN]) {
  int rv;

  if (wrap_key == NULL || delivery_key == NULL || session_key == NULL) {
    if (wrap_key != NULL) {
      sodium_memzero(wrap_key, CPNS_WRAP_KEY_LEN);
    }
    if (delivery_key != NULL) {
      sodium_memzero(delivery_key, 32);
    }
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  rv = cpnsi_hkdf_sha512_expand(wrap_key, CPNS_WRAP_KEY_LEN, session_key, LABEL("CPNS EUKey Wrap"));
  if (rv == 0) {
    rv = cpnsi_hkdf_sha512_expand(delivery_key, 32, session_key, LABEL("CPNS Delivery Key"));
  }
  if (rv != 0) {
    sodium_memzero(wrap_key, CPNS_WRAP_KEY_LEN);
    sodium_memzero(delivery_key, 32);
  }
  return rv;
}

/* HMAC-SHA-512(DeliveryKey, AuthMessage || keyId), all 64 octets. */
static void signature_full(uint8_t out[64], const uint8_t delivery_key[32],
                           const uint8_t *auth_message, size_t auth_message_len,
                           const uint8_t key_id[CPNS_KEY_ID_LEN]) {
  crypto_auth_hmacsha512_state st;

  crypto_auth_hmacsha512_init(&st, delivery_key, 32);
  if (auth_message_len > 0) {
    crypto_auth_hmacsha512_update(&st, auth_message, auth_message_len);
  }
  crypto_auth_hmacsha512_update(&st, key_id, CPNS_KEY_ID_LEN);
  crypto_auth_hmacsha512_final(&st, out);
  sodium_memzero(&st, sizeof(st));
}

int cpnsi_s2_server_signature(uint8_t sig[CPNS_SIGNATURE_LEN], const uint8_t delivery_key[32],
                              const uint8_t *auth_message, size_t auth_message_len,
                              const uint8_t key_id[CPNS_KEY_ID_LEN]) {
  uint8_t full[64];

  if (sig == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  if (delivery_key == NULL || key_id == NULL || (auth_message == NULL && auth_message_len > 0)) {
    sodium_memzero(sig, CPNS_SIGNATURE_LEN);
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  signature_full(full, delivery_key, auth_message, auth_message_len, key_id);
  memcpy(sig, full, CPNS_SIGNATURE_LEN);
  sodium_memzero(full, sizeof(full));
  return 0;
}

int cpnsi_s2_server_signature_verify(const uint8_t sig[CPNS_SIGNATURE_LEN],
                                     const uint8_t delivery_key[32], const uint8_t *auth_message,
                                     size_t auth_message_len,
                                     const uint8_t key_id[CPNS_KEY_ID_LEN]) {
  uint8_t full[64];
  int ok;

  if (sig == NULL || delivery_key == NULL || key_id == NULL ||
      (auth_message == NULL && auth_message_len > 0)) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  signature_full(full, delivery_key, auth_message, auth_message_len, key_id);
  ok = sodium_memcmp(full, sig, CPNS_SIGNATURE_LEN) == 0;
  sodium_memzero(full, sizeof(full));
  return ok ? 0 : CPNS_ERR_SIGNATURE;
}
