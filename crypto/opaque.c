/*
 * OPAQUE-3DH (RFC 9807, "RFC" below) with ristretto255 and SHA-512 for
 * suite 2 (PROTOCOL.md §5.2): registration (§5.2), envelope Store/Recover
 * (§4.1), credential masking (§6.3.2), the 3DH key schedule (§6.4) and the
 * four AKE functions (§6.2). Secret temporaries live in one struct per
 * function, wiped on every return.
 */
#include <string.h>

#include <sodium.h>

#include "crypto/internal.h"
#include "crypto/opaque.h"
#include "crypto/suite2_prims.h"

#define NH 64                       /* Nh = Nx = Nm */
#define NPK 32                      /* Npk = Nsk = Noe */
#define NN CPNSI_OPAQUE_NONCE_LEN   /* Nn */
#define NSEED CPNSI_OPAQUE_SEED_LEN /* Nseed = Nok */
#define MASKED_LEN (NPK + NN + NH)  /* server_public_key || envelope */
#define CRED_RESPONSE_LEN (NPK + NN + MASKED_LEN)

/* KE1 = blinded_message || client_nonce || client_public_keyshare */
#define KE1_OFF_NONCE NPK
#define KE1_OFF_KEYSHARE (NPK + NN)
/* KE2 = credential_response || server_nonce || server_public_keyshare || server_mac */
#define KE2_OFF_MASKING_NONCE NPK
#define KE2_OFF_MASKED (NPK + NN)
#define KE2_OFF_SERVER_NONCE CRED_RESPONSE_LEN
#define KE2_OFF_KEYSHARE (CRED_RESPONSE_LEN + NN)
#define KE2_OFF_MAC (CRED_RESPONSE_LEN + NN + NPK)
/* RegistrationRecord = client_public_key || masking_key || envelope */
#define REC_OFF_MASKING_KEY NPK
#define REC_OFF_ENVELOPE (NPK + NH)

_Static_assert(KE2_OFF_MAC + NH == CPNS_S2_KE2_LEN, "KE2 layout");
_Static_assert(KE1_OFF_KEYSHARE + NPK == CPNS_S2_KE1_LEN, "KE1 layout");
_Static_assert(REC_OFF_ENVELOPE + NN + NH == CPNS_S2_REGISTRATION_RECORD_LEN, "record layout");
_Static_assert(CPNS_S2_ENVELOPE_LEN == NN + NH, "envelope layout");

#define LABEL(s) (const uint8_t *)(s), (sizeof(s) - 1)

static const uint8_t dh_key_pair_info[] = "OPAQUE-DeriveDiffieHellmanKeyPair";
static const uint8_t oprf_key_pair_info[] = "OPAQUE-DeriveKeyPair";

/* RFC 9497 DeserializeElement: canonical ristretto255 encoding, not the identity. */
static int element_ok(const uint8_t e[NPK]) { return cpnsi_ristretto255_element_ok(e); }

/* DiffieHellman(k, B) of RFC §6.4.1.1; B invalid or a result equal to the
 * identity is a failure. crypto_scalarmult_ristretto255 decodes B as
 * is_valid_point does and refuses an identity result; it ignores bit 255,
 * which is checked here, so B is checked fully without a second decode. */
static int diffie_hellman(uint8_t out[NPK], const uint8_t k[NPK], const uint8_t b[NPK]) {
  if ((b[NPK - 1] & 0x80) != 0 || crypto_scalarmult_ristretto255(out, k, b) != 0) {
    sodium_memzero(out, NPK);
    return -1;
  }
  return 0;
}

/* DeriveDiffieHellmanKeyPair(seed) (RFC §6.4.1.1). */
static int derive_dh_key_pair(uint8_t sk[NPK], uint8_t pk[NPK], const uint8_t seed[NSEED]) {
  return cpnsi_oprf_derive_key_pair(sk, pk, seed, dh_key_pair_info, sizeof(dh_key_pair_info) - 1);
}

/* Expand(prk, a || b, outlen) with HKDF-SHA-512; a || b at most 255 + 64 octets here. */
static int expand2(uint8_t *out, size_t outlen, const uint8_t prk[NH], const uint8_t *a,
                   size_t alen, const uint8_t *b, size_t blen) {
  uint8_t info[NN + 32];
  int rv;

  /* Every fixed-size call site: nonce (<= 32) || label (< 32). */
  if (alen > NN || blen > sizeof(info) - NN) {
    return CPNS_ERR_INTERNAL;
  }
  if (alen > 0) {
    memcpy(info, a, alen);
  }
  memcpy(info + alen, b, blen);
  rv = cpnsi_hkdf_sha512_expand(out, outlen, prk, info, alen + blen);
  sodium_memzero(info, sizeof(info));
  return rv;
}

/* Expand-Label(secret, label, context, Nx) of RFC §6.4.2 with "OPAQUE-" labels. */
static int expand_label(uint8_t out[NH], const uint8_t secret[NH], const char *label,
                        const uint8_t *context, size_t context_len) {
  uint8_t info[2 + 1 + 32 + 1 + NH];
  size_t label_len = strlen(label), n = 0;

  if (7 + label_len > 32 || context_len > NH) {
    return CPNS_ERR_INTERNAL;
  }
  cpnsi_put_be16(info, NH);
  n = 2;
  info[n++] = (uint8_t)(7 + label_len);
  memcpy(info + n, "OPAQUE-", 7);
  n += 7;
  memcpy(info + n, label, label_len);
  n += label_len;
  info[n++] = (uint8_t)context_len;
  if (context_len > 0) {
    memcpy(info + n, context, context_len);
    n += context_len;
  }
  return cpnsi_hkdf_sha512_expand(out, NH, secret, info, n);
}

/* MAC(key, msg) = HMAC-SHA-512 with a 64-octet key. */
static void mac(uint8_t out[NH], const uint8_t key[NH], const uint8_t *msg, size_t len) {
  crypto_auth_hmacsha512_state st;

  crypto_auth_hmacsha512_init(&st, key, NH);
  crypto_auth_hmacsha512_update(&st, msg, len);
  crypto_auth_hmacsha512_final(&st, out);
  sodium_memzero(&st, sizeof(st));
}

static void hash_with_len16(crypto_hash_sha512_state *st, const uint8_t *p, size_t len) {
  uint8_t be[2];

  cpnsi_put_be16(be, (uint16_t)len);
  crypto_hash_sha512_update(st, be, sizeof(be));
  if (len > 0) {
    crypto_hash_sha512_update(st, p, len);
  }
}

/* An identity or context: NULL/0, or at most 65535 octets. */
static int field_ok(const uint8_t *p, size_t len) {
  return (p != NULL || len == 0) && len <= CPNSI_OPAQUE_FIELD_MAX;
}

int cpnsi_opaque_oprf_key(uint8_t oprf_key[32], const uint8_t *credential_identifier,
                          size_t credential_identifier_len,
                          const uint8_t oprf_seed[CPNS_S2_OPRF_SEED_LEN]) {
  crypto_auth_hmacsha512_state st;
  struct {
    uint8_t seed[NSEED], t[NH];
  } s;
  uint8_t counter = 1;
  int rv;

  if (oprf_key == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  sodium_memzero(oprf_key, 32);
  if (oprf_seed == NULL || credential_identifier == NULL || credential_identifier_len == 0 ||
      credential_identifier_len > CPNSI_OPAQUE_FIELD_MAX) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  /* seed = Expand(oprf_seed, credential_identifier || "OprfKey", Nok): one
   * HKDF-Expand block (Nok <= Nh), written out so the identifier is not copied. */
  crypto_auth_hmacsha512_init(&st, oprf_seed, CPNS_S2_OPRF_SEED_LEN);
  crypto_auth_hmacsha512_update(&st, credential_identifier, credential_identifier_len);
  crypto_auth_hmacsha512_update(&st, LABEL("OprfKey"));
  crypto_auth_hmacsha512_update(&st, &counter, 1);
  crypto_auth_hmacsha512_final(&st, s.t);
  memcpy(s.seed, s.t, NSEED);
  /* (oprf_key, _) = DeriveKeyPair(seed, "OPAQUE-DeriveKeyPair"): the public key is unused. */
  rv = cpnsi_oprf_derive_key_pair(oprf_key, NULL, s.seed, oprf_key_pair_info,
                                  sizeof(oprf_key_pair_info) - 1);
  sodium_memzero(&st, sizeof(st));
  sodium_memzero(&s, sizeof(s));
  return rv;
}

/* randomized_password = Extract("", oprf_output || Stretch(oprf_output)) (RFC §5.2.3, §6.3.2.3). */
static int randomized_password(uint8_t rwd[NH], const uint8_t *password, size_t password_len,
                               const uint8_t blind[32], const uint8_t evaluated[NPK],
                               cpnsi_ksf_fn ksf, const cpns_kdf_params *kdf, int *invalid_element) {
  uint8_t ikm[2 * NH];
  int rv;

  *invalid_element = 0;
  rv = cpnsi_oprf_finalize(ikm, password, password_len, blind, evaluated);
  if (rv != 0) {
    *invalid_element = 1;
    return rv;
  }
  rv = ksf(ikm + NH, ikm, kdf);
  if (rv == 0) {
    rv = cpnsi_hkdf_sha512_extract(rwd, NULL, 0, ikm, sizeof(ikm));
  }
  sodium_memzero(ikm, sizeof(ikm));
  return rv;
}

/* The keys of an envelope (RFC §4.1.2/§4.1.3) and its auth_tag over
 * envelope_nonce || CleartextCredentials (nil identities = public keys). */
typedef struct envelope_keys {
  uint8_t auth_key[NH];
  uint8_t export_key[NH];
  uint8_t client_private_key[NPK];
  uint8_t client_public_key[NPK];
  uint8_t auth_tag[NH];
} envelope_keys;

static int envelope_derive(envelope_keys *k, const uint8_t rwd[NH], const uint8_t nonce[NN],
                           const uint8_t server_public_key[NPK], const uint8_t *client_identity,
                           size_t client_identity_len, const uint8_t *server_identity,
                           size_t server_identity_len) {
  crypto_auth_hmacsha512_state st;
  uint8_t seed[NSEED];
  int rv;

  rv = expand2(k->auth_key, NH, rwd, nonce, NN, LABEL("AuthKey"));
  if (rv == 0) {
    rv = expand2(k->export_key, NH, rwd, nonce, NN, LABEL("ExportKey"));
  }
  if (rv == 0) {
    rv = expand2(seed, NSEED, rwd, nonce, NN, LABEL("PrivateKey"));
  }
  if (rv == 0) {
    rv = derive_dh_key_pair(k->client_private_key, k->client_public_key, seed);
  }
  sodium_memzero(seed, sizeof(seed));
  if (rv != 0) {
    return rv;
  }
  if (server_identity_len == 0) {
    server_identity = server_public_key;
    server_identity_len = NPK;
  }
  if (client_identity_len == 0) {
    client_identity = k->client_public_key;
    client_identity_len = NPK;
  }
  crypto_auth_hmacsha512_init(&st, k->auth_key, NH);
  crypto_auth_hmacsha512_update(&st, nonce, NN);
  crypto_auth_hmacsha512_update(&st, server_public_key, NPK);
  {
    uint8_t be[2];
    cpnsi_put_be16(be, (uint16_t)server_identity_len);
    crypto_auth_hmacsha512_update(&st, be, 2);
    crypto_auth_hmacsha512_update(&st, server_identity, server_identity_len);
    cpnsi_put_be16(be, (uint16_t)client_identity_len);
    crypto_auth_hmacsha512_update(&st, be, 2);
    crypto_auth_hmacsha512_update(&st, client_identity, client_identity_len);
  }
  crypto_auth_hmacsha512_final(&st, k->auth_tag);
  sodium_memzero(&st, sizeof(st));
  return 0;
}

/* credential_response_pad = Expand(masking_key, masking_nonce || "CredentialResponsePad", 128) */
static int response_pad(uint8_t pad[MASKED_LEN], const uint8_t masking_key[NH],
                        const uint8_t masking_nonce[NN]) {
  return expand2(pad, MASKED_LEN, masking_key, masking_nonce, NN, LABEL("CredentialResponsePad"));
}

/* ---- Registration ---- */

int cpnsi_opaque_registration_request(uint8_t blind[32],
                                      uint8_t request[CPNSI_REGISTRATION_REQUEST_LEN],
                                      const uint8_t *password, size_t password_len,
                                      const uint8_t *fixed_blind) {
  return cpnsi_oprf_blind(blind, request, password, password_len, fixed_blind);
}

int cpnsi_opaque_registration_response(uint8_t response[CPNSI_REGISTRATION_RESPONSE_LEN],
                                       const uint8_t request[CPNSI_REGISTRATION_REQUEST_LEN],
                                       const uint8_t server_public_key[CPNS_S2_PUBLIC_KEY_LEN],
                                       const uint8_t *credential_identifier,
                                       size_t credential_identifier_len,
                                       const uint8_t oprf_seed[CPNS_S2_OPRF_SEED_LEN]) {
  uint8_t oprf_key[32];
  int rv;

  if (response == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  sodium_memzero(response, CPNSI_REGISTRATION_RESPONSE_LEN);
  if (request == NULL || server_public_key == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  rv = cpnsi_opaque_oprf_key(oprf_key, credential_identifier, credential_identifier_len, oprf_seed);
  if (rv == 0) {
    rv = cpnsi_oprf_blind_evaluate(response, oprf_key, request);
  }
  if (rv == 0) {
    memcpy(response + NPK, server_public_key, NPK);
  }
  sodium_memzero(oprf_key, sizeof(oprf_key));
  return rv;
}

int cpnsi_opaque_registration_finalize_trace(
    uint8_t record[CPNS_S2_REGISTRATION_RECORD_LEN], uint8_t *export_key, const uint8_t *password,
    size_t password_len, const uint8_t blind[32],
    const uint8_t response[CPNSI_REGISTRATION_RESPONSE_LEN], const uint8_t *client_identity,
    size_t client_identity_len, const uint8_t *server_identity, size_t server_identity_len,
    cpnsi_ksf_fn ksf, const cpns_kdf_params *kdf, const uint8_t *fixed_envelope_nonce,
    cpnsi_opaque_trace *trace) {
  struct {
    uint8_t rwd[NH];
    envelope_keys k;
  } s;
  uint8_t nonce[NN];
  int rv, invalid;

  if (record == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  sodium_memzero(record, CPNS_S2_REGISTRATION_RECORD_LEN);
  if (export_key != NULL) {
    sodium_memzero(export_key, CPNSI_EXPORT_KEY_LEN);
  }
  if (blind == NULL || response == NULL || ksf == NULL || (password == NULL && password_len > 0) ||
      !field_ok(client_identity, client_identity_len) ||
      !field_ok(server_identity, server_identity_len) || !element_ok(response + NPK)) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  if (fixed_envelope_nonce != NULL) {
    memcpy(nonce, fixed_envelope_nonce, NN);
  } else {
    randombytes_buf(nonce, NN);
  }
  rv = randomized_password(s.rwd, password, password_len, blind, response, ksf, kdf, &invalid);
  if (rv == 0) {
    /* masking_key = Expand(randomized_password, "MaskingKey", Nh) */
    rv = cpnsi_hkdf_sha512_expand(record + REC_OFF_MASKING_KEY, NH, s.rwd, LABEL("MaskingKey"));
  }
  if (rv == 0) {
    rv = envelope_derive(&s.k, s.rwd, nonce, response + NPK, client_identity, client_identity_len,
                         server_identity, server_identity_len);
  }
  if (rv == 0) {
    memcpy(record, s.k.client_public_key, NPK);
    memcpy(record + REC_OFF_ENVELOPE, nonce, NN);
    memcpy(record + REC_OFF_ENVELOPE + NN, s.k.auth_tag, NH);
    if (export_key != NULL) {
      memcpy(export_key, s.k.export_key, NH);
    }
    if (trace != NULL) {
      memcpy(trace->randomized_password, s.rwd, NH);
      memcpy(trace->auth_key, s.k.auth_key, NH);
    }
  } else {
    sodium_memzero(record, CPNS_S2_REGISTRATION_RECORD_LEN);
  }
  sodium_memzero(&s, sizeof(s));
  return rv;
}

int cpnsi_opaque_registration_finalize(uint8_t record[CPNS_S2_REGISTRATION_RECORD_LEN],
                                       uint8_t *export_key, const uint8_t *password,
                                       size_t password_len, const uint8_t blind[32],
                                       const uint8_t response[CPNSI_REGISTRATION_RESPONSE_LEN],
                                       const uint8_t *client_identity, size_t client_identity_len,
                                       const uint8_t *server_identity, size_t server_identity_len,
                                       cpnsi_ksf_fn ksf, const cpns_kdf_params *kdf,
                                       const uint8_t *fixed_envelope_nonce) {
  return cpnsi_opaque_registration_finalize_trace(record, export_key, password, password_len, blind,
                                                  response, client_identity, client_identity_len,
                                                  server_identity, server_identity_len, ksf, kdf,
                                                  fixed_envelope_nonce, NULL);
}

/* ---- 3DH key schedule (RFC §6.4.2) ---- */

typedef struct ake_keys {
  uint8_t ikm[3 * NPK];
  uint8_t prk[NH];
  uint8_t handshake_secret[NH];
  uint8_t km2[NH];
  uint8_t km3[NH];
  uint8_t session_key[NH];
  uint8_t preamble_hash[NH];
  uint8_t server_mac[NH];
  uint8_t client_mac[NH];
} ake_keys;

/* Hashes Preamble (RFC §6.4.2) into st: "OPAQUEv1-" || len16 context ||
 * context || len16 client_identity || client_identity || ke1 || len16
 * server_identity || server_identity || credential_response ||
 * server_nonce || server_public_keyshare. */
static void preamble_hash_state(crypto_hash_sha512_state *st, const uint8_t *context,
                                size_t context_len, const uint8_t *client_identity,
                                size_t client_identity_len, const uint8_t ke1[CPNS_S2_KE1_LEN],
                                const uint8_t *server_identity, size_t server_identity_len,
                                const uint8_t ke2_auth_part[CRED_RESPONSE_LEN + NN + NPK]) {
  crypto_hash_sha512_init(st);
  crypto_hash_sha512_update(st, LABEL("OPAQUEv1-"));
  hash_with_len16(st, context, context_len);
  hash_with_len16(st, client_identity, client_identity_len);
  crypto_hash_sha512_update(st, ke1, CPNS_S2_KE1_LEN);
  hash_with_len16(st, server_identity, server_identity_len);
  crypto_hash_sha512_update(st, ke2_auth_part, CRED_RESPONSE_LEN + NN + NPK);
}

/* DeriveKeys(ikm, preamble) and both MACs: server_mac = MAC(Km2,
 * Hash(preamble)), client_mac = MAC(Km3, Hash(preamble || server_mac)). */
static int derive_keys_and_macs(ake_keys *k, crypto_hash_sha512_state *preamble) {
  crypto_hash_sha512_state with_mac;
  int rv;

  with_mac = *preamble;
  crypto_hash_sha512_final(preamble, k->preamble_hash);
  rv = cpnsi_hkdf_sha512_extract(k->prk, NULL, 0, k->ikm, sizeof(k->ikm));
  if (rv == 0) {
    rv = expand_label(k->handshake_secret, k->prk, "HandshakeSecret", k->preamble_hash, NH);
  }
  if (rv == 0) {
    rv = expand_label(k->session_key, k->prk, "SessionKey", k->preamble_hash, NH);
  }
  if (rv == 0) {
    rv = expand_label(k->km2, k->handshake_secret, "ServerMAC", NULL, 0);
  }
  if (rv == 0) {
    rv = expand_label(k->km3, k->handshake_secret, "ClientMAC", NULL, 0);
  }
  if (rv == 0) {
    uint8_t h[NH];
    mac(k->server_mac, k->km2, k->preamble_hash, NH);
    crypto_hash_sha512_update(&with_mac, k->server_mac, NH);
    crypto_hash_sha512_final(&with_mac, h);
    mac(k->client_mac, k->km3, h, NH);
  }
  sodium_memzero(&with_mac, sizeof(with_mac));
  sodium_memzero(preamble, sizeof(*preamble));
  return rv;
}

static void trace_keys(cpnsi_opaque_trace *trace, const ake_keys *k) {
  if (trace != NULL) {
    memcpy(trace->handshake_secret, k->handshake_secret, NH);
    memcpy(trace->server_mac_key, k->km2, NH);
    memcpy(trace->client_mac_key, k->km3, NH);
  }
}

/* ---- Client (gateway) ---- */

int cpnsi_opaque_client_ke1(cpnsi_opaque_client *st, uint8_t ke1[CPNS_S2_KE1_LEN],
                            const uint8_t *password, size_t password_len,
                            const uint8_t client_nonce[CPNSI_OPAQUE_NONCE_LEN],
                            const uint8_t *fixed_blind, const uint8_t *fixed_keyshare_seed) {
  uint8_t seed[NSEED];
  int rv;

  if (st == NULL || ke1 == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  sodium_memzero(st, sizeof(*st));
  sodium_memzero(ke1, CPNS_S2_KE1_LEN);
  if (client_nonce == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  rv = cpnsi_oprf_blind(st->blind, ke1, password, password_len, fixed_blind);
  if (rv == 0) {
    if (fixed_keyshare_seed != NULL) {
      memcpy(seed, fixed_keyshare_seed, NSEED);
    } else {
      randombytes_buf(seed, NSEED);
    }
    rv = derive_dh_key_pair(st->client_secret, ke1 + KE1_OFF_KEYSHARE, seed);
    sodium_memzero(seed, sizeof(seed));
  }
  if (rv != 0) {
    sodium_memzero(st, sizeof(*st));
    sodium_memzero(ke1, CPNS_S2_KE1_LEN);
    return rv;
  }
  memcpy(ke1 + KE1_OFF_NONCE, client_nonce, NN);
  memcpy(st->ke1, ke1, CPNS_S2_KE1_LEN);
  st->have_ke1 = 1;
  return 0;
}

int cpnsi_opaque_client_ke3_trace(cpnsi_opaque_client *st, uint8_t ke3[CPNS_S2_KE3_LEN],
                                  uint8_t session_key[CPNS_S2_SESSION_KEY_LEN], uint8_t *export_key,
                                  const uint8_t *password, size_t password_len,
                                  const uint8_t ke2[CPNS_S2_KE2_LEN],
                                  const uint8_t *client_identity, size_t client_identity_len,
                                  const uint8_t *server_identity, size_t server_identity_len,
                                  const uint8_t *context, size_t context_len, cpnsi_ksf_fn ksf,
                                  const cpns_kdf_params *kdf, cpnsi_opaque_trace *trace) {
  struct {
    uint8_t rwd[NH];
    uint8_t masking_key[NH];
    uint8_t pad[MASKED_LEN];
    envelope_keys env;
    ake_keys k;
    crypto_hash_sha512_state preamble;
  } s;
  const uint8_t *server_public_key, *envelope_nonce, *envelope_tag;
  int rv, invalid, tag_ok, mac_ok;
  size_t i;

  if (ke3 == NULL || session_key == NULL) {
    if (st != NULL) {
      sodium_memzero(st, sizeof(*st));
    }
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  sodium_memzero(ke3, CPNS_S2_KE3_LEN);
  sodium_memzero(session_key, CPNS_S2_SESSION_KEY_LEN);
  if (export_key != NULL) {
    sodium_memzero(export_key, CPNSI_EXPORT_KEY_LEN);
  }
  if (st == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  if (ke2 == NULL || ksf == NULL || (password == NULL && password_len > 0) ||
      password_len > CPNSI_OPRF_INPUT_MAX_LEN || !field_ok(client_identity, client_identity_len) ||
      !field_ok(server_identity, server_identity_len) || !field_ok(context, context_len)) {
    sodium_memzero(st, sizeof(*st));
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  if (st->have_ke1 != 1) {
    sodium_memzero(st, sizeof(*st));
    return CPNS_ERR_STATE;
  }
  sodium_memzero(&s, sizeof(s));

  /* RecoverCredentials (RFC §6.3.2.3): an invalid evaluatedMessage is a failed authentication. */
  rv = randomized_password(s.rwd, password, password_len, st->blind, ke2, ksf, kdf, &invalid);
  if (rv != 0) {
    rv = invalid ? CPNS_ERR_SIGNATURE : rv;
    goto out;
  }
  if (trace != NULL) {
    memcpy(trace->randomized_password, s.rwd, NH);
  }
  rv = cpnsi_hkdf_sha512_expand(s.masking_key, NH, s.rwd, LABEL("MaskingKey"));
  if (rv == 0) {
    rv = response_pad(s.pad, s.masking_key, ke2 + KE2_OFF_MASKING_NONCE);
  }
  if (rv != 0) {
    goto out;
  }
  for (i = 0; i < MASKED_LEN; i++) {
    s.pad[i] ^= ke2[KE2_OFF_MASKED + i];
  }
  server_public_key = s.pad;
  envelope_nonce = s.pad + NPK;
  envelope_tag = s.pad + NPK + NN;

  /* Recover (RFC §4.1.3). A wrong password yields a random-looking
   * server_public_key: the tag decides, the element check follows. */
  rv = envelope_derive(&s.env, s.rwd, envelope_nonce, server_public_key, client_identity,
                       client_identity_len, server_identity, server_identity_len);
  if (rv != 0) {
    goto out;
  }
  tag_ok = sodium_memcmp(s.env.auth_tag, envelope_tag, NH) == 0;
  if (!tag_ok || !element_ok(server_public_key)) {
    rv = CPNS_ERR_SIGNATURE; /* EnvelopeRecoveryError */
    goto out;
  }
  if (trace != NULL) {
    memcpy(trace->auth_key, s.env.auth_key, NH);
  }

  /* AuthClientFinalize (RFC §6.4.3) */
  if (diffie_hellman(s.k.ikm, st->client_secret, ke2 + KE2_OFF_KEYSHARE) != 0 ||
      diffie_hellman(s.k.ikm + NPK, st->client_secret, server_public_key) != 0 ||
      diffie_hellman(s.k.ikm + 2 * NPK, s.env.client_private_key, ke2 + KE2_OFF_KEYSHARE) != 0) {
    rv = CPNS_ERR_SIGNATURE;
    goto out;
  }
  if (client_identity_len == 0) {
    client_identity = s.env.client_public_key;
    client_identity_len = NPK;
  }
  if (server_identity_len == 0) {
    server_identity = server_public_key;
    server_identity_len = NPK;
  }
  preamble_hash_state(&s.preamble, context, context_len, client_identity, client_identity_len,
                      st->ke1, server_identity, server_identity_len, ke2);
  rv = derive_keys_and_macs(&s.k, &s.preamble);
  if (rv != 0) {
    goto out;
  }
  trace_keys(trace, &s.k);
  mac_ok = sodium_memcmp(s.k.server_mac, ke2 + KE2_OFF_MAC, NH) == 0;
  if (!mac_ok) {
    rv = CPNS_ERR_SIGNATURE; /* ServerAuthenticationError */
    goto out;
  }
  memcpy(ke3, s.k.client_mac, NH);
  memcpy(session_key, s.k.session_key, NH);
  if (export_key != NULL) {
    memcpy(export_key, s.env.export_key, NH);
  }
out:
  sodium_memzero(&s, sizeof(s));
  sodium_memzero(st, sizeof(*st));
  return rv;
}

int cpnsi_opaque_client_ke3(cpnsi_opaque_client *st, uint8_t ke3[CPNS_S2_KE3_LEN],
                            uint8_t session_key[CPNS_S2_SESSION_KEY_LEN], uint8_t *export_key,
                            const uint8_t *password, size_t password_len,
                            const uint8_t ke2[CPNS_S2_KE2_LEN], const uint8_t *client_identity,
                            size_t client_identity_len, const uint8_t *server_identity,
                            size_t server_identity_len, const uint8_t *context, size_t context_len,
                            cpnsi_ksf_fn ksf, const cpns_kdf_params *kdf) {
  return cpnsi_opaque_client_ke3_trace(st, ke3, session_key, export_key, password, password_len,
                                       ke2, client_identity, client_identity_len, server_identity,
                                       server_identity_len, context, context_len, ksf, kdf, NULL);
}

/* ---- Server ---- */

int cpnsi_opaque_server_ke2_trace(
    cpnsi_opaque_server *st, uint8_t ke2[CPNS_S2_KE2_LEN], const cpns_s2_server_keys *keys,
    const uint8_t record[CPNS_S2_REGISTRATION_RECORD_LEN], const uint8_t *credential_identifier,
    size_t credential_identifier_len, const uint8_t ke1[CPNS_S2_KE1_LEN],
    const uint8_t server_nonce[CPNSI_OPAQUE_NONCE_LEN], const uint8_t *client_identity,
    size_t client_identity_len, const uint8_t *server_identity, size_t server_identity_len,
    const uint8_t *context, size_t context_len, const uint8_t *fixed_masking_nonce,
    const uint8_t *fixed_keyshare_seed, cpnsi_opaque_trace *trace) {
  struct {
    uint8_t oprf_key[32];
    uint8_t pad[MASKED_LEN];
    uint8_t keyshare_seed[NSEED];
    uint8_t keyshare_secret[NPK];
    ake_keys k;
    crypto_hash_sha512_state preamble;
  } s;
  const uint8_t *client_public_key;
  int rv;
  size_t i;

  if (st == NULL || ke2 == NULL) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  sodium_memzero(st, sizeof(*st));
  sodium_memzero(ke2, CPNS_S2_KE2_LEN);
  if (keys == NULL || record == NULL || ke1 == NULL || server_nonce == NULL ||
      !field_ok(client_identity, client_identity_len) ||
      !field_ok(server_identity, server_identity_len) || !field_ok(context, context_len)) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  /* Peer elements first (RFC §10.7): blindedMessage, clientPublicKeyshare. */
  if (!element_ok(ke1) || !element_ok(ke1 + KE1_OFF_KEYSHARE)) {
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  sodium_memzero(&s, sizeof(s));
  client_public_key = record;

  /* CreateCredentialResponse (RFC §6.3.2.2), real and fake records alike. */
  rv = cpnsi_opaque_oprf_key(s.oprf_key, credential_identifier, credential_identifier_len,
                             keys->oprf_seed);
  if (rv == 0) {
    rv = cpnsi_oprf_blind_evaluate(ke2, s.oprf_key, ke1);
  }
  if (rv != 0) {
    goto out;
  }
  if (fixed_masking_nonce != NULL) {
    memcpy(ke2 + KE2_OFF_MASKING_NONCE, fixed_masking_nonce, NN);
  } else {
    randombytes_buf(ke2 + KE2_OFF_MASKING_NONCE, NN);
  }
  rv = response_pad(s.pad, record + REC_OFF_MASKING_KEY, ke2 + KE2_OFF_MASKING_NONCE);
  if (rv != 0) {
    goto out;
  }
  for (i = 0; i < NPK; i++) {
    ke2[KE2_OFF_MASKED + i] = s.pad[i] ^ keys->public_key[i];
  }
  for (i = NPK; i < MASKED_LEN; i++) {
    ke2[KE2_OFF_MASKED + i] = s.pad[i] ^ record[REC_OFF_ENVELOPE + i - NPK];
  }

  /* AuthServerRespond (RFC §6.4.4) */
  memcpy(ke2 + KE2_OFF_SERVER_NONCE, server_nonce, NN);
  if (fixed_keyshare_seed != NULL) {
    memcpy(s.keyshare_seed, fixed_keyshare_seed, NSEED);
  } else {
    randombytes_buf(s.keyshare_seed, NSEED);
  }
  rv = derive_dh_key_pair(s.keyshare_secret, ke2 + KE2_OFF_KEYSHARE, s.keyshare_seed);
  if (rv != 0) {
    goto out;
  }
  if (diffie_hellman(s.k.ikm, s.keyshare_secret, ke1 + KE1_OFF_KEYSHARE) != 0 ||
      diffie_hellman(s.k.ikm + NPK, keys->private_key, ke1 + KE1_OFF_KEYSHARE) != 0) {
    rv = CPNS_ERR_INVALID_ARGUMENT;
    goto out;
  }
  if (diffie_hellman(s.k.ikm + 2 * NPK, s.keyshare_secret, client_public_key) != 0) {
    rv = CPNS_ERR_RECORD_FORMAT; /* our own record holds no valid public key */
    goto out;
  }
  if (client_identity_len == 0) {
    client_identity = client_public_key;
    client_identity_len = NPK;
  }
  if (server_identity_len == 0) {
    server_identity = keys->public_key;
    server_identity_len = NPK;
  }
  preamble_hash_state(&s.preamble, context, context_len, client_identity, client_identity_len, ke1,
                      server_identity, server_identity_len, ke2);
  rv = derive_keys_and_macs(&s.k, &s.preamble);
  if (rv != 0) {
    goto out;
  }
  trace_keys(trace, &s.k);
  if (trace != NULL) {
    memcpy(trace->oprf_key, s.oprf_key, sizeof(s.oprf_key));
  }
  memcpy(ke2 + KE2_OFF_MAC, s.k.server_mac, NH);
  memcpy(st->expected_client_mac, s.k.client_mac, NH);
  memcpy(st->session_key, s.k.session_key, NH);
  st->have_ke2 = 1;
out:
  if (rv != 0) {
    sodium_memzero(ke2, CPNS_S2_KE2_LEN);
  }
  sodium_memzero(&s, sizeof(s));
  return rv;
}

int cpnsi_opaque_server_ke2(
    cpnsi_opaque_server *st, uint8_t ke2[CPNS_S2_KE2_LEN], const cpns_s2_server_keys *keys,
    const uint8_t record[CPNS_S2_REGISTRATION_RECORD_LEN], const uint8_t *credential_identifier,
    size_t credential_identifier_len, const uint8_t ke1[CPNS_S2_KE1_LEN],
    const uint8_t server_nonce[CPNSI_OPAQUE_NONCE_LEN], const uint8_t *client_identity,
    size_t client_identity_len, const uint8_t *server_identity, size_t server_identity_len,
    const uint8_t *context, size_t context_len, const uint8_t *fixed_masking_nonce,
    const uint8_t *fixed_keyshare_seed) {
  return cpnsi_opaque_server_ke2_trace(
      st, ke2, keys, record, credential_identifier, credential_identifier_len, ke1, server_nonce,
      client_identity, client_identity_len, server_identity, server_identity_len, context,
      context_len, fixed_masking_nonce, fixed_keyshare_seed, NULL);
}

int cpnsi_opaque_server_finish(cpnsi_opaque_server *st,
                               uint8_t session_key[CPNS_S2_SESSION_KEY_LEN],
                               const uint8_t ke3[CPNS_S2_KE3_LEN]) {
  int rv;

  if (session_key != NULL) {
    sodium_memzero(session_key, CPNS_S2_SESSION_KEY_LEN);
  }
  if (st == NULL || session_key == NULL || ke3 == NULL) {
    if (st != NULL) {
      sodium_memzero(st, sizeof(*st));
    }
    return CPNS_ERR_INVALID_ARGUMENT;
  }
  if (st->have_ke2 != 1) {
    rv = CPNS_ERR_STATE;
  } else if (sodium_memcmp(ke3, st->expected_client_mac, CPNS_S2_KE3_LEN) != 0) {
    rv = CPNS_ERR_PROOF; /* ClientAuthenticationError */
  } else {
    memcpy(session_key, st->session_key, CPNS_S2_SESSION_KEY_LEN);
    rv = 0;
  }
  sodium_memzero(st, sizeof(*st));
  return rv;
}
