/*
 * libcpns crypto, suite 1 argon2id-hmacsha256-xchacha20poly1305
 * (PROTOCOL.md §5, §6). Flat functions named cpns_crypto_*, on fixed-size
 * caller buffers, in the style of libsodium (outputs first). Call cpns_init() first. Callers keep
 * secrets in sodium_malloc() memory and wipe them with sodium_memzero().
 */
#ifndef CPNS_CRYPTO_H
#define CPNS_CRYPTO_H

#include <cpns/codec.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CPNS_SALTED_PASSWORD_LEN 32
#define CPNS_CLIENT_KEY_LEN 32
#define CPNS_SERVER_KEY_LEN 32
#define CPNS_STORED_KEY_LEN 32
#define CPNS_WRAP_KEY_LEN 32
#define CPNS_EUKEY_LEN 32
#define CPNS_SERVER_SECRET_LEN 32 /**< Server secret for fake salts. */
#define CPNS_MASTER_KEY_LEN 32    /**< Server key sealing EUKeys at rest. */
/** A sealed EUKey at rest: aead nonce (24) || ciphertext (32) || tag (16). */
#define CPNS_SEALED_EUKEY_LEN (24 + 32 + 16)

#define CPNS_KDF_OPS_DEFAULT 3                   /**< Enrollment default opsLimit. */
#define CPNS_KDF_MEM_KIB_DEFAULT 65536           /**< Enrollment default memLimitKiB. */
#define CPNS_GATEWAY_MAX_OPS_DEFAULT 10          /**< Gateway bound on opsLimit (§7). */
#define CPNS_GATEWAY_MAX_MEM_KIB_DEFAULT 1048576 /**< Gateway bound on memLimitKiB (§7). */
/* Suite 1 floors (§7, §9): below them a server impostor gets a cheap offline attack. */
#define CPNS_GATEWAY_MIN_OPS_DEFAULT 3         /**< Gateway floor on opsLimit (§7). */
#define CPNS_GATEWAY_MIN_MEM_KIB_DEFAULT 65536 /**< Gateway floor on memLimitKiB (§7). */

/** Fills buf with len octets from the system CSPRNG (randombytes_buf). */
CPNS_EXTERN void cpns_crypto_random(uint8_t *buf, size_t len);

/**
 * SaltedPassword = Argon2id v1.3(password, salt, t = opsLimit,
 * m = memLimitKiB KiB, p = 1, 32 octets). Allocates memLimitKiB KiB.
 * Returns 0, CPNS_ERR_INVALID_ARGUMENT, CPNS_ERR_KDF_PARAMS (outside the
 * module's ranges or libsodium's minimums) or CPNS_ERR_KDF.
 */
CPNS_EXTERN int cpns_crypto_salted_password(uint8_t out[CPNS_SALTED_PASSWORD_LEN],
                                            const uint8_t *password, size_t password_len,
                                            const cpns_kdf_params *kdf);

/** ClientKey = HMAC(SaltedPassword, "CPNS Client Key"). Returns 0 or CPNS_ERR_INVALID_ARGUMENT. */
CPNS_EXTERN int cpns_crypto_client_key(uint8_t out[CPNS_CLIENT_KEY_LEN],
                                       const uint8_t salted_password[CPNS_SALTED_PASSWORD_LEN]);
/** ServerKey = HMAC(SaltedPassword, "CPNS Server Key"). Returns 0 or CPNS_ERR_INVALID_ARGUMENT. */
CPNS_EXTERN int cpns_crypto_server_key(uint8_t out[CPNS_SERVER_KEY_LEN],
                                       const uint8_t salted_password[CPNS_SALTED_PASSWORD_LEN]);
/** StoredKey = H(ClientKey). Returns 0 or CPNS_ERR_INVALID_ARGUMENT. */
CPNS_EXTERN int cpns_crypto_stored_key(uint8_t out[CPNS_STORED_KEY_LEN],
                                       const uint8_t client_key[CPNS_CLIENT_KEY_LEN]);

/**
 * ClientProof = ClientKey XOR HMAC(StoredKey, AuthMessage).
 * Returns 0 or CPNS_ERR_INVALID_ARGUMENT.
 */
CPNS_EXTERN int cpns_crypto_client_proof(uint8_t proof[CPNS_PROOF_LEN],
                                         const uint8_t client_key[CPNS_CLIENT_KEY_LEN],
                                         const uint8_t stored_key[CPNS_STORED_KEY_LEN],
                                         const uint8_t *auth_message, size_t auth_message_len);

/**
 * Server side: ClientKey' = proof XOR HMAC(StoredKey, AuthMessage); accepts
 * iff H(ClientKey') == StoredKey, compared in constant time. On success
 * writes ClientKey' to client_key_out (needed for WrapKey); on failure
 * client_key_out is zeroed.
 * Returns 0, CPNS_ERR_INVALID_ARGUMENT or CPNS_ERR_PROOF.
 */
CPNS_EXTERN CPNS_WARN_UNUSED int
cpns_crypto_client_proof_verify(uint8_t client_key_out[CPNS_CLIENT_KEY_LEN],
                                const uint8_t proof[CPNS_PROOF_LEN],
                                const uint8_t stored_key[CPNS_STORED_KEY_LEN],
                                const uint8_t *auth_message, size_t auth_message_len);

/** ServerSignature = HMAC(ServerKey, AuthMessage). Returns 0 or CPNS_ERR_INVALID_ARGUMENT. */
CPNS_EXTERN int cpns_crypto_server_signature(uint8_t sig[CPNS_SIGNATURE_LEN],
                                             const uint8_t server_key[CPNS_SERVER_KEY_LEN],
                                             const uint8_t *auth_message, size_t auth_message_len);

/**
 * Gateway side: checks sig against HMAC(ServerKey, AuthMessage) in constant
 * time. Returns 0, CPNS_ERR_INVALID_ARGUMENT or CPNS_ERR_SIGNATURE.
 */
CPNS_EXTERN CPNS_WARN_UNUSED int
cpns_crypto_server_signature_verify(const uint8_t sig[CPNS_SIGNATURE_LEN],
                                    const uint8_t server_key[CPNS_SERVER_KEY_LEN],
                                    const uint8_t *auth_message, size_t auth_message_len);

/** WrapKey = HMAC(ClientKey, "CPNS EUKey Wrap" || H(AuthMessage)). Returns 0 or
 * CPNS_ERR_INVALID_ARGUMENT. */
CPNS_EXTERN int cpns_crypto_wrap_key(uint8_t out[CPNS_WRAP_KEY_LEN],
                                     const uint8_t client_key[CPNS_CLIENT_KEY_LEN],
                                     const uint8_t *auth_message, size_t auth_message_len);

/**
 * wrappedEUKey = XChaCha20-Poly1305-IETF(WrapKey, aeadNonce,
 * ad = AuthMessage || keyId, EUKey). Returns 0 or CPNS_ERR_INVALID_ARGUMENT.
 */
CPNS_EXTERN int cpns_crypto_eukey_wrap(uint8_t wrapped[CPNS_WRAPPED_EUKEY_LEN],
                                       const uint8_t eukey[CPNS_EUKEY_LEN],
                                       const uint8_t wrap_key[CPNS_WRAP_KEY_LEN],
                                       const uint8_t aead_nonce[CPNS_AEAD_NONCE_LEN],
                                       const uint8_t *auth_message, size_t auth_message_len,
                                       const uint8_t key_id[CPNS_KEY_ID_LEN]);

/**
 * Inverse of cpns_crypto_eukey_wrap(). On failure eukey is zeroed.
 * Returns 0, CPNS_ERR_INVALID_ARGUMENT or CPNS_ERR_DECRYPT.
 */
CPNS_EXTERN CPNS_WARN_UNUSED int cpns_crypto_eukey_unwrap(
    uint8_t eukey[CPNS_EUKEY_LEN], const uint8_t wrapped[CPNS_WRAPPED_EUKEY_LEN],
    const uint8_t wrap_key[CPNS_WRAP_KEY_LEN], const uint8_t aead_nonce[CPNS_AEAD_NONCE_LEN],
    const uint8_t *auth_message, size_t auth_message_len, const uint8_t key_id[CPNS_KEY_ID_LEN]);

/**
 * Salt of the challenge for an unknown user (§6): the first 16 octets of
 * HMAC(serverSecret, "CPNS Fake Salt" || normalized User ID).
 * Returns 0 or CPNS_ERR_INVALID_ARGUMENT.
 */
CPNS_EXTERN int cpns_crypto_fake_salt(uint8_t salt[CPNS_SALT_LEN],
                                      const uint8_t server_secret[CPNS_SERVER_SECRET_LEN],
                                      const uint8_t *user_id_norm, size_t user_id_norm_len);

/**
 * Gateway policy (§7): 0 iff kdf is within the module's ranges, libsodium's
 * minimums, min_ops <= ops <= max_ops and min_mem_kib <= mem <= max_mem_kib
 * (each bound 0 = its CPNS_GATEWAY_*_DEFAULT above).
 * Returns 0, CPNS_ERR_INVALID_ARGUMENT (kdf NULL, or a minimum above its
 * maximum) or CPNS_ERR_KDF_PARAMS.
 */
CPNS_EXTERN int cpns_crypto_kdf_check_gateway(const cpns_kdf_params *kdf, uint32_t min_ops,
                                              uint32_t min_mem_kib, uint32_t max_ops,
                                              uint32_t max_mem_kib);
/**
 * Enrollment policy: 0 iff kdf is within the module's ranges and at least
 * libsodium's Argon2id minimums. Returns 0, CPNS_ERR_INVALID_ARGUMENT or
 * CPNS_ERR_KDF_PARAMS.
 */
CPNS_EXTERN int cpns_crypto_kdf_check_enrollment(const cpns_kdf_params *kdf);

/**
 * Server credential record (§6): never holds the password. Contains
 * secrets; keep it in sodium_malloc() memory and wipe it.
 */
typedef struct cpns_credential {
  cpns_kdf_params kdf;
  uint8_t stored_key[CPNS_STORED_KEY_LEN];
  uint8_t server_key[CPNS_SERVER_KEY_LEN];
} cpns_credential;

/** Longest at-rest encoding of a credential record. */
#define CPNS_CREDENTIAL_ENCODED_MAX 160

/**
 * Creates a record from a password. kdf NULL takes a fresh random salt and
 * the defaults (opsLimit 3, memLimitKiB 65536); otherwise kdf is used as
 * given (salt included) and must pass cpns_crypto_kdf_check_enrollment().
 * Returns 0, CPNS_ERR_INVALID_ARGUMENT, CPNS_ERR_KDF_PARAMS or CPNS_ERR_KDF.
 */
CPNS_EXTERN int cpns_crypto_credential_create(cpns_credential *out, const uint8_t *password,
                                              size_t password_len, const cpns_kdf_params *kdf);

/**
 * At-rest encoding of a record: a versioned fixed layout documented in
 * doc/formats.md.
 * Returns 0, CPNS_ERR_INVALID_ARGUMENT, CPNS_ERR_BUFFER_TOO_SMALL or CPNS_ERR_ENCODE.
 */
CPNS_EXTERN int cpns_crypto_credential_encode(uint8_t *out, size_t outlen, size_t *written,
                                              const cpns_credential *rec);
/**
 * Strict inverse of cpns_crypto_credential_encode().
 * Returns 0, CPNS_ERR_INVALID_ARGUMENT or CPNS_ERR_RECORD_FORMAT.
 */
CPNS_EXTERN CPNS_WARN_UNUSED int cpns_crypto_credential_decode(cpns_credential *rec,
                                                               const uint8_t *in, size_t inlen);

/** Key sealing credential records at rest (cpns_crypto_credential_seal_key()). */
#define CPNS_CREDENTIAL_SEAL_KEY_LEN 32
/**
 * A sealed credential record (doc/formats.md): header in the clear (32:
 * magic, version, suite, KDF parameters, salt) || aead nonce (24) ||
 * ciphertext of StoredKey || ServerKey (64) || tag (16).
 */
#define CPNS_SEALED_CREDENTIAL_LEN (32 + 24 + 64 + 16)

/**
 * The key that seals credential records, derived from the server master
 * key so that the EUKey key is never used for anything else:
 * HMAC(master_key, "CPNS Credential Seal Key"). Keep it in guarded memory.
 * Returns 0 or CPNS_ERR_INVALID_ARGUMENT.
 */
CPNS_EXTERN int cpns_crypto_credential_seal_key(uint8_t out[CPNS_CREDENTIAL_SEAL_KEY_LEN],
                                                const uint8_t master_key[CPNS_MASTER_KEY_LEN]);

/**
 * Seals a credential record at rest (§6): XChaCha20-Poly1305 of StoredKey
 * and ServerKey with a fresh random nonce; ad = "CPNS Credential Record" ||
 * the clear header || len16(User ID) || normalized User ID, so a record
 * copied to another user's row, or with altered KDF parameters, does not open.
 * Returns 0, CPNS_ERR_INVALID_ARGUMENT (NULL, or a User ID of 0 or more
 * than CPNS_USER_ID_MAX octets) or CPNS_ERR_ENCODE (rec->kdf fails
 * cpns_crypto_kdf_check_enrollment()).
 */
CPNS_EXTERN int cpns_crypto_credential_seal(uint8_t sealed[CPNS_SEALED_CREDENTIAL_LEN],
                                            const cpns_credential *rec,
                                            const uint8_t seal_key[CPNS_CREDENTIAL_SEAL_KEY_LEN],
                                            const uint8_t *user_id_norm, size_t user_id_norm_len);

/**
 * Inverse of cpns_crypto_credential_seal() on hostile input of any length; rec is
 * zeroed unless it returns 0.
 * Returns 0, CPNS_ERR_INVALID_ARGUMENT (NULL, or a bad User ID length),
 * CPNS_ERR_RECORD_FORMAT (not CPNS_SEALED_CREDENTIAL_LEN octets, wrong
 * magic, version, suite or reserved octets, KDF parameters out of range) or
 * CPNS_ERR_DECRYPT (wrong key, another User ID, or altered octets).
 */
CPNS_EXTERN CPNS_WARN_UNUSED int
cpns_crypto_credential_unseal(cpns_credential *rec, const uint8_t *sealed, size_t sealed_len,
                              const uint8_t seal_key[CPNS_CREDENTIAL_SEAL_KEY_LEN],
                              const uint8_t *user_id_norm, size_t user_id_norm_len);

/**
 * Reads the KDF parameters and salt from a sealed record's clear header
 * without the key (for listings): not authenticated until
 * cpns_crypto_credential_unseal() succeeds. kdf is zeroed on failure.
 * Returns 0, CPNS_ERR_INVALID_ARGUMENT or CPNS_ERR_RECORD_FORMAT.
 */
CPNS_EXTERN CPNS_WARN_UNUSED int
cpns_crypto_credential_sealed_kdf(cpns_kdf_params *kdf, const uint8_t *sealed, size_t sealed_len);

/**
 * Seals an EUKey at rest under the server master key (§6):
 * XChaCha20-Poly1305 with a fresh random nonce; ad binds the normalized
 * Entity ID, normalized User ID and keyId (each length-prefixed).
 * Returns 0 or CPNS_ERR_INVALID_ARGUMENT.
 */
CPNS_EXTERN int cpns_crypto_eukey_seal(uint8_t sealed[CPNS_SEALED_EUKEY_LEN],
                                       const uint8_t eukey[CPNS_EUKEY_LEN],
                                       const uint8_t master_key[CPNS_MASTER_KEY_LEN],
                                       const uint8_t *entity_id_norm, size_t entity_id_norm_len,
                                       const uint8_t *user_id_norm, size_t user_id_norm_len,
                                       const uint8_t key_id[CPNS_KEY_ID_LEN]);
/**
 * Inverse of cpns_crypto_eukey_seal(); eukey is zeroed on failure.
 * Returns 0, CPNS_ERR_INVALID_ARGUMENT or CPNS_ERR_DECRYPT.
 */
CPNS_EXTERN CPNS_WARN_UNUSED int
cpns_crypto_eukey_unseal(uint8_t eukey[CPNS_EUKEY_LEN], const uint8_t sealed[CPNS_SEALED_EUKEY_LEN],
                         const uint8_t master_key[CPNS_MASTER_KEY_LEN],
                         const uint8_t *entity_id_norm, size_t entity_id_norm_len,
                         const uint8_t *user_id_norm, size_t user_id_norm_len,
                         const uint8_t key_id[CPNS_KEY_ID_LEN]);

/*
 * Suite 2, opaque3dh-ristretto255-sha512-argon2id (PROTOCOL.md §5.2):
 * OPAQUE-3DH of RFC 9807 with ristretto255, SHA-512 and Argon2id as KSF.
 * Sizes are RFC 9807 §6.4.1.1 with Nh = Nx = Nm = 64 and Npk = Nsk = Nn = 32.
 */
#define CPNS_S2_OPRF_SEED_LEN 64            /**< oprf_seed (Nh). */
#define CPNS_S2_PRIVATE_KEY_LEN 32          /**< AKE private key (Nsk). */
#define CPNS_S2_PUBLIC_KEY_LEN 32           /**< AKE public key (Npk). */
#define CPNS_S2_MASKING_KEY_LEN 64          /**< masking_key (Nh). */
#define CPNS_S2_ENVELOPE_LEN 96             /**< envelope_nonce (32) || auth_tag (64). */
#define CPNS_S2_REGISTRATION_RECORD_LEN 192 /**< client_public_key || masking_key || envelope. */
#define CPNS_S2_SESSION_KEY_LEN 64          /**< session_key (Nx). */
#define CPNS_S2_KE1_LEN 96  /**< blindedMessage || client_nonce || client keyshare. */
#define CPNS_S2_KE2_LEN 320 /**< credential_response (160) || auth_response (160). */
#define CPNS_S2_KE3_LEN 64  /**< client_mac (Nm). */

/**
 * A server's suite-2 secrets (§5.2): oprf_seed, the AKE key pair and the
 * fake record's client public key and masking key (RFC 9807 §6.3.2.2),
 * made once by cpns_crypto_s2_server_keys_generate(). Keep it in
 * sodium_malloc() memory and wipe it.
 */
typedef struct cpns_s2_server_keys {
  uint8_t oprf_seed[CPNS_S2_OPRF_SEED_LEN];
  uint8_t private_key[CPNS_S2_PRIVATE_KEY_LEN]; /**< Little-endian ristretto255 scalar. */
  uint8_t public_key[CPNS_S2_PUBLIC_KEY_LEN];
  uint8_t fake_client_public_key[CPNS_S2_PUBLIC_KEY_LEN];
  uint8_t fake_masking_key[CPNS_S2_MASKING_KEY_LEN];
} cpns_s2_server_keys;

/**
 * Fills keys with fresh secrets from the CSPRNG: oprf_seed = random(64),
 * (private_key, public_key) = DeriveDiffieHellmanKeyPair(random(32)), the
 * fake client public key = ScalarMultGen(random non-zero scalar), the fake
 * masking key = random(64). Returns 0 or CPNS_ERR_INVALID_ARGUMENT.
 */
CPNS_EXTERN int cpns_crypto_s2_server_keys_generate(cpns_s2_server_keys *keys);

/**
 * The suite-2 credential record of §5.2: kdfParams (the Argon2id KSF's
 * salt and costs) and the RFC 9807 RegistrationRecord, client_public_key
 * (32) || masking_key (64) || envelope (96). Contains secrets; keep it in
 * sodium_malloc() memory and wipe it.
 */
typedef struct cpns_s2_record {
  cpns_kdf_params kdf;
  uint8_t registration_record[CPNS_S2_REGISTRATION_RECORD_LEN];
} cpns_s2_record;

/**
 * Enrollment (§5.2): runs both registration sides of RFC 9807 §5.2 for
 * this password and normalized User ID (the credential_identifier) with a
 * fresh random salt, ops_limit and mem_limit_kib as Argon2id costs, and
 * nil identities. Password copies, the blind and export_key are wiped.
 * Returns 0, CPNS_ERR_INVALID_ARGUMENT (NULL, a User ID of 0 or more than
 * CPNS_USER_ID_MAX octets), CPNS_ERR_KDF_PARAMS (costs fail
 * cpns_crypto_kdf_check_enrollment()), CPNS_ERR_KDF or CPNS_ERR_INTERNAL.
 * rec is zeroed unless it returns 0.
 */
CPNS_EXTERN int cpns_crypto_s2_register(cpns_s2_record *rec, const uint8_t *password,
                                        size_t password_len, const uint8_t *user_id_norm,
                                        size_t user_id_norm_len, uint32_t ops_limit,
                                        uint32_t mem_limit_kib, const cpns_s2_server_keys *keys);

/**
 * The fake record of §5.2 for a User ID without a suite-2 record:
 * client_public_key and masking_key from keys, an all-zero envelope, and
 * kdfParams = the fake salt of §6 (cpns_crypto_fake_salt()) with ops and
 * mem_kib. Deterministic for one User ID. Returns 0 or
 * CPNS_ERR_INVALID_ARGUMENT (NULL, bad User ID length, costs outside the
 * module's ranges). rec is zeroed on failure.
 */
CPNS_EXTERN int cpns_crypto_s2_fake_record(cpns_s2_record *rec, const uint8_t *user_id_norm,
                                           size_t user_id_norm_len, const cpns_s2_server_keys *keys,
                                           const uint8_t server_secret[CPNS_SERVER_SECRET_LEN],
                                           uint32_t ops, uint32_t mem_kib);

/**
 * A sealed suite-2 record (doc/formats.md): the same clear header as a
 * sealed suite-1 record with suite = 2 (32) || aead nonce (24) ||
 * ciphertext of the RegistrationRecord (192) || tag (16).
 */
#define CPNS_S2_SEALED_RECORD_LEN (32 + 24 + CPNS_S2_REGISTRATION_RECORD_LEN + 16)

/**
 * Seals a suite-2 record at rest exactly as cpns_crypto_credential_seal()
 * seals a suite-1 record (same key, same associated data layout with the
 * header's suite = 2), bound to the normalized User ID.
 * Returns 0, CPNS_ERR_INVALID_ARGUMENT (NULL, or a User ID of 0 or more
 * than CPNS_USER_ID_MAX octets) or CPNS_ERR_ENCODE (rec->kdf fails
 * cpns_crypto_kdf_check_enrollment()).
 */
CPNS_EXTERN int cpns_crypto_s2_record_seal(uint8_t out[CPNS_S2_SEALED_RECORD_LEN],
                                           const cpns_s2_record *rec, const uint8_t *user_id_norm,
                                           size_t user_id_norm_len,
                                           const uint8_t key[CPNS_CREDENTIAL_SEAL_KEY_LEN]);

/**
 * Inverse of cpns_crypto_s2_record_seal() on hostile input of any length;
 * rec is zeroed unless it returns 0.
 * Returns 0, CPNS_ERR_INVALID_ARGUMENT (NULL, or a bad User ID length),
 * CPNS_ERR_RECORD_FORMAT (not CPNS_S2_SEALED_RECORD_LEN octets, wrong
 * magic, version, suite or reserved octets, KDF parameters out of range) or
 * CPNS_ERR_DECRYPT (wrong key, another User ID, or altered octets).
 */
CPNS_EXTERN CPNS_WARN_UNUSED int
cpns_crypto_s2_record_unseal(cpns_s2_record *rec, const uint8_t *sealed, size_t sealed_len,
                             const uint8_t *user_id_norm, size_t user_id_norm_len,
                             const uint8_t key[CPNS_CREDENTIAL_SEAL_KEY_LEN]);

/**
 * Reads the KDF parameters and salt from a sealed suite-2 record's clear
 * header without the key (for listings); not authenticated until
 * cpns_crypto_s2_record_unseal() succeeds. kdf is zeroed on failure.
 * Returns 0, CPNS_ERR_INVALID_ARGUMENT or CPNS_ERR_RECORD_FORMAT.
 */
CPNS_EXTERN CPNS_WARN_UNUSED int
cpns_crypto_s2_record_sealed_kdf(cpns_kdf_params *kdf, const uint8_t *sealed, size_t sealed_len);

#ifdef __cplusplus
}
#endif

#endif /* CPNS_CRYPTO_H */
