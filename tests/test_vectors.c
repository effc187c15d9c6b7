/*
 * Check suite for tests/vectors/suite1.json: recomputes every field from the
 * inputs, once through the libcpns API and once from libsodium primitives
 * following PROTOCOL.md §5 directly. Built a second time with
 * CPNS_VECTORS_ARGON2_CLI_ONLY as tests/test_vectors_argon2_cli, it checks
 * SaltedPassword against the Argon2 reference CLI instead, and exits 77
 * (automake's SKIP) when the `argon2` binary is missing.
 */
#define _XOPEN_SOURCE 700

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include <cpns/crypto.h>

#ifndef CPNS_VECTORS_JSON
#define CPNS_VECTORS_JSON "tests/vectors/suite1.json"
#endif
#ifndef CPNS_ARGON2_CLI
#define CPNS_ARGON2_CLI "no"
#endif

#include "tests/vectors_json.h"

#define MAX_VECS 16
static struct vec vecs[MAX_VECS];
static size_t n_vecs;

static const struct field *get(const struct vec *v, const char *name, enum ftype type) {
  for (size_t i = 0; i < v->n; i++) {
    if (strcmp(v->f[i].name, name) == 0) {
      ck_assert_msg(v->f[i].type == type, "field %s has the wrong type", name);
      return &v->f[i];
    }
  }
  ck_abort_msg("field %s missing", name);
  return NULL;
}

/* Lowercase hex of exactly want octets (0 = any length up to cap). */
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

#ifndef CPNS_VECTORS_ARGON2_CLI_ONLY /* what test_vectors_schema expects */
static const char *const all_fields[] = {
    "password",     "salt",        "opsLimit",    "memLimitKiB",     "realm",
    "entityId",     "userId",      "mode",        "offeredSuites",   "suite",
    "gatewayNonce", "serverNonce", "authMessage", "saltedPassword",  "clientKey",
    "serverKey",    "storedKey",   "clientProof", "serverSignature", "wrapKey",
    "keyId",        "aeadNonce",   "euKey",       "wrappedEUKey"};
#endif

/* Inputs of one vector. */
struct inputs {
  uint8_t password[256];
  size_t password_len;
  cpns_auth_transcript t;
  uint8_t key_id[16], aead_nonce[24], eukey[32];
};

static void text(const struct vec *v, const char *name, uint8_t *out, size_t cap, size_t *len) {
  const struct field *f = get(v, name, F_STR);
  ck_assert_uint_le(f->len, cap);
  memcpy(out, f->str, f->len);
  *len = f->len;
}

static void load_inputs(const struct vec *v, struct inputs *in) {
  const struct field *offered = get(v, "offeredSuites", F_ARR);
  memset(in, 0, sizeof(*in));
  text(v, "password", in->password, sizeof(in->password), &in->password_len);
  in->t.version = CPNS_PROTOCOL_VERSION;
  get_hex(v, "salt", in->t.kdf.salt, 16, 16);
  in->t.kdf.ops_limit = (uint32_t)get(v, "opsLimit", F_NUM)->num;
  in->t.kdf.mem_limit_kib = (uint32_t)get(v, "memLimitKiB", F_NUM)->num;
  text(v, "realm", in->t.realm, CPNS_REALM_MAX, &in->t.realm_len);
  text(v, "entityId", in->t.entity_id, CPNS_ENTITY_ID_MAX, &in->t.entity_id_len);
  text(v, "userId", in->t.user_id, CPNS_USER_ID_MAX, &in->t.user_id_len);
  in->t.mode = (cpns_mode)get(v, "mode", F_NUM)->num;
  in->t.offered_suites_len = offered->arr_len;
  for (size_t i = 0; i < offered->arr_len; i++) {
    in->t.offered_suites[i] = (int32_t)offered->arr[i];
  }
  in->t.suite = (cpns_suite)get(v, "suite", F_NUM)->num;
  get_hex(v, "gatewayNonce", in->t.gateway_nonce, 32, 32);
  get_hex(v, "serverNonce", in->t.server_nonce, 32, 32);
  get_hex(v, "keyId", in->key_id, 16, 16);
  get_hex(v, "aeadNonce", in->aead_nonce, 24, 24);
  get_hex(v, "euKey", in->eukey, 32, 32);
}

static void expect_hex(const struct vec *v, const char *name, const uint8_t *got, size_t len) {
  uint8_t want[CPNS_PDU_MAX_ENCODED];
  size_t n = get_hex(v, name, want, sizeof(want), 0);
  ck_assert_msg(n == len && memcmp(want, got, len) == 0, "%s differs", name);
}

static void setup(void) {
  const char *srcdir = getenv("srcdir");
  char path[4096];
  static char text_buf[1 << 16];
  FILE *f;
  size_t len;

  ck_assert_int_eq(cpns_init(), 0);
  if (srcdir != NULL) {
    snprintf(path, sizeof(path), "%s/tests/vectors/suite1.json", srcdir);
  } else {
    snprintf(path, sizeof(path), "%s", CPNS_VECTORS_JSON);
  }
  f = fopen(path, "rb");
  ck_assert_msg(f != NULL, "cannot open %s", path);
  len = fread(text_buf, 1, sizeof(text_buf), f);
  fclose(f);
  ck_assert_uint_lt(len, sizeof(text_buf));
  memset(vecs, 0, sizeof(vecs));
  n_vecs = 0;
  ck_assert_msg(vectors_json_read(text_buf, len, vecs, MAX_VECS, &n_vecs), "%s does not parse",
                path);
}

#ifndef CPNS_VECTORS_ARGON2_CLI_ONLY
START_TEST(test_vectors_schema) {
  int modes = 0, non_ascii_pw = 0, non_ascii_user = 0;
  ck_assert_uint_ge(n_vecs, 4);
  for (size_t i = 0; i < n_vecs; i++) {
    const struct vec *v = &vecs[i];
    const struct field *pw = get(v, "password", F_STR), *uid = get(v, "userId", F_STR);
    ck_assert_uint_eq(v->n, sizeof(all_fields) / sizeof(all_fields[0]));
    for (size_t k = 0; k < v->n; k++) {
      ck_assert_str_eq(v->f[k].name, all_fields[k]);
    }
    modes |= 1 << get(v, "mode", F_NUM)->num;
    for (size_t k = 0; k < pw->len; k++) {
      non_ascii_pw |= pw->str[k] >= 0x80;
    }
    for (size_t k = 0; k < uid->len; k++) {
      non_ascii_user |= uid->str[k] >= 0x80;
    }
  }
  ck_assert_int_eq(modes, 3);
  ck_assert(non_ascii_pw);
  ck_assert(non_ascii_user);
}
END_TEST

/* Every field through the libcpns API. */
START_TEST(test_vectors_recompute_api) {
  for (size_t i = 0; i < n_vecs; i++) {
    const struct vec *v = &vecs[i];
    struct inputs in;
    uint8_t am[CPNS_PDU_MAX_ENCODED];
    uint8_t sp[32], ck[32], sk[32], st[32], proof[32], sig[32], wk[32], wrapped[48];
    size_t am_len;
    cpns_auth_transcript back;

    load_inputs(v, &in);
    ck_assert_int_eq(cpns_auth_transcript_encode(&in.t, am, sizeof(am), &am_len), 0);
    expect_hex(v, "authMessage", am, am_len);
    ck_assert_int_eq(cpns_auth_transcript_decode(&back, am, am_len, NULL), 0);
    ck_assert_uint_eq(back.user_id_len, in.t.user_id_len);
    ck_assert_int_eq(cpns_crypto_salted_password(sp, in.password, in.password_len, &in.t.kdf), 0);
    expect_hex(v, "saltedPassword", sp, 32);
    ck_assert_int_eq(cpns_crypto_client_key(ck, sp), 0);
    expect_hex(v, "clientKey", ck, 32);
    ck_assert_int_eq(cpns_crypto_server_key(sk, sp), 0);
    expect_hex(v, "serverKey", sk, 32);
    ck_assert_int_eq(cpns_crypto_stored_key(st, ck), 0);
    expect_hex(v, "storedKey", st, 32);
    ck_assert_int_eq(cpns_crypto_client_proof(proof, ck, st, am, am_len), 0);
    expect_hex(v, "clientProof", proof, 32);
    ck_assert_int_eq(cpns_crypto_server_signature(sig, sk, am, am_len), 0);
    expect_hex(v, "serverSignature", sig, 32);
    ck_assert_int_eq(cpns_crypto_wrap_key(wk, ck, am, am_len), 0);
    expect_hex(v, "wrapKey", wk, 32);
    ck_assert_int_eq(
        cpns_crypto_eukey_wrap(wrapped, in.eukey, wk, in.aead_nonce, am, am_len, in.key_id), 0);
    expect_hex(v, "wrappedEUKey", wrapped, 48);
  }
}
END_TEST

/* The protocol's two sides run on the published values only. */
START_TEST(test_vectors_verify_and_unwrap) {
  for (size_t i = 0; i < n_vecs; i++) {
    const struct vec *v = &vecs[i];
    uint8_t am[CPNS_PDU_MAX_ENCODED], st[32], sk[32], proof[32], sig[32], ck[32];
    uint8_t want_ck[32], wrapped[48], nonce[24], kid[16], eukey[32], want_eukey[32], wk[32];
    size_t am_len = get_hex(v, "authMessage", am, sizeof(am), 0);
    get_hex(v, "storedKey", st, 32, 32);
    get_hex(v, "serverKey", sk, 32, 32);
    get_hex(v, "clientProof", proof, 32, 32);
    get_hex(v, "serverSignature", sig, 32, 32);
    get_hex(v, "clientKey", want_ck, 32, 32);
    get_hex(v, "wrapKey", wk, 32, 32);
    get_hex(v, "wrappedEUKey", wrapped, 48, 48);
    get_hex(v, "aeadNonce", nonce, 24, 24);
    get_hex(v, "keyId", kid, 16, 16);
    get_hex(v, "euKey", want_eukey, 32, 32);
    ck_assert_int_eq(cpns_crypto_client_proof_verify(ck, proof, st, am, am_len), 0);
    ck_assert_mem_eq(ck, want_ck, 32);
    ck_assert_int_eq(cpns_crypto_server_signature_verify(sig, sk, am, am_len), 0);
    ck_assert_int_eq(cpns_crypto_eukey_unwrap(eukey, wrapped, wk, nonce, am, am_len, kid), 0);
    ck_assert_mem_eq(eukey, want_eukey, 32);
  }
}
END_TEST

static void hmac(uint8_t out[32], const uint8_t *key, size_t keylen, const uint8_t *a, size_t alen,
                 const uint8_t *b, size_t blen) {
  crypto_auth_hmacsha256_state s;
  crypto_auth_hmacsha256_init(&s, key, keylen);
  crypto_auth_hmacsha256_update(&s, a, alen);
  crypto_auth_hmacsha256_update(&s, b, blen);
  crypto_auth_hmacsha256_final(&s, out);
}

/* PROTOCOL.md §5 line by line on libsodium primitives, no libcpns crypto. */
START_TEST(test_vectors_recompute_primitives) {
  for (size_t i = 0; i < n_vecs; i++) {
    const struct vec *v = &vecs[i];
    struct inputs in;
    uint8_t am[CPNS_PDU_MAX_ENCODED], ad[CPNS_PDU_MAX_ENCODED + 16];
    uint8_t sp[32], ck[32], sk[32], st[32], csig[32], proof[32], sig[32], h[32], wk[32];
    uint8_t wrapped[48];
    size_t am_len;

    load_inputs(v, &in);
    am_len = get_hex(v, "authMessage", am, sizeof(am), 0);
    ck_assert_int_eq(crypto_pwhash(sp, 32, (const char *)in.password, in.password_len,
                                   in.t.kdf.salt, in.t.kdf.ops_limit,
                                   (size_t)in.t.kdf.mem_limit_kib * 1024,
                                   crypto_pwhash_ALG_ARGON2ID13),
                     0);
    expect_hex(v, "saltedPassword", sp, 32);
    hmac(ck, sp, 32, (const uint8_t *)"CPNS Client Key", 15, NULL, 0);
    expect_hex(v, "clientKey", ck, 32);
    hmac(sk, sp, 32, (const uint8_t *)"CPNS Server Key", 15, NULL, 0);
    expect_hex(v, "serverKey", sk, 32);
    crypto_hash_sha256(st, ck, 32);
    expect_hex(v, "storedKey", st, 32);
    hmac(csig, st, 32, am, am_len, NULL, 0);
    for (size_t k = 0; k < 32; k++) {
      proof[k] = ck[k] ^ csig[k];
    }
    expect_hex(v, "clientProof", proof, 32);
    hmac(sig, sk, 32, am, am_len, NULL, 0);
    expect_hex(v, "serverSignature", sig, 32);
    crypto_hash_sha256(h, am, am_len);
    hmac(wk, ck, 32, (const uint8_t *)"CPNS EUKey Wrap", 15, h, 32);
    expect_hex(v, "wrapKey", wk, 32);
    memcpy(ad, am, am_len);
    memcpy(ad + am_len, in.key_id, 16);
    crypto_aead_xchacha20poly1305_ietf_encrypt(wrapped, NULL, in.eukey, 32, ad, am_len + 16, NULL,
                                               in.aead_nonce, wk);
    expect_hex(v, "wrappedEUKey", wrapped, 48);
  }
}
END_TEST

#else
/* Runs the Argon2 reference CLI; returns 0 and fills out, or -1. */
static int argon2_cli(uint8_t out[32], const char *cli, const uint8_t *pw, size_t pwlen,
                      const char *salt, uint32_t ops, uint32_t mem_kib) {
  int in_pipe[2], out_pipe[2], status;
  char t[16], k[16], buf[256];
  size_t got = 0, n;
  pid_t pid;
  ssize_t r;

  if (pipe(in_pipe) != 0 || pipe(out_pipe) != 0) {
    return -1;
  }
  snprintf(t, sizeof(t), "%u", ops);
  snprintf(k, sizeof(k), "%u", mem_kib);
  pid = fork();
  if (pid < 0) {
    return -1;
  }
  if (pid == 0) {
    dup2(in_pipe[0], 0);
    dup2(out_pipe[1], 1);
    close(in_pipe[1]);
    close(out_pipe[0]);
    execl(cli, "argon2", salt, "-id", "-t", t, "-k", k, "-p", "1", "-l", "32", "-r", (char *)NULL);
    _exit(127);
  }
  close(in_pipe[0]);
  close(out_pipe[1]);
  /* Passwords are far below the pipe buffer: no deadlock. */
  if (write(in_pipe[1], pw, pwlen) != (ssize_t)pwlen) {
    return -1;
  }
  close(in_pipe[1]);
  while ((r = read(out_pipe[0], buf + got, sizeof(buf) - 1 - got)) > 0) {
    got += (size_t)r;
  }
  close(out_pipe[0]);
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return -1;
  }
  buf[got] = '\0';
  if (sodium_hex2bin(out, 32, buf, got, "\n", &n, NULL) != 0 || n != 32) {
    return -1;
  }
  return 0;
}

static int argon2_cli_found(void) {
  return strcmp(CPNS_ARGON2_CLI, "no") != 0 && access(CPNS_ARGON2_CLI, X_OK) == 0;
}

/* An implementation we did not write: the Argon2 reference CLI. */
START_TEST(test_vectors_argon2_reference_cli) {
  const char *cli = CPNS_ARGON2_CLI;
  ck_assert_msg(argon2_cli_found(), "argon2 CLI not found (%s)", cli);
  for (size_t i = 0; i < n_vecs; i++) {
    const struct vec *v = &vecs[i];
    struct inputs in;
    uint8_t sp[32];
    char salt[17];
    load_inputs(v, &in);
    memcpy(salt, in.t.kdf.salt, 16);
    salt[16] = '\0';
    for (size_t k = 0; k < 16; k++) {
      ck_assert_msg(salt[k] > 0x20 && salt[k] < 0x7f, "vector %zu: salt must be ASCII", i);
    }
    ck_assert_msg(argon2_cli(sp, cli, in.password, in.password_len, salt, in.t.kdf.ops_limit,
                             in.t.kdf.mem_limit_kib) == 0,
                  "vector %zu: %s failed", i, cli);
    expect_hex(v, "saltedPassword", sp, 32);
  }
}
END_TEST
#endif /* CPNS_VECTORS_ARGON2_CLI_ONLY */

static Suite *vectors_suite(void) {
  Suite *s = suite_create("vectors");
  TCase *tc = tcase_create("suite1");
  tcase_add_checked_fixture(tc, setup, NULL);
  tcase_set_timeout(tc, 120);
#ifdef CPNS_VECTORS_ARGON2_CLI_ONLY
  tcase_add_test(tc, test_vectors_argon2_reference_cli);
#else
  tcase_add_test(tc, test_vectors_schema);
  tcase_add_test(tc, test_vectors_recompute_api);
  tcase_add_test(tc, test_vectors_verify_and_unwrap);
  tcase_add_test(tc, test_vectors_recompute_primitives);
#endif
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr;
  int failed;
#ifdef CPNS_VECTORS_ARGON2_CLI_ONLY
  if (!argon2_cli_found()) {
    printf("SKIP: argon2 CLI not found (%s)\n", CPNS_ARGON2_CLI);
    return 77; /* automake: SKIP */
  }
#endif
  sr = srunner_create(vectors_suite());
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? 0 : 1;
}
