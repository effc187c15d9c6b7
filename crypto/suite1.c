/*
 * Suite 1 argon2id-hmacsha256-xchacha20poly1305: every derivation of
 * PROTOCOL.md §5. Intermediate secrets live on the stack and are wiped
 * with sodium_memzero() before return.
 */
#include <string.h>

#include <sodium.h>

#include "crypto/internal.h"

#define LABEL(s) (const uint8_t *)(s), (sizeof(s) - 1)

void cpns_crypto_random(uint8_t *buf, size_t len) {
  if (buf != NULL && len > 0) {
    randombytes_buf(buf, len);
  }
}

int cpns_crypto_salted_password(uint8_t out[CPNS_SALTED_PASSWORD_LEN], const uint8_t *password,
                                size_t password_len, const cpns_kdf_params *kdf) {
  static const char empty[1] = {0};

  if (out == NULL || kdf == NULL || (password == NULL && password_len > 0) ||
      password_len > crypto_pwhash_argon2id_PASSWD_MAX) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  if (!cpnsi_kdf_in_range(kdf)) {
    return CPNS_ERR_KDF_PARAMS;
  }
  /* libsodium's memlimit is in bytes; the protocol counts KiB. */
  if (crypto_pwhash(out, CPNS_SALTED_PASSWORD_LEN,
                    password_len > 0 ? (const char *)password : empty, password_len, kdf->salt,
                    kdf->ops_limit, (size_t)kdf->mem_limit_kib * 1024u,
                    crypto_pwhash_ALG_ARGON2ID13) != 0) {
    sodium_memzero(out, CPNS_SALTED_PASSWORD_LEN);
    return CPNS_ERR_KDF;
  }
  return CPNS_OK;
}

int cpns_crypto_client_key(uint8_t out[CPNS_CLIENT_KEY_LEN],
                           const uint8_t salted_password[CPNS_SALTED_PASSWORD_LEN]) {
  if (out == NULL || salted_password == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  cpnsi_hmac2(out, salted_password, CPNS_SALTED_PASSWORD_LEN, LABEL("CPNS Client Key"), NULL, 0);
  return CPNS_OK;
}

int cpns_crypto_server_key(uint8_t out[CPNS_SERVER_KEY_LEN],
                           const uint8_t salted_password[CPNS_SALTED_PASSWORD_LEN]) {
  if (out == NULL || salted_password == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  cpnsi_hmac2(out, salted_password, CPNS_SALTED_PASSWORD_LEN, LABEL("CPNS Server Key"), NULL, 0);
  return CPNS_OK;
}

int cpns_crypto_stored_key(uint8_t out[CPNS_STORED_KEY_LEN],
                           const uint8_t client_key[CPNS_CLIENT_KEY_LEN]) {
  if (out == NULL || client_key == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  crypto_hash_sha256(out, client_key, CPNS_CLIENT_KEY_LEN);
  return CPNS_OK;
}

int cpns_crypto_client_proof(uint8_t proof[CPNS_PROOF_LEN],
                             const uint8_t client_key[CPNS_CLIENT_KEY_LEN],
                             const uint8_t stored_key[CPNS_STORED_KEY_LEN],
                             const uint8_t *auth_message, size_t auth_message_len) {
  uint8_t client_sig[32];
  size_t i;

  if (proof == NULL || client_key == NULL || stored_key == NULL || auth_message == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  cpnsi_hmac2(client_sig, stored_key, CPNS_STORED_KEY_LEN, auth_message, auth_message_len, NULL, 0);
  for (i = 0; i < CPNS_PROOF_LEN; i++) {
    proof[i] = client_key[i] ^ client_sig[i];
  }
  sodium_memzero(client_sig, sizeof(client_sig));
  return CPNS_OK;
}

int cpns_crypto_client_proof_verify(uint8_t client_key_out[CPNS_CLIENT_KEY_LEN],
                                    const uint8_t proof[CPNS_PROOF_LEN],
                                    const uint8_t stored_key[CPNS_STORED_KEY_LEN],
                                    const uint8_t *auth_message, size_t auth_message_len) {
  uint8_t client_sig[32];
  uint8_t candidate[32];
  uint8_t candidate_stored[32];
  size_t i;
  int ok;

  if (client_key_out == NULL || proof == NULL || stored_key == NULL || auth_message == NULL) {
    if (client_key_out != NULL) {
      sodium_memzero(client_key_out, CPNS_CLIENT_KEY_LEN);
    }
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  cpnsi_hmac2(client_sig, stored_key, CPNS_STORED_KEY_LEN, auth_message, auth_message_len, NULL, 0);
  for (i = 0; i < CPNS_CLIENT_KEY_LEN; i++) {
    candidate[i] = proof[i] ^ client_sig[i];
  }
  crypto_hash_sha256(candidate_stored, candidate, sizeof(candidate));
  ok = crypto_verify_32(candidate_stored, stored_key) == 0;
  if (ok) {
    memcpy(client_key_out, candidate, CPNS_CLIENT_KEY_LEN);
  } else {
    sodium_memzero(client_key_out, CPNS_CLIENT_KEY_LEN);
  }
  sodium_memzero(client_sig, sizeof(client_sig));
  sodium_memzero(candidate, sizeof(candidate));
  sodium_memzero(candidate_stored, sizeof(candidate_stored));
  return ok ? CPNS_OK : CPNS_ERR_PROOF;
}

int cpns_crypto_server_signature(uint8_t sig[CPNS_SIGNATURE_LEN],
                                 const uint8_t server_key[CPNS_SERVER_KEY_LEN],
                                 const uint8_t *auth_message, size_t auth_message_len) {
  if (sig == NULL || server_key == NULL || auth_message == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  cpnsi_hmac2(sig, server_key, CPNS_SERVER_KEY_LEN, auth_message, auth_message_len, NULL, 0);
  return CPNS_OK;
}

int cpns_crypto_server_signature_verify(const uint8_t sig[CPNS_SIGNATURE_LEN],
                                        const uint8_t server_key[CPNS_SERVER_KEY_LEN],
                                        const uint8_t *auth_message, size_t auth_message_len) {
  uint8_t expected[CPNS_SIGNATURE_LEN];
  int ok;

  if (sig == NULL || server_key == NULL || auth_message == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  cpnsi_hmac2(expected, server_key, CPNS_SERVER_KEY_LEN, auth_message, auth_message_len, NULL, 0);
  ok = crypto_verify_32(expected, sig) == 0;
  sodium_memzero(expected, sizeof(expected));
  return ok ? CPNS_OK : CPNS_ERR_SIGNATURE;
}

int cpns_crypto_wrap_key(uint8_t out[CPNS_WRAP_KEY_LEN],
                         const uint8_t client_key[CPNS_CLIENT_KEY_LEN], const uint8_t *auth_message,
                         size_t auth_message_len) {
  uint8_t am_hash[crypto_hash_sha256_BYTES];

  if (out == NULL || client_key == NULL || auth_message == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  crypto_hash_sha256(am_hash, auth_message, auth_message_len);
  cpnsi_hmac2(out, client_key, CPNS_CLIENT_KEY_LEN, LABEL("CPNS EUKey Wrap"), am_hash,
              sizeof(am_hash));
  return CPNS_OK;
}

/* ad = AuthMessage || keyId, fed to the AEAD without a copy where possible:
 * the libsodium one-shot API wants one buffer, so the AuthMessage (bounded
 * by CPNS_PDU_MAX_ENCODED for real exchanges) is copied once. */
static int build_ad(uint8_t *ad, size_t adcap, size_t *adlen, const uint8_t *auth_message,
                    size_t auth_message_len, const uint8_t key_id[CPNS_KEY_ID_LEN]) {
  if (auth_message_len > adcap - CPNS_KEY_ID_LEN) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  memcpy(ad, auth_message, auth_message_len);
  memcpy(ad + auth_message_len, key_id, CPNS_KEY_ID_LEN);
  *adlen = auth_message_len + CPNS_KEY_ID_LEN;
  return CPNS_OK;
}

#define AD_MAX (CPNS_PDU_MAX_DEFAULT + CPNS_KEY_ID_LEN)

int cpns_crypto_eukey_wrap(uint8_t wrapped[CPNS_WRAPPED_EUKEY_LEN],
                           const uint8_t eukey[CPNS_EUKEY_LEN],
                           const uint8_t wrap_key[CPNS_WRAP_KEY_LEN],
                           const uint8_t aead_nonce[CPNS_AEAD_NONCE_LEN],
                           const uint8_t *auth_message, size_t auth_message_len,
                           const uint8_t key_id[CPNS_KEY_ID_LEN]) {
  uint8_t ad[AD_MAX];
  size_t adlen;
  int rv;

  if (wrapped == NULL || eukey == NULL || wrap_key == NULL || aead_nonce == NULL ||
      auth_message == NULL || key_id == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  rv = build_ad(ad, sizeof(ad), &adlen, auth_message, auth_message_len, key_id);
  if (rv != 0) {
    return rv;
  }
  cpnsi_eukey_encrypt(wrapped, eukey, wrap_key, aead_nonce, ad, adlen);
  return CPNS_OK;
}

int cpns_crypto_eukey_unwrap(uint8_t eukey[CPNS_EUKEY_LEN],
                             const uint8_t wrapped[CPNS_WRAPPED_EUKEY_LEN],
                             const uint8_t wrap_key[CPNS_WRAP_KEY_LEN],
                             const uint8_t aead_nonce[CPNS_AEAD_NONCE_LEN],
                             const uint8_t *auth_message, size_t auth_message_len,
                             const uint8_t key_id[CPNS_KEY_ID_LEN]) {
  uint8_t ad[AD_MAX];
  size_t adlen;
  int rv;

  if (eukey == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  sodium_memzero(eukey, CPNS_EUKEY_LEN);
  if (wrapped == NULL || wrap_key == NULL || aead_nonce == NULL || auth_message == NULL ||
      key_id == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  rv = build_ad(ad, sizeof(ad), &adlen, auth_message, auth_message_len, key_id);
  if (rv != 0) {
    return rv;
  }
  return cpnsi_eukey_decrypt(eukey, wrapped, wrap_key, aead_nonce, ad, adlen);
}

int cpns_crypto_fake_salt(uint8_t salt[CPNS_SALT_LEN],
                          const uint8_t server_secret[CPNS_SERVER_SECRET_LEN],
                          const uint8_t *user_id_norm, size_t user_id_norm_len) {
  uint8_t mac[32];

  if (salt == NULL || server_secret == NULL || (user_id_norm == NULL && user_id_norm_len > 0)) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  cpnsi_hmac2(mac, server_secret, CPNS_SERVER_SECRET_LEN, LABEL("CPNS Fake Salt"), user_id_norm,
              user_id_norm_len);
  memcpy(salt, mac, CPNS_SALT_LEN);
  sodium_memzero(mac, sizeof(mac));
  return CPNS_OK;
}
