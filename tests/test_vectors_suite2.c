/*
 * Check suite for tests/vectors/suite2.json (PROTOCOL.md §10): the schema
 * (every listed field, in order, and the cases the spec requires), then
 * every output recomputed from the inputs alone: the registration and the
 * exchange through crypto/opaque.h, the parts that do not need OPAQUE
 * (public keys, fake salt, randomized_password with Argon2id, the §5.2
 * derivations, the EUKey wrap) again from libsodium primitives, and the
 * PDUs decoded, checked against the §4 presence rules and re-encoded.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <cpns/cpns.h>
#include <cpns/crypto.h>
#include <cpns/ident.h>

#include "crypto/opaque.h"
#include "crypto/suite2_prims.h"
#include "tests/vectors_json.h"

#ifndef CPNS_VECTORS_JSON
#define CPNS_VECTORS_JSON "tests/vectors/suite2.json"
#endif

#define MAX_VECS 16
static struct vec vecs[MAX_VECS];
static size_t n_vecs;

static const struct field *find(const struct vec *v, const char *name) {
  for (size_t i = 0; i < v->n; i++) {
    if (strcmp(v->f[i].name, name) == 0) {
      return &v->f[i];
    }
  }
  return NULL;
}

static const struct field *get(const struct vec *v, const char *name, enum ftype type) {
  const struct field *f = find(v, name);
  ck_assert_msg(f != NULL, "field %s missing", name);
  ck_assert_msg(f->type == type, "field %s has the wrong type", name);
  return f;
}

static size_t get_hex(const struct vec *v, const char *name, uint8_t *out, size_t cap,
                      size_t want) {
  const struct field *f = get(v, name, F_STR);
  size_t n;
  for (size_t i = 0; i < f->len; i++) {
    ck_assert_msg((f->str[i] >= '0' && f->str[i] <= '9') || (f->str[i] >= 'a' && f->str[i] <= 'f'),
                  "%s is not lowercase hex", name);
  }
  ck_assert_int_eq(sodium_hex2bin(out, cap, (const char *)f->str, f->len, NULL, &n, NULL), 0);
  ck_assert_uint_eq(n * 2, f->len);
  if (want != 0) {
    ck_assert_msg(n == want, "%s: %zu octets, want %zu", name, n, want);
  }
  return n;
}

static void expect_hex(const struct vec *v, const char *name, const uint8_t *got, size_t len) {
  static uint8_t want[CPNS_PDU_MAX_ENCODED];
  size_t n = get_hex(v, name, want, sizeof(want), 0);
  ck_assert_msg(n == len && memcmp(want, got, len) == 0, "%s differs", name);
}

static void text(const struct vec *v, const char *name, uint8_t *out, size_t cap, size_t *len) {
  const struct field *f = get(v, name, F_STR);
  ck_assert_uint_le(f->len, cap);
  memcpy(out, f->str, f->len);
  *len = f->len;
}

/* The fields of §10 in the file's order; which appear depends on the case. */
enum presence { ALWAYS, REGISTERED, UNKNOWN, SUCCESS };
static const struct {
  const char *name;
  enum presence when;
} schema[] = {
    {"description", ALWAYS},
    {"registered", ALWAYS},
    {"password", ALWAYS},
    {"enrollPassword", REGISTERED},
    {"blindRegistration", REGISTERED},
    {"envelopeNonce", REGISTERED},
    {"entityId", ALWAYS},
    {"userId", ALWAYS},
    {"mode", ALWAYS},
    {"realm", ALWAYS},
    {"offeredSuites", ALWAYS},
    {"credentialIdentifier", ALWAYS},
    {"salt", ALWAYS},
    {"opsLimit", ALWAYS},
    {"memLimitKiB", ALWAYS},
    {"fakeSaltKey", UNKNOWN},
    {"fakeClientPrivateKey", UNKNOWN},
    {"fakeMaskingKey", UNKNOWN},
    {"oprfSeed", ALWAYS},
    {"serverPrivateKey", ALWAYS},
    {"blindLogin", ALWAYS},
    {"gatewayNonce", ALWAYS},
    {"clientKeyshareSeed", ALWAYS},
    {"maskingNonce", ALWAYS},
    {"serverNonce", ALWAYS},
    {"serverKeyshareSeed", ALWAYS},
    {"keyId", ALWAYS},
    {"euKey", ALWAYS},
    {"aeadNonce", ALWAYS},
    {"serverPublicKey", ALWAYS},
    {"oprfKey", ALWAYS},
    {"registrationRequest", REGISTERED},
    {"registrationResponse", REGISTERED},
    {"registrationRecord", REGISTERED},
    {"fakeClientPublicKey", UNKNOWN},
    {"ke1", ALWAYS},
    {"ke2", ALWAYS},
    {"ke3", SUCCESS},
    {"keyRequest1", ALWAYS},
    {"keyChallenge", ALWAYS},
    {"keyRequest2", SUCCESS},
    {"keyDelivery", SUCCESS},
    {"authMessage", ALWAYS},
    {"randomizedPassword", ALWAYS},
    {"result", ALWAYS},
    {"exportKey", SUCCESS},
    {"sessionKey", SUCCESS},
    {"wrapKey", SUCCESS},
    {"deliveryKey", SUCCESS},
    {"serverSignature", SUCCESS},
    {"wrappedEUKey", SUCCESS},
};

static int is_success(const struct vec *v) {
  const struct field *r = get(v, "result", F_STR);
  if (r->len == 7 && memcmp(r->str, "success", 7) == 0) {
    return 1;
  }
  ck_assert_msg(r->len == 20 && memcmp(r->str, "authenticationFailed", 20) == 0,
                "result is neither success nor authenticationFailed");
  return 0;
}

static void setup(void) {
  const char *srcdir = getenv("srcdir");
  char path[4096];
  static char text_buf[1 << 17];
  FILE *f;
  size_t len;

  ck_assert_int_eq(cpns_init(), 0);
  if (srcdir != NULL) {
    snprintf(path, sizeof(path), "%s/tests/vectors/suite2.json", srcdir);
  } else {
    snprintf(path, sizeof(path), "%s", CPNS_VECTORS_JSON);
  }
  f = fopen(path, "rb");
  ck_assert_msg(f != NULL, "cannot open %s", path);
  len = fread(text_buf, 1, sizeof(text_buf), f);
  fclose(f);
  ck_assert_uint_lt(len, sizeof(text_buf));
  memset(vecs, 0, sizeof(vecs));
  ck_assert_msg(vectors_json_read(text_buf, len, vecs, MAX_VECS, &n_vecs), "%s does not parse",
                path);
}

static int has_non_ascii(const struct field *f) {
  for (size_t k = 0; k < f->len; k++) {
    if (f->str[k] >= 0x80) {
      return 1;
    }
  }
  return 0;
}

START_TEST(test_suite2_vectors_schema) {
  int success_modes = 0, non_ascii = 0, wrong_password = 0, unknown = 0;

  ck_assert_uint_ge(n_vecs, 5);
  for (size_t i = 0; i < n_vecs; i++) {
    const struct vec *v = &vecs[i];
    int registered = (int)get(v, "registered", F_BOOL)->num, ok = is_success(v);
    size_t k = 0;
    const struct field *pw, *enroll;

    for (size_t s = 0; s < sizeof(schema) / sizeof(schema[0]); s++) {
      int present = schema[s].when == ALWAYS || (schema[s].when == REGISTERED && registered) ||
                    (schema[s].when == UNKNOWN && !registered) || (schema[s].when == SUCCESS && ok);
      if (present) {
        ck_assert_msg(k < v->n, "vector %zu ends before %s", i, schema[s].name);
        ck_assert_str_eq(v->f[k].name, schema[s].name);
        k++;
      } else {
        ck_assert_msg(find(v, schema[s].name) == NULL, "vector %zu: %s must be absent", i,
                      schema[s].name);
      }
    }
    ck_assert_uint_eq(k, v->n);
    /* §10: opsLimit 1, memLimitKiB 8192 throughout. */
    ck_assert_int_eq(get(v, "opsLimit", F_NUM)->num, 1);
    ck_assert_int_eq(get(v, "memLimitKiB", F_NUM)->num, 8192);
    pw = get(v, "password", F_STR);
    if (ok) {
      success_modes |= 1 << get(v, "mode", F_NUM)->num;
      non_ascii |= has_non_ascii(pw) && has_non_ascii(get(v, "userId", F_STR));
    } else if (registered) {
      enroll = get(v, "enrollPassword", F_STR);
      wrong_password |= pw->len != enroll->len || memcmp(pw->str, enroll->str, pw->len) != 0;
    } else {
      unknown = 1;
    }
  }
  ck_assert_int_eq(success_modes, 3);
  ck_assert(non_ascii);
  ck_assert(wrong_password);
  ck_assert(unknown);
}
END_TEST

/* Inputs of one vector. */
struct inputs {
  int registered;
  uint8_t password[256], enroll_password[256];
  size_t password_len, enroll_password_len;
  uint8_t blind_registration[32], envelope_nonce[32];
  uint8_t entity_id[CPNS_ENTITY_ID_MAX], user_id[CPNS_USER_ID_MAX], realm[CPNS_REALM_MAX];
  size_t entity_id_len, user_id_len, realm_len;
  long mode;
  const struct field *offered;
  uint8_t cred_id[CPNS_USER_ID_MAX];
  size_t cred_id_len;
  cpns_kdf_params kdf;
  uint8_t fake_salt_key[32], fake_client_private_key[32];
  cpns_s2_server_keys keys;
  uint8_t blind_login[32], gateway_nonce[32], client_keyshare_seed[32];
  uint8_t masking_nonce[32], server_nonce[32], server_keyshare_seed[32];
  uint8_t key_id[16], eukey[32], aead_nonce[24];
};

static void load_inputs(const struct vec *v, struct inputs *in) {
  memset(in, 0, sizeof(*in));
  in->registered = (int)get(v, "registered", F_BOOL)->num;
  text(v, "password", in->password, sizeof(in->password), &in->password_len);
  if (in->registered) {
    text(v, "enrollPassword", in->enroll_password, sizeof(in->enroll_password),
         &in->enroll_password_len);
    get_hex(v, "blindRegistration", in->blind_registration, 32, 32);
    get_hex(v, "envelopeNonce", in->envelope_nonce, 32, 32);
  } else {
    get_hex(v, "fakeSaltKey", in->fake_salt_key, 32, 32);
    get_hex(v, "fakeClientPrivateKey", in->fake_client_private_key, 32, 32);
    get_hex(v, "fakeMaskingKey", in->keys.fake_masking_key, 64, 64);
  }
  text(v, "entityId", in->entity_id, sizeof(in->entity_id), &in->entity_id_len);
  text(v, "userId", in->user_id, sizeof(in->user_id), &in->user_id_len);
  text(v, "realm", in->realm, sizeof(in->realm), &in->realm_len);
  in->mode = get(v, "mode", F_NUM)->num;
  in->offered = get(v, "offeredSuites", F_ARR);
  in->cred_id_len = get_hex(v, "credentialIdentifier", in->cred_id, sizeof(in->cred_id), 0);
  get_hex(v, "salt", in->kdf.salt, 16, 16);
  in->kdf.ops_limit = (uint32_t)get(v, "opsLimit", F_NUM)->num;
  in->kdf.mem_limit_kib = (uint32_t)get(v, "memLimitKiB", F_NUM)->num;
  get_hex(v, "oprfSeed", in->keys.oprf_seed, 64, 64);
  get_hex(v, "serverPrivateKey", in->keys.private_key, 32, 32);
  get_hex(v, "blindLogin", in->blind_login, 32, 32);
  get_hex(v, "gatewayNonce", in->gateway_nonce, 32, 32);
  get_hex(v, "clientKeyshareSeed", in->client_keyshare_seed, 32, 32);
  get_hex(v, "maskingNonce", in->masking_nonce, 32, 32);
  get_hex(v, "serverNonce", in->server_nonce, 32, 32);
  get_hex(v, "serverKeyshareSeed", in->server_keyshare_seed, 32, 32);
  get_hex(v, "keyId", in->key_id, 16, 16);
  get_hex(v, "euKey", in->eukey, 32, 32);
  get_hex(v, "aeadNonce", in->aead_nonce, 24, 24);
}

/* A canonical non-zero scalar, as §10 requires of every scalar input. */
static void assert_scalar(const uint8_t s[32]) {
  uint8_t wide[64] = {0}, reduced[32];
  memcpy(wide, s, 32);
  crypto_core_ristretto255_scalar_reduce(reduced, wide);
  ck_assert_mem_eq(reduced, s, 32);
  ck_assert(!sodium_is_zero(s, 32));
}

static void decode_pdu(const struct vec *v, const char *name, cpns_pdu *pdu) {
  static uint8_t der[CPNS_PDU_MAX_ENCODED], again[CPNS_PDU_MAX_ENCODED];
  size_t n = get_hex(v, name, der, sizeof(der), 0), m;
  ck_assert_msg(cpns_pdu_decode(pdu, der, n, NULL) == 0, "%s does not decode", name);
  ck_assert_int_eq(cpns_pdu_encode(pdu, again, sizeof(again), &m), 0);
  ck_assert(m == n && memcmp(again, der, n) == 0);
}

/* All state of one recomputation, off the stack. */
static struct work {
  struct inputs in;
  cpns_s2_record rec;
  cpnsi_opaque_client client;
  cpnsi_opaque_server server;
  cpnsi_opaque_trace trace;
  cpns_pdu kr1, kc, kr2, kd;
  cpns_auth_transcript t;
  uint8_t blind[32], request[32], response[64], oprf_key[32], pk[32];
  uint8_t ke1[96], ke2[320], ke3[64], session_key[64], server_session_key[64], export_key[64];
  uint8_t wrap_key[32], delivery_key[32], sig[32], wrapped[48], am[CPNS_PDU_MAX_ENCODED];
  uint8_t cred_id[CPNS_USER_ID_MAX];
  size_t am_len, cred_id_len;
} w;

START_TEST(test_suite2_vectors_recompute) {
  for (size_t i = 0; i < n_vecs; i++) {
    const struct vec *v = &vecs[i];
    struct inputs *in = &w.in;
    cpns_key_request *kr;
    cpns_key_challenge *kc;
    int rv, ok = is_success(v);

    memset(&w, 0, sizeof(w));
    load_inputs(v, in);
    /* Public values and the record (§5.2). */
    ck_assert_int_eq(cpns_user_id_normalize(in->user_id, in->user_id_len, w.cred_id,
                                            sizeof(w.cred_id), &w.cred_id_len, NULL),
                     0);
    ck_assert(w.cred_id_len == in->cred_id_len &&
              memcmp(w.cred_id, in->cred_id, w.cred_id_len) == 0);
    assert_scalar(in->keys.private_key);
    assert_scalar(in->blind_login);
    ck_assert_int_eq(crypto_scalarmult_ristretto255_base(in->keys.public_key, in->keys.private_key),
                     0);
    expect_hex(v, "serverPublicKey", in->keys.public_key, 32);
    ck_assert_int_eq(
        cpnsi_opaque_oprf_key(w.oprf_key, in->cred_id, in->cred_id_len, in->keys.oprf_seed), 0);
    expect_hex(v, "oprfKey", w.oprf_key, 32);
    if (in->registered) {
      assert_scalar(in->blind_registration);
      ck_assert_int_eq(cpnsi_opaque_registration_request(w.blind, w.request, in->enroll_password,
                                                         in->enroll_password_len,
                                                         in->blind_registration),
                       0);
      expect_hex(v, "registrationRequest", w.request, 32);
      ck_assert_int_eq(cpnsi_opaque_registration_response(w.response, w.request,
                                                          in->keys.public_key, in->cred_id,
                                                          in->cred_id_len, in->keys.oprf_seed),
                       0);
      expect_hex(v, "registrationResponse", w.response, 64);
      w.rec.kdf = in->kdf;
      ck_assert_int_eq(cpnsi_opaque_registration_finalize(
                           w.rec.registration_record, NULL, in->enroll_password,
                           in->enroll_password_len, w.blind, w.response, NULL, 0, NULL, 0,
                           cpnsi_ksf_argon2id, &in->kdf, in->envelope_nonce),
                       0);
      expect_hex(v, "registrationRecord", w.rec.registration_record, 192);
    } else {
      uint8_t salt[CPNS_SALT_LEN];
      assert_scalar(in->fake_client_private_key);
      ck_assert_int_eq(crypto_scalarmult_ristretto255_base(in->keys.fake_client_public_key,
                                                           in->fake_client_private_key),
                       0);
      expect_hex(v, "fakeClientPublicKey", in->keys.fake_client_public_key, 32);
      ck_assert_int_eq(cpns_crypto_s2_fake_record(&w.rec, in->cred_id, in->cred_id_len, &in->keys,
                                                  in->fake_salt_key, in->kdf.ops_limit,
                                                  in->kdf.mem_limit_kib),
                       0);
      /* salt SHALL equal the §6 fake salt: first 16 octets of HMAC-SHA-256(key, label || id). */
      ck_assert_int_eq(cpns_crypto_fake_salt(salt, in->fake_salt_key, in->cred_id, in->cred_id_len),
                       0);
      ck_assert_mem_eq(salt, in->kdf.salt, CPNS_SALT_LEN);
      ck_assert_mem_eq(&w.rec.kdf, &in->kdf, sizeof(in->kdf));
    }

    /* KE1 and the first KeyRequest. */
    ck_assert_int_eq(cpnsi_opaque_client_ke1(&w.client, w.ke1, in->password, in->password_len,
                                             in->gateway_nonce, in->blind_login,
                                             in->client_keyshare_seed),
                     0);
    expect_hex(v, "ke1", w.ke1, 96);
    decode_pdu(v, "keyRequest1", &w.kr1);
    ck_assert_int_eq(w.kr1.type, CPNS_PDU_KEY_REQUEST);
    kr = &w.kr1.u.key_request;
    ck_assert_int_eq(cpns_key_request_validate_first(kr), 0);
    ck_assert_uint_eq(kr->version, 2);
    ck_assert(kr->entity_id_len == in->entity_id_len &&
              memcmp(kr->entity_id, in->entity_id, in->entity_id_len) == 0);
    ck_assert(kr->user_id_len == in->user_id_len &&
              memcmp(kr->user_id, in->user_id, in->user_id_len) == 0);
    ck_assert_int_eq(kr->mode, in->mode);
    ck_assert_mem_eq(kr->gateway_nonce, in->gateway_nonce, 32);
    ck_assert_uint_eq(kr->offered_suites_len, in->offered->arr_len);
    for (size_t k = 0; k < in->offered->arr_len; k++) {
      ck_assert_int_eq(kr->offered_suites[k], in->offered->arr[k]);
    }
    ck_assert(kr->has_ke1 && !kr->has_ke3 && !kr->has_response);
    ck_assert_mem_eq(kr->ke1.blinded_message, w.ke1, 32);
    ck_assert_mem_eq(kr->ke1.client_public_keyshare, w.ke1 + 64, 32);

    /* KeyChallenge, AuthMessage and KE2. */
    decode_pdu(v, "keyChallenge", &w.kc);
    ck_assert_int_eq(w.kc.type, CPNS_PDU_KEY_CHALLENGE);
    kc = &w.kc.u.key_challenge;
    ck_assert_int_eq(cpns_key_challenge_validate(kc), 0);
    ck_assert_uint_eq(kc->version, 2);
    ck_assert_int_eq(kc->suite, CPNS_SUITE_OPAQUE3DH_RISTRETTO255_SHA512_ARGON2ID);
    ck_assert(kc->realm_len == in->realm_len && memcmp(kc->realm, in->realm, in->realm_len) == 0);
    ck_assert_mem_eq(kc->server_nonce, in->server_nonce, 32);
    ck_assert_mem_eq(&kc->kdf, &in->kdf, sizeof(in->kdf));
    ck_assert_int_eq(cpns_auth_transcript_from(&w.t, kr, kc), 0);
    ck_assert_int_eq(cpns_auth_transcript_encode(&w.t, w.am, sizeof(w.am), &w.am_len), 0);
    expect_hex(v, "authMessage", w.am, w.am_len);
    ck_assert_int_eq(cpnsi_opaque_server_ke2(&w.server, w.ke2, &in->keys, w.rec.registration_record,
                                             in->cred_id, in->cred_id_len, w.ke1, in->server_nonce,
                                             NULL, 0, NULL, 0, w.am, w.am_len, in->masking_nonce,
                                             in->server_keyshare_seed),
                     0);
    expect_hex(v, "ke2", w.ke2, 320);
    ck_assert(kc->has_ke2);
    ck_assert_mem_eq(kc->ke2.evaluated_message, w.ke2, 32);
    ck_assert_mem_eq(kc->ke2.masking_nonce, w.ke2 + 32, 32);
    ck_assert_mem_eq(kc->ke2.masked_response, w.ke2 + 64, 128);
    ck_assert_mem_eq(kc->ke2.server_public_keyshare, w.ke2 + 224, 32);
    ck_assert_mem_eq(kc->ke2.server_mac, w.ke2 + 256, 64);

    /* randomized_password again from libsodium: Extract("", y || Argon2id(y)). */
    {
      uint8_t y[128], prk[64];
      cpnsi_opaque_client copy = w.client;
      ck_assert_int_eq(cpnsi_oprf_finalize(y, in->password, in->password_len, copy.blind, w.ke2),
                       0);
      ck_assert_int_eq(crypto_pwhash(y + 64, 64, (const char *)y, 64, in->kdf.salt,
                                     in->kdf.ops_limit, (size_t)in->kdf.mem_limit_kib * 1024u,
                                     crypto_pwhash_ALG_ARGON2ID13),
                       0);
      crypto_auth_hmacsha512_state st;
      static const uint8_t zero_salt[64];
      crypto_auth_hmacsha512_init(&st, zero_salt, sizeof(zero_salt));
      crypto_auth_hmacsha512_update(&st, y, sizeof(y));
      crypto_auth_hmacsha512_final(&st, prk);
      expect_hex(v, "randomizedPassword", prk, 64);
    }

    /* GenerateKE3. */
    rv = cpnsi_opaque_client_ke3_trace(&w.client, w.ke3, w.session_key, w.export_key, in->password,
                                       in->password_len, w.ke2, NULL, 0, NULL, 0, w.am, w.am_len,
                                       cpnsi_ksf_argon2id, &in->kdf, &w.trace);
    expect_hex(v, "randomizedPassword", w.trace.randomized_password, 64);
    if (!ok) {
      ck_assert_int_eq(rv, CPNS_ERR_SIGNATURE);
      continue;
    }
    ck_assert_int_eq(rv, 0);
    expect_hex(v, "ke3", w.ke3, 64);
    expect_hex(v, "exportKey", w.export_key, 64);
    expect_hex(v, "sessionKey", w.session_key, 64);
    decode_pdu(v, "keyRequest2", &w.kr2);
    ck_assert_int_eq(w.kr2.type, CPNS_PDU_KEY_REQUEST);
    ck_assert_int_eq(cpns_key_request_validate_second(
                         &w.kr2.u.key_request, CPNS_SUITE_OPAQUE3DH_RISTRETTO255_SHA512_ARGON2ID),
                     0);
    ck_assert(w.kr2.u.key_request.has_ke3);
    ck_assert_mem_eq(w.kr2.u.key_request.ke3, w.ke3, 64);
    /* The six root fields repeat: only ke1 -> ke3 differs. */
    kr->has_ke1 = 0;
    memset(&kr->ke1, 0, sizeof(kr->ke1));
    kr->has_ke3 = 1;
    memcpy(kr->ke3, w.ke3, 64);
    {
      static uint8_t der[CPNS_PDU_MAX_ENCODED];
      size_t n;
      ck_assert_int_eq(cpns_pdu_encode(&w.kr1, der, sizeof(der), &n), 0);
      expect_hex(v, "keyRequest2", der, n);
    }

    /* ServerFinish and the §5.2 derivations, checked from HMAC-SHA-512 directly. */
    ck_assert_int_eq(cpnsi_opaque_server_finish(&w.server, w.server_session_key, w.ke3), 0);
    ck_assert_mem_eq(w.server_session_key, w.session_key, 64);
    ck_assert_int_eq(cpnsi_s2_delivery_keys(w.wrap_key, w.delivery_key, w.session_key), 0);
    expect_hex(v, "wrapKey", w.wrap_key, 32);
    expect_hex(v, "deliveryKey", w.delivery_key, 32);
    {
      crypto_auth_hmacsha512_state st;
      uint8_t t[64];
      static const uint8_t one = 1;
      crypto_auth_hmacsha512_init(&st, w.session_key, 64);
      crypto_auth_hmacsha512_update(&st, (const uint8_t *)"CPNS EUKey Wrap", 15);
      crypto_auth_hmacsha512_update(&st, &one, 1);
      crypto_auth_hmacsha512_final(&st, t);
      ck_assert_mem_eq(t, w.wrap_key, 32);
      crypto_auth_hmacsha512_init(&st, w.session_key, 64);
      crypto_auth_hmacsha512_update(&st, (const uint8_t *)"CPNS Delivery Key", 17);
      crypto_auth_hmacsha512_update(&st, &one, 1);
      crypto_auth_hmacsha512_final(&st, t);
      ck_assert_mem_eq(t, w.delivery_key, 32);
      crypto_auth_hmacsha512_init(&st, w.delivery_key, 32);
      crypto_auth_hmacsha512_update(&st, w.am, w.am_len);
      crypto_auth_hmacsha512_update(&st, in->key_id, 16);
      crypto_auth_hmacsha512_final(&st, t);
      expect_hex(v, "serverSignature", t, 32);
    }
    ck_assert_int_eq(cpnsi_s2_server_signature(w.sig, w.delivery_key, w.am, w.am_len, in->key_id),
                     0);
    expect_hex(v, "serverSignature", w.sig, 32);
    {
      uint8_t ad[CPNS_PDU_MAX_ENCODED + 16], eukey[32];
      unsigned long long clen;
      memcpy(ad, w.am, w.am_len);
      memcpy(ad + w.am_len, in->key_id, 16);
      ck_assert_int_eq(crypto_aead_xchacha20poly1305_ietf_encrypt(w.wrapped, &clen, in->eukey, 32,
                                                                  ad, w.am_len + 16, NULL,
                                                                  in->aead_nonce, w.wrap_key),
                       0);
      expect_hex(v, "wrappedEUKey", w.wrapped, 48);
      ck_assert_int_eq(cpns_crypto_eukey_unwrap(eukey, w.wrapped, w.wrap_key, in->aead_nonce, w.am,
                                                w.am_len, in->key_id),
                       0);
      ck_assert_mem_eq(eukey, in->eukey, 32);
    }
    decode_pdu(v, "keyDelivery", &w.kd);
    ck_assert_int_eq(w.kd.type, CPNS_PDU_KEY_DELIVERY);
    ck_assert_uint_eq(w.kd.u.key_delivery.version, 2);
    ck_assert_int_eq(w.kd.u.key_delivery.result, CPNS_RESULT_SUCCESS);
    ck_assert(w.kd.u.key_delivery.has_assignment);
    ck_assert(w.kd.u.key_delivery.entity_id_len == in->entity_id_len &&
              memcmp(w.kd.u.key_delivery.entity_id, in->entity_id, in->entity_id_len) == 0);
    ck_assert(w.kd.u.key_delivery.user_id_len == in->user_id_len &&
              memcmp(w.kd.u.key_delivery.user_id, in->user_id, in->user_id_len) == 0);
    ck_assert_mem_eq(w.kd.u.key_delivery.assignment.key_id, in->key_id, 16);
    ck_assert_mem_eq(w.kd.u.key_delivery.assignment.server_signature, w.sig, 32);
    ck_assert_mem_eq(w.kd.u.key_delivery.assignment.aead_nonce, in->aead_nonce, 24);
    ck_assert_mem_eq(w.kd.u.key_delivery.assignment.wrapped_eukey, w.wrapped, 48);
  }
}
END_TEST

static Suite *vectors_suite(void) {
  Suite *s = suite_create("vectors_suite2");
  TCase *tc = tcase_create("suite2.json");
  tcase_add_checked_fixture(tc, setup, NULL);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_suite2_vectors_schema);
  tcase_add_test(tc, test_suite2_vectors_recompute);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(vectors_suite());
  int failed;
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? 0 : 1;
}
