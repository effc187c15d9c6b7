/*
 * OPAQUE-3DH of RFC 9807 ("RFC" below) in the configuration of PROTOCOL.md
 * §5.2 (suite 2): OPRF ristretto255-SHA512, HKDF-SHA-512, HMAC-SHA-512,
 * SHA-512, ristretto255. Internal (cpnsi_ prefix, hidden): the engines,
 * the tests and the vector generators use it; the public side is
 * cpns_crypto_s2_* in <cpns/crypto.h>.
 *
 * Every function returns 0 or a negative CPNS_ERR_*; on error every output
 * is zeroed. States and secret outputs live in the caller's guarded memory
 * (sodium_malloc); temporaries are wiped before return. Every element that
 * comes from the peer is checked to be a canonical ristretto255 encoding
 * other than the identity, and a Diffie-Hellman result equal to the
 * identity is a failure (RFC §10.7, PROTOCOL.md §5.2).
 *
 * Error codes of a failed authentication:
 * - gateway (cpnsi_opaque_client_ke3): CPNS_ERR_SIGNATURE for
 *   EnvelopeRecoveryError (wrong password or unknown user),
 *   ServerAuthenticationError (server_mac) or an invalid element in KE2 or
 *   in the recovered server public key; no KE3 may then be sent.
 * - server (cpnsi_opaque_server_ke2): CPNS_ERR_INVALID_ARGUMENT for an
 *   invalid blindedMessage or clientPublicKeyshare (badRequest);
 *   (cpnsi_opaque_server_finish): CPNS_ERR_PROOF for a wrong ke3.
 */
#ifndef CPNS_CRYPTO_OPAQUE_H
#define CPNS_CRYPTO_OPAQUE_H

#include <stddef.h>
#include <stdint.h>

#include <cpns/crypto.h>

/** Output and input length of the KSF (Nh). */
#define CPNSI_KSF_LEN 64
/** Nonces of the RFC (Nn): client_nonce, server_nonce, masking and envelope nonces. */
#define CPNSI_OPAQUE_NONCE_LEN 32
/** Seed of DeriveDiffieHellmanKeyPair (Nseed). */
#define CPNSI_OPAQUE_SEED_LEN 32
/** RegistrationRequest (blinded element) and RegistrationResponse (+ server public key). */
#define CPNSI_REGISTRATION_REQUEST_LEN 32
#define CPNSI_REGISTRATION_RESPONSE_LEN 64
/** export_key (Nh). */
#define CPNSI_EXPORT_KEY_LEN 64
/** Longest identity or context accepted (they travel with a two-octet length). */
#define CPNSI_OPAQUE_FIELD_MAX 0xffff

/**
 * The key stretching function: out = Stretch(in). kdf carries the costs
 * and salt (ignored by a KSF without parameters). Returns 0 or a negative
 * CPNS_ERR_* with out zeroed.
 */
typedef int (*cpnsi_ksf_fn)(uint8_t out[CPNSI_KSF_LEN], const uint8_t in[CPNSI_KSF_LEN],
                            const cpns_kdf_params *kdf);

/**
 * Stretch of §5.2: Argon2id v1.3(in, salt = kdf->salt, t = ops_limit,
 * m = mem_limit_kib KiB, p = 1, 64 octets). Returns 0,
 * CPNS_ERR_INVALID_ARGUMENT, CPNS_ERR_KDF_PARAMS (outside the module's
 * ranges or libsodium's minimums) or CPNS_ERR_KDF.
 */
int cpnsi_ksf_argon2id(uint8_t out[CPNSI_KSF_LEN], const uint8_t in[CPNSI_KSF_LEN],
                       const cpns_kdf_params *kdf);

/** Gateway state between KE1 and KE3 (RFC §6.1 ClientState). Keep it in guarded memory. */
typedef struct cpnsi_opaque_client {
  uint8_t blind[32];         /**< OPRF blind. */
  uint8_t client_secret[32]; /**< Client ephemeral AKE private key. */
  uint8_t ke1[CPNS_S2_KE1_LEN];
  int have_ke1; /**< Set by cpnsi_opaque_client_ke1(). */
} cpnsi_opaque_client;

/** Server state between KE2 and KE3 (RFC §6.1 ServerState). Keep it in guarded memory. */
typedef struct cpnsi_opaque_server {
  uint8_t expected_client_mac[CPNS_S2_KE3_LEN];
  uint8_t session_key[CPNS_S2_SESSION_KEY_LEN];
  int have_ke2; /**< Set by cpnsi_opaque_server_ke2(). */
} cpnsi_opaque_server;

/* ---- Registration (RFC §5.2), run by the enrollment tool and the tests ---- */

/**
 * RFC §5.2.1 CreateRegistrationRequest(password): blind (random non-zero
 * scalar, or a copy of fixed_blind for test vectors) and request =
 * blinded element. Returns 0 or CPNS_ERR_INVALID_ARGUMENT.
 */
int cpnsi_opaque_registration_request(uint8_t blind[32],
                                      uint8_t request[CPNSI_REGISTRATION_REQUEST_LEN],
                                      const uint8_t *password, size_t password_len,
                                      const uint8_t *fixed_blind);

/**
 * RFC §5.2.2 CreateRegistrationResponse(request, server_public_key,
 * credential_identifier, oprf_seed): response = evaluated element ||
 * server_public_key. An invalid request element gives
 * CPNS_ERR_INVALID_ARGUMENT.
 */
int cpnsi_opaque_registration_response(uint8_t response[CPNSI_REGISTRATION_RESPONSE_LEN],
                                       const uint8_t request[CPNSI_REGISTRATION_REQUEST_LEN],
                                       const uint8_t server_public_key[CPNS_S2_PUBLIC_KEY_LEN],
                                       const uint8_t *credential_identifier,
                                       size_t credential_identifier_len,
                                       const uint8_t oprf_seed[CPNS_S2_OPRF_SEED_LEN]);

/**
 * RFC §5.2.3 FinalizeRegistrationRequest(password, blind, response,
 * server_identity, client_identity) with the KSF ksf(kdf): record =
 * client_public_key || masking_key || envelope; export_key may be NULL.
 * Identities NULL/0 are nil (the public keys are used). fixed_envelope_nonce
 * NULL = random. Returns 0, CPNS_ERR_INVALID_ARGUMENT (bad argument or an
 * invalid element in response), or the KSF's error.
 */
int cpnsi_opaque_registration_finalize(uint8_t record[CPNS_S2_REGISTRATION_RECORD_LEN],
                                       uint8_t *export_key, const uint8_t *password,
                                       size_t password_len, const uint8_t blind[32],
                                       const uint8_t response[CPNSI_REGISTRATION_RESPONSE_LEN],
                                       const uint8_t *client_identity, size_t client_identity_len,
                                       const uint8_t *server_identity, size_t server_identity_len,
                                       cpnsi_ksf_fn ksf, const cpns_kdf_params *kdf,
                                       const uint8_t *fixed_envelope_nonce);

/* ---- Online exchange (RFC §6.2) ---- */

/**
 * RFC §6.2.1 GenerateKE1(password) with client_nonce given (gatewayNonce
 * of §5.2). fixed_blind and fixed_keyshare_seed (32 octets each) are for
 * test vectors; NULL = random. Fills st and ke1 = blindedMessage ||
 * client_nonce || clientPublicKeyshare. Returns 0 or
 * CPNS_ERR_INVALID_ARGUMENT.
 */
int cpnsi_opaque_client_ke1(cpnsi_opaque_client *st, uint8_t ke1[CPNS_S2_KE1_LEN],
                            const uint8_t *password, size_t password_len,
                            const uint8_t client_nonce[CPNSI_OPAQUE_NONCE_LEN],
                            const uint8_t *fixed_blind, const uint8_t *fixed_keyshare_seed);

/**
 * RFC §6.2.3 GenerateKE3(client_identity, server_identity, ke2) for the
 * state of cpnsi_opaque_client_ke1(), with ksf(kdf) as KSF and context.
 * Identities NULL/0 are nil. export_key may be NULL. The state is wiped
 * whatever the result.
 * Returns 0, CPNS_ERR_INVALID_ARGUMENT (bad argument; CPNS_ERR_STATE if st
 * holds no KE1), CPNS_ERR_SIGNATURE (EnvelopeRecoveryError,
 * ServerAuthenticationError, invalid element: send no KE3) or the KSF's
 * error.
 */
CPNS_WARN_UNUSED int cpnsi_opaque_client_ke3(
    cpnsi_opaque_client *st, uint8_t ke3[CPNS_S2_KE3_LEN],
    uint8_t session_key[CPNS_S2_SESSION_KEY_LEN], uint8_t *export_key, const uint8_t *password,
    size_t password_len, const uint8_t ke2[CPNS_S2_KE2_LEN], const uint8_t *client_identity,
    size_t client_identity_len, const uint8_t *server_identity, size_t server_identity_len,
    const uint8_t *context, size_t context_len, cpnsi_ksf_fn ksf, const cpns_kdf_params *kdf);

/**
 * RFC §6.2.2 GenerateKE2(server_identity, server_private_key,
 * server_public_key, record, credential_identifier, oprf_seed, ke1,
 * client_identity) with server_nonce given (serverNonce of §5.2), for a
 * real or a fake record alike. fixed_masking_nonce and fixed_keyshare_seed
 * (32 octets each) are for test vectors; NULL = random. Fills st and ke2.
 * Returns 0, CPNS_ERR_INVALID_ARGUMENT (bad argument, or an invalid
 * blindedMessage / clientPublicKeyshare: badRequest), CPNS_ERR_RECORD_FORMAT
 * (the record's client_public_key is not a valid element) or
 * CPNS_ERR_INTERNAL.
 */
int cpnsi_opaque_server_ke2(cpnsi_opaque_server *st, uint8_t ke2[CPNS_S2_KE2_LEN],
                            const cpns_s2_server_keys *keys,
                            const uint8_t record[CPNS_S2_REGISTRATION_RECORD_LEN],
                            const uint8_t *credential_identifier, size_t credential_identifier_len,
                            const uint8_t ke1[CPNS_S2_KE1_LEN],
                            const uint8_t server_nonce[CPNSI_OPAQUE_NONCE_LEN],
                            const uint8_t *client_identity, size_t client_identity_len,
                            const uint8_t *server_identity, size_t server_identity_len,
                            const uint8_t *context, size_t context_len,
                            const uint8_t *fixed_masking_nonce, const uint8_t *fixed_keyshare_seed);

/**
 * RFC §6.2.4 ServerFinish(ke3): compares ke3 with the expected client_mac
 * in constant time; on success session_key is written. The state is wiped
 * whatever the result. Returns 0, CPNS_ERR_INVALID_ARGUMENT, CPNS_ERR_STATE
 * (no KE2 in st) or CPNS_ERR_PROOF (wrong ke3; session_key zeroed).
 */
CPNS_WARN_UNUSED int cpnsi_opaque_server_finish(cpnsi_opaque_server *st,
                                                uint8_t session_key[CPNS_S2_SESSION_KEY_LEN],
                                                const uint8_t ke3[CPNS_S2_KE3_LEN]);

/* ---- CPNS derivations (PROTOCOL.md §5.2) ---- */

/**
 * WrapKey = HKDF-Expand-SHA512(session_key, "CPNS EUKey Wrap", 32) and
 * DeliveryKey = HKDF-Expand-SHA512(session_key, "CPNS Delivery Key", 32).
 * Returns 0 or CPNS_ERR_INVALID_ARGUMENT.
 */
int cpnsi_s2_delivery_keys(uint8_t wrap_key[CPNS_WRAP_KEY_LEN], uint8_t delivery_key[32],
                           const uint8_t session_key[CPNS_S2_SESSION_KEY_LEN]);

/**
 * serverSignature = first 32 octets of HMAC-SHA-512(DeliveryKey,
 * AuthMessage || keyId). Returns 0 or CPNS_ERR_INVALID_ARGUMENT.
 */
int cpnsi_s2_server_signature(uint8_t sig[CPNS_SIGNATURE_LEN], const uint8_t delivery_key[32],
                              const uint8_t *auth_message, size_t auth_message_len,
                              const uint8_t key_id[CPNS_KEY_ID_LEN]);

/**
 * Gateway check of serverSignature, constant time. Returns 0,
 * CPNS_ERR_INVALID_ARGUMENT or CPNS_ERR_SIGNATURE.
 */
CPNS_WARN_UNUSED int cpnsi_s2_server_signature_verify(const uint8_t sig[CPNS_SIGNATURE_LEN],
                                                      const uint8_t delivery_key[32],
                                                      const uint8_t *auth_message,
                                                      size_t auth_message_len,
                                                      const uint8_t key_id[CPNS_KEY_ID_LEN]);

/* ---- For the RFC 9807 test vectors only: the same functions, also
 * reporting the intermediate values Appendix C lists. ---- */

/** Intermediate values of RFC 9807 Appendix C (secrets: tests only). */
typedef struct cpnsi_opaque_trace {
  uint8_t oprf_key[32];
  uint8_t randomized_password[64];
  uint8_t auth_key[64];
  uint8_t handshake_secret[64];
  uint8_t server_mac_key[64];
  uint8_t client_mac_key[64];
} cpnsi_opaque_trace;

/**
 * oprf_key of RFC §5.2.2/§6.3.2.2: DeriveKeyPair(Expand(oprf_seed,
 * credential_identifier || "OprfKey", Nok), "OPAQUE-DeriveKeyPair").
 * credential_identifier is 1..65535 octets. Returns 0,
 * CPNS_ERR_INVALID_ARGUMENT or CPNS_ERR_INTERNAL.
 */
int cpnsi_opaque_oprf_key(uint8_t oprf_key[32], const uint8_t *credential_identifier,
                          size_t credential_identifier_len,
                          const uint8_t oprf_seed[CPNS_S2_OPRF_SEED_LEN]);

/** cpnsi_opaque_registration_finalize(), filling randomized_password and auth_key of trace. */
int cpnsi_opaque_registration_finalize_trace(
    uint8_t record[CPNS_S2_REGISTRATION_RECORD_LEN], uint8_t *export_key, const uint8_t *password,
    size_t password_len, const uint8_t blind[32],
    const uint8_t response[CPNSI_REGISTRATION_RESPONSE_LEN], const uint8_t *client_identity,
    size_t client_identity_len, const uint8_t *server_identity, size_t server_identity_len,
    cpnsi_ksf_fn ksf, const cpns_kdf_params *kdf, const uint8_t *fixed_envelope_nonce,
    cpnsi_opaque_trace *trace);

/**
 * cpnsi_opaque_client_ke3(), filling all of trace but oprf_key:
 * randomized_password as soon as it is known (also when the envelope then
 * fails to open), the rest once the envelope opened.
 */
CPNS_WARN_UNUSED int cpnsi_opaque_client_ke3_trace(
    cpnsi_opaque_client *st, uint8_t ke3[CPNS_S2_KE3_LEN],
    uint8_t session_key[CPNS_S2_SESSION_KEY_LEN], uint8_t *export_key, const uint8_t *password,
    size_t password_len, const uint8_t ke2[CPNS_S2_KE2_LEN], const uint8_t *client_identity,
    size_t client_identity_len, const uint8_t *server_identity, size_t server_identity_len,
    const uint8_t *context, size_t context_len, cpnsi_ksf_fn ksf, const cpns_kdf_params *kdf,
    cpnsi_opaque_trace *trace);

/** cpnsi_opaque_server_ke2(), filling oprf_key and the 3DH keys of trace. */
int cpnsi_opaque_server_ke2_trace(
    cpnsi_opaque_server *st, uint8_t ke2[CPNS_S2_KE2_LEN], const cpns_s2_server_keys *keys,
    const uint8_t record[CPNS_S2_REGISTRATION_RECORD_LEN], const uint8_t *credential_identifier,
    size_t credential_identifier_len, const uint8_t ke1[CPNS_S2_KE1_LEN],
    const uint8_t server_nonce[CPNSI_OPAQUE_NONCE_LEN], const uint8_t *client_identity,
    size_t client_identity_len, const uint8_t *server_identity, size_t server_identity_len,
    const uint8_t *context, size_t context_len, const uint8_t *fixed_masking_nonce,
    const uint8_t *fixed_keyshare_seed, cpnsi_opaque_trace *trace);

#endif /* CPNS_CRYPTO_OPAQUE_H */
