/*
 * Check suite of the suite 2 primitives (crypto/suite2_prims.h): each one
 * against the published vectors of its RFC, plus the refusals.
 */
#include <check.h>
#include <string.h>

#include <sodium.h>

#include <cpns/common.h>
#include <cpns/crypto.h>

#include "crypto/opaque.h"
#include "crypto/suite2_prims.h"
#include "tests/ksf_identity.h"

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

/* ---- OPAQUE-3DH (RFC 9807) ---- */

/*
 * RFC 9807 Appendix C, ristretto255 configuration (OPRF
 * ristretto255-SHA512, HKDF-SHA512, HMAC-SHA512, SHA512, KSF Identity,
 * Context "OPAQUE-POC"): every listed value, copied from the RFC text.
 */
typedef struct opaque_vector {
  const char *name;
  const char *context;
  const char *client_identity;
  const char *server_identity;
  const char *oprf_seed;
  const char *credential_identifier;
  const char *password;
  const char *envelope_nonce;
  const char *masking_nonce;
  const char *server_private_key;
  const char *server_public_key;
  const char *server_nonce;
  const char *client_nonce;
  const char *client_keyshare_seed;
  const char *server_keyshare_seed;
  const char *blind_registration;
  const char *blind_login;
  const char *client_private_key;
  const char *masking_key;
  const char *client_public_key;
  const char *auth_key;
  const char *randomized_password;
  const char *envelope;
  const char *handshake_secret;
  const char *server_mac_key;
  const char *client_mac_key;
  const char *oprf_key;
  const char *registration_request;
  const char *registration_response;
  const char *registration_upload;
  const char *ke1;
  const char *ke2;
  const char *ke3;
  const char *export_key;
  const char *session_key;
} opaque_vector;

static const opaque_vector opaque_vectors[] = {
    /* RFC 9807 Appendix C, "OPAQUE-3DH Real Test Vector 1" */
    {
        .name = "OPAQUE-3DH Real Test Vector 1",
        .context = "4f50415155452d504f43",
        .oprf_seed = "f433d0227b0b9dd54f7c4422b600e764e47fb503f1f9a0f0a47c6606b054a7fdc65347f1a08f"
                     "277e22358bbabe26f823fca82c7848e9a75661f4ec5d5c1989ef",
        .credential_identifier = "31323334",
        .password = "436f7272656374486f72736542617474657279537461706c65",
        .envelope_nonce = "ac13171b2f17bc2c74997f0fce1e1f35bec6b91fe2e12dbd323d23ba7a38dfec",
        .masking_nonce = "38fe59af0df2c79f57b8780278f5ae47355fe1f817119041951c80f612fdfc6d",
        .server_private_key = "47451a85372f8b3537e249d7b54188091fb18edde78094b43e2ba42b5eb89f0d",
        .server_public_key = "b2fe7af9f48cc502d016729d2fe25cdd433f2c4bc904660b2a382c9b79df1a78",
        .server_nonce = "71cd9960ecef2fe0d0f7494986fa3d8b2bb01963537e60efb13981e138e3d4a1",
        .client_nonce = "da7e07376d6d6f034cfa9bb537d11b8c6b4238c334333d1f0aebb380cae6a6cc",
        .client_keyshare_seed = "82850a697b42a505f5b68fcdafce8c31f0af2b581f063cf1091933541936304b",
        .server_keyshare_seed = "05a4f54206eef1ba2f615bc0aa285cb22f26d1153b5b40a1e85ff80da12f982f",
        .blind_registration = "76cfbfe758db884bebb33582331ba9f159720ca8784a2a070a265d9c2d6abe01",
        .blind_login = "6ecc102d2e7a7cf49617aad7bbe188556792d4acd60a1a8a8d2b65d4b0790308",
        .client_public_key = "76a845464c68a5d2f7e442436bb1424953b17d3e2e289ccbaccafb57ac5c3675",
        .auth_key = "6cd32316f18d72a9a927a83199fa030663a38ce0c11fbaef82aa90037730494fc555c4d49506"
                    "284516edd1628c27965b7555a4ebfed2223199f6c67966dde822",
        .randomized_password =
            "aac48c25ab036e30750839d31d6e73007344cb1155289fb7d329beb932e9adeea73d5d5c22a0"
            "ce1952f8aba6d66007615cd1698d4ac85ef1fcf150031d1435d9",
        .envelope = "ac13171b2f17bc2c74997f0fce1e1f35bec6b91fe2e12dbd323d23ba7a38dfec634b0f5b9610"
                    "9c198a8027da51854c35bee90d1e1c781806d07d49b76de6a28b8d9e9b6c93b9f8b64d16dddd"
                    "9c5bfb5fea48ee8fd2f75012a8b308605cdd8ba5",
        .handshake_secret =
            "81263cb85a0cfa12450f0f388de4e92291ec4c7c7a0878b624550ff528726332f1298fc6cc82"
            "2a432c89504347c7a2ccd70316ae3da6a15e0399e6db3f7c1b12",
        .server_mac_key =
            "0d36b26cfe38f51f804f0a9361818f32ee1ce2a4e5578653b527184af058d3b2d8075c296fd8"
            "4d24677913d1baa109290cd81a13ed383f9091a3804e65298dfc",
        .client_mac_key =
            "91750adbac54a5e8e53b4c233cc8d369fe83b0de1b6a3cd85575eeb0bb01a6a90a086a2cf5fe"
            "75fff2a9379c30ba9049510a33b5b0b1444a88800fc3eee2260d",
        .oprf_key = "5d4c6a8b7c7138182afb4345d1fae6a9f18a1744afbcc3854f8f5a2b4b4c6d05",
        .registration_request = "5059ff249eb1551b7ce4991f3336205bde44a105a032e747d21bf382e75f7a71",
        .registration_response =
            "7408a268083e03abc7097fc05b587834539065e86fb0c7b6342fcf5e01e5b019b2fe7af9f48c"
            "c502d016729d2fe25cdd433f2c4bc904660b2a382c9b79df1a78",
        .registration_upload =
            "76a845464c68a5d2f7e442436bb1424953b17d3e2e289ccbaccafb57ac5c36751ac5844383c7"
            "708077dea41cbefe2fa15724f449e535dd7dd562e66f5ecfb95864eadddec9db587495990511"
            "7dad40a4524111849799281fefe3c51fa82785c5ac13171b2f17bc2c74997f0fce1e1f35bec6"
            "b91fe2e12dbd323d23ba7a38dfec634b0f5b96109c198a8027da51854c35bee90d1e1c781806"
            "d07d49b76de6a28b8d9e9b6c93b9f8b64d16dddd9c5bfb5fea48ee8fd2f75012a8b308605cdd"
            "8ba5",
        .ke1 = "c4dedb0ba6ed5d965d6f250fbe554cd45cba5dfcce3ce836e4aee778aa3cd44dda7e07376d6d"
               "6f034cfa9bb537d11b8c6b4238c334333d1f0aebb380cae6a6cc6e29bee50701498605b2c085"
               "d7b241ca15ba5c32027dd21ba420b94ce60da326",
        .ke2 = "7e308140890bcde30cbcea28b01ea1ecfbd077cff62c4def8efa075aabcbb47138fe59af0df2"
               "c79f57b8780278f5ae47355fe1f817119041951c80f612fdfc6dd6ec60bcdb26dc455ddf3e71"
               "8f1020490c192d70dfc7e403981179d8073d1146a4f9aa1ced4e4cd984c657eb3b54ced38483"
               "26f70331953d91b02535af44d9fedc80188ca46743c52786e0382f95ad85c08f6afcd1ccfbff"
               "95e2bdeb015b166c6b20b92f832cc6df01e0b86a7efd92c1c804ff865781fa93f2f20b446c83"
               "71b671cd9960ecef2fe0d0f7494986fa3d8b2bb01963537e60efb13981e138e3d4a1c4f62198"
               "a9d6fa9170c42c3c71f1971b29eb1d5d0bd733e40816c91f7912cc4a660c48dae03e57aaa38f"
               "3d0cffcfc21852ebc8b405d15bd6744945ba1a93438a162b6111699d98a16bb55b7bdddfe0fc"
               "5608b23da246e7bd73b47369169c5c90",
        .ke3 = "4455df4f810ac31a6748835888564b536e6da5d9944dfea9e34defb9575fe5e2661ef61d2ae3"
               "929bcf57e53d464113d364365eb7d1a57b629707ca48da18e442",
        .export_key = "1ef15b4fa99e8a852412450ab78713aad30d21fa6966c9b8c9fb3262a970dc62950d4dd4ed62"
                      "598229b1b72794fc0335199d9f7fcc6eaedde92cc04870e63f16",
        .session_key =
            "42afde6f5aca0cfa5c163763fbad55e73a41db6b41bc87b8e7b62214a8eedc6731fa3cb857d6"
            "57ab9b3764b89a84e91ebcb4785166fbb02cedfcbdfda215b96f",
    },
    /* RFC 9807 Appendix C, "OPAQUE-3DH Real Test Vector 2" */
    {
        .name = "OPAQUE-3DH Real Test Vector 2",
        .context = "4f50415155452d504f43",
        .client_identity = "616c696365",
        .server_identity = "626f62",
        .oprf_seed = "f433d0227b0b9dd54f7c4422b600e764e47fb503f1f9a0f0a47c6606b054a7fdc65347f1a08f"
                     "277e22358bbabe26f823fca82c7848e9a75661f4ec5d5c1989ef",
        .credential_identifier = "31323334",
        .password = "436f7272656374486f72736542617474657279537461706c65",
        .envelope_nonce = "ac13171b2f17bc2c74997f0fce1e1f35bec6b91fe2e12dbd323d23ba7a38dfec",
        .masking_nonce = "38fe59af0df2c79f57b8780278f5ae47355fe1f817119041951c80f612fdfc6d",
        .server_private_key = "47451a85372f8b3537e249d7b54188091fb18edde78094b43e2ba42b5eb89f0d",
        .server_public_key = "b2fe7af9f48cc502d016729d2fe25cdd433f2c4bc904660b2a382c9b79df1a78",
        .server_nonce = "71cd9960ecef2fe0d0f7494986fa3d8b2bb01963537e60efb13981e138e3d4a1",
        .client_nonce = "da7e07376d6d6f034cfa9bb537d11b8c6b4238c334333d1f0aebb380cae6a6cc",
        .client_keyshare_seed = "82850a697b42a505f5b68fcdafce8c31f0af2b581f063cf1091933541936304b",
        .server_keyshare_seed = "05a4f54206eef1ba2f615bc0aa285cb22f26d1153b5b40a1e85ff80da12f982f",
        .blind_registration = "76cfbfe758db884bebb33582331ba9f159720ca8784a2a070a265d9c2d6abe01",
        .blind_login = "6ecc102d2e7a7cf49617aad7bbe188556792d4acd60a1a8a8d2b65d4b0790308",
        .client_public_key = "76a845464c68a5d2f7e442436bb1424953b17d3e2e289ccbaccafb57ac5c3675",
        .auth_key = "6cd32316f18d72a9a927a83199fa030663a38ce0c11fbaef82aa90037730494fc555c4d49506"
                    "284516edd1628c27965b7555a4ebfed2223199f6c67966dde822",
        .randomized_password =
            "aac48c25ab036e30750839d31d6e73007344cb1155289fb7d329beb932e9adeea73d5d5c22a0"
            "ce1952f8aba6d66007615cd1698d4ac85ef1fcf150031d1435d9",
        .envelope = "ac13171b2f17bc2c74997f0fce1e1f35bec6b91fe2e12dbd323d23ba7a38dfec1ac902dc5589"
                    "e9a5f0de56ad685ea8486210ef41449cd4d8712828913c5d2b680b2b3af4a26c765cff329bfb"
                    "66d38ecf1d6cfa9e7a73c222c6efe0d9520f7d7c",
        .handshake_secret =
            "5e723bed1e5276de2503419eba9da61ead573109c401226832398c7e08155b885bfe7bc93451"
            "f9d887a0c1d0c19233e40a8e47b347a9ac3907f94032a4cff64f",
        .server_mac_key =
            "dad66bb9251073d17a13f8e5500f36e5998e3cde520ca0738e7085af62fd97812eb79a745c94"
            "d0bf8a6ac17f980cf435504cf64041eeb6bb237796d2c7f81e9a",
        .client_mac_key =
            "f816fe2914f7c5b29852385615d7c7f31ac122adf202d7ccd497606d7aabd48930323d1d02b1"
            "cc9ecd456c4de6f46c7950becb18bffd921dd5876381b5486ffe",
        .oprf_key = "5d4c6a8b7c7138182afb4345d1fae6a9f18a1744afbcc3854f8f5a2b4b4c6d05",
        .registration_request = "5059ff249eb1551b7ce4991f3336205bde44a105a032e747d21bf382e75f7a71",
        .registration_response =
            "7408a268083e03abc7097fc05b587834539065e86fb0c7b6342fcf5e01e5b019b2fe7af9f48c"
            "c502d016729d2fe25cdd433f2c4bc904660b2a382c9b79df1a78",
        .registration_upload =
            "76a845464c68a5d2f7e442436bb1424953b17d3e2e289ccbaccafb57ac5c36751ac5844383c7"
            "708077dea41cbefe2fa15724f449e535dd7dd562e66f5ecfb95864eadddec9db587495990511"
            "7dad40a4524111849799281fefe3c51fa82785c5ac13171b2f17bc2c74997f0fce1e1f35bec6"
            "b91fe2e12dbd323d23ba7a38dfec1ac902dc5589e9a5f0de56ad685ea8486210ef41449cd4d8"
            "712828913c5d2b680b2b3af4a26c765cff329bfb66d38ecf1d6cfa9e7a73c222c6efe0d9520f"
            "7d7c",
        .ke1 = "c4dedb0ba6ed5d965d6f250fbe554cd45cba5dfcce3ce836e4aee778aa3cd44dda7e07376d6d"
               "6f034cfa9bb537d11b8c6b4238c334333d1f0aebb380cae6a6cc6e29bee50701498605b2c085"
               "d7b241ca15ba5c32027dd21ba420b94ce60da326",
        .ke2 = "7e308140890bcde30cbcea28b01ea1ecfbd077cff62c4def8efa075aabcbb47138fe59af0df2"
               "c79f57b8780278f5ae47355fe1f817119041951c80f612fdfc6dd6ec60bcdb26dc455ddf3e71"
               "8f1020490c192d70dfc7e403981179d8073d1146a4f9aa1ced4e4cd984c657eb3b54ced38483"
               "26f70331953d91b02535af44d9fea502150b67fe36795dd8914f164e49f81c7688a389283721"
               "34b7dccd50e09f8fed9518b7b2f94835b3c4fe4c8475e7513f20eb97ff0568a39caee3fd6251"
               "876f71cd9960ecef2fe0d0f7494986fa3d8b2bb01963537e60efb13981e138e3d4a1c4f62198"
               "a9d6fa9170c42c3c71f1971b29eb1d5d0bd733e40816c91f7912cc4a292371e7809a9031743e"
               "943fb3b56f51de903552fc91fba4e7419029951c3970b2e2f0a9dea218d22e9e4e0000855bb6"
               "421aa3610d6fc0f4033a6517030d4341",
        .ke3 = "7a026de1d6126905736c3f6d92463a08d209833eb793e46d0f7f15b3e0f62c7643763c02bbc6"
               "b8d3d15b63250cae98171e9260f1ffa789750f534ac11a0176d5",
        .export_key = "1ef15b4fa99e8a852412450ab78713aad30d21fa6966c9b8c9fb3262a970dc62950d4dd4ed62"
                      "598229b1b72794fc0335199d9f7fcc6eaedde92cc04870e63f16",
        .session_key =
            "ae7951123ab5befc27e62e63f52cf472d6236cb386c968cc47b7e34f866aa4bc7638356a73cf"
            "ce92becf39d6a7d32a1861f12130e824241fe6cab34fbd471a57",
    },
    /* RFC 9807 Appendix C, "OPAQUE-3DH Fake Test Vector 1" */
    {
        .name = "OPAQUE-3DH Fake Test Vector 1",
        .context = "4f50415155452d504f43",
        .client_identity = "616c696365",
        .server_identity = "626f62",
        .oprf_seed = "743fc168d1f826ad43738933e5adb23da6fb95f95a1b069f0daa0522d0a78b617f701fc6aa46"
                     "d3e7981e70de7765dfcd6b1e13e3369a582eb8dc456b10aa53b0",
        .credential_identifier = "31323334",
        .masking_nonce = "9c035896a043e70f897d87180c543e7a063b83c1bb728fbd189c619e27b6e5a6",
        .server_private_key = "c788585ae8b5ba2942b693b849be0c0426384e41977c18d2e81fbe30fd7c9f06",
        .server_public_key = "825f832667480f08b0c9069da5083ac4d0e9ee31b49c4e0310031fea04d52966",
        .server_nonce = "1e10f6eeab2a7a420bf09da9b27a4639645622c46358de9cf7ae813055ae2d12",
        .client_keyshare_seed = "a270dc715dc2b4612bc7864312a05c3e9788ee1bad1f276d1e15bdeb4c355e94",
        .server_keyshare_seed = "360b0937f47d45f6123a4d8f0d0c0814b6120d840ebb8bc5b4f6b62df07f78c2",
        .client_private_key = "2b98980aa95ab53a0f39f0291903d2fdf04b00c167f0814169922df873002409",
        .masking_key =
            "39ebd51f0e39a07a1c2d2431995b0399bca9996c5d10014d6ebab4453dc10ce5cef38ed3df6e"
            "56bfff40c2d8dd4671c2b4cf63c3d54860f31fe40220d690bb71",
        .client_public_key = "84f43f9492e19c22d8bdaa4447cc3d4db1cdb5427a9f852c4707921212c36251",
        .ke1 = "b0a26dcaca2230b8f5e4b1bcab9c84b586140221bb8b2848486874b0be44890542d4e61ed3f8"
               "d64cdd3b9d153343eca15b9b0d5e388232793c6376bd2d9cfd0ab641d7f20a245a09f1d4dbb6"
               "e301661af7f352beb0791d055e48d3645232f77f",
        .ke2 = "928f79ad8df21963e91411b9f55165ba833dea918f441db967cdc09521d229259c035896a043"
               "e70f897d87180c543e7a063b83c1bb728fbd189c619e27b6e5a632b5ab1bff96636144faa4f9"
               "f9afaac75dd88ea99cf5175902ae3f3b2195693f165f11929ba510a5978e64dcdabecbd7ee1e"
               "4380ce270e58fea58e6462d92964a1aaef72698bca1c673baeb04cc2bf7de5f3c2f555346455"
               "2d3a0f7698a9ca7f9c5e70c6cb1f706b2f175ab9d04bbd13926e816b6811a50b4aafa9799d5e"
               "d7971e10f6eeab2a7a420bf09da9b27a4639645622c46358de9cf7ae813055ae2d1298251c5b"
               "a55f6b0b2d58d9ff0c88fe4176484be62a96db6e2a8c4d431bd1bf27fe6c1d0537603835217d"
               "42ebf7b2581982732e74892fd28211b31ed33863f0beaf75ba6f59474c0aaf9d78a60a9b2f4c"
               "d24d7ab54131b3c8efa192df6b72db4c",
    },
};

/* Decodes an optional hex field; returns its length (0 when absent). */
static size_t hex_opt(uint8_t *out, size_t cap, const char *h) {
  size_t n = 0;

  if (h == NULL) {
    return 0;
  }
  ck_assert_int_eq(sodium_hex2bin(out, cap, h, strlen(h), NULL, &n, NULL), 0);
  ck_assert_uint_eq(n * 2, strlen(h));
  return n;
}

static void assert_hex(const uint8_t *got, size_t len, const char *want) {
  uint8_t w[512];

  ck_assert_uint_eq(strlen(want), 2 * len);
  hex(w, want, len);
  ck_assert_mem_eq(got, w, len);
}

/* The decoded inputs of one vector. */
typedef struct opaque_inputs {
  uint8_t context[64], cid[64], sid[64], cred_id[64], password[64];
  size_t context_len, cid_len, sid_len, cred_id_len, password_len;
  uint8_t envelope_nonce[32], masking_nonce[32], server_nonce[32], client_nonce[32];
  uint8_t client_keyshare_seed[32], server_keyshare_seed[32];
  uint8_t blind_registration[32], blind_login[32];
  cpns_s2_server_keys keys;
} opaque_inputs;

static void opaque_inputs_load(opaque_inputs *in, const opaque_vector *v) {
  memset(in, 0, sizeof(*in));
  in->context_len = hex_opt(in->context, sizeof(in->context), v->context);
  in->cid_len = hex_opt(in->cid, sizeof(in->cid), v->client_identity);
  in->sid_len = hex_opt(in->sid, sizeof(in->sid), v->server_identity);
  in->cred_id_len = hex_opt(in->cred_id, sizeof(in->cred_id), v->credential_identifier);
  in->password_len = hex_opt(in->password, sizeof(in->password), v->password);
  hex(in->keys.oprf_seed, v->oprf_seed, 64);
  hex(in->keys.private_key, v->server_private_key, 32);
  hex(in->keys.public_key, v->server_public_key, 32);
  hex(in->masking_nonce, v->masking_nonce, 32);
  hex(in->server_nonce, v->server_nonce, 32);
  hex(in->client_keyshare_seed, v->client_keyshare_seed, 32);
  hex(in->server_keyshare_seed, v->server_keyshare_seed, 32);
  if (v->client_nonce != NULL) {
    hex(in->client_nonce, v->client_nonce, 32);
    hex(in->envelope_nonce, v->envelope_nonce, 32);
    hex(in->blind_registration, v->blind_registration, 32);
    hex(in->blind_login, v->blind_login, 32);
  }
}

/* Input consistency: server_public_key = ScalarMultGen(server_private_key). */
static void assert_key_pair(const uint8_t sk[32], const uint8_t pk[32]) {
  uint8_t got[32];

  ck_assert_int_eq(crypto_scalarmult_ristretto255_base(got, sk), 0);
  ck_assert_mem_eq(got, pk, 32);
}

/* Registration, KE1, KE2, KE3 and ServerFinish of a real vector, with every intermediate value. */
START_TEST(test_opaque_rfc9807_real_vectors) {
  const opaque_vector *v = &opaque_vectors[_i];
  opaque_inputs in;
  cpnsi_opaque_trace reg_trace, srv_trace, cli_trace;
  cpnsi_opaque_client cst;
  cpnsi_opaque_server sst;
  uint8_t blind[32], request[32], response[64], record[192], export_key[64], oprf_key[32];
  uint8_t ke1[96], ke2[320], ke3[64], session_key[64], server_session_key[64], cli_export[64];

  ck_assert_ptr_nonnull(v->ke3);
  opaque_inputs_load(&in, v);
  assert_key_pair(in.keys.private_key, in.keys.public_key);

  /* RFC §5.2: registration */
  ck_assert_int_eq(cpnsi_opaque_registration_request(blind, request, in.password, in.password_len,
                                                     in.blind_registration),
                   0);
  assert_hex(request, 32, v->registration_request);
  ck_assert_int_eq(cpnsi_opaque_oprf_key(oprf_key, in.cred_id, in.cred_id_len, in.keys.oprf_seed),
                   0);
  assert_hex(oprf_key, 32, v->oprf_key);
  ck_assert_int_eq(cpnsi_opaque_registration_response(response, request, in.keys.public_key,
                                                      in.cred_id, in.cred_id_len,
                                                      in.keys.oprf_seed),
                   0);
  assert_hex(response, 64, v->registration_response);
  memset(&reg_trace, 0, sizeof(reg_trace));
  ck_assert_int_eq(cpnsi_opaque_registration_finalize_trace(
                       record, export_key, in.password, in.password_len, blind, response, in.cid,
                       in.cid_len, in.sid, in.sid_len, test_ksf_identity, NULL, in.envelope_nonce,
                       &reg_trace),
                   0);
  assert_hex(record, 192, v->registration_upload);
  assert_hex(record, 32, v->client_public_key);
  assert_hex(record + 96, 96, v->envelope);
  assert_hex(export_key, 64, v->export_key);
  assert_hex(reg_trace.randomized_password, 64, v->randomized_password);
  assert_hex(reg_trace.auth_key, 64, v->auth_key);

  /* RFC §6.2: login */
  ck_assert_int_eq(cpnsi_opaque_client_ke1(&cst, ke1, in.password, in.password_len, in.client_nonce,
                                           in.blind_login, in.client_keyshare_seed),
                   0);
  assert_hex(ke1, 96, v->ke1);
  memset(&srv_trace, 0, sizeof(srv_trace));
  ck_assert_int_eq(cpnsi_opaque_server_ke2_trace(
                       &sst, ke2, &in.keys, record, in.cred_id, in.cred_id_len, ke1,
                       in.server_nonce, in.cid, in.cid_len, in.sid, in.sid_len, in.context,
                       in.context_len, in.masking_nonce, in.server_keyshare_seed, &srv_trace),
                   0);
  assert_hex(ke2, 320, v->ke2);
  assert_hex(srv_trace.oprf_key, 32, v->oprf_key);
  assert_hex(srv_trace.handshake_secret, 64, v->handshake_secret);
  assert_hex(srv_trace.server_mac_key, 64, v->server_mac_key);
  assert_hex(srv_trace.client_mac_key, 64, v->client_mac_key);
  memset(&cli_trace, 0, sizeof(cli_trace));
  ck_assert_int_eq(cpnsi_opaque_client_ke3_trace(&cst, ke3, session_key, cli_export, in.password,
                                                 in.password_len, ke2, in.cid, in.cid_len, in.sid,
                                                 in.sid_len, in.context, in.context_len,
                                                 test_ksf_identity, NULL, &cli_trace),
                   0);
  assert_hex(ke3, 64, v->ke3);
  assert_hex(session_key, 64, v->session_key);
  assert_hex(cli_export, 64, v->export_key);
  assert_hex(cli_trace.randomized_password, 64, v->randomized_password);
  assert_hex(cli_trace.auth_key, 64, v->auth_key);
  assert_hex(cli_trace.handshake_secret, 64, v->handshake_secret);
  assert_hex(cli_trace.server_mac_key, 64, v->server_mac_key);
  assert_hex(cli_trace.client_mac_key, 64, v->client_mac_key);
  ck_assert_int_eq(cpnsi_opaque_server_finish(&sst, server_session_key, ke3), 0);
  assert_hex(server_session_key, 64, v->session_key);
}
END_TEST

/* KE2 for an unregistered user (RFC §6.3.2.2) from the vector's fake record. */
START_TEST(test_opaque_rfc9807_fake_vector) {
  const opaque_vector *v = &opaque_vectors[2];
  opaque_inputs in;
  cpnsi_opaque_server sst;
  cpns_s2_record fake;
  uint8_t client_private_key[32], record[192], ke1[96], ke2[320], secret[CPNS_SERVER_SECRET_LEN];

  ck_assert_ptr_null(v->ke3);
  opaque_inputs_load(&in, v);
  assert_key_pair(in.keys.private_key, in.keys.public_key);
  hex(client_private_key, v->client_private_key, 32);
  hex(in.keys.fake_client_public_key, v->client_public_key, 32);
  hex(in.keys.fake_masking_key, v->masking_key, 64);
  assert_key_pair(client_private_key, in.keys.fake_client_public_key);
  hex(ke1, v->ke1, 96);
  /* The fake record: client_public_key || masking_key || 96 zero octets, as the library builds it.
   */
  memset(record, 0, sizeof(record));
  memcpy(record, in.keys.fake_client_public_key, 32);
  memcpy(record + 32, in.keys.fake_masking_key, 64);
  memset(secret, 7, sizeof(secret));
  ck_assert_int_eq(
      cpns_crypto_s2_fake_record(&fake, in.cred_id, in.cred_id_len, &in.keys, secret, 1, 8192), 0);
  ck_assert_mem_eq(fake.registration_record, record, 192);
  ck_assert_int_eq(cpnsi_opaque_server_ke2(
                       &sst, ke2, &in.keys, fake.registration_record, in.cred_id, in.cred_id_len,
                       ke1, in.server_nonce, in.cid, in.cid_len, in.sid, in.sid_len, in.context,
                       in.context_len, in.masking_nonce, in.server_keyshare_seed),
                   0);
  assert_hex(ke2, 320, v->ke2);
}
END_TEST

/* A registered user "user@example.org" with password pw under keys, KSF Identity. */
static void register_identity(uint8_t record[192], const cpns_s2_server_keys *keys,
                              const char *pw) {
  uint8_t blind[32], request[32], response[64];
  const uint8_t *uid = (const uint8_t *)"user@example.org";

  ck_assert_int_eq(
      cpnsi_opaque_registration_request(blind, request, (const uint8_t *)pw, strlen(pw), NULL), 0);
  ck_assert_int_eq(cpnsi_opaque_registration_response(response, request, keys->public_key, uid, 16,
                                                      keys->oprf_seed),
                   0);
  ck_assert_int_eq(cpnsi_opaque_registration_finalize(record, NULL, (const uint8_t *)pw, strlen(pw),
                                                      blind, response, NULL, 0, NULL, 0,
                                                      test_ksf_identity, NULL, NULL),
                   0);
}

static const uint8_t ctx[] = "AuthMessage";

/* One login: KE1 with pw_login, KE2 from record; returns the KE3 result. */
static int login_identity(cpnsi_opaque_server *sst, uint8_t ke2[320], uint8_t ke3[64],
                          uint8_t session_key[64], cpnsi_opaque_trace *trace,
                          const cpns_s2_server_keys *keys, const uint8_t record[192],
                          const char *pw_login, void (*tamper)(uint8_t *ke1, uint8_t *ke2)) {
  cpnsi_opaque_client cst;
  uint8_t ke1[96], nonce[32];
  int rv;

  memset(nonce, 0x11, sizeof(nonce));
  ck_assert_int_eq(cpnsi_opaque_client_ke1(&cst, ke1, (const uint8_t *)pw_login, strlen(pw_login),
                                           nonce, NULL, NULL),
                   0);
  memset(nonce, 0x22, sizeof(nonce));
  ck_assert_int_eq(cpnsi_opaque_server_ke2(sst, ke2, keys, record,
                                           (const uint8_t *)"user@example.org", 16, ke1, nonce,
                                           NULL, 0, NULL, 0, ctx, sizeof(ctx) - 1, NULL, NULL),
                   0);
  if (tamper != NULL) {
    tamper(ke1, ke2);
  }
  memset(trace, 0, sizeof(*trace));
  rv = cpnsi_opaque_client_ke3_trace(&cst, ke3, session_key, NULL, (const uint8_t *)pw_login,
                                     strlen(pw_login), ke2, NULL, 0, NULL, 0, ctx, sizeof(ctx) - 1,
                                     test_ksf_identity, NULL, &trace[0]);
  ck_assert(sodium_is_zero((const uint8_t *)&cst, sizeof(cst)));
  return rv;
}

START_TEST(test_opaque_round_trip_and_failures) {
  cpns_s2_server_keys keys;
  cpnsi_opaque_server sst;
  cpnsi_opaque_trace trace;
  uint8_t record[192], ke2[320], ke3[64], sk_client[64], sk_server[64];

  ck_assert_int_eq(cpns_crypto_s2_server_keys_generate(&keys), 0);
  register_identity(record, &keys, "correct horse");

  /* Success: both sides agree on session_key. */
  ck_assert_int_eq(
      login_identity(&sst, ke2, ke3, sk_client, &trace, &keys, record, "correct horse", NULL), 0);
  ck_assert_int_eq(cpnsi_opaque_server_finish(&sst, sk_server, ke3), 0);
  ck_assert_mem_eq(sk_client, sk_server, 64);
  ck_assert(!sodium_is_zero(sk_client, 64));
  /* The state is spent: a second finish is refused. */
  ck_assert_int_eq(cpnsi_opaque_server_finish(&sst, sk_server, ke3), CPNS_ERR_STATE);

  /* Wrong password: EnvelopeRecoveryError, no KE3, stopped before the 3DH keys. */
  ck_assert_int_eq(
      login_identity(&sst, ke2, ke3, sk_client, &trace, &keys, record, "correct horsf", NULL),
      CPNS_ERR_SIGNATURE);
  ck_assert(sodium_is_zero(ke3, 64) && sodium_is_zero(sk_client, 64));
  ck_assert(sodium_is_zero(trace.auth_key, 64) && sodium_is_zero(trace.handshake_secret, 64));

  /* Wrong ke3 at the server: ClientAuthenticationError, no session key. */
  ck_assert_int_eq(
      login_identity(&sst, ke2, ke3, sk_client, &trace, &keys, record, "correct horse", NULL), 0);
  ke3[63] ^= 1;
  memset(sk_server, 0xaa, sizeof(sk_server));
  ck_assert_int_eq(cpnsi_opaque_server_finish(&sst, sk_server, ke3), CPNS_ERR_PROOF);
  ck_assert(sodium_is_zero(sk_server, 64));
  /* The state is wiped after a failure too: the right ke3 no longer opens it. */
  ke3[63] ^= 1;
  ck_assert_int_eq(cpnsi_opaque_server_finish(&sst, sk_server, ke3), CPNS_ERR_STATE);

  /* A stored record whose client_public_key is no valid element is the server's fault. */
  {
    cpnsi_opaque_client cst;
    uint8_t ke1[96], nonce[32];
    memset(nonce, 0x11, sizeof(nonce));
    ck_assert_int_eq(cpnsi_opaque_client_ke1(&cst, ke1, (const uint8_t *)"x", 1, nonce, NULL, NULL),
                     0);
    memset(record, 0, 32);
    ck_assert_int_eq(cpnsi_opaque_server_ke2(&sst, ke2, &keys, record,
                                             (const uint8_t *)"user@example.org", 16, ke1, nonce,
                                             NULL, 0, NULL, 0, ctx, sizeof(ctx) - 1, NULL, NULL),
                     CPNS_ERR_RECORD_FORMAT);
    ck_assert(sodium_is_zero(ke2, sizeof(ke2)) && sst.have_ke2 == 0);
  }
}
END_TEST

static void flip_server_mac(uint8_t *ke1, uint8_t *ke2) {
  (void)ke1;
  ke2[320 - 1] ^= 0x80;
}
static void flip_server_nonce(uint8_t *ke1, uint8_t *ke2) {
  (void)ke1;
  ke2[192] ^= 1; /* server_nonce, covered by the preamble: server_mac no longer matches */
}

START_TEST(test_opaque_tampered_ke2_mac) {
  cpns_s2_server_keys keys;
  cpnsi_opaque_server sst;
  cpnsi_opaque_trace trace;
  uint8_t record[192], ke2[320], ke3[64], sk[64];

  ck_assert_int_eq(cpns_crypto_s2_server_keys_generate(&keys), 0);
  register_identity(record, &keys, "pw");
  /* ServerAuthenticationError: the envelope opened, the 3DH keys were derived, the MAC failed. */
  ck_assert_int_eq(login_identity(&sst, ke2, ke3, sk, &trace, &keys, record, "pw", flip_server_mac),
                   CPNS_ERR_SIGNATURE);
  ck_assert(!sodium_is_zero(trace.auth_key, 64) && !sodium_is_zero(trace.handshake_secret, 64));
  ck_assert(sodium_is_zero(ke3, 64) && sodium_is_zero(sk, 64));
  ck_assert_int_eq(
      login_identity(&sst, ke2, ke3, sk, &trace, &keys, record, "pw", flip_server_nonce),
      CPNS_ERR_SIGNATURE);
  ck_assert(!sodium_is_zero(trace.handshake_secret, 64));
}
END_TEST

/* Every peer element refused with every bad encoding of bad_elements[]. */
START_TEST(test_opaque_rejects_bad_peer_elements) {
  cpns_s2_server_keys keys;
  cpnsi_opaque_server sst;
  cpnsi_opaque_client cst;
  cpnsi_opaque_trace trace;
  uint8_t record[192], ke1[96], bad_ke1[96], ke2[320], bad_ke2[320], ke3[64], sk[64], nonce[32];
  uint8_t bad[32], blind[32], request[32], response[64];
  const uint8_t *uid = (const uint8_t *)"user@example.org";
  size_t i, j;
  static const size_t ke1_elements[] = {0, 64};  /* blindedMessage, clientPublicKeyshare */
  static const size_t ke2_elements[] = {0, 224}; /* evaluatedMessage, serverPublicKeyshare */

  ck_assert_int_eq(cpns_crypto_s2_server_keys_generate(&keys), 0);
  register_identity(record, &keys, "pw");
  memset(nonce, 0x33, sizeof(nonce));
  for (i = 0; i < sizeof(bad_elements) / sizeof(bad_elements[0]); i++) {
    hex(bad, bad_elements[i], 32);
    /* Server: blindedMessage and clientPublicKeyshare (badRequest). */
    ck_assert_int_eq(
        cpnsi_opaque_client_ke1(&cst, ke1, (const uint8_t *)"pw", 2, nonce, NULL, NULL), 0);
    for (j = 0; j < 2; j++) {
      memcpy(bad_ke1, ke1, sizeof(ke1));
      memcpy(bad_ke1 + ke1_elements[j], bad, 32);
      memset(ke2, 0xaa, sizeof(ke2));
      ck_assert_int_eq(cpnsi_opaque_server_ke2(&sst, ke2, &keys, record, uid, 16, bad_ke1, nonce,
                                               NULL, 0, NULL, 0, ctx, sizeof(ctx) - 1, NULL, NULL),
                       CPNS_ERR_INVALID_ARGUMENT);
      ck_assert(sodium_is_zero(ke2, sizeof(ke2)) && sst.have_ke2 == 0);
    }
    /* Gateway: evaluatedMessage and serverPublicKeyshare; refused before any MAC check. */
    ck_assert_int_eq(cpnsi_opaque_server_ke2(&sst, ke2, &keys, record, uid, 16, ke1, nonce, NULL, 0,
                                             NULL, 0, ctx, sizeof(ctx) - 1, NULL, NULL),
                     0);
    for (j = 0; j < 2; j++) {
      cpnsi_opaque_client c2;
      memcpy(&c2, &cst, sizeof(cst));
      memcpy(bad_ke2, ke2, sizeof(ke2));
      memcpy(bad_ke2 + ke2_elements[j], bad, 32);
      memset(&trace, 0, sizeof(trace));
      ck_assert_int_eq(cpnsi_opaque_client_ke3_trace(
                           &c2, ke3, sk, NULL, (const uint8_t *)"pw", 2, bad_ke2, NULL, 0, NULL, 0,
                           ctx, sizeof(ctx) - 1, test_ksf_identity, NULL, &trace),
                       CPNS_ERR_SIGNATURE);
      ck_assert(sodium_is_zero(trace.handshake_secret, 64));
      ck_assert(sodium_is_zero(ke3, 64));
    }
    /* Registration: evaluated message and server public key of the response. */
    ck_assert_int_eq(
        cpnsi_opaque_registration_request(blind, request, (const uint8_t *)"pw", 2, NULL), 0);
    ck_assert_int_eq(
        cpnsi_opaque_registration_response(response, bad, keys.public_key, uid, 16, keys.oprf_seed),
        CPNS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(cpnsi_opaque_registration_response(response, request, keys.public_key, uid, 16,
                                                        keys.oprf_seed),
                     0);
    for (j = 0; j < 2; j++) {
      uint8_t bad_response[64];
      memcpy(bad_response, response, 64);
      memcpy(bad_response + 32 * j, bad, 32);
      ck_assert_int_eq(cpnsi_opaque_registration_finalize(record + 0, NULL, (const uint8_t *)"pw",
                                                          2, blind, bad_response, NULL, 0, NULL, 0,
                                                          test_ksf_identity, NULL, NULL),
                       CPNS_ERR_INVALID_ARGUMENT);
    }
    register_identity(record, &keys, "pw");
  }
}
END_TEST

/* The recovered server_public_key is checked: a server whose key is the
 * identity (or not canonical) is refused even with the right envelope. */
START_TEST(test_opaque_rejects_bad_recovered_server_key) {
  cpns_s2_server_keys keys, bad_keys;
  cpnsi_opaque_server sst;
  cpnsi_opaque_trace trace;
  uint8_t record[192], ke2[320], ke3[64], sk[64];
  size_t i;

  ck_assert_int_eq(cpns_crypto_s2_server_keys_generate(&keys), 0);
  register_identity(record, &keys, "pw");
  for (i = 0; i < sizeof(bad_elements) / sizeof(bad_elements[0]); i++) {
    bad_keys = keys;
    hex(bad_keys.public_key, bad_elements[i], 32);
    ck_assert_int_eq(login_identity(&sst, ke2, ke3, sk, &trace, &bad_keys, record, "pw", NULL),
                     CPNS_ERR_SIGNATURE);
    ck_assert(sodium_is_zero(trace.handshake_secret, 64) && sodium_is_zero(ke3, 64));
  }
}
END_TEST

START_TEST(test_s2_register_argon2id_and_fake_user) {
  cpns_s2_server_keys *keys = sodium_malloc(sizeof(*keys));
  cpns_s2_record *rec = sodium_malloc(sizeof(*rec)), *fake = sodium_malloc(sizeof(*fake));
  cpns_s2_record *fake2 = sodium_malloc(sizeof(*fake2));
  cpnsi_opaque_client *cst = sodium_malloc(sizeof(*cst));
  cpnsi_opaque_server *sst = sodium_malloc(sizeof(*sst));
  const uint8_t uid[] = "j\xc3\xb6rg@example.org", other[] = "nobody@example.org";
  const uint8_t pw[] = "p\xc3\xa4ssw\xc3\xb6rd";
  uint8_t secret[CPNS_SERVER_SECRET_LEN], salt[CPNS_SALT_LEN], ke1[96], ke2[320], ke2b[320];
  uint8_t ke2_real[320], ke3[64], sk[64], sk2[64], nonce[32];

  ck_assert_ptr_nonnull(keys);
  ck_assert_ptr_nonnull(rec);
  ck_assert_ptr_nonnull(fake);
  ck_assert_ptr_nonnull(fake2);
  ck_assert_ptr_nonnull(cst);
  ck_assert_ptr_nonnull(sst);
  ck_assert_int_eq(cpns_crypto_s2_server_keys_generate(keys), 0);
  ck_assert_int_eq(crypto_core_ristretto255_is_valid_point(keys->public_key), 1);
  ck_assert_int_eq(crypto_core_ristretto255_is_valid_point(keys->fake_client_public_key), 1);
  ck_assert_int_eq(
      cpns_crypto_s2_register(rec, pw, sizeof(pw) - 1, uid, sizeof(uid) - 1, 1, 8192, keys), 0);
  ck_assert_uint_eq(rec->kdf.ops_limit, 1);
  ck_assert_uint_eq(rec->kdf.mem_limit_kib, 8192);
  ck_assert_int_eq(
      cpns_crypto_s2_register(rec, pw, sizeof(pw) - 1, uid, sizeof(uid) - 1, 0, 8192, keys),
      CPNS_ERR_KDF_PARAMS);
  ck_assert(sodium_is_zero((const uint8_t *)rec, sizeof(*rec)));
  ck_assert_int_eq(
      cpns_crypto_s2_register(rec, pw, sizeof(pw) - 1, uid, sizeof(uid) - 1, 1, 8192, keys), 0);

  /* Real user, Argon2id KSF: success. */
  memset(nonce, 0x44, sizeof(nonce));
  ck_assert_int_eq(cpnsi_opaque_client_ke1(cst, ke1, pw, sizeof(pw) - 1, nonce, NULL, NULL), 0);
  ck_assert_int_eq(cpnsi_opaque_server_ke2(sst, ke2_real, keys, rec->registration_record, uid,
                                           sizeof(uid) - 1, ke1, nonce, NULL, 0, NULL, 0, ctx,
                                           sizeof(ctx) - 1, NULL, NULL),
                   0);
  ck_assert_int_eq(cpnsi_opaque_client_ke3(cst, ke3, sk, NULL, pw, sizeof(pw) - 1, ke2_real, NULL,
                                           0, NULL, 0, ctx, sizeof(ctx) - 1, cpnsi_ksf_argon2id,
                                           &rec->kdf),
                   0);
  ck_assert_int_eq(cpnsi_opaque_server_finish(sst, sk2, ke3), 0);
  ck_assert_mem_eq(sk, sk2, 64);

  /* Unknown user: the fake record, deterministic for one User ID, salt = §6 fake salt. */
  memset(secret, 0x5a, sizeof(secret));
  ck_assert_int_eq(
      cpns_crypto_s2_fake_record(fake, other, sizeof(other) - 1, keys, secret, 3, 65536), 0);
  ck_assert_int_eq(
      cpns_crypto_s2_fake_record(fake2, other, sizeof(other) - 1, keys, secret, 3, 65536), 0);
  ck_assert_mem_eq(fake, fake2, sizeof(*fake));
  ck_assert_int_eq(cpns_crypto_fake_salt(salt, secret, other, sizeof(other) - 1), 0);
  ck_assert_mem_eq(fake->kdf.salt, salt, CPNS_SALT_LEN);
  ck_assert(sodium_is_zero(fake->registration_record + 96, 96));
  ck_assert_int_eq(
      cpns_crypto_s2_fake_record(fake2, other, sizeof(other) - 1, keys, secret, 0, 65536),
      CPNS_ERR_INVALID_ARGUMENT);
  /* Same OPRF key for repeated queries: equal evaluatedMessage for the same blindedMessage. */
  ck_assert_int_eq(cpnsi_opaque_client_ke1(cst, ke1, pw, sizeof(pw) - 1, nonce, NULL, NULL), 0);
  ck_assert_int_eq(cpnsi_opaque_server_ke2(sst, ke2b, keys, fake->registration_record, other,
                                           sizeof(other) - 1, ke1, nonce, NULL, 0, NULL, 0, ctx,
                                           sizeof(ctx) - 1, NULL, NULL),
                   0);
  ck_assert_int_eq(cpnsi_opaque_server_ke2(sst, ke2, keys, fake->registration_record, other,
                                           sizeof(other) - 1, ke1, nonce, NULL, 0, NULL, 0, ctx,
                                           sizeof(ctx) - 1, NULL, NULL),
                   0);
  ck_assert_mem_eq(ke2, ke2b, 32);
  ck_assert_mem_ne(ke2 + 32, ke2b + 32, 32); /* fresh masking nonces */
  /* Real and fake KE2 have one size, CPNS_S2_KE2_LEN, and both carry valid elements. */
  ck_assert_uint_eq(sizeof(ke2_real), sizeof(ke2));
  ck_assert_int_eq(crypto_core_ristretto255_is_valid_point(ke2), 1);
  ck_assert_int_eq(crypto_core_ristretto255_is_valid_point(ke2 + 224), 1);
  /* The gateway cannot recover an envelope from it: authentication failure. */
  ck_assert_int_eq(cpnsi_opaque_client_ke3(cst, ke3, sk, NULL, pw, sizeof(pw) - 1, ke2, NULL, 0,
                                           NULL, 0, ctx, sizeof(ctx) - 1, cpnsi_ksf_argon2id,
                                           &fake->kdf),
                   CPNS_ERR_SIGNATURE);
  /* Another User ID: another OPRF key. */
  ck_assert_int_eq(cpnsi_opaque_server_ke2(sst, ke2b, keys, fake->registration_record, uid,
                                           sizeof(uid) - 1, ke1, nonce, NULL, 0, NULL, 0, ctx,
                                           sizeof(ctx) - 1, NULL, NULL),
                   0);
  ck_assert_mem_ne(ke2, ke2b, 32);
  sodium_free(keys);
  sodium_free(rec);
  sodium_free(fake);
  sodium_free(fake2);
  sodium_free(cst);
  sodium_free(sst);
}
END_TEST

START_TEST(test_s2_record_seal) {
  cpns_s2_record rec, out;
  cpns_kdf_params kdf;
  cpns_credential c1;
  uint8_t key[CPNS_CREDENTIAL_SEAL_KEY_LEN], key2[CPNS_CREDENTIAL_SEAL_KEY_LEN];
  uint8_t sealed[CPNS_S2_SEALED_RECORD_LEN], bad[CPNS_S2_SEALED_RECORD_LEN + 1];
  uint8_t sealed1[CPNS_SEALED_CREDENTIAL_LEN];
  const uint8_t uid[] = "user@example.org", uid2[] = "user@example.com";
  size_t i;

  ck_assert_uint_eq(CPNS_S2_SEALED_RECORD_LEN, 32 + 24 + 192 + 16);
  randombytes_buf(key, sizeof(key));
  memcpy(key2, key, sizeof(key));
  key2[0] ^= 1;
  memset(&rec, 0, sizeof(rec));
  randombytes_buf(rec.registration_record, sizeof(rec.registration_record));
  randombytes_buf(rec.kdf.salt, sizeof(rec.kdf.salt));
  rec.kdf.ops_limit = 2;
  rec.kdf.mem_limit_kib = 8192;
  ck_assert_int_eq(cpns_crypto_s2_record_seal(sealed, &rec, uid, sizeof(uid) - 1, key), 0);
  /* The secret part is not in the clear. */
  ck_assert_int_eq(sealed[5], 2);
  for (i = 0; i + 16 <= sizeof(sealed); i++) {
    ck_assert(memcmp(sealed + i, rec.registration_record + 32, 16) != 0);
  }
  ck_assert_int_eq(
      cpns_crypto_s2_record_unseal(&out, sealed, sizeof(sealed), uid, sizeof(uid) - 1, key), 0);
  ck_assert_mem_eq(&out, &rec, sizeof(rec));
  ck_assert_int_eq(cpns_crypto_s2_record_sealed_kdf(&kdf, sealed, sizeof(sealed)), 0);
  ck_assert_mem_eq(&kdf, &rec.kdf, sizeof(kdf));
  /* Another User ID, another key. */
  ck_assert_int_eq(
      cpns_crypto_s2_record_unseal(&out, sealed, sizeof(sealed), uid2, sizeof(uid2) - 1, key),
      CPNS_ERR_DECRYPT);
  ck_assert(sodium_is_zero((const uint8_t *)&out, sizeof(out)));
  ck_assert_int_eq(
      cpns_crypto_s2_record_unseal(&out, sealed, sizeof(sealed), uid, sizeof(uid) - 1, key2),
      CPNS_ERR_DECRYPT);
  /* Every altered octet: the header's checks or the tag refuse it. */
  for (i = 0; i < sizeof(sealed); i++) {
    int rv;
    memcpy(bad, sealed, sizeof(sealed));
    bad[i] ^= 0x01;
    rv = cpns_crypto_s2_record_unseal(&out, bad, sizeof(sealed), uid, sizeof(uid) - 1, key);
    ck_assert_msg(rv == CPNS_ERR_DECRYPT || rv == CPNS_ERR_RECORD_FORMAT, "octet %zu: %d", i, rv);
    ck_assert(sodium_is_zero((const uint8_t *)&out, sizeof(out)));
  }
  /* Wrong lengths, and a suite-1 record in its place. */
  memcpy(bad, sealed, sizeof(sealed));
  bad[sizeof(sealed)] = 0;
  ck_assert_int_eq(
      cpns_crypto_s2_record_unseal(&out, bad, sizeof(sealed) + 1, uid, sizeof(uid) - 1, key),
      CPNS_ERR_RECORD_FORMAT);
  ck_assert_int_eq(
      cpns_crypto_s2_record_unseal(&out, sealed, sizeof(sealed) - 1, uid, sizeof(uid) - 1, key),
      CPNS_ERR_RECORD_FORMAT);
  memset(&c1, 0, sizeof(c1));
  c1.kdf = rec.kdf;
  ck_assert_int_eq(cpns_crypto_credential_seal(sealed1, &c1, key, uid, sizeof(uid) - 1), 0);
  ck_assert_int_eq(cpns_crypto_s2_record_sealed_kdf(&kdf, sealed1, sizeof(sealed1)),
                   CPNS_ERR_RECORD_FORMAT);
  ck_assert_int_eq(cpns_crypto_credential_sealed_kdf(&kdf, sealed, sizeof(sealed)),
                   CPNS_ERR_RECORD_FORMAT);
  /* A suite-2 header relabelled as suite 1 (same length as ours) is refused by its suite octet. */
  memcpy(bad, sealed, sizeof(sealed));
  bad[5] = 1;
  ck_assert_int_eq(cpns_crypto_s2_record_sealed_kdf(&kdf, bad, sizeof(sealed)),
                   CPNS_ERR_RECORD_FORMAT);
  /* Arguments. */
  ck_assert_int_eq(cpns_crypto_s2_record_unseal(&out, sealed, sizeof(sealed), uid, 0, key),
                   CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(cpns_crypto_s2_record_seal(sealed, &rec, uid, 0, key),
                   CPNS_ERR_INVALID_ARGUMENT);
  rec.kdf.ops_limit = 0;
  ck_assert_int_eq(cpns_crypto_s2_record_seal(sealed, &rec, uid, sizeof(uid) - 1, key),
                   CPNS_ERR_ENCODE);
}
END_TEST

/* PROTOCOL.md §5.2 derivations against their definitions on libsodium's HMAC-SHA-512. */
START_TEST(test_s2_delivery_derivations) {
  uint8_t session_key[64], wrap[32], delivery[32], sig[32], full[64], t[64], key_id[16];
  uint8_t am[40], buf[64];
  crypto_auth_hmacsha512_state st;
  static const uint8_t one = 1;

  randombytes_buf(session_key, sizeof(session_key));
  randombytes_buf(key_id, sizeof(key_id));
  randombytes_buf(am, sizeof(am));
  ck_assert_int_eq(cpnsi_s2_delivery_keys(wrap, delivery, session_key), 0);
  /* HKDF-Expand(PRK, info, 32) = first 32 octets of HMAC(PRK, info || 0x01). */
  crypto_auth_hmacsha512_init(&st, session_key, 64);
  crypto_auth_hmacsha512_update(&st, (const uint8_t *)"CPNS EUKey Wrap", 15);
  crypto_auth_hmacsha512_update(&st, &one, 1);
  crypto_auth_hmacsha512_final(&st, t);
  ck_assert_mem_eq(wrap, t, 32);
  crypto_auth_hmacsha512_init(&st, session_key, 64);
  crypto_auth_hmacsha512_update(&st, (const uint8_t *)"CPNS Delivery Key", 17);
  crypto_auth_hmacsha512_update(&st, &one, 1);
  crypto_auth_hmacsha512_final(&st, t);
  ck_assert_mem_eq(delivery, t, 32);
  ck_assert_mem_ne(wrap, delivery, 32);
  ck_assert_int_eq(cpnsi_s2_server_signature(sig, delivery, am, sizeof(am), key_id), 0);
  memcpy(buf, am, sizeof(am));
  memcpy(buf + sizeof(am), key_id, sizeof(key_id));
  crypto_auth_hmacsha512_init(&st, delivery, 32);
  crypto_auth_hmacsha512_update(&st, buf, sizeof(am) + sizeof(key_id));
  crypto_auth_hmacsha512_final(&st, full);
  ck_assert_mem_eq(sig, full, 32);
  ck_assert_int_eq(cpnsi_s2_server_signature_verify(sig, delivery, am, sizeof(am), key_id), 0);
  sig[31] ^= 1;
  ck_assert_int_eq(cpnsi_s2_server_signature_verify(sig, delivery, am, sizeof(am), key_id),
                   CPNS_ERR_SIGNATURE);
  sig[31] ^= 1;
  key_id[0] ^= 1;
  ck_assert_int_eq(cpnsi_s2_server_signature_verify(sig, delivery, am, sizeof(am), key_id),
                   CPNS_ERR_SIGNATURE);
}
END_TEST

START_TEST(test_ksf_argon2id) {
  cpns_kdf_params kdf;
  uint8_t in[64], out[64], want[64];

  memset(&kdf, 0, sizeof(kdf));
  memset(kdf.salt, 0x5c, sizeof(kdf.salt));
  kdf.ops_limit = 1;
  kdf.mem_limit_kib = 8192;
  memset(in, 0x42, sizeof(in));
  ck_assert_int_eq(cpnsi_ksf_argon2id(out, in, &kdf), 0);
  ck_assert_int_eq(crypto_pwhash(want, 64, (const char *)in, 64, kdf.salt, 1, 8192u * 1024u,
                                 crypto_pwhash_ALG_ARGON2ID13),
                   0);
  ck_assert_mem_eq(out, want, 64);
  kdf.mem_limit_kib = 4;
  ck_assert_int_eq(cpnsi_ksf_argon2id(out, in, &kdf), CPNS_ERR_KDF_PARAMS);
  ck_assert(sodium_is_zero(out, 64));
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

  tc = tcase_create("opaque");
  tcase_add_checked_fixture(tc, setup, NULL);
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, test_opaque_rfc9807_real_vectors, 0, 2);
  tcase_add_test(tc, test_opaque_rfc9807_fake_vector);
  tcase_add_test(tc, test_opaque_round_trip_and_failures);
  tcase_add_test(tc, test_opaque_tampered_ke2_mac);
  tcase_add_test(tc, test_opaque_rejects_bad_peer_elements);
  tcase_add_test(tc, test_opaque_rejects_bad_recovered_server_key);
  tcase_add_test(tc, test_s2_register_argon2id_and_fake_user);
  tcase_add_test(tc, test_s2_record_seal);
  tcase_add_test(tc, test_s2_delivery_derivations);
  tcase_add_test(tc, test_ksf_argon2id);
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
