/*
 * Check suite of the suite 2 primitives (crypto/suite2_prims.h): each one
 * against the published vectors of its RFC, plus the refusals.
 */
#include <check.h>
#include <string.h>

#include <sodium.h>

#include <cpns/common.h>

#include "crypto/suite2_prims.h"

static void setup(void) { ck_assert_int_eq(cpns_init(), 0); }

static void hex(uint8_t *out, const char *h, size_t len) {
  size_t n;
  ck_assert_int_eq(sodium_hex2bin(out, len, h, strlen(h), NULL, &n, NULL), 0);
  ck_assert_uint_eq(n, len);
}

/* RFC 9380 Appendix K.3, expand_message_xmd(SHA-512). */
static const char xmd_dst[] = "QUUX-V01-CS02-with-expander-SHA512-256";

/* msg of a K.3 vector: "q128_" and "a512_" stand for themselves followed by 128 'q' / 512 'a'. */
static size_t xmd_msg(uint8_t *msg, const char *name) {
  size_t len = strlen(name);
  memcpy(msg, name, len);
  if (strcmp(name, "q128_") == 0) {
    memset(msg + len, 'q', 128);
    len += 128;
  } else if (strcmp(name, "a512_") == 0) {
    memset(msg + len, 'a', 512);
    len += 512;
  }
  return len;
}

static const struct {
  const char *msg;
  size_t len;
  const char *uniform_bytes;
} xmd_vectors[] = {
    {"", 0x20, "6b9a7312411d92f921c6f68ca0b6380730a1a4d982c507211a90964c394179ba"},
    {"abc", 0x20, "0da749f12fbe5483eb066a5f595055679b976e93abe9be6f0f6318bce7aca8dc"},
    {"abcdef0123456789", 0x20, "087e45a86e2939ee8b91100af1583c4938e0f5fc6c9db4b107b83346bc967f58"},
    {"q128_", 0x20, "7336234ee9983902440f6bc35b348352013becd88938d2afec44311caf8356b3"},
    {"a512_", 0x20, "57b5f7e766d5be68a6bfe1768e3c2b7f1228b3e4b3134956dd73a59b954c66f4"},
    {"", 0x80,
     "41b037d1734a5f8df225dd8c7de38f851efdb45c372887be655212d07251b921b052b62eaed99b46"
     "f72f2ef4cc96bfaf254ebbbec091e1a3b9e4fb5e5b619d2e0c5414800a1d882b62bb5cd1778f098b"
     "8eb6cb399d5d9d18f5d5842cf5d13d7eb00a7cff859b605da678b318bd0e65ebff70bec88c753b15"
     "9a805d2c89c55961"},
    {"abc", 0x80,
     "7f1dddd13c08b543f2e2037b14cefb255b44c83cc397c1786d975653e36a6b11bdd7732d8b38adb4"
     "a0edc26a0cef4bb45217135456e58fbca1703cd6032cb1347ee720b87972d63fbf232587043ed290"
     "1bce7f22610c0419751c065922b488431851041310ad659e4b23520e1772ab29dcdeb2002222a363"
     "f0c2b1c972b3efe1"},
    {"abcdef0123456789", 0x80,
     "3f721f208e6199fe903545abc26c837ce59ac6fa45733f1baaf0222f8b7acb0424814fcb5eecf6c1"
     "d38f06e9d0a6ccfbf85ae612ab8735dfdf9ce84c372a77c8f9e1c1e952c3a61b7567dd0693016af5"
     "1d2745822663d0c2367e3f4f0bed827feecc2aaf98c949b5ed0d35c3f1023d64ad1407924288d366"
     "ea159f46287e61ac"},
    {"q128_", 0x80,
     "b799b045a58c8d2b4334cf54b78260b45eec544f9f2fb5bd12fb603eaee70db7317bf807c406e263"
     "73922b7b8920fa29142703dd52bdf280084fb7ef69da78afdf80b3586395b433dc66cde048a258e4"
     "76a561e9deba7060af40adf30c64249ca7ddea79806ee5beb9a1422949471d267b21bc88e688e401"
     "4087a0b592b695ed"},
    {"a512_", 0x80,
     "05b0bfef265dcee87654372777b7c44177e2ae4c13a27f103340d9cd11c86cb2426ffcad5bd96408"
     "0c2aee97f03be1ca18e30a1f14e27bc11ebbd650f305269cc9fb1db08bf90bfc79b42a952b46daf8"
     "10359e7bc36452684784a64952c343c52e5124cd1f71d474d5197fefc571a92929c9084ffe1112cf"
     "5eea5192ebff330b"},
};

START_TEST(test_xmd_sha512_rfc9380_k3) {
  uint8_t msg[5 + 512], want[0x80], got[0x80];
  size_t msglen, len = xmd_vectors[_i].len;

  msglen = xmd_msg(msg, xmd_vectors[_i].msg);
  hex(want, xmd_vectors[_i].uniform_bytes, len);
  ck_assert_int_eq(cpnsi_expand_message_xmd_sha512(got, len, msg, msglen, (const uint8_t *)xmd_dst,
                                                   strlen(xmd_dst)),
                   0);
  ck_assert_mem_eq(got, want, len);
}
END_TEST

START_TEST(test_xmd_sha512_parts_equal_whole) {
  /* The message split anywhere, even into empty parts, hashes as the whole. */
  uint8_t msg[5 + 512], want[0x80], got[0x80];
  size_t msglen = xmd_msg(msg, "a512_"), cut;
  cpnsi_span parts[3];

  hex(want, xmd_vectors[9].uniform_bytes, sizeof(want));
  for (cut = 0; cut <= msglen; cut += 37) {
    parts[0].p = msg;
    parts[0].len = cut;
    parts[1].p = NULL;
    parts[1].len = 0;
    parts[2].p = msg + cut;
    parts[2].len = msglen - cut;
    ck_assert_int_eq(cpnsi_expand_message_xmd_sha512_parts(
                         got, sizeof(got), parts, 3, (const uint8_t *)xmd_dst, strlen(xmd_dst)),
                     0);
    ck_assert_mem_eq(got, want, sizeof(got));
  }
}
END_TEST

START_TEST(test_xmd_sha512_bounds) {
  static uint8_t out[CPNSI_XMD_SHA512_MAX_LEN + 1];
  uint8_t dst[CPNSI_DST_MAX_LEN + 1], prefix[64];

  memset(dst, 'D', sizeof(dst));
  /* ell = 255 is the largest allowed; its first block is the one of any shorter output. */
  ck_assert_int_eq(cpnsi_expand_message_xmd_sha512(out, CPNSI_XMD_SHA512_MAX_LEN,
                                                   (const uint8_t *)"m", 1, dst, 10),
                   0);
  ck_assert_int_eq(cpnsi_expand_message_xmd_sha512(prefix, 64, (const uint8_t *)"m", 1, dst, 10),
                   0);
  /* len_in_bytes is hashed into b_0: outputs of different lengths differ from the start. */
  ck_assert(memcmp(out, prefix, 64) != 0);
  ck_assert(!sodium_is_zero(out + CPNSI_XMD_SHA512_MAX_LEN - 64, 64));
  ck_assert_int_eq(cpnsi_expand_message_xmd_sha512(out, CPNSI_XMD_SHA512_MAX_LEN + 1,
                                                   (const uint8_t *)"m", 1, dst, 10),
                   CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(cpnsi_expand_message_xmd_sha512(out, 0, (const uint8_t *)"m", 1, dst, 10),
                   CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(
      cpnsi_expand_message_xmd_sha512(out, 32, (const uint8_t *)"m", 1, dst, CPNSI_DST_MAX_LEN), 0);
  memset(out, 0xaa, 32);
  ck_assert_int_eq(
      cpnsi_expand_message_xmd_sha512(out, 32, (const uint8_t *)"m", 1, dst, CPNSI_DST_MAX_LEN + 1),
      CPNS_ERR_INVALID_ARGUMENT);
  ck_assert(sodium_is_zero(out, 32));
  ck_assert_int_eq(cpnsi_expand_message_xmd_sha512(out, 32, (const uint8_t *)"m", 1, dst, 0),
                   CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(cpnsi_expand_message_xmd_sha512(out, 32, NULL, 1, dst, 10),
                   CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(cpnsi_expand_message_xmd_sha512(out, 32, NULL, 0, dst, 10), 0);
}
END_TEST

/* RFC 9496 Appendix A.3: 64-octet inputs of the element derivation and their encodings. */
static const struct {
  const char *in;
  const char *out;
} ristretto_from_hash_vectors[] = {
    {"5d1be09e3d0c82fc538112490e35701979d99e06ca3e2b5b54bffe8b4dc772c1"
     "4d98b696a1bbfb5ca32c436cc61c16563790306c79eaca7705668b47dffe5bb6",
     "3066f82a1a747d45120d1740f14358531a8f04bbffe6a819f86dfe50f44a0a46"},
    {"f116b34b8f17ceb56e8732a60d913dd10cce47a6d53bee9204be8b44f6678b27"
     "0102a56902e2488c46120e9276cfe54638286b9e4b3cdb470b542d46c2068d38",
     "f26e5b6f7d362d2d2a94c5d0e7602cb4773c95a2e5c31a64f133189fa76ed61b"},
    {"8422e1bbdaab52938b81fd602effb6f89110e1e57208ad12d9ad767e2e25510c"
     "27140775f9337088b982d83d7fcf0b2fa1edffe51952cbe7365e95c86eaf325c",
     "006ccd2a9e6867e6a2c5cea83d3302cc9de128dd2a9a57dd8ee7b9d7ffe02826"},
    {"ac22415129b61427bf464e17baee8db65940c233b98afce8d17c57beeb7876c2"
     "150d15af1cb1fb824bbd14955f2b57d08d388aab431a391cfc33d5bafb5dbbaf",
     "f8f0c87cf237953c5890aec3998169005dae3eca1fbb04548c635953c817f92a"},
    {"165d697a1ef3d5cf3c38565beefcf88c0f282b8e7dbd28544c483432f1cec767"
     "5debea8ebb4e5fe7d6f6e5db15f15587ac4d4d4a1de7191e0c1ca6664abcc413",
     "ae81e7dedf20a497e10c304a765c1767a42d6e06029758d2d7e8ef7cc4c41179"},
    {"a836e6c9a9ca9f1e8d486273ad56a78c70cf18f0ce10abb1c7172ddd605d7fd2"
     "979854f47ae1ccf204a33102095b4200e5befc0465accc263175485f0e17ea5c",
     "e2705652ff9f5e44d3e841bf1c251cf7dddb77d140870d1ab2ed64f1a9ce8628"},
    {"2cdc11eaeb95daf01189417cdddbf95952993aa9cb9c640eb5058d09702c7462"
     "2c9965a697a3b345ec24ee56335b556e677b30e6f90ac77d781064f866a3c982",
     "80bd07262511cdde4863f8a7434cef696750681cb9510eea557088f76d9e5065"},
    /* The last four inputs all give the same encoding. */
    {"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
     "1200000000000000000000000000000000000000000000000000000000000000",
     "304282791023b73128d277bdcb5c7746ef2eac08dde9f2983379cb8e5ef0517f"},
    {"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"
     "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
     "304282791023b73128d277bdcb5c7746ef2eac08dde9f2983379cb8e5ef0517f"},
    {"0000000000000000000000000000000000000000000000000000000000000080"
     "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
     "304282791023b73128d277bdcb5c7746ef2eac08dde9f2983379cb8e5ef0517f"},
    {"0000000000000000000000000000000000000000000000000000000000000000"
     "1200000000000000000000000000000000000000000000000000000000000080",
     "304282791023b73128d277bdcb5c7746ef2eac08dde9f2983379cb8e5ef0517f"},
};

START_TEST(test_ristretto255_from_hash_rfc9496_a3) {
  uint8_t in[64], want[32], got[32];

  hex(in, ristretto_from_hash_vectors[_i].in, sizeof(in));
  hex(want, ristretto_from_hash_vectors[_i].out, sizeof(want));
  crypto_core_ristretto255_from_hash(got, in);
  ck_assert_mem_eq(got, want, sizeof(got));
}
END_TEST

START_TEST(test_hash_to_group_and_scalar_definitions) {
  /* HashToGroup = from_hash(xmd(msg, DST, 64)); HashToScalar = reduce(xmd(msg, DST, 64)). */
  static const uint8_t dst[] = "HashToGroup-OPRFV1-\x00-ristretto255-SHA512";
  uint8_t msg[5 + 512], uniform[64], want[32], got[32];
  size_t msglen = xmd_msg(msg, "q128_");
  cpnsi_span part = {msg, msglen};

  ck_assert_int_eq(cpnsi_expand_message_xmd_sha512(uniform, 64, msg, msglen, dst, sizeof(dst) - 1),
                   0);
  crypto_core_ristretto255_from_hash(want, uniform);
  ck_assert_int_eq(cpnsi_hash_to_ristretto255(got, &part, 1, dst, sizeof(dst) - 1), 0);
  ck_assert_mem_eq(got, want, 32);
  ck_assert_int_eq(crypto_core_ristretto255_is_valid_point(got), 1);
  crypto_core_ristretto255_scalar_reduce(want, uniform);
  ck_assert_int_eq(cpnsi_hash_to_scalar_ristretto255(got, &part, 1, dst, sizeof(dst) - 1), 0);
  ck_assert_mem_eq(got, want, 32);
  memset(got, 0xaa, sizeof(got));
  ck_assert_int_eq(cpnsi_hash_to_ristretto255(got, &part, 1, dst, 0), CPNS_ERR_INVALID_ARGUMENT);
  ck_assert(sodium_is_zero(got, sizeof(got)));
}
END_TEST

/*
 * HMAC-SHA-512 straight from its definition (RFC 2104, B = 128):
 * H((K ^ opad) || H((K ^ ipad) || m)), with one-shot SHA-512 only, so the
 * HKDF checks below do not lean on crypto_auth_hmacsha512_* themselves.
 */
static void hmac_sha512_by_definition(uint8_t out[64], const uint8_t *key, size_t keylen,
                                      const uint8_t *m, size_t mlen) {
  static uint8_t buf[128 + 64 + 64 + 1 + 1024];
  uint8_t k[128], inner[64];
  size_t i;

  ck_assert_uint_le(mlen, sizeof(buf) - 128);
  memset(k, 0, sizeof(k));
  if (keylen > sizeof(k)) {
    crypto_hash_sha512(k, key, keylen);
  } else if (keylen > 0) {
    memcpy(k, key, keylen);
  }
  for (i = 0; i < 128; i++) {
    buf[i] = k[i] ^ 0x36;
  }
  if (mlen > 0) {
    memcpy(buf + 128, m, mlen);
  }
  crypto_hash_sha512(inner, buf, 128 + mlen);
  for (i = 0; i < 128; i++) {
    buf[i] = k[i] ^ 0x5c;
  }
  memcpy(buf + 128, inner, 64);
  crypto_hash_sha512(out, buf, 128 + 64);
}

/* RFC 5869 §2.3 by its definition: T(i) = HMAC(PRK, T(i-1) || info || i). */
static void hkdf_expand_by_definition(uint8_t *out, size_t outlen, const uint8_t prk[64],
                                      const uint8_t *info, size_t infolen) {
  uint8_t m[64 + 1024 + 1], t[64];
  size_t off = 0, tlen = 0, mlen;
  unsigned i;

  ck_assert_uint_le(infolen, 1024);
  for (i = 1; off < outlen; i++) {
    memcpy(m, t, tlen);
    if (infolen > 0) {
      memcpy(m + tlen, info, infolen);
    }
    m[tlen + infolen] = (uint8_t)i;
    mlen = tlen + infolen + 1;
    hmac_sha512_by_definition(t, prk, 64, m, mlen);
    tlen = 64;
    memcpy(out + off, t, outlen - off < 64 ? outlen - off : 64);
    off += outlen - off < 64 ? outlen - off : 64;
  }
}

START_TEST(test_hkdf_sha512_extract_definition) {
  static const uint8_t zeros[64];
  uint8_t salt[200], ikm[80], want[64], got[64];
  size_t saltlens[] = {1, 13, 64, 127, 128, 129, 200}, i;

  for (i = 0; i < sizeof(salt); i++) {
    salt[i] = (uint8_t)(0x60 + i);
  }
  memset(ikm, 0x0b, sizeof(ikm));
  for (i = 0; i < sizeof(saltlens) / sizeof(saltlens[0]); i++) {
    hmac_sha512_by_definition(want, salt, saltlens[i], ikm, sizeof(ikm));
    ck_assert_int_eq(cpnsi_hkdf_sha512_extract(got, salt, saltlens[i], ikm, sizeof(ikm)), 0);
    ck_assert_mem_eq(got, want, 64);
  }
  /* RFC 5869 §2.2: no salt means HashLen zeros. */
  hmac_sha512_by_definition(want, zeros, sizeof(zeros), ikm, 22);
  ck_assert_int_eq(cpnsi_hkdf_sha512_extract(got, NULL, 0, ikm, 22), 0);
  ck_assert_mem_eq(got, want, 64);
  hmac_sha512_by_definition(want, zeros, sizeof(zeros), NULL, 0);
  ck_assert_int_eq(cpnsi_hkdf_sha512_extract(got, NULL, 0, NULL, 0), 0);
  ck_assert_mem_eq(got, want, 64);
  ck_assert_int_eq(cpnsi_hkdf_sha512_extract(got, NULL, 3, ikm, 22), CPNS_ERR_INVALID_ARGUMENT);
  ck_assert(sodium_is_zero(got, sizeof(got)));
  ck_assert_int_eq(cpnsi_hkdf_sha512_extract(got, salt, 3, NULL, 22), CPNS_ERR_INVALID_ARGUMENT);
}
END_TEST

START_TEST(test_hkdf_sha512_expand_definition) {
  static uint8_t want[CPNSI_HKDF_SHA512_MAX_LEN], got[CPNSI_HKDF_SHA512_MAX_LEN + 1];
  static const size_t lens[] = {1,
                                42,
                                63,
                                64,
                                65,
                                127,
                                128,
                                129,
                                4096,
                                CPNSI_HKDF_SHA512_MAX_LEN - 1,
                                CPNSI_HKDF_SHA512_MAX_LEN};
  uint8_t prk[64], info[300];
  size_t i, infolen;

  for (i = 0; i < sizeof(prk); i++) {
    prk[i] = (uint8_t)(3 * i + 1);
  }
  memset(info, 0xf0, sizeof(info));
  for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
    infolen = (i * 37) % sizeof(info); /* empty info first, then various lengths */
    hkdf_expand_by_definition(want, lens[i], prk, info, infolen);
    memset(got, 0, sizeof(got));
    ck_assert_int_eq(cpnsi_hkdf_sha512_expand(got, lens[i], prk, info, infolen), 0);
    ck_assert_mem_eq(got, want, lens[i]);
    ck_assert_uint_eq(got[lens[i]], 0); /* nothing written past L */
  }
  /* L = 0 and L > 255 * HashLen are refused. */
  ck_assert_int_eq(cpnsi_hkdf_sha512_expand(got, 0, prk, info, 3), CPNS_ERR_INVALID_ARGUMENT);
  memset(got, 0xaa, sizeof(got));
  ck_assert_int_eq(cpnsi_hkdf_sha512_expand(got, CPNSI_HKDF_SHA512_MAX_LEN + 1, prk, info, 3),
                   CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_uint_eq(got[0], 0xaa); /* an impossible length writes nothing */
  ck_assert_int_eq(cpnsi_hkdf_sha512_expand(got, 64, prk, NULL, 3), CPNS_ERR_INVALID_ARGUMENT);
  ck_assert(sodium_is_zero(got, 64));
  ck_assert_int_eq(cpnsi_hkdf_sha512_expand(got, 64, NULL, info, 3), CPNS_ERR_INVALID_ARGUMENT);
}
END_TEST

/* RFC 9497 Appendix A.1.1, OPRF mode, ristretto255-SHA512. */
static const char oprf_seed[] = "a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3";
static const char oprf_key_info[] = "74657374206b6579"; /* "test key" */
static const char oprf_sk[] = "5ebcea5ee37023ccb9fc2d2019f9d7737be85591ae8652ffa9ef0f4d37063b0e";

static const struct {
  const char *input;
  const char *blind;
  const char *blinded_element;
  const char *evaluation_element;
  const char *output;
} oprf_vectors[] = {
    /* Test Vector 1, Batch Size 1 */
    {"00", "64d37aed22a27f5191de1c1d69fadb899d8862b58eb4220029e036ec4c1f6706",
     "609a0ae68c15a3cf6903766461307e5c8bb2f95e7e6550e1ffa2dc99e412803c",
     "7ec6578ae5120958eb2db1745758ff379e77cb64fe77b0b2d8cc917ea0869c7e",
     "527759c3d9366f277d8c6020418d96bb393ba2afb20ff90df23fb7708264e2f3"
     "ab9135e3bd69955851de4b1f9fe8a0973396719b7912ba9ee8aa7d0b5e24bcf6"},
    /* Test Vector 2, Batch Size 1 */
    {"5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a",
     "64d37aed22a27f5191de1c1d69fadb899d8862b58eb4220029e036ec4c1f6706",
     "da27ef466870f5f15296299850aa088629945a17d1f5b7f5ff043f76b3c06418",
     "b4cbf5a4f1eeda5a63ce7b77c7d23f461db3fcab0dd28e4e17cecb5c90d02c25",
     "f4a74c9c592497375e796aa837e907b1a045d34306a749db9f34221f7e750cb4"
     "f2a6413a6bf6fa5e19ba6348eb673934a722a7ede2e7621306d18951e7cf2c73"},
};

START_TEST(test_oprf_derive_key_pair_rfc9497_a11) {
  uint8_t seed[32], info[8], want_sk[32], sk[32], pk[32], want_pk[32];

  hex(seed, oprf_seed, sizeof(seed));
  hex(info, oprf_key_info, sizeof(info));
  hex(want_sk, oprf_sk, sizeof(want_sk));
  ck_assert_int_eq(cpnsi_oprf_derive_key_pair(sk, pk, seed, info, sizeof(info)), 0);
  ck_assert_mem_eq(sk, want_sk, 32);
  ck_assert_int_eq(crypto_scalarmult_ristretto255_base(want_pk, want_sk), 0);
  ck_assert_mem_eq(pk, want_pk, 32);
  ck_assert_int_eq(cpnsi_oprf_derive_key_pair(sk, pk, NULL, info, sizeof(info)),
                   CPNS_ERR_INVALID_ARGUMENT);
  ck_assert(sodium_is_zero(sk, 32) && sodium_is_zero(pk, 32));
  ck_assert_int_eq(cpnsi_oprf_derive_key_pair(sk, pk, seed, NULL, 1), CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(cpnsi_oprf_derive_key_pair(sk, pk, seed, info, CPNSI_OPRF_INPUT_MAX_LEN + 1),
                   CPNS_ERR_INVALID_ARGUMENT);
}
END_TEST

START_TEST(test_oprf_rfc9497_a11) {
  uint8_t input[17], blind_in[32], want_blinded[32], want_evaluated[32], want_out[64];
  uint8_t seed[32], info[8], sk[32], pk[32], blind[32], blinded[32], evaluated[32], out[64];
  size_t inputlen = strlen(oprf_vectors[_i].input) / 2;

  hex(input, oprf_vectors[_i].input, inputlen);
  hex(blind_in, oprf_vectors[_i].blind, 32);
  hex(want_blinded, oprf_vectors[_i].blinded_element, 32);
  hex(want_evaluated, oprf_vectors[_i].evaluation_element, 32);
  hex(want_out, oprf_vectors[_i].output, 64);
  hex(seed, oprf_seed, sizeof(seed));
  hex(info, oprf_key_info, sizeof(info));
  ck_assert_int_eq(cpnsi_oprf_derive_key_pair(sk, pk, seed, info, sizeof(info)), 0);

  ck_assert_int_eq(cpnsi_oprf_blind(blind, blinded, input, inputlen, blind_in), 0);
  ck_assert_mem_eq(blind, blind_in, 32);
  ck_assert_mem_eq(blinded, want_blinded, 32);
  ck_assert_int_eq(cpnsi_oprf_blind_evaluate(evaluated, sk, blinded), 0);
  ck_assert_mem_eq(evaluated, want_evaluated, 32);
  ck_assert_int_eq(cpnsi_oprf_finalize(out, input, inputlen, blind, evaluated), 0);
  ck_assert_mem_eq(out, want_out, 64);

  /* The output does not depend on the blind: a random one gives the same. */
  ck_assert_int_eq(cpnsi_oprf_blind(blind, blinded, input, inputlen, NULL), 0);
  ck_assert(memcmp(blind, blind_in, 32) != 0);
  ck_assert(memcmp(blinded, want_blinded, 32) != 0);
  ck_assert_int_eq(cpnsi_oprf_blind_evaluate(evaluated, sk, blinded), 0);
  ck_assert_int_eq(cpnsi_oprf_finalize(out, input, inputlen, blind, evaluated), 0);
  ck_assert_mem_eq(out, want_out, 64);

  /* Another key gives another output. */
  seed[0] ^= 1;
  ck_assert_int_eq(cpnsi_oprf_derive_key_pair(sk, pk, seed, info, sizeof(info)), 0);
  ck_assert_int_eq(cpnsi_oprf_blind_evaluate(evaluated, sk, blinded), 0);
  ck_assert_int_eq(cpnsi_oprf_finalize(out, input, inputlen, blind, evaluated), 0);
  ck_assert(memcmp(out, want_out, 64) != 0);
}
END_TEST

/* Encodings a peer may send that DeserializeElement must refuse (RFC 9496 §4.3.1, RFC 9497 §4.1).
 */
static const char *const bad_elements[] = {
    /* the identity */
    "0000000000000000000000000000000000000000000000000000000000000000",
    /* non-canonical field element (p) */
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    /* negative field element (s odd) */
    "0100000000000000000000000000000000000000000000000000000000000000",
    /* high bit set */
    "0000000000000000000000000000000000000000000000000000000000000080",
    /* the generator (RFC 9496 A.1) with bit 255 set: libsodium 1.0.18 alone accepts it */
    "e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2df6",
    /* all ones */
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
};

/* Scalars a caller may pass that are not canonical nonzero scalars. */
static const char *const bad_scalars[] = {
    "0000000000000000000000000000000000000000000000000000000000000000",
    /* the group order L */
    "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010",
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff1f",
};

START_TEST(test_oprf_rejects_bad_elements_and_scalars) {
  uint8_t sk[32], good_blind[32], good_element[32], bad[32], out[64], e[32];
  size_t i;

  hex(sk, oprf_sk, 32);
  hex(good_blind, oprf_vectors[0].blind, 32);
  hex(good_element, oprf_vectors[0].evaluation_element, 32);
  for (i = 0; i < sizeof(bad_elements) / sizeof(bad_elements[0]); i++) {
    hex(bad, bad_elements[i], 32);
    memset(e, 0xaa, sizeof(e));
    ck_assert_int_eq(cpnsi_oprf_blind_evaluate(e, sk, bad), CPNS_ERR_INVALID_ARGUMENT);
    ck_assert(sodium_is_zero(e, sizeof(e)));
    memset(out, 0xaa, sizeof(out));
    ck_assert_int_eq(cpnsi_oprf_finalize(out, (const uint8_t *)"x", 1, good_blind, bad),
                     CPNS_ERR_INVALID_ARGUMENT);
    ck_assert(sodium_is_zero(out, sizeof(out)));
  }
  for (i = 0; i < sizeof(bad_scalars) / sizeof(bad_scalars[0]); i++) {
    hex(bad, bad_scalars[i], 32);
    ck_assert_int_eq(cpnsi_oprf_blind_evaluate(e, bad, good_element), CPNS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(cpnsi_oprf_finalize(out, (const uint8_t *)"x", 1, bad, good_element),
                     CPNS_ERR_INVALID_ARGUMENT);
    memset(e, 0xaa, sizeof(e));
    ck_assert_int_eq(cpnsi_oprf_blind(out, e, (const uint8_t *)"x", 1, bad),
                     CPNS_ERR_INVALID_ARGUMENT);
    ck_assert(sodium_is_zero(out, 32) && sodium_is_zero(e, sizeof(e)));
  }
  /* Sanity: the good element and scalar pass, so the refusals above are the bad values'. */
  ck_assert_int_eq(cpnsi_oprf_blind_evaluate(e, sk, good_element), 0);
  ck_assert_int_eq(cpnsi_oprf_finalize(out, (const uint8_t *)"x", 1, good_blind, good_element), 0);
  ck_assert_int_eq(cpnsi_oprf_blind(out, e, NULL, 1, NULL), CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(
      cpnsi_oprf_blind(out, e, (const uint8_t *)"x", CPNSI_OPRF_INPUT_MAX_LEN + 1, NULL),
      CPNS_ERR_INVALID_ARGUMENT);
}
END_TEST

static Suite *suite2_suite(void) {
  Suite *s = suite_create("suite2");
  TCase *tc = tcase_create("prims");

  tcase_add_checked_fixture(tc, setup, NULL);
  tcase_add_loop_test(tc, test_xmd_sha512_rfc9380_k3, 0,
                      (int)(sizeof(xmd_vectors) / sizeof(xmd_vectors[0])));
  tcase_add_test(tc, test_xmd_sha512_parts_equal_whole);
  tcase_add_test(tc, test_xmd_sha512_bounds);
  tcase_add_loop_test(
      tc, test_ristretto255_from_hash_rfc9496_a3, 0,
      (int)(sizeof(ristretto_from_hash_vectors) / sizeof(ristretto_from_hash_vectors[0])));
  tcase_add_test(tc, test_hash_to_group_and_scalar_definitions);
  tcase_add_test(tc, test_hkdf_sha512_extract_definition);
  tcase_add_test(tc, test_hkdf_sha512_expand_definition);
  tcase_add_test(tc, test_oprf_derive_key_pair_rfc9497_a11);
  tcase_add_loop_test(tc, test_oprf_rfc9497_a11, 0,
                      (int)(sizeof(oprf_vectors) / sizeof(oprf_vectors[0])));
  tcase_add_test(tc, test_oprf_rejects_bad_elements_and_scalars);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(suite2_suite());
  int failed;
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? 0 : 1;
}
