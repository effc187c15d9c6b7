/* Check suite of the crypto module: suite 1, credentials, sealing, policies. */
#include <check.h>
#include <string.h>

#include <sodium.h>

#include <cpns/crypto.h>

/* Small Argon2id parameters keep `make check` fast. */
static cpns_kdf_params small_kdf(void) {
  cpns_kdf_params k;
  memcpy(k.salt, "somesaltsomesalt", CPNS_SALT_LEN);
  k.ops_limit = 1;
  k.mem_limit_kib = 64;
  return k;
}

static const uint8_t am[] = "\x30\x03\x02\x01\x01 pretend AuthMessage";
#define AM_LEN (sizeof(am) - 1)

static void setup(void) { ck_assert_int_eq(cpns_init(), 0); }

static void hex(uint8_t *out, const char *h, size_t len) {
  size_t n;
  ck_assert_int_eq(sodium_hex2bin(out, len, h, strlen(h), NULL, &n, NULL), 0);
  ck_assert_uint_eq(n, len);
}

START_TEST(test_salted_password_reference_cli) {
  /* printf %s abc | argon2 somesaltsomesalt -id -t 1 -k 64 -p 1 -l 32 -r */
  uint8_t want[32], got[32];
  cpns_kdf_params k = small_kdf();
  hex(want, "35adcb7a95dddbcda8e59631e033c213d523d53faf7bc1ea7d5487aaddd61891", 32);
  ck_assert_int_eq(cpns_crypto_salted_password(got, (const uint8_t *)"abc", 3, &k), 0);
  ck_assert_mem_eq(got, want, 32);
}
END_TEST

START_TEST(test_salted_password_rejects_bad_params) {
  uint8_t out[32];
  cpns_kdf_params k = small_kdf();
  k.ops_limit = 0;
  ck_assert_int_eq(cpns_crypto_salted_password(out, (const uint8_t *)"a", 1, &k),
                   CPNS_ERR_KDF_PARAMS);
  k = small_kdf();
  k.mem_limit_kib = 7;
  ck_assert_int_eq(cpns_crypto_salted_password(out, (const uint8_t *)"a", 1, &k),
                   CPNS_ERR_KDF_PARAMS);
  k = small_kdf();
  k.ops_limit = CPNS_OPS_LIMIT_MAX + 1;
  ck_assert_int_eq(cpns_crypto_salted_password(out, (const uint8_t *)"a", 1, &k),
                   CPNS_ERR_KDF_PARAMS);
  ck_assert_int_eq(cpns_crypto_salted_password(out, NULL, 1, &k), CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(cpns_crypto_salted_password(out, (const uint8_t *)"a", 1, NULL),
                   CPNS_ERR_INVALID_ARGUMENT);
}
END_TEST

START_TEST(test_salted_password_empty_password) {
  uint8_t a[32], b[32];
  cpns_kdf_params k = small_kdf();
  ck_assert_int_eq(cpns_crypto_salted_password(a, NULL, 0, &k), 0);
  ck_assert_int_eq(cpns_crypto_salted_password(b, (const uint8_t *)"", 0, &k), 0);
  ck_assert_mem_eq(a, b, 32);
}
END_TEST

START_TEST(test_client_key_matches_definition) {
  uint8_t sp[32], ck[32], sk[32], st[32], want[32];
  memset(sp, 0x5a, sizeof(sp));
  ck_assert_int_eq(cpns_crypto_client_key(ck, sp), 0);
  crypto_auth_hmacsha256(want, (const uint8_t *)"CPNS Client Key", 15, sp);
  ck_assert_mem_eq(ck, want, 32);
  ck_assert_int_eq(cpns_crypto_server_key(sk, sp), 0);
  crypto_auth_hmacsha256(want, (const uint8_t *)"CPNS Server Key", 15, sp);
  ck_assert_mem_eq(sk, want, 32);
  ck_assert_int_eq(cpns_crypto_stored_key(st, ck), 0);
  crypto_hash_sha256(want, ck, 32);
  ck_assert_mem_eq(st, want, 32);
  ck_assert_int_eq(cpns_crypto_client_key(NULL, sp), CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(cpns_crypto_stored_key(st, NULL), CPNS_ERR_INVALID_ARGUMENT);
}
END_TEST

START_TEST(test_wrap_key_matches_definition) {
  uint8_t ck[32], wk[32], want[32], h[32];
  crypto_auth_hmacsha256_state s;
  memset(ck, 0x11, sizeof(ck));
  ck_assert_int_eq(cpns_crypto_wrap_key(wk, ck, am, AM_LEN), 0);
  crypto_hash_sha256(h, am, AM_LEN);
  crypto_auth_hmacsha256_init(&s, ck, 32);
  crypto_auth_hmacsha256_update(&s, (const uint8_t *)"CPNS EUKey Wrap", 15);
  crypto_auth_hmacsha256_update(&s, h, 32);
  crypto_auth_hmacsha256_final(&s, want);
  ck_assert_mem_eq(wk, want, 32);
}
END_TEST

/* Keys of one user, derived from a fixed SaltedPassword. */
static void user_keys(uint8_t ck[32], uint8_t sk[32], uint8_t st[32]) {
  uint8_t sp[32];
  memset(sp, 0x42, sizeof(sp));
  ck_assert_int_eq(cpns_crypto_client_key(ck, sp), 0);
  ck_assert_int_eq(cpns_crypto_server_key(sk, sp), 0);
  ck_assert_int_eq(cpns_crypto_stored_key(st, ck), 0);
}

START_TEST(test_client_proof_verify_accepts) {
  uint8_t ck[32], sk[32], st[32], proof[32], out[32], sig[32];
  user_keys(ck, sk, st);
  ck_assert_int_eq(cpns_crypto_client_proof(proof, ck, st, am, AM_LEN), 0);
  crypto_auth_hmacsha256(sig, am, AM_LEN, st);
  for (size_t i = 0; i < 32; i++) {
    ck_assert_uint_eq(proof[i], ck[i] ^ sig[i]);
  }
  ck_assert_int_eq(cpns_crypto_client_proof_verify(out, proof, st, am, AM_LEN), 0);
  ck_assert_mem_eq(out, ck, 32);
}
END_TEST

START_TEST(test_client_proof_verify_rejects_tampered) {
  uint8_t ck[32], sk[32], st[32], proof[32], out[32], zero[32] = {0};
  uint8_t am2[AM_LEN];
  user_keys(ck, sk, st);
  ck_assert_int_eq(cpns_crypto_client_proof(proof, ck, st, am, AM_LEN), 0);
  for (size_t i = 0; i < 32; i += 7) {
    proof[i] ^= 0x01;
    memset(out, 0xee, sizeof(out));
    ck_assert_int_eq(cpns_crypto_client_proof_verify(out, proof, st, am, AM_LEN), CPNS_ERR_PROOF);
    ck_assert_mem_eq(out, zero, 32);
    proof[i] ^= 0x01;
  }
  memcpy(am2, am, AM_LEN);
  am2[AM_LEN - 1] ^= 0x80;
  ck_assert_int_eq(cpns_crypto_client_proof_verify(out, proof, st, am2, AM_LEN), CPNS_ERR_PROOF);
  ck_assert_int_eq(cpns_crypto_client_proof_verify(out, proof, st, am, AM_LEN - 1), CPNS_ERR_PROOF);
  st[0] ^= 1;
  ck_assert_int_eq(cpns_crypto_client_proof_verify(out, proof, st, am, AM_LEN), CPNS_ERR_PROOF);
  ck_assert_int_eq(cpns_crypto_client_proof_verify(out, NULL, st, am, AM_LEN),
                   CPNS_ERR_INVALID_ARGUMENT);
}
END_TEST

START_TEST(test_server_signature_verify_rejects_tampered) {
  uint8_t ck[32], sk[32], st[32], sig[32], am2[AM_LEN];
  user_keys(ck, sk, st);
  ck_assert_int_eq(cpns_crypto_server_signature(sig, sk, am, AM_LEN), 0);
  ck_assert_int_eq(cpns_crypto_server_signature_verify(sig, sk, am, AM_LEN), 0);
  sig[31] ^= 0x40;
  ck_assert_int_eq(cpns_crypto_server_signature_verify(sig, sk, am, AM_LEN), CPNS_ERR_SIGNATURE);
  sig[31] ^= 0x40;
  memcpy(am2, am, AM_LEN);
  am2[0] ^= 1;
  ck_assert_int_eq(cpns_crypto_server_signature_verify(sig, sk, am2, AM_LEN), CPNS_ERR_SIGNATURE);
  sk[3] ^= 1;
  ck_assert_int_eq(cpns_crypto_server_signature_verify(sig, sk, am, AM_LEN), CPNS_ERR_SIGNATURE);
  ck_assert_int_eq(cpns_crypto_server_signature_verify(NULL, sk, am, AM_LEN),
                   CPNS_ERR_INVALID_ARGUMENT);
}
END_TEST

struct wrap_case {
  uint8_t eukey[32], wk[32], nonce[24], key_id[16], wrapped[48], am[AM_LEN];
};

static void wrap_case_init(struct wrap_case *c) {
  memset(c->eukey, 0xa5, 32);
  memset(c->wk, 0x3c, 32);
  memset(c->nonce, 0x07, 24);
  memset(c->key_id, 0x99, 16);
  memcpy(c->am, am, AM_LEN);
  ck_assert_int_eq(
      cpns_crypto_eukey_wrap(c->wrapped, c->eukey, c->wk, c->nonce, c->am, AM_LEN, c->key_id), 0);
}

static int wrap_case_unwrap(struct wrap_case *c, size_t am_len) {
  uint8_t out[32], zero[32] = {0};
  int rv;
  memset(out, 0xff, sizeof(out));
  rv = cpns_crypto_eukey_unwrap(out, c->wrapped, c->wk, c->nonce, c->am, am_len, c->key_id);
  if (rv == 0) {
    ck_assert_mem_eq(out, c->eukey, 32);
  } else {
    ck_assert_mem_eq(out, zero, 32);
  }
  return rv;
}

START_TEST(test_eukey_unwrap_round_trip) {
  struct wrap_case c;
  uint8_t ad[AM_LEN + 16], want[48];
  wrap_case_init(&c);
  memcpy(ad, am, AM_LEN);
  memcpy(ad + AM_LEN, c.key_id, 16);
  crypto_aead_xchacha20poly1305_ietf_encrypt(want, NULL, c.eukey, 32, ad, sizeof(ad), NULL, c.nonce,
                                             c.wk);
  ck_assert_mem_eq(c.wrapped, want, 48);
  ck_assert_int_eq(wrap_case_unwrap(&c, AM_LEN), 0);
}
END_TEST

START_TEST(test_eukey_unwrap_rejects_tampered) {
  struct wrap_case c;
  wrap_case_init(&c);
  c.wrapped[0] ^= 1; /* ciphertext */
  ck_assert_int_eq(wrap_case_unwrap(&c, AM_LEN), CPNS_ERR_DECRYPT);
  c.wrapped[0] ^= 1;
  c.wrapped[47] ^= 1; /* tag */
  ck_assert_int_eq(wrap_case_unwrap(&c, AM_LEN), CPNS_ERR_DECRYPT);
  c.wrapped[47] ^= 1;
  c.am[5] ^= 1; /* ad: AuthMessage */
  ck_assert_int_eq(wrap_case_unwrap(&c, AM_LEN), CPNS_ERR_DECRYPT);
  c.am[5] ^= 1;
  ck_assert_int_eq(wrap_case_unwrap(&c, AM_LEN - 1), CPNS_ERR_DECRYPT);
  c.key_id[15] ^= 1; /* ad: keyId */
  ck_assert_int_eq(wrap_case_unwrap(&c, AM_LEN), CPNS_ERR_DECRYPT);
  c.key_id[15] ^= 1;
  c.nonce[23] ^= 1;
  ck_assert_int_eq(wrap_case_unwrap(&c, AM_LEN), CPNS_ERR_DECRYPT);
  c.nonce[23] ^= 1;
  c.wk[0] ^= 1;
  ck_assert_int_eq(wrap_case_unwrap(&c, AM_LEN), CPNS_ERR_DECRYPT);
  c.wk[0] ^= 1;
  ck_assert_int_eq(wrap_case_unwrap(&c, AM_LEN), 0);
}
END_TEST

START_TEST(test_eukey_wrap_rejects_oversized_auth_message) {
  static uint8_t big[CPNS_PDU_MAX_DEFAULT + 1];
  struct wrap_case c;
  uint8_t out[32];
  wrap_case_init(&c);
  ck_assert_int_eq(
      cpns_crypto_eukey_wrap(c.wrapped, c.eukey, c.wk, c.nonce, big, sizeof(big), c.key_id),
      CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(
      cpns_crypto_eukey_unwrap(out, c.wrapped, c.wk, c.nonce, big, sizeof(big), c.key_id),
      CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(cpns_crypto_eukey_unwrap(NULL, c.wrapped, c.wk, c.nonce, am, AM_LEN, c.key_id),
                   CPNS_ERR_INVALID_ARGUMENT);
}
END_TEST

START_TEST(test_kdf_check_gateway_bounds) {
  cpns_kdf_params k = small_kdf();
  k.ops_limit = 3;
  k.mem_limit_kib = 65536;
  ck_assert_int_eq(cpns_crypto_kdf_check_gateway(&k, 0, 0, 0, 0), 0);
  k.ops_limit = 10;
  k.mem_limit_kib = 1048576;
  ck_assert_int_eq(cpns_crypto_kdf_check_gateway(&k, 0, 0, 0, 0), 0);
  k.ops_limit = 11;
  ck_assert_int_eq(cpns_crypto_kdf_check_gateway(&k, 0, 0, 0, 0), CPNS_ERR_KDF_PARAMS);
  ck_assert_int_eq(cpns_crypto_kdf_check_gateway(&k, 0, 0, 11, 0), 0);
  k.ops_limit = 10;
  k.mem_limit_kib = 1048577;
  ck_assert_int_eq(cpns_crypto_kdf_check_gateway(&k, 0, 0, 0, 0), CPNS_ERR_KDF_PARAMS);
  ck_assert_int_eq(cpns_crypto_kdf_check_gateway(&k, 0, 0, 0, 2000000), 0);
  k.mem_limit_kib = 64;
  ck_assert_int_eq(cpns_crypto_kdf_check_gateway(&k, 1, 8, 0, 32), CPNS_ERR_KDF_PARAMS);
  k.ops_limit = 0;
  ck_assert_int_eq(cpns_crypto_kdf_check_gateway(&k, 1, 8, 100, 100), CPNS_ERR_KDF_PARAMS);
  ck_assert_int_eq(cpns_crypto_kdf_check_gateway(NULL, 0, 0, 0, 0), CPNS_ERR_INVALID_ARGUMENT);
}
END_TEST

/* The suite 1 floors (§7, §9): what a server impostor would ask for is refused. */
START_TEST(test_kdf_check_gateway_minimums) {
  cpns_kdf_params k = small_kdf();
  k.ops_limit = 1;
  k.mem_limit_kib = 8;
  ck_assert_int_eq(cpns_crypto_kdf_check_gateway(&k, 0, 0, 0, 0), CPNS_ERR_KDF_PARAMS);
  k.ops_limit = 2; /* one pass short, memory at the default floor */
  k.mem_limit_kib = 65536;
  ck_assert_int_eq(cpns_crypto_kdf_check_gateway(&k, 0, 0, 0, 0), CPNS_ERR_KDF_PARAMS);
  k.ops_limit = 3; /* one KiB short */
  k.mem_limit_kib = 65535;
  ck_assert_int_eq(cpns_crypto_kdf_check_gateway(&k, 0, 0, 0, 0), CPNS_ERR_KDF_PARAMS);
  k.mem_limit_kib = 65536;
  ck_assert_int_eq(cpns_crypto_kdf_check_gateway(&k, 0, 0, 0, 0), 0);
  /* Explicit floors, and at them exactly. */
  k.ops_limit = 1;
  k.mem_limit_kib = 8;
  ck_assert_int_eq(cpns_crypto_kdf_check_gateway(&k, 1, 8, 0, 0), 0);
  ck_assert_int_eq(cpns_crypto_kdf_check_gateway(&k, 2, 8, 0, 0), CPNS_ERR_KDF_PARAMS);
  ck_assert_int_eq(cpns_crypto_kdf_check_gateway(&k, 1, 9, 0, 0), CPNS_ERR_KDF_PARAMS);
  /* An empty range is the caller's mistake, not the server's. */
  ck_assert_int_eq(cpns_crypto_kdf_check_gateway(&k, 5, 8, 4, 0), CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(cpns_crypto_kdf_check_gateway(&k, 1, 65, 0, 64), CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(cpns_crypto_kdf_check_gateway(&k, 0, 0, 2, 0), CPNS_ERR_INVALID_ARGUMENT);
}
END_TEST

START_TEST(test_kdf_check_enrollment_minimums) {
  cpns_kdf_params k = small_kdf();
  k.ops_limit = 1;
  k.mem_limit_kib = 8;
  ck_assert_int_eq(cpns_crypto_kdf_check_enrollment(&k), 0);
  k.mem_limit_kib = 7;
  ck_assert_int_eq(cpns_crypto_kdf_check_enrollment(&k), CPNS_ERR_KDF_PARAMS);
  k.mem_limit_kib = CPNS_MEM_LIMIT_KIB_MAX;
  ck_assert_int_eq(cpns_crypto_kdf_check_enrollment(&k), 0);
  k.mem_limit_kib = CPNS_MEM_LIMIT_KIB_MAX + 1;
  ck_assert_int_eq(cpns_crypto_kdf_check_enrollment(&k), CPNS_ERR_KDF_PARAMS);
  k.mem_limit_kib = 8;
  k.ops_limit = 0;
  ck_assert_int_eq(cpns_crypto_kdf_check_enrollment(&k), CPNS_ERR_KDF_PARAMS);
  k.ops_limit = CPNS_OPS_LIMIT_MAX;
  ck_assert_int_eq(cpns_crypto_kdf_check_enrollment(&k), 0);
  ck_assert_int_eq(cpns_crypto_kdf_check_enrollment(NULL), CPNS_ERR_INVALID_ARGUMENT);
}
END_TEST

static cpns_credential *make_cred(void) {
  cpns_credential *c = sodium_malloc(sizeof(*c));
  cpns_kdf_params k = small_kdf();
  ck_assert_ptr_nonnull(c);
  ck_assert_int_eq(cpns_crypto_credential_create(c, (const uint8_t *)"abc", 3, &k), 0);
  return c;
}

START_TEST(test_credential_create_derives_keys) {
  cpns_credential *c = make_cred();
  uint8_t sp[32], ck[32], st[32], sk[32];
  cpns_kdf_params k = small_kdf();
  ck_assert_int_eq(cpns_crypto_salted_password(sp, (const uint8_t *)"abc", 3, &k), 0);
  ck_assert_int_eq(cpns_crypto_client_key(ck, sp), 0);
  ck_assert_int_eq(cpns_crypto_stored_key(st, ck), 0);
  ck_assert_int_eq(cpns_crypto_server_key(sk, sp), 0);
  ck_assert_mem_eq(c->stored_key, st, 32);
  ck_assert_mem_eq(c->server_key, sk, 32);
  ck_assert_mem_eq(c->kdf.salt, k.salt, 16);
  ck_assert_uint_eq(c->kdf.ops_limit, 1);
  ck_assert_uint_eq(c->kdf.mem_limit_kib, 64);
  sodium_free(c);
}
END_TEST

START_TEST(test_credential_create_defaults) {
  cpns_credential *a = sodium_malloc(sizeof(*a)), *b = sodium_malloc(sizeof(*b));
  ck_assert_int_eq(cpns_crypto_credential_create(a, (const uint8_t *)"pw", 2, NULL), 0);
  ck_assert_uint_eq(a->kdf.ops_limit, CPNS_KDF_OPS_DEFAULT);
  ck_assert_uint_eq(a->kdf.mem_limit_kib, CPNS_KDF_MEM_KIB_DEFAULT);
  /* Same password, chosen params equal to the first record's: same keys. */
  ck_assert_int_eq(cpns_crypto_credential_create(b, (const uint8_t *)"pw", 2, &a->kdf), 0);
  ck_assert_mem_eq(a->stored_key, b->stored_key, 32);
  sodium_free(a);
  sodium_free(b);
}
END_TEST

START_TEST(test_credential_create_rejects_params) {
  cpns_credential c;
  cpns_kdf_params k = small_kdf();
  k.mem_limit_kib = 4;
  ck_assert_int_eq(cpns_crypto_credential_create(&c, (const uint8_t *)"a", 1, &k),
                   CPNS_ERR_KDF_PARAMS);
  ck_assert_int_eq(cpns_crypto_credential_create(NULL, (const uint8_t *)"a", 1, &k),
                   CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(cpns_crypto_credential_create(&c, NULL, 1, &k), CPNS_ERR_INVALID_ARGUMENT);
}
END_TEST

START_TEST(test_credential_decode_round_trip) {
  cpns_credential *c = make_cred(), *d = sodium_malloc(sizeof(*d));
  uint8_t buf[CPNS_CREDENTIAL_ENCODED_MAX];
  size_t n;
  ck_assert_int_eq(cpns_crypto_credential_encode(buf, sizeof(buf), &n, c), 0);
  ck_assert_uint_eq(n, 96);
  ck_assert_mem_eq(buf, "CPCR\x01\x01\x00\x00\x00\x00\x00\x01\x00\x00\x00\x40", 16);
  ck_assert_int_eq(cpns_crypto_credential_decode(d, buf, n), 0);
  ck_assert_mem_eq(d, c, sizeof(*c));
  ck_assert_int_eq(cpns_crypto_credential_encode(buf, 95, &n, c), CPNS_ERR_BUFFER_TOO_SMALL);
  c->kdf.ops_limit = 0;
  ck_assert_int_eq(cpns_crypto_credential_encode(buf, sizeof(buf), &n, c), CPNS_ERR_ENCODE);
  ck_assert_int_eq(cpns_crypto_credential_encode(buf, sizeof(buf), &n, NULL),
                   CPNS_ERR_INVALID_ARGUMENT);
  sodium_free(c);
  sodium_free(d);
}
END_TEST

START_TEST(test_credential_decode_rejects_malformed) {
  cpns_credential *c = make_cred(), d;
  uint8_t buf[CPNS_CREDENTIAL_ENCODED_MAX + 1], bad[sizeof(buf)];
  size_t n, i;
  /* Offsets of doc/formats.md and a value each that must be refused. */
  static const struct {
    size_t off;
    uint8_t val;
  } breaks[] = {
      {0, 'X'},   {3, 'S'}, {4, 2},    {4, 0},  {5, 2},
      {6, 1},     {7, 1},   {8, 0x80}, {11, 0}, /* opsLimit 0 */
      {12, 0xff},                               /* memLimitKiB far above the module */
      {15, 0x07},                               /* memLimitKiB 7 (others zero below) */
  };
  ck_assert_int_eq(cpns_crypto_credential_encode(buf, sizeof(buf), &n, c), 0);
  for (i = 0; i <= n + 1; i++) {
    if (i != n) {
      ck_assert_int_eq(cpns_crypto_credential_decode(&d, buf, i), CPNS_ERR_RECORD_FORMAT);
    }
  }
  for (i = 0; i < sizeof(breaks) / sizeof(breaks[0]); i++) {
    memcpy(bad, buf, n);
    if (breaks[i].off == 15) {
      bad[12] = bad[13] = bad[14] = 0;
    }
    bad[breaks[i].off] = breaks[i].val;
    memset(&d, 0x77, sizeof(d));
    ck_assert_int_eq(cpns_crypto_credential_decode(&d, bad, n), CPNS_ERR_RECORD_FORMAT);
    ck_assert_uint_eq(d.kdf.ops_limit, 0);
  }
  ck_assert_int_eq(cpns_crypto_credential_decode(NULL, buf, n), CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(cpns_crypto_credential_decode(&d, NULL, n), CPNS_ERR_INVALID_ARGUMENT);
  sodium_free(c);
}
END_TEST

START_TEST(test_fake_salt_definition) {
  uint8_t secret[32], s1[16], s2[16], s3[16], mac[32];
  crypto_auth_hmacsha256_state st;
  memset(secret, 0x21, sizeof(secret));
  ck_assert_int_eq(cpns_crypto_fake_salt(s1, secret, (const uint8_t *)"alice@example.org", 17), 0);
  ck_assert_int_eq(cpns_crypto_fake_salt(s2, secret, (const uint8_t *)"alice@example.org", 17), 0);
  ck_assert_mem_eq(s1, s2, 16);
  crypto_auth_hmacsha256_init(&st, secret, 32);
  crypto_auth_hmacsha256_update(&st, (const uint8_t *)"CPNS Fake Salt", 14);
  crypto_auth_hmacsha256_update(&st, (const uint8_t *)"alice@example.org", 17);
  crypto_auth_hmacsha256_final(&st, mac);
  ck_assert_mem_eq(s1, mac, 16);
  ck_assert_int_eq(cpns_crypto_fake_salt(s3, secret, (const uint8_t *)"bob@example.org", 15), 0);
  ck_assert_mem_ne(s1, s3, 16);
  secret[0] ^= 1;
  ck_assert_int_eq(cpns_crypto_fake_salt(s3, secret, (const uint8_t *)"alice@example.org", 17), 0);
  ck_assert_mem_ne(s1, s3, 16);
  ck_assert_int_eq(cpns_crypto_fake_salt(s3, NULL, (const uint8_t *)"a", 1),
                   CPNS_ERR_INVALID_ARGUMENT);
}
END_TEST

#define ENT "urn:dev:mac:0024befffe804ff1"
#define USR "alice@example.org"

START_TEST(test_eukey_unseal_round_trip) {
  uint8_t mk[32], eukey[32], kid[16], sealed[CPNS_SEALED_EUKEY_LEN], sealed2[72], out[32];
  memset(mk, 1, 32);
  memset(eukey, 2, 32);
  memset(kid, 3, 16);
  ck_assert_int_eq(cpns_crypto_eukey_seal(sealed, eukey, mk, (const uint8_t *)ENT, strlen(ENT),
                                          (const uint8_t *)USR, strlen(USR), kid),
                   0);
  ck_assert_int_eq(cpns_crypto_eukey_unseal(out, sealed, mk, (const uint8_t *)ENT, strlen(ENT),
                                            (const uint8_t *)USR, strlen(USR), kid),
                   0);
  ck_assert_mem_eq(out, eukey, 32);
  /* Fresh nonce every time. */
  ck_assert_int_eq(cpns_crypto_eukey_seal(sealed2, eukey, mk, (const uint8_t *)ENT, strlen(ENT),
                                          (const uint8_t *)USR, strlen(USR), kid),
                   0);
  ck_assert_mem_ne(sealed, sealed2, 24);
}
END_TEST

START_TEST(test_eukey_unseal_rejects_wrong_binding) {
  uint8_t mk[32], eukey[32], kid[16], sealed[CPNS_SEALED_EUKEY_LEN], out[32], zero[32] = {0};
  memset(mk, 1, 32);
  memset(eukey, 2, 32);
  memset(kid, 3, 16);
  ck_assert_int_eq(cpns_crypto_eukey_seal(sealed, eukey, mk, (const uint8_t *)"ab", 2,
                                          (const uint8_t *)"c", 1, kid),
                   0);
  /* The length prefixes keep ("ab","c") apart from ("a","bc"). */
  ck_assert_int_eq(cpns_crypto_eukey_unseal(out, sealed, mk, (const uint8_t *)"a", 1,
                                            (const uint8_t *)"bc", 2, kid),
                   CPNS_ERR_DECRYPT);
  ck_assert_mem_eq(out, zero, 32);
  ck_assert_int_eq(cpns_crypto_eukey_unseal(out, sealed, mk, (const uint8_t *)"ab", 2,
                                            (const uint8_t *)"d", 1, kid),
                   CPNS_ERR_DECRYPT);
  kid[0] ^= 1;
  ck_assert_int_eq(cpns_crypto_eukey_unseal(out, sealed, mk, (const uint8_t *)"ab", 2,
                                            (const uint8_t *)"c", 1, kid),
                   CPNS_ERR_DECRYPT);
  kid[0] ^= 1;
  mk[0] ^= 1;
  ck_assert_int_eq(cpns_crypto_eukey_unseal(out, sealed, mk, (const uint8_t *)"ab", 2,
                                            (const uint8_t *)"c", 1, kid),
                   CPNS_ERR_DECRYPT);
  mk[0] ^= 1;
  sealed[30] ^= 1;
  ck_assert_int_eq(cpns_crypto_eukey_unseal(out, sealed, mk, (const uint8_t *)"ab", 2,
                                            (const uint8_t *)"c", 1, kid),
                   CPNS_ERR_DECRYPT);
  sealed[30] ^= 1;
  ck_assert_int_eq(cpns_crypto_eukey_unseal(out, sealed, mk, (const uint8_t *)"ab", 2,
                                            (const uint8_t *)"c", 1, kid),
                   0);
  ck_assert_int_eq(cpns_crypto_eukey_seal(sealed, eukey, mk, (const uint8_t *)"", 0,
                                          (const uint8_t *)"c", 1, kid),
                   CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(cpns_crypto_eukey_unseal(out, sealed, mk, (const uint8_t *)"ab", 256,
                                            (const uint8_t *)"c", 1, kid),
                   CPNS_ERR_INVALID_ARGUMENT);
}
END_TEST

/* 1 iff needle occurs in hay. */
static int contains(const uint8_t *hay, size_t hay_len, const uint8_t *needle, size_t len) {
  for (size_t i = 0; i + len <= hay_len; i++) {
    if (memcmp(hay + i, needle, len) == 0) {
      return 1;
    }
  }
  return 0;
}

/* A sealed record's key, independent of the EUKey master key. */
static void record_key(uint8_t key[CPNS_CREDENTIAL_SEAL_KEY_LEN]) {
  uint8_t mk[CPNS_MASTER_KEY_LEN];
  memset(mk, 1, sizeof(mk));
  ck_assert_int_eq(cpns_crypto_credential_seal_key(key, mk), 0);
}

START_TEST(test_credential_seal_key_definition) {
  uint8_t mk[32], key[32], mac[32];
  memset(mk, 1, sizeof(mk));
  ck_assert_int_eq(cpns_crypto_credential_seal_key(key, mk), 0);
  crypto_auth_hmacsha256(mac, (const uint8_t *)"CPNS Credential Seal Key", 24, mk);
  ck_assert_mem_eq(key, mac, 32);
  ck_assert_mem_ne(key, mk, 32);
  ck_assert_int_eq(cpns_crypto_credential_seal_key(key, NULL), CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(cpns_crypto_credential_seal_key(NULL, mk), CPNS_ERR_INVALID_ARGUMENT);
}
END_TEST

START_TEST(test_credential_unseal_round_trip) {
  cpns_credential *c = make_cred(), *d = sodium_malloc(sizeof(*d));
  uint8_t key[32], sealed[CPNS_SEALED_CREDENTIAL_LEN], sealed2[CPNS_SEALED_CREDENTIAL_LEN];
  cpns_kdf_params kdf;
  record_key(key);
  ck_assert_int_eq(cpns_crypto_credential_seal(sealed, c, key, (const uint8_t *)USR, strlen(USR)),
                   0);
  ck_assert_int_eq(cpns_crypto_credential_unseal(d, sealed, sizeof(sealed), key,
                                                 (const uint8_t *)USR, strlen(USR)),
                   0);
  ck_assert_mem_eq(d, c, sizeof(*c));
  /* Neither secret appears in the sealed octets. */
  ck_assert(!contains(sealed, sizeof(sealed), c->stored_key, CPNS_STORED_KEY_LEN));
  ck_assert(!contains(sealed, sizeof(sealed), c->server_key, CPNS_SERVER_KEY_LEN));
  /* The clear header gives the parameters without the key. */
  ck_assert_int_eq(cpns_crypto_credential_sealed_kdf(&kdf, sealed, sizeof(sealed)), 0);
  ck_assert_mem_eq(&kdf, &c->kdf, sizeof(kdf));
  /* Fresh nonce every time. */
  ck_assert_int_eq(cpns_crypto_credential_seal(sealed2, c, key, (const uint8_t *)USR, strlen(USR)),
                   0);
  ck_assert_mem_eq(sealed, sealed2, 32);
  ck_assert_mem_ne(sealed + 32, sealed2 + 32, 24);
  sodium_free(c);
  sodium_free(d);
}
END_TEST

START_TEST(test_credential_unseal_rejects) {
  cpns_credential *c = make_cred(), *d = sodium_malloc(sizeof(*d));
  uint8_t key[32], sealed[CPNS_SEALED_CREDENTIAL_LEN + 1], zero[sizeof(*d)];
  const uint8_t *u = (const uint8_t *)USR;
  size_t ulen = strlen(USR), i;
  cpns_kdf_params kdf;
  memset(zero, 0, sizeof(zero));
  record_key(key);
  ck_assert_int_eq(cpns_crypto_credential_seal(sealed, c, key, u, ulen), 0);
  /* Wrong key. */
  key[0] ^= 1;
  memset(d, 0x77, sizeof(*d));
  ck_assert_int_eq(
      cpns_crypto_credential_unseal(d, sealed, CPNS_SEALED_CREDENTIAL_LEN, key, u, ulen),
      CPNS_ERR_DECRYPT);
  ck_assert_mem_eq(d, zero, sizeof(*d));
  key[0] ^= 1;
  /* Another user's row. */
  ck_assert_int_eq(cpns_crypto_credential_unseal(d, sealed, CPNS_SEALED_CREDENTIAL_LEN, key,
                                                 (const uint8_t *)"bob@example.org", 15),
                   CPNS_ERR_DECRYPT);
  ck_assert_int_eq(
      cpns_crypto_credential_unseal(d, sealed, CPNS_SEALED_CREDENTIAL_LEN, key, u, ulen - 1),
      CPNS_ERR_DECRYPT);
  /* Every octet matters: header ones fail the format check or the tag. */
  for (i = 0; i < CPNS_SEALED_CREDENTIAL_LEN; i++) {
    sealed[i] ^= 0x01;
    memset(d, 0x77, sizeof(*d));
    int rv = cpns_crypto_credential_unseal(d, sealed, CPNS_SEALED_CREDENTIAL_LEN, key, u, ulen);
    ck_assert_msg(rv == CPNS_ERR_DECRYPT || (i < 32 && rv == CPNS_ERR_RECORD_FORMAT),
                  "octet %zu: %d", i, rv);
    ck_assert_mem_eq(d, zero, sizeof(*d));
    sealed[i] ^= 0x01;
  }
  /* The KDF parameters are authenticated: a raised opsLimit does not open. */
  sealed[11] = 2;
  ck_assert_int_eq(
      cpns_crypto_credential_unseal(d, sealed, CPNS_SEALED_CREDENTIAL_LEN, key, u, ulen),
      CPNS_ERR_DECRYPT);
  sealed[11] = 1;
  /* Truncated, extended, empty. */
  for (i = 0; i <= CPNS_SEALED_CREDENTIAL_LEN + 1; i++) {
    if (i != CPNS_SEALED_CREDENTIAL_LEN) {
      ck_assert_int_eq(cpns_crypto_credential_unseal(d, sealed, i, key, u, ulen),
                       CPNS_ERR_RECORD_FORMAT);
      ck_assert_int_eq(cpns_crypto_credential_sealed_kdf(&kdf, sealed, i), CPNS_ERR_RECORD_FORMAT);
    }
  }
  /* A plain (unsealed) record is not a sealed one. */
  uint8_t plain[CPNS_CREDENTIAL_ENCODED_MAX];
  size_t n;
  ck_assert_int_eq(cpns_crypto_credential_encode(plain, sizeof(plain), &n, c), 0);
  ck_assert_int_eq(cpns_crypto_credential_unseal(d, plain, n, key, u, ulen),
                   CPNS_ERR_RECORD_FORMAT);
  /* Still intact after all that. */
  ck_assert_int_eq(
      cpns_crypto_credential_unseal(d, sealed, CPNS_SEALED_CREDENTIAL_LEN, key, u, ulen), 0);
  ck_assert_mem_eq(d, c, sizeof(*c));
  /* Arguments. */
  ck_assert_int_eq(
      cpns_crypto_credential_unseal(NULL, sealed, CPNS_SEALED_CREDENTIAL_LEN, key, u, ulen),
      CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(cpns_crypto_credential_unseal(d, NULL, 1, key, u, ulen),
                   CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(
      cpns_crypto_credential_unseal(d, sealed, CPNS_SEALED_CREDENTIAL_LEN, NULL, u, ulen),
      CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(cpns_crypto_credential_unseal(d, sealed, CPNS_SEALED_CREDENTIAL_LEN, key, u, 0),
                   CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(
      cpns_crypto_credential_unseal(d, sealed, CPNS_SEALED_CREDENTIAL_LEN, key, u, 256),
      CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(cpns_crypto_credential_seal(sealed, c, key, u, 0), CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(cpns_crypto_credential_seal(sealed, c, key, NULL, 1), CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(cpns_crypto_credential_seal(sealed, NULL, key, u, ulen),
                   CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(cpns_crypto_credential_sealed_kdf(NULL, sealed, CPNS_SEALED_CREDENTIAL_LEN),
                   CPNS_ERR_INVALID_ARGUMENT);
  c->kdf.ops_limit = 0;
  ck_assert_int_eq(cpns_crypto_credential_seal(sealed, c, key, u, ulen), CPNS_ERR_ENCODE);
  sodium_free(c);
  sodium_free(d);
}
END_TEST

START_TEST(test_random_fills) {
  uint8_t a[32] = {0}, b[32] = {0};
  cpns_crypto_random(a, sizeof(a));
  cpns_crypto_random(b, sizeof(b));
  ck_assert_mem_ne(a, b, 32);
  cpns_crypto_random(NULL, 0);
}
END_TEST

static Suite *crypto_suite(void) {
  Suite *s = suite_create("crypto");
  TCase *tc = tcase_create("core");
  tcase_add_checked_fixture(tc, setup, NULL);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_salted_password_reference_cli);
  tcase_add_test(tc, test_salted_password_rejects_bad_params);
  tcase_add_test(tc, test_salted_password_empty_password);
  tcase_add_test(tc, test_client_key_matches_definition);
  tcase_add_test(tc, test_wrap_key_matches_definition);
  tcase_add_test(tc, test_client_proof_verify_accepts);
  tcase_add_test(tc, test_client_proof_verify_rejects_tampered);
  tcase_add_test(tc, test_server_signature_verify_rejects_tampered);
  tcase_add_test(tc, test_eukey_unwrap_round_trip);
  tcase_add_test(tc, test_eukey_unwrap_rejects_tampered);
  tcase_add_test(tc, test_eukey_wrap_rejects_oversized_auth_message);
  tcase_add_test(tc, test_kdf_check_gateway_bounds);
  tcase_add_test(tc, test_kdf_check_gateway_minimums);
  tcase_add_test(tc, test_kdf_check_enrollment_minimums);
  tcase_add_test(tc, test_credential_create_derives_keys);
  tcase_add_test(tc, test_credential_create_defaults);
  tcase_add_test(tc, test_credential_create_rejects_params);
  tcase_add_test(tc, test_credential_decode_round_trip);
  tcase_add_test(tc, test_credential_decode_rejects_malformed);
  tcase_add_test(tc, test_fake_salt_definition);
  tcase_add_test(tc, test_eukey_unseal_round_trip);
  tcase_add_test(tc, test_eukey_unseal_rejects_wrong_binding);
  tcase_add_test(tc, test_credential_seal_key_definition);
  tcase_add_test(tc, test_credential_unseal_round_trip);
  tcase_add_test(tc, test_credential_unseal_rejects);
  tcase_add_test(tc, test_random_fills);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(crypto_suite());
  int failed;
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? 0 : 1;
}
