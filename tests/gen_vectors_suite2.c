/*
 * Writes tests/vectors/suite2.json (stdout): full suite-2 exchanges
 * (PROTOCOL.md §4, §5.2) in the format of PROTOCOL.md §10, computed with
 * the library's OPAQUE-3DH and Argon2id from fixed inputs. Every value that
 * is random in a real exchange is a fixed input here, so the output is
 * deterministic. Regenerate with `make vectors` (tests/vectors/README.md).
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include <cpns/cpns.h>
#include <cpns/crypto.h>
#include <cpns/ident.h>

#include "crypto/opaque.h"

struct input {
  const char *description;
  int registered;
  const char *password, *enroll_password;
  const char *entity_id, *user_id, *realm;
  cpns_mode mode;
  size_t n_offered;
  int32_t offered[CPNS_MAX_OFFERED_SUITES];
};

static const struct input inputs[] = {
    {"success, mode pnGw, suite 2 only",
     1,
     "pencil",
     "pencil",
     "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6",
     "alice@example.org",
     "example.org",
     CPNS_MODE_PN_GW,
     1,
     {2}},
    {"success, mode pnePlusPnGw, suites 2 and 1 offered, realm of the User ID normalized",
     1,
     "correct horse battery staple",
     "correct horse battery staple",
     "urn:dev:mac:0024befffe804ff1",
     "Bob@Home.Example",
     "home.example",
     CPNS_MODE_PNE_PLUS_PN_GW,
     2,
     {2, 1}},
    {"success, non-ASCII password and User ID",
     1,
     "p\xc3\xa4sswort \xe2\x82\xac \xf0\x9f\x94\x91",
     "p\xc3\xa4sswort \xe2\x82\xac \xf0\x9f\x94\x91",
     "urn:dev:mac:0024befffe804ff2",
     "j\xc3\xbcrgen@ex\xc3\xa4mple.org",
     "ex\xc3\xa4mple.org",
     CPNS_MODE_PN_GW,
     2,
     {1, 2}},
    {"wrong password: the gateway cannot open the envelope, sends no ke3",
     1,
     "pencil2",
     "pencil",
     "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6",
     "alice@example.org",
     "example.org",
     CPNS_MODE_PN_GW,
     1,
     {2}},
    {"unknown user: fake record, the gateway sends no ke3",
     0,
     "pencil",
     NULL,
     "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6",
     "mallory@example.org",
     "example.org",
     CPNS_MODE_PN_GW,
     1,
     {2}},
};

#define OPS 1
#define MEM_KIB 8192

/* Fixed stand-in for a CSPRNG value: SHA-512("CPNS suite 2 vector <i> <name>") truncated. */
static void fixed_bytes(uint8_t *out, size_t len, size_t i, const char *name) {
  char label[80];
  uint8_t h[crypto_hash_sha512_BYTES];
  int n = snprintf(label, sizeof(label), "CPNS suite 2 vector %zu %s", i, name);
  crypto_hash_sha512(h, (const uint8_t *)label, (size_t)n);
  memcpy(out, h, len);
}

/* A canonical non-zero scalar: the 64 fixed octets reduced modulo the group order. */
static void fixed_scalar(uint8_t out[32], size_t i, const char *name) {
  uint8_t wide[64];
  fixed_bytes(wide, sizeof(wide), i, name);
  crypto_core_ristretto255_scalar_reduce(out, wide);
}

static int first = 1;

static void sep(void) {
  printf("%s\n", first ? "" : ",");
  first = 0;
}

static void put_hex(const char *name, const uint8_t *p, size_t len) {
  sep();
  printf("    \"%s\": \"", name);
  for (size_t i = 0; i < len; i++) {
    printf("%02x", p[i]);
  }
  printf("\"");
}

static void put_text(const char *name, const char *s) {
  sep();
  printf("    \"%s\": \"", name);
  for (; *s != '\0'; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      printf("\\%c", c);
    } else if (c < 0x20) {
      printf("\\u%04x", c);
    } else {
      putchar(c); /* UTF-8 passes through: JSON text is UTF-8 */
    }
  }
  printf("\"");
}

static void put_num(const char *name, long v) {
  sep();
  printf("    \"%s\": %ld", name, v);
}

static void put_bool(const char *name, int v) {
  sep();
  printf("    \"%s\": %s", name, v ? "true" : "false");
}

static int encode(const cpns_pdu *pdu, uint8_t *out, size_t *len) {
  return cpns_pdu_encode(pdu, out, CPNS_PDU_MAX_ENCODED, len);
}

/* Everything of one exchange; big enough to keep off the stack. */
struct exchange {
  cpns_s2_server_keys keys;
  cpns_s2_record rec;
  uint8_t cred_id[CPNS_USER_ID_MAX];
  size_t cred_id_len;
  uint8_t fake_salt_key[CPNS_SERVER_SECRET_LEN], fake_client_private_key[32];
  uint8_t blind_registration[32], envelope_nonce[32], registration_request[32];
  uint8_t registration_response[64], blind[32], enroll_export_key[64];
  uint8_t blind_login[32], gateway_nonce[32], client_keyshare_seed[32];
  uint8_t masking_nonce[32], server_nonce[32], server_keyshare_seed[32];
  uint8_t key_id[16], eukey[32], aead_nonce[24], oprf_key[32];
  uint8_t ke1[96], ke2[320], ke3[64], session_key[64], server_session_key[64], export_key[64];
  uint8_t wrap_key[32], delivery_key[32], signature[32], wrapped[48];
  uint8_t am[CPNS_PDU_MAX_ENCODED], kr1[CPNS_PDU_MAX_ENCODED], kc[CPNS_PDU_MAX_ENCODED];
  uint8_t kr2[CPNS_PDU_MAX_ENCODED], kd[CPNS_PDU_MAX_ENCODED];
  size_t am_len, kr1_len, kc_len, kr2_len, kd_len;
  cpnsi_opaque_client client;
  cpnsi_opaque_server server;
  cpnsi_opaque_trace trace;
  cpns_pdu pdu1, pdu2;
  cpns_auth_transcript t;
  int result;
};

static struct exchange x;

static int fail(size_t i, const char *what) {
  fprintf(stderr, "gen_vectors_suite2: vector %zu: %s failed\n", i, what);
  return -1;
}

/* The four PDUs and the keys of exchange i (PROTOCOL.md §4 and §5.2). */
static int run(size_t i) {
  const struct input *in = &inputs[i];
  cpns_key_request *kr;
  cpns_key_challenge *kc;
  cpns_key_delivery *kd;
  int rv;

  memset(&x, 0, sizeof(x));
  if (cpns_user_id_normalize((const uint8_t *)in->user_id, strlen(in->user_id), x.cred_id,
                             sizeof(x.cred_id), &x.cred_id_len, NULL) != 0) {
    return fail(i, "user_id_normalize");
  }
  /* Server secrets. */
  fixed_bytes(x.keys.oprf_seed, 64, i, "oprfSeed");
  fixed_scalar(x.keys.private_key, i, "serverPrivateKey");
  if (crypto_scalarmult_ristretto255_base(x.keys.public_key, x.keys.private_key) != 0) {
    return fail(i, "serverPublicKey");
  }
  fixed_bytes(x.fake_salt_key, sizeof(x.fake_salt_key), i, "fakeSaltKey");
  fixed_scalar(x.fake_client_private_key, i, "fakeClientPrivateKey");
  if (crypto_scalarmult_ristretto255_base(x.keys.fake_client_public_key,
                                          x.fake_client_private_key) != 0) {
    return fail(i, "fakeClientPublicKey");
  }
  fixed_bytes(x.keys.fake_masking_key, 64, i, "fakeMaskingKey");

  /* The record: enrollment (§5.2), or the fake record of an unknown user. */
  if (in->registered) {
    fixed_bytes(x.rec.kdf.salt, CPNS_SALT_LEN, i, "salt");
    x.rec.kdf.ops_limit = OPS;
    x.rec.kdf.mem_limit_kib = MEM_KIB;
    fixed_scalar(x.blind_registration, i, "blindRegistration");
    fixed_bytes(x.envelope_nonce, 32, i, "envelopeNonce");
    if (cpnsi_opaque_registration_request(x.blind, x.registration_request,
                                          (const uint8_t *)in->enroll_password,
                                          strlen(in->enroll_password), x.blind_registration) != 0 ||
        cpnsi_opaque_registration_response(x.registration_response, x.registration_request,
                                           x.keys.public_key, x.cred_id, x.cred_id_len,
                                           x.keys.oprf_seed) != 0 ||
        cpnsi_opaque_registration_finalize(
            x.rec.registration_record, x.enroll_export_key, (const uint8_t *)in->enroll_password,
            strlen(in->enroll_password), x.blind, x.registration_response, NULL, 0, NULL, 0,
            cpnsi_ksf_argon2id, &x.rec.kdf, x.envelope_nonce) != 0) {
      return fail(i, "registration");
    }
  } else if (cpns_crypto_s2_fake_record(&x.rec, x.cred_id, x.cred_id_len, &x.keys, x.fake_salt_key,
                                        OPS, MEM_KIB) != 0) {
    return fail(i, "fake record");
  }
  if (cpnsi_opaque_oprf_key(x.oprf_key, x.cred_id, x.cred_id_len, x.keys.oprf_seed) != 0) {
    return fail(i, "oprfKey");
  }

  /* Gateway: first KeyRequest with ke1. */
  fixed_scalar(x.blind_login, i, "blindLogin");
  fixed_bytes(x.gateway_nonce, 32, i, "gatewayNonce");
  fixed_bytes(x.client_keyshare_seed, 32, i, "clientKeyshareSeed");
  if (cpnsi_opaque_client_ke1(&x.client, x.ke1, (const uint8_t *)in->password, strlen(in->password),
                              x.gateway_nonce, x.blind_login, x.client_keyshare_seed) != 0) {
    return fail(i, "ke1");
  }
  x.pdu1.type = CPNS_PDU_KEY_REQUEST;
  kr = &x.pdu1.u.key_request;
  kr->version = CPNS_PROTOCOL_VERSION_2;
  kr->entity_id_len = strlen(in->entity_id);
  memcpy(kr->entity_id, in->entity_id, kr->entity_id_len);
  kr->user_id_len = strlen(in->user_id);
  memcpy(kr->user_id, in->user_id, kr->user_id_len);
  kr->mode = in->mode;
  memcpy(kr->gateway_nonce, x.gateway_nonce, 32);
  kr->offered_suites_len = in->n_offered;
  memcpy(kr->offered_suites, in->offered, sizeof(in->offered));
  kr->has_ke1 = 1;
  memcpy(kr->ke1.blinded_message, x.ke1, 32);
  memcpy(kr->ke1.client_public_keyshare, x.ke1 + 64, 32);
  if (cpns_key_request_validate_first(kr) != 0 || encode(&x.pdu1, x.kr1, &x.kr1_len) != 0) {
    return fail(i, "keyRequest1");
  }

  /* Server: KeyChallenge with ke2; AuthMessage from the first KeyRequest and the challenge. */
  fixed_bytes(x.masking_nonce, 32, i, "maskingNonce");
  fixed_bytes(x.server_nonce, 32, i, "serverNonce");
  fixed_bytes(x.server_keyshare_seed, 32, i, "serverKeyshareSeed");
  x.pdu2.type = CPNS_PDU_KEY_CHALLENGE;
  kc = &x.pdu2.u.key_challenge;
  kc->version = CPNS_PROTOCOL_VERSION_2;
  kc->realm_len = strlen(in->realm);
  memcpy(kc->realm, in->realm, kc->realm_len);
  memcpy(kc->server_nonce, x.server_nonce, 32);
  kc->suite = CPNS_SUITE_OPAQUE3DH_RISTRETTO255_SHA512_ARGON2ID;
  kc->kdf = x.rec.kdf;
  if (cpns_auth_transcript_from(&x.t, kr, kc) != 0 ||
      cpns_auth_transcript_encode(&x.t, x.am, sizeof(x.am), &x.am_len) != 0) {
    return fail(i, "authMessage");
  }
  if (cpnsi_opaque_server_ke2(&x.server, x.ke2, &x.keys, x.rec.registration_record, x.cred_id,
                              x.cred_id_len, x.ke1, x.server_nonce, NULL, 0, NULL, 0, x.am,
                              x.am_len, x.masking_nonce, x.server_keyshare_seed) != 0) {
    return fail(i, "ke2");
  }
  kc->has_ke2 = 1;
  memcpy(kc->ke2.evaluated_message, x.ke2, 32);
  memcpy(kc->ke2.masking_nonce, x.ke2 + 32, 32);
  memcpy(kc->ke2.masked_response, x.ke2 + 64, 128);
  memcpy(kc->ke2.server_public_keyshare, x.ke2 + 224, 32);
  memcpy(kc->ke2.server_mac, x.ke2 + 256, 64);
  if (cpns_key_challenge_validate(kc) != 0 || encode(&x.pdu2, x.kc, &x.kc_len) != 0) {
    return fail(i, "keyChallenge");
  }

  /* Gateway: GenerateKE3, or authenticationFailed without a ke3. */
  rv = cpnsi_opaque_client_ke3_trace(&x.client, x.ke3, x.session_key, x.export_key,
                                     (const uint8_t *)in->password, strlen(in->password), x.ke2,
                                     NULL, 0, NULL, 0, x.am, x.am_len, cpnsi_ksf_argon2id,
                                     &x.rec.kdf, &x.trace);
  if (rv == CPNS_ERR_SIGNATURE) {
    x.result = CPNS_RESULT_AUTHENTICATION_FAILED;
    return (in->registered && strcmp(in->password, in->enroll_password) == 0)
               ? fail(i, "ke3 of the right password")
               : 0;
  }
  if (rv != 0) {
    return fail(i, "ke3");
  }
  x.result = CPNS_RESULT_SUCCESS;
  /* Second KeyRequest: the six root fields again, ke3 instead of ke1. */
  kr->has_ke1 = 0;
  kr->has_ke3 = 1;
  memcpy(kr->ke3, x.ke3, 64);
  if (cpns_key_request_validate_second(kr, CPNS_SUITE_OPAQUE3DH_RISTRETTO255_SHA512_ARGON2ID) !=
          0 ||
      encode(&x.pdu1, x.kr2, &x.kr2_len) != 0) {
    return fail(i, "keyRequest2");
  }

  /* Server: ServerFinish, the §5.2 derivations and the KeyDelivery. */
  fixed_bytes(x.key_id, 16, i, "keyId");
  fixed_bytes(x.eukey, 32, i, "euKey");
  fixed_bytes(x.aead_nonce, 24, i, "aeadNonce");
  if (cpnsi_opaque_server_finish(&x.server, x.server_session_key, x.ke3) != 0 ||
      memcmp(x.server_session_key, x.session_key, 64) != 0 ||
      cpnsi_s2_delivery_keys(x.wrap_key, x.delivery_key, x.session_key) != 0 ||
      cpnsi_s2_server_signature(x.signature, x.delivery_key, x.am, x.am_len, x.key_id) != 0 ||
      cpns_crypto_eukey_wrap(x.wrapped, x.eukey, x.wrap_key, x.aead_nonce, x.am, x.am_len,
                             x.key_id) != 0) {
    return fail(i, "delivery");
  }
  memset(&x.pdu2, 0, sizeof(x.pdu2));
  x.pdu2.type = CPNS_PDU_KEY_DELIVERY;
  kd = &x.pdu2.u.key_delivery;
  kd->version = CPNS_PROTOCOL_VERSION_2;
  kd->result = CPNS_RESULT_SUCCESS;
  kd->entity_id_len = kr->entity_id_len;
  memcpy(kd->entity_id, kr->entity_id, kr->entity_id_len);
  kd->user_id_len = kr->user_id_len;
  memcpy(kd->user_id, kr->user_id, kr->user_id_len);
  kd->has_assignment = 1;
  memcpy(kd->assignment.key_id, x.key_id, 16);
  memcpy(kd->assignment.server_signature, x.signature, 32);
  memcpy(kd->assignment.aead_nonce, x.aead_nonce, 24);
  memcpy(kd->assignment.wrapped_eukey, x.wrapped, 48);
  if (encode(&x.pdu2, x.kd, &x.kd_len) != 0) {
    return fail(i, "keyDelivery");
  }
  return 0;
}

static void emit(size_t i) {
  const struct input *in = &inputs[i];
  int ok = x.result == CPNS_RESULT_SUCCESS;

  printf("  {");
  first = 1;
  put_text("description", in->description);
  put_bool("registered", in->registered);
  put_text("password", in->password);
  if (in->registered) {
    put_text("enrollPassword", in->enroll_password);
    put_hex("blindRegistration", x.blind_registration, 32);
    put_hex("envelopeNonce", x.envelope_nonce, 32);
  }
  put_text("entityId", in->entity_id);
  put_text("userId", in->user_id);
  put_num("mode", (long)in->mode);
  put_text("realm", in->realm);
  sep();
  printf("    \"offeredSuites\": [");
  for (size_t k = 0; k < in->n_offered; k++) {
    printf("%s%d", k ? ", " : "", (int)in->offered[k]);
  }
  printf("]");
  put_hex("credentialIdentifier", x.cred_id, x.cred_id_len);
  put_hex("salt", x.rec.kdf.salt, CPNS_SALT_LEN);
  put_num("opsLimit", (long)x.rec.kdf.ops_limit);
  put_num("memLimitKiB", (long)x.rec.kdf.mem_limit_kib);
  if (!in->registered) {
    put_hex("fakeSaltKey", x.fake_salt_key, sizeof(x.fake_salt_key));
    put_hex("fakeClientPrivateKey", x.fake_client_private_key, 32);
    put_hex("fakeMaskingKey", x.keys.fake_masking_key, 64);
  }
  put_hex("oprfSeed", x.keys.oprf_seed, 64);
  put_hex("serverPrivateKey", x.keys.private_key, 32);
  put_hex("blindLogin", x.blind_login, 32);
  put_hex("gatewayNonce", x.gateway_nonce, 32);
  put_hex("clientKeyshareSeed", x.client_keyshare_seed, 32);
  put_hex("maskingNonce", x.masking_nonce, 32);
  put_hex("serverNonce", x.server_nonce, 32);
  put_hex("serverKeyshareSeed", x.server_keyshare_seed, 32);
  fixed_bytes(x.key_id, 16, i, "keyId");
  fixed_bytes(x.eukey, 32, i, "euKey");
  fixed_bytes(x.aead_nonce, 24, i, "aeadNonce");
  put_hex("keyId", x.key_id, 16);
  put_hex("euKey", x.eukey, 32);
  put_hex("aeadNonce", x.aead_nonce, 24);
  /* Outputs */
  put_hex("serverPublicKey", x.keys.public_key, 32);
  put_hex("oprfKey", x.oprf_key, 32);
  if (in->registered) {
    put_hex("registrationRequest", x.registration_request, 32);
    put_hex("registrationResponse", x.registration_response, 64);
    put_hex("registrationRecord", x.rec.registration_record, 192);
  } else {
    put_hex("fakeClientPublicKey", x.keys.fake_client_public_key, 32);
  }
  put_hex("ke1", x.ke1, 96);
  put_hex("ke2", x.ke2, 320);
  if (ok) {
    put_hex("ke3", x.ke3, 64);
  }
  put_hex("keyRequest1", x.kr1, x.kr1_len);
  put_hex("keyChallenge", x.kc, x.kc_len);
  if (ok) {
    put_hex("keyRequest2", x.kr2, x.kr2_len);
    put_hex("keyDelivery", x.kd, x.kd_len);
  }
  put_hex("authMessage", x.am, x.am_len);
  put_hex("randomizedPassword", x.trace.randomized_password, 64);
  put_text("result", cpns_result_name(x.result));
  if (ok) {
    put_hex("exportKey", x.export_key, 64);
    put_hex("sessionKey", x.session_key, 64);
    put_hex("wrapKey", x.wrap_key, 32);
    put_hex("deliveryKey", x.delivery_key, 32);
    put_hex("serverSignature", x.signature, 32);
    put_hex("wrappedEUKey", x.wrapped, 48);
  }
  printf("\n  }");
}

int main(void) {
  size_t n = sizeof(inputs) / sizeof(inputs[0]);
  if (cpns_init() != 0) {
    fprintf(stderr, "gen_vectors_suite2: cpns_init failed\n");
    return 1;
  }
  printf("[\n");
  for (size_t i = 0; i < n; i++) {
    if (run(i) != 0) {
      return 1;
    }
    emit(i);
    printf("%s\n", i + 1 == n ? "" : ",");
  }
  printf("]\n");
  sodium_memzero(&x, sizeof(x));
  return fflush(stdout) == 0 ? 0 : 1;
}
