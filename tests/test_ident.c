/*
 * Check suite for the identifier parsers (PROTOCOL.md §2) and the PDU
 * semantic validation built on them. Tables of valid and invalid cases, plus
 * loops over every octet of each character class and every UTF-8 lead /
 * continuation combination, checked against a reference written here.
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include <cpns/codec.h>
#include <cpns/ident.h>

typedef int (*normalize_fn)(const uint8_t *, size_t, uint8_t *, size_t, size_t *,
                            cpns_ident_error *);

/* len 0 means strlen(in); norm NULL means "same as in" for valid cases. */
typedef struct id_case {
  const char *in;
  size_t len;
  int rc;
  const char *norm; /* rc == 0 */
  size_t offset;    /* rc != 0 */
} id_case;

/* Initializer macros, one line each. */
/* clang-format off */
#define OK(s, n) {s, 0, 0, n, 0}
#define BAD(s, r, o) {s, 0, r, NULL, o}
#define BADN(s, l, r, o) {s, l, r, NULL, o}
/* clang-format on */

static const id_case entity_cases[] = {
    /* RFC 8141 examples and §3.1 equivalence */
    OK("urn:example:a123,z456", NULL),
    OK("URN:example:a123,z456", "urn:example:a123,z456"),
    OK("urn:EXAMPLE:a123,z456", "urn:example:a123,z456"),
    OK("urn:example:A123,z456", NULL),
    OK("urn:example:a123%2Cz456", NULL),
    OK("URN:EXAMPLE:a123%2cz456", "urn:example:a123%2Cz456"),
    OK("urn:example:%aa%Bb%cC%09", "urn:example:%AA%BB%CC%09"),
    OK("uRn:ExAmPlE:MiXeD", "urn:example:MiXeD"),
    OK("urn:ietf:rfc:8141", NULL),
    OK("urn:isbn:0451450523", NULL),
    OK("urn:example:foo/bar/", NULL),
    OK("urn:example:a:b:c", NULL),
    OK("urn:example:@", NULL),
    OK("urn:example:-._~!$&'()*+,;=:@/%00", NULL),
    /* NID boundaries: 2..32, alphanumeric at both ends, '-' inside */
    OK("urn:ab:x", NULL),
    OK("urn:A-B:x", "urn:a-b:x"),
    OK("urn:09:x", NULL),
    OK("urn:a--------------------------b:x", NULL),
    OK("urn:abcdefghijklmnopqrstuvwxyz012345:x", NULL),
    OK("urn:urn:x", NULL),
    /* uuid: RFC 4122 8-4-4-4-12, lower-cased */
    OK("urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6", NULL),
    OK("URN:UUID:F81D4FAE-7DEC-11D0-A765-00A0C91E6BF6",
       "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6"),
    OK("urn:Uuid:00000000-0000-0000-0000-000000000000",
       "urn:uuid:00000000-0000-0000-0000-000000000000"),
    /* dev:mac: RFC 9039, 12 or 16 hex, lower-cased including "mac" */
    OK("urn:dev:mac:0024befffe804ff1", NULL),
    OK("urn:DEV:MAC:0024BEFFFE804FF1", "urn:dev:mac:0024befffe804ff1"),
    OK("urn:dev:mac:0024BEFF0011", "urn:dev:mac:0024beff0011"),
    /* other dev subtypes and a bare "mac" NSS only follow RFC 8141 */
    OK("urn:dev:ow:10E2073A01080063", NULL),
    OK("urn:dev:mac", NULL),
    OK("urn:dev:macx:ZZ", NULL),
    OK("urn:dev:mac%3A0024befffe80", "urn:dev:mac%3A0024befffe80"),

    BADN("", 0, CPNS_ERR_ID_EMPTY, 0),
    /* prefix */
    BAD("u", CPNS_ERR_ID_TRUNCATED, 1),
    BAD("urn", CPNS_ERR_ID_TRUNCATED, 3),
    BAD("urx:ab:x", CPNS_ERR_ID_SYNTAX, 2),
    BAD(" urn:ab:x", CPNS_ERR_ID_SYNTAX, 0),
    BAD("urn;ab:x", CPNS_ERR_ID_SYNTAX, 3),
    BAD("urn:", CPNS_ERR_ID_TRUNCATED, 4),
    /* NID */
    BAD("urn:a:x", CPNS_ERR_ID_SYNTAX, 5),
    BAD("urn:-ab:x", CPNS_ERR_ID_SYNTAX, 4),
    BAD("urn:ab-:x", CPNS_ERR_ID_SYNTAX, 7),
    BAD("urn::x", CPNS_ERR_ID_SYNTAX, 4),
    BAD("urn:a_b:x", CPNS_ERR_ID_SYNTAX, 5),
    BAD("urn:a.b:x", CPNS_ERR_ID_SYNTAX, 5),
    BAD("urn:abcdefghijklmnopqrstuvwxyz0123456:x", CPNS_ERR_ID_SYNTAX, 36),
    BAD("urn:abcdefghijklmnopqrstuvwxyz01234-:x", CPNS_ERR_ID_SYNTAX, 35),
    BAD("urn:ab", CPNS_ERR_ID_TRUNCATED, 6),
    BAD("urn:ab-", CPNS_ERR_ID_TRUNCATED, 7),
    BAD("urn:ab:", CPNS_ERR_ID_TRUNCATED, 7),
    /* NSS */
    BAD("urn:ab:/x", CPNS_ERR_ID_SYNTAX, 7),
    BAD("urn:ab:x y", CPNS_ERR_ID_SYNTAX, 8),
    BAD("urn:ab:x\"", CPNS_ERR_ID_SYNTAX, 8),
    BAD("urn:ab:x<>", CPNS_ERR_ID_SYNTAX, 8),
    BAD("urn:ab:x[1]", CPNS_ERR_ID_SYNTAX, 8),
    BAD("urn:ab:x\\", CPNS_ERR_ID_SYNTAX, 8),
    BAD("urn:ab:x^", CPNS_ERR_ID_SYNTAX, 8),
    BAD("urn:ab:x`", CPNS_ERR_ID_SYNTAX, 8),
    BAD("urn:ab:x{|}", CPNS_ERR_ID_SYNTAX, 8),
    BAD("urn:ab:x\x7f", CPNS_ERR_ID_SYNTAX, 8),
    BAD("urn:ab:\xc3\xa9", CPNS_ERR_ID_SYNTAX, 7),
    /* no r-, q- or f-components (RFC 8141 §2 examples) */
    BAD("urn:example:foo-bar-baz-qux?+CCResolve:cc=uk", CPNS_ERR_ID_SYNTAX, 27),
    BAD("urn:example:weather?=op=map&lat=39.56", CPNS_ERR_ID_SYNTAX, 19),
    BAD("urn:example:foo#bar", CPNS_ERR_ID_SYNTAX, 15),
    BAD("urn:example:foo?", CPNS_ERR_ID_SYNTAX, 15),
    /* percent-encoding */
    BAD("urn:ab:%", CPNS_ERR_ID_PCT_ENCODING, 8),
    BAD("urn:ab:%4", CPNS_ERR_ID_PCT_ENCODING, 9),
    BAD("urn:ab:x%4g", CPNS_ERR_ID_PCT_ENCODING, 10),
    BAD("urn:ab:x%g4", CPNS_ERR_ID_PCT_ENCODING, 9),
    BAD("urn:ab:x%%41", CPNS_ERR_ID_PCT_ENCODING, 9),
    BAD("urn:ab:x%/0", CPNS_ERR_ID_PCT_ENCODING, 9),
    BAD("urn:ab:x%:0", CPNS_ERR_ID_PCT_ENCODING, 9),
    BAD("urn:ab:x%@0", CPNS_ERR_ID_PCT_ENCODING, 9),
    BAD("urn:ab:x%G0", CPNS_ERR_ID_PCT_ENCODING, 9),
    BAD("urn:ab:x%`0", CPNS_ERR_ID_PCT_ENCODING, 9),
    BAD("urn:ab:x%0-", CPNS_ERR_ID_PCT_ENCODING, 10),
    /* uuid namespace */
    BAD("urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf", CPNS_ERR_ID_NAMESPACE, 44),
    BAD("urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6a", CPNS_ERR_ID_NAMESPACE, 45),
    BAD("urn:uuid:f81d4fae7dec-11d0-a765-00a0c91e6bf6", CPNS_ERR_ID_NAMESPACE, 17),
    BAD("urn:uuid:f81d4fa-e7dec-11d0-a765-00a0c91e6bf6", CPNS_ERR_ID_NAMESPACE, 16),
    BAD("urn:uuid:g81d4fae-7dec-11d0-a765-00a0c91e6bf6", CPNS_ERR_ID_NAMESPACE, 9),
    BAD("urn:uuid:%6681d4fae-7dec-11d0-a765-00a0c91e6bf6", CPNS_ERR_ID_NAMESPACE, 9),
    BAD("urn:uuid:{f81d4fae-7dec-11d0-a765-00a0c91e6bf6}", CPNS_ERR_ID_SYNTAX, 9),
    BAD("urn:uuid:x", CPNS_ERR_ID_NAMESPACE, 9),
    /* dev:mac namespace */
    BAD("urn:dev:mac:0024befffe8", CPNS_ERR_ID_NAMESPACE, 23),
    BAD("urn:dev:mac:0024befffe8040", CPNS_ERR_ID_NAMESPACE, 26),
    BAD("urn:dev:mac:0024befffe804ff", CPNS_ERR_ID_NAMESPACE, 27),
    BAD("urn:dev:mac:0024befffe804ff12", CPNS_ERR_ID_NAMESPACE, 28),
    BAD("urn:dev:mac:0024befffe80_1", CPNS_ERR_ID_NAMESPACE, 24),
    BAD("urn:dev:mac:00:24:be:ff:fe:80", CPNS_ERR_ID_NAMESPACE, 14),
    BAD("urn:dev:mac:%300024befffe80", CPNS_ERR_ID_NAMESPACE, 12),
    BAD("urn:dev:mac:", CPNS_ERR_ID_NAMESPACE, 12),
    /* bytes a C string would stop at are still checked */
    BADN("urn:ab:x\0y", 10, CPNS_ERR_ID_SYNTAX, 8),
};

static const id_case user_cases[] = {
    /* RFC 7542 examples */
    OK("joe@example.com", NULL),
    OK("fred@example.net", NULL),
    OK("fred=?#$&*+-/^smith@example.com", NULL),
    OK("eng.example.net", NULL),
    OK("nancy@eng.example.net", NULL),
    OK("user", NULL),
    OK("Joe.User@EXAMPLE.Com", "Joe.User@example.com"),
    OK("!#$%&'*+-/=?^_`{|}~@a.b", NULL),
    OK("a@a-b.c--d.e", NULL),
    OK("a@0.9", NULL),
    OK("A.B.C", NULL),
    /* UTF-8: username octet for octet, realm only ASCII lower-cased */
    OK("\xc3\x9cSER@EX\xc3\x84MPLE.COM", "\xc3\x9cSER@ex\xc3\x84mple.com"),
    OK("\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe6\xb5\x8b\xe8\xaf\x95", NULL),
    OK("x@\xc3\xa9-\xc3\xa9.\xf0\x9f\x98\x80", NULL),
    /* UTF-8 range boundaries that are valid */
    OK("\xc2\x80", NULL),
    OK("\xdf\xbf", NULL),
    OK("\xe0\xa0\x80", NULL),
    OK("\xe1\x80\x80", NULL),
    OK("\xec\xbf\xbf", NULL),
    OK("\xed\x80\x80", NULL),
    OK("\xed\x9f\xbf", NULL),
    OK("\xee\x80\x80", NULL),
    OK("\xef\xbf\xbf", NULL),
    OK("\xf0\x90\x80\x80", NULL),
    OK("\xf3\xbf\xbf\xbf", NULL),
    OK("\xf4\x8f\xbf\xbf", NULL),

    BADN("", 0, CPNS_ERR_ID_EMPTY, 0),
    /* username */
    BAD("@example.com", CPNS_ERR_ID_SYNTAX, 0),
    BAD(".user", CPNS_ERR_ID_SYNTAX, 0),
    BAD("user.", CPNS_ERR_ID_TRUNCATED, 5),
    BAD("us..er", CPNS_ERR_ID_SYNTAX, 3),
    BAD("us er", CPNS_ERR_ID_SYNTAX, 2),
    BAD("us\"er", CPNS_ERR_ID_SYNTAX, 2),
    BAD("us(er", CPNS_ERR_ID_SYNTAX, 2),
    BAD("us,er", CPNS_ERR_ID_SYNTAX, 2),
    BAD("us:er", CPNS_ERR_ID_SYNTAX, 2),
    BAD("us;er", CPNS_ERR_ID_SYNTAX, 2),
    BAD("us<er", CPNS_ERR_ID_SYNTAX, 2),
    BAD("us[er", CPNS_ERR_ID_SYNTAX, 2),
    BAD("us\\er", CPNS_ERR_ID_SYNTAX, 2),
    BAD("us\x7f", CPNS_ERR_ID_SYNTAX, 2),
    BAD("user.@a.b", CPNS_ERR_ID_SYNTAX, 5),
    BADN("us\0er", 5, CPNS_ERR_ID_SYNTAX, 2),
    /* realm: at least two labels, no leading/trailing '-', no empty label */
    BAD("user@", CPNS_ERR_ID_TRUNCATED, 5),
    BAD("user@example", CPNS_ERR_ID_TRUNCATED, 12),
    BAD("user@example.", CPNS_ERR_ID_TRUNCATED, 13),
    BAD("user@example.com.", CPNS_ERR_ID_TRUNCATED, 17),
    BAD("user@.example.com", CPNS_ERR_ID_SYNTAX, 5),
    BAD("user@example..com", CPNS_ERR_ID_SYNTAX, 13),
    BAD("user@-ex.com", CPNS_ERR_ID_SYNTAX, 5),
    BAD("user@ex-.com", CPNS_ERR_ID_SYNTAX, 8),
    BAD("user@ex.com-", CPNS_ERR_ID_TRUNCATED, 12),
    BAD("user@ex_ample.com", CPNS_ERR_ID_SYNTAX, 7),
    BAD("user@a@b.com", CPNS_ERR_ID_SYNTAX, 6),
    BAD("user@ex.c+m", CPNS_ERR_ID_SYNTAX, 9),
    /* UTF-8 malformations (RFC 3629) */
    BAD("a\x80", CPNS_ERR_ID_UTF8, 1), /* lone continuation */
    BAD("a\xbf", CPNS_ERR_ID_UTF8, 1),
    BAD("a\xc0\x80", CPNS_ERR_ID_UTF8, 1), /* overlong 2-octet */
    BAD("a\xc1\xbf", CPNS_ERR_ID_UTF8, 1),
    BAD("a\xe0\x80\x80", CPNS_ERR_ID_UTF8, 2), /* overlong 3-octet */
    BAD("a\xe0\x9f\xbf", CPNS_ERR_ID_UTF8, 2),
    BAD("a\xed\xa0\x80", CPNS_ERR_ID_UTF8, 2),     /* surrogate U+D800 */
    BAD("a\xed\xbf\xbf", CPNS_ERR_ID_UTF8, 2),     /* surrogate U+DFFF */
    BAD("a\xf0\x80\x80\x80", CPNS_ERR_ID_UTF8, 2), /* overlong 4-octet */
    BAD("a\xf0\x8f\xbf\xbf", CPNS_ERR_ID_UTF8, 2),
    BAD("a\xf4\x90\x80\x80", CPNS_ERR_ID_UTF8, 2), /* U+110000 */
    BAD("a\xf5\x80\x80\x80", CPNS_ERR_ID_UTF8, 1),
    BAD("a\xf8\x88\x80\x80\x80", CPNS_ERR_ID_UTF8, 1), /* old 5-octet form */
    BAD("a\xfc\x84\x80\x80\x80\x80", CPNS_ERR_ID_UTF8, 1),
    BAD("a\xfe", CPNS_ERR_ID_UTF8, 1),
    BAD("a\xff", CPNS_ERR_ID_UTF8, 1),
    BAD("a\xc3", CPNS_ERR_ID_UTF8, 2), /* truncated at end */
    BAD("a\xe2\x82", CPNS_ERR_ID_UTF8, 3),
    BAD("a\xf0\x9f\x98", CPNS_ERR_ID_UTF8, 4),
    BAD("a\xc3"
        "b",
        CPNS_ERR_ID_UTF8, 2), /* truncated inside */
    BAD("a\xe2\x82"
        "b",
        CPNS_ERR_ID_UTF8, 3),
    BAD("a\xc3\xa9\xa9", CPNS_ERR_ID_UTF8, 3), /* extra continuation */
    BAD("a@b.\xed\xa0\x80", CPNS_ERR_ID_UTF8, 5),
    BAD("a@\xc3.b", CPNS_ERR_ID_UTF8, 3),
};

static size_t case_len(const id_case *c) { return c->len ? c->len : strlen(c->in); }

/* Runs one case on an exact-size heap copy, so ASan sees any over-read. */
static void check_case(normalize_fn fn, const id_case *c, size_t idx) {
  size_t len = case_len(c);
  uint8_t *in = malloc(len ? len : 1);
  ck_assert_ptr_nonnull(in);
  memcpy(in, c->in, len);
  uint8_t out[300];
  size_t written = 999;
  cpns_ident_error err = {999, NULL};
  int rc = fn(in, len, out, sizeof out, &written, &err);
  ck_assert_msg(rc == c->rc, "case %zu \"%s\": rc %d, want %d (offset %zu)", idx, c->in, rc, c->rc,
                err.offset);
  if (rc == 0) {
    const char *want = c->norm ? c->norm : c->in;
    ck_assert_uint_eq(written, strlen(want));
    ck_assert_msg(memcmp(out, want, written) == 0, "case %zu \"%s\": normal form \"%.*s\"", idx,
                  c->in, (int)written, (const char *)out);
  } else {
    ck_assert_msg(err.offset == c->offset, "case %zu \"%s\": offset %zu, want %zu", idx, c->in,
                  err.offset, c->offset);
    ck_assert_uint_eq(written, 0);
    const char *phrase = err.expected;
    ck_assert_ptr_nonnull(phrase);
    ck_assert_uint_gt(strlen(phrase), 0);
  }
  free(in);
}

START_TEST(test_entity_id_normalize_table) {
  for (size_t i = 0; i < sizeof entity_cases / sizeof entity_cases[0]; i++)
    check_case(cpns_entity_id_normalize, &entity_cases[i], i);
}
END_TEST

START_TEST(test_user_id_normalize_table) {
  for (size_t i = 0; i < sizeof user_cases / sizeof user_cases[0]; i++)
    check_case(cpns_user_id_normalize, &user_cases[i], i);
}
END_TEST

/* Normalizing a normal form gives it back, in place too. */
static void check_idempotent(normalize_fn fn, const id_case *cases, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (cases[i].rc != 0)
      continue;
    uint8_t once[300], twice[300];
    size_t len = case_len(&cases[i]), w1, w2, w3;
    ck_assert_int_eq(fn((const uint8_t *)cases[i].in, len, once, sizeof once, &w1, NULL), 0);
    ck_assert_int_eq(fn(once, w1, twice, sizeof twice, &w2, NULL), 0);
    ck_assert_uint_eq(w1, w2);
    ck_assert(memcmp(once, twice, w1) == 0);
    uint8_t inplace[300];
    memcpy(inplace, cases[i].in, len);
    ck_assert_int_eq(fn(inplace, len, inplace, len, &w3, NULL), 0);
    ck_assert_uint_eq(w3, w1);
    ck_assert(memcmp(inplace, once, w1) == 0);
  }
}

START_TEST(test_entity_id_normalize_idempotent) {
  check_idempotent(cpns_entity_id_normalize, entity_cases,
                   sizeof entity_cases / sizeof entity_cases[0]);
}
END_TEST

START_TEST(test_user_id_normalize_idempotent) {
  check_idempotent(cpns_user_id_normalize, user_cases, sizeof user_cases / sizeof user_cases[0]);
}
END_TEST

/* 1 if a and b have the same normal form. */
static int same_id(normalize_fn fn, const char *a, const char *b) {
  uint8_t na[300], nb[300];
  size_t la, lb;
  ck_assert_int_eq(fn((const uint8_t *)a, strlen(a), na, sizeof na, &la, NULL), 0);
  ck_assert_int_eq(fn((const uint8_t *)b, strlen(b), nb, sizeof nb, &lb, NULL), 0);
  return la == lb && memcmp(na, nb, la) == 0;
}

START_TEST(test_entity_id_normalize_equivalence) {
  normalize_fn f = cpns_entity_id_normalize;
  ck_assert(same_id(f, "URN:UUID:F81D4FAE-7DEC-11D0-A765-00A0C91E6BF6",
                    "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6"));
  ck_assert(same_id(f, "urn:uuid:F81D4FAE-7dec-11D0-a765-00A0C91E6BF6",
                    "URN:uuid:f81d4fae-7DEC-11d0-A765-00a0c91e6bf6"));
  ck_assert(same_id(f, "urn:dev:mac:0024BEFFFE804FF1", "URN:DEV:MAC:0024befffe804ff1"));
  ck_assert(same_id(f, "URN:example:a123,z456", "urn:EXAMPLE:a123,z456"));
  ck_assert(same_id(f, "urn:example:a123%2Cz456", "URN:EXAMPLE:a123%2cz456"));
  /* RFC 8141 §3.2: these are not equivalent */
  ck_assert(!same_id(f, "urn:example:a123,z456", "urn:example:A123,z456"));
  ck_assert(!same_id(f, "urn:example:a123,z456", "urn:example:a123%2Cz456"));
  ck_assert(!same_id(f, "urn:example:a123,z456", "urn:example:a123,z456/"));
  ck_assert(!same_id(f, "urn:dev:ow:10e2073a01080063", "urn:dev:ow:10E2073A01080063"));
}
END_TEST

START_TEST(test_user_id_normalize_equivalence) {
  normalize_fn f = cpns_user_id_normalize;
  ck_assert(same_id(f, "joe@EXAMPLE.com", "joe@example.COM"));
  ck_assert(same_id(f, "joe@Eng.Example.Net", "joe@eng.example.net"));
  ck_assert(!same_id(f, "Joe@example.com", "joe@example.com"));
  ck_assert(!same_id(f, "joe", "JOE"));
  /* only ASCII letters fold: U+00C4 and U+00E4 stay apart */
  ck_assert(!same_id(f, "a@\xc3\x84.b", "a@\xc3\xa4.b"));
}
END_TEST

/* Builds "urn:ab:" followed by x's up to len octets. */
static size_t make_entity(uint8_t *buf, size_t len) {
  memcpy(buf, "urn:ab:", 7);
  memset(buf + 7, 'x', len - 7);
  return len;
}

START_TEST(test_entity_id_normalize_length_limit) {
  uint8_t in[300], out[300];
  size_t w;
  cpns_ident_error err;
  make_entity(in, 255);
  ck_assert_int_eq(cpns_entity_id_normalize(in, 255, out, sizeof out, &w, &err), 0);
  ck_assert_uint_eq(w, 255);
  make_entity(in, 256);
  ck_assert_int_eq(cpns_entity_id_normalize(in, 256, out, sizeof out, &w, &err),
                   CPNS_ERR_ID_TOO_LONG);
  ck_assert_uint_eq(err.offset, 255);
  /* the length is checked before any octet is read */
  ck_assert_int_eq(cpns_entity_id_normalize(in, (size_t)-1, out, sizeof out, &w, &err),
                   CPNS_ERR_ID_TOO_LONG);
}
END_TEST

START_TEST(test_user_id_normalize_length_limit) {
  uint8_t in[300], out[300];
  size_t w;
  cpns_ident_error err;
  memset(in, 'a', sizeof in);
  memcpy(in + 200, "@b.c", 4);
  ck_assert_int_eq(cpns_user_id_normalize(in, 253, out, sizeof out, &w, &err), 0);
  ck_assert_uint_eq(w, 253);
  ck_assert_int_eq(cpns_user_id_normalize(in, 254, out, sizeof out, &w, &err),
                   CPNS_ERR_ID_TOO_LONG);
  ck_assert_uint_eq(err.offset, 253);
  /* a 253-octet username with multi-octet characters is still fine */
  for (size_t i = 0; i + 2 <= 252; i += 2)
    memcpy(in + i, "\xc3\xa9", 2);
  in[252] = 'z';
  ck_assert_int_eq(cpns_user_id_normalize(in, 253, out, sizeof out, &w, &err), 0);
}
END_TEST

START_TEST(test_entity_id_normalize_buffer) {
  const uint8_t *in = (const uint8_t *)"URN:ab:x";
  uint8_t out[8];
  size_t w;
  cpns_ident_error err;
  ck_assert_int_eq(cpns_entity_id_normalize(in, 8, out, 7, &w, &err), CPNS_ERR_BUFFER_TOO_SMALL);
  ck_assert_uint_eq(w, 0);
  ck_assert_int_eq(cpns_entity_id_normalize(in, 8, out, 8, &w, NULL), 0);
  ck_assert(memcmp(out, "urn:ab:x", 8) == 0);
  /* syntax is reported before the buffer size */
  ck_assert_int_eq(cpns_entity_id_normalize((const uint8_t *)"urn:a:x", 7, out, 1, &w, &err),
                   CPNS_ERR_ID_SYNTAX);
}
END_TEST

START_TEST(test_user_id_normalize_buffer) {
  const uint8_t *in = (const uint8_t *)"a@B.c";
  uint8_t out[5];
  size_t w;
  cpns_ident_error err;
  ck_assert_int_eq(cpns_user_id_normalize(in, 5, out, 4, &w, &err), CPNS_ERR_BUFFER_TOO_SMALL);
  ck_assert_int_eq(cpns_user_id_normalize(in, 5, out, 5, &w, &err), 0);
  ck_assert(memcmp(out, "a@b.c", 5) == 0);
}
END_TEST

START_TEST(test_ident_normalize_invalid_argument) {
  uint8_t out[16];
  size_t w;
  cpns_ident_error err = {7, NULL};
  const uint8_t *in = (const uint8_t *)"urn:ab:x";
  normalize_fn fns[2] = {cpns_entity_id_normalize, cpns_user_id_normalize};
  for (int i = 0; i < 2; i++) {
    ck_assert_int_eq(fns[i](NULL, 3, out, sizeof out, &w, &err), CPNS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(fns[i](in, 3, NULL, sizeof out, &w, &err), CPNS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(fns[i](in, 3, out, sizeof out, NULL, &err), CPNS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(fns[i](NULL, 0, out, sizeof out, &w, &err), CPNS_ERR_ID_EMPTY);
    ck_assert_int_eq(fns[i](NULL, 0, out, sizeof out, &w, NULL), CPNS_ERR_ID_EMPTY);
  }
}
END_TEST

START_TEST(test_ident_expected_phrases) {
  uint8_t out[64];
  size_t w;
  cpns_ident_error err;
  ck_assert_int_eq(
      cpns_entity_id_normalize((const uint8_t *)"urn:ab:%4g", 10, out, sizeof out, &w, &err),
      CPNS_ERR_ID_PCT_ENCODING);
  ck_assert_ptr_nonnull(strstr(err.expected, "hex"));
  ck_assert_int_eq(
      cpns_entity_id_normalize((const uint8_t *)"urn:ab-:x", 9, out, sizeof out, &w, &err),
      CPNS_ERR_ID_SYNTAX);
  ck_assert_ptr_nonnull(strstr(err.expected, "'-'"));
  ck_assert_int_eq(
      cpns_entity_id_normalize((const uint8_t *)"urn:ex:a?b", 10, out, sizeof out, &w, &err),
      CPNS_ERR_ID_SYNTAX);
  ck_assert_ptr_nonnull(strstr(err.expected, "no ?+"));
  ck_assert_int_eq(
      cpns_entity_id_normalize((const uint8_t *)"urn:uuid:x", 10, out, sizeof out, &w, &err),
      CPNS_ERR_ID_NAMESPACE);
  ck_assert_ptr_nonnull(strstr(err.expected, "8-4-4-4-12"));
  ck_assert_int_eq(
      cpns_user_id_normalize((const uint8_t *)"a\xed\xa0\x80", 4, out, sizeof out, &w, &err),
      CPNS_ERR_ID_UTF8);
  ck_assert_ptr_nonnull(strstr(err.expected, "surrogate"));
  ck_assert_int_eq(
      cpns_user_id_normalize((const uint8_t *)"a@example", 9, out, sizeof out, &w, &err),
      CPNS_ERR_ID_TRUNCATED);
  ck_assert_ptr_nonnull(strstr(err.expected, "two labels"));
  /* Each call reports through its own out-parameter: a later success
   * leaves it alone, and another thread's error cannot reach it. */
  ck_assert_int_eq(cpns_user_id_normalize((const uint8_t *)"a@b.c", 5, out, sizeof out, &w, &err),
                   0);
  ck_assert_ptr_nonnull(strstr(err.expected, "two labels"));
  ck_assert_int_eq(cpns_user_id_normalize((const uint8_t *)"", 0, out, sizeof out, &w, &err),
                   CPNS_ERR_ID_EMPTY);
  ck_assert_ptr_nonnull(strstr(err.expected, "a User ID"));
}
END_TEST

/* Reference character classes, written from the ABNF in PROTOCOL.md §2. */
static int is_alnum(int c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
static int is_pchar_plain(int c) { /* pchar without pct-encoded */
  return is_alnum(c) || (c && strchr("-._~!$&'()*+,;=:@", c) != NULL);
}
static int is_atext_ascii(int c) {
  return is_alnum(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static int run1(normalize_fn fn, const uint8_t *in, size_t len, cpns_ident_error *err) {
  uint8_t out[64];
  size_t w;
  return fn(in, len, out, sizeof out, &w, err);
}

START_TEST(test_entity_id_normalize_every_octet) {
  for (int c = 0; c < 256; c++) {
    uint8_t nid_first[] = {'u', 'r', 'n', ':', (uint8_t)c, 'b', ':', 'x'};
    uint8_t nid_mid[] = {'u', 'r', 'n', ':', 'a', (uint8_t)c, 'b', ':', 'x'};
    uint8_t nss_first[] = {'u', 'r', 'n', ':', 'a', 'b', ':', (uint8_t)c};
    uint8_t nss_mid[] = {'u', 'r', 'n', ':', 'a', 'b', ':', 'x', (uint8_t)c, 'y'};
    cpns_ident_error err;
    int rc;

    rc = run1(cpns_entity_id_normalize, nid_first, sizeof nid_first, &err);
    ck_assert_msg(is_alnum(c) ? rc == 0 : (rc == CPNS_ERR_ID_SYNTAX && err.offset == 4),
                  "NID first octet 0x%02x: rc %d", c, rc);
    rc = run1(cpns_entity_id_normalize, nid_mid, sizeof nid_mid, &err);
    ck_assert_msg((is_alnum(c) || c == '-') ? rc == 0
                                            : (rc == CPNS_ERR_ID_SYNTAX && err.offset == 5),
                  "NID octet 0x%02x: rc %d", c, rc);
    rc = run1(cpns_entity_id_normalize, nss_first, sizeof nss_first, &err);
    if (c == '%')
      ck_assert_int_eq(rc, CPNS_ERR_ID_PCT_ENCODING);
    else
      ck_assert_msg(is_pchar_plain(c) ? rc == 0 : (rc == CPNS_ERR_ID_SYNTAX && err.offset == 7),
                    "NSS first octet 0x%02x: rc %d", c, rc);
    rc = run1(cpns_entity_id_normalize, nss_mid, sizeof nss_mid, &err);
    if (c == '%')
      ck_assert_int_eq(rc, CPNS_ERR_ID_PCT_ENCODING);
    else
      ck_assert_msg((is_pchar_plain(c) || c == '/') ? rc == 0
                                                    : (rc == CPNS_ERR_ID_SYNTAX && err.offset == 8),
                    "NSS octet 0x%02x: rc %d", c, rc);
    /* the two octets after '%' must be hex digits */
    int hex = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f');
    uint8_t pct1[] = {'u', 'r', 'n', ':', 'a', 'b', ':', '%', (uint8_t)c, '0'};
    uint8_t pct2[] = {'u', 'r', 'n', ':', 'a', 'b', ':', '%', '0', (uint8_t)c};
    rc = run1(cpns_entity_id_normalize, pct1, sizeof pct1, &err);
    ck_assert_msg(hex ? rc == 0 : (rc == CPNS_ERR_ID_PCT_ENCODING && err.offset == 8),
                  "%%X0 octet 0x%02x: rc %d", c, rc);
    rc = run1(cpns_entity_id_normalize, pct2, sizeof pct2, &err);
    ck_assert_msg(hex ? rc == 0 : (rc == CPNS_ERR_ID_PCT_ENCODING && err.offset == 9),
                  "%%0X octet 0x%02x: rc %d", c, rc);
  }
}
END_TEST

START_TEST(test_user_id_normalize_every_octet) {
  for (int c = 0; c < 128; c++) {
    uint8_t user_only[] = {(uint8_t)c};
    uint8_t user_mid[] = {'a', (uint8_t)c, 'b'};
    uint8_t realm_first[] = {'a', '@', (uint8_t)c, '.', 'c'};
    uint8_t realm_mid[] = {'a', '@', 'b', (uint8_t)c, 'b', '.', 'c'};
    cpns_ident_error err;
    int rc;

    rc = run1(cpns_user_id_normalize, user_only, 1, &err);
    ck_assert_msg(is_atext_ascii(c) ? rc == 0 : (rc == CPNS_ERR_ID_SYNTAX && err.offset == 0),
                  "username octet 0x%02x: rc %d", c, rc);
    rc = run1(cpns_user_id_normalize, user_mid, sizeof user_mid, &err);
    if (c == '@')
      ck_assert_int_eq(rc, CPNS_ERR_ID_TRUNCATED); /* "a@b": one realm label */
    else
      ck_assert_msg((is_atext_ascii(c) || c == '.') ? rc == 0
                                                    : (rc == CPNS_ERR_ID_SYNTAX && err.offset == 1),
                    "username octet 0x%02x: rc %d", c, rc);
    rc = run1(cpns_user_id_normalize, realm_first, sizeof realm_first, &err);
    ck_assert_msg(is_alnum(c) ? rc == 0 : (rc == CPNS_ERR_ID_SYNTAX && err.offset == 2),
                  "realm first octet 0x%02x: rc %d", c, rc);
    rc = run1(cpns_user_id_normalize, realm_mid, sizeof realm_mid, &err);
    ck_assert_msg((is_alnum(c) || c == '-' || c == '.')
                      ? rc == 0
                      : (rc == CPNS_ERR_ID_SYNTAX && err.offset == 3),
                  "realm octet 0x%02x: rc %d", c, rc);
  }
}
END_TEST

/*
 * Reference UTF-8 check (RFC 3629 by decoding, not by the byte table):
 * returns 1 if s[0..len) is exactly one well-formed character.
 */
static int ref_utf8_one(const uint8_t *s, size_t len) {
  uint32_t cp;
  size_t need;
  if (s[0] < 0x80)
    return len == 1;
  if ((s[0] & 0xE0) == 0xC0) {
    need = 2;
    cp = s[0] & 0x1Fu;
  } else if ((s[0] & 0xF0) == 0xE0) {
    need = 3;
    cp = s[0] & 0x0Fu;
  } else if ((s[0] & 0xF8) == 0xF0) {
    need = 4;
    cp = s[0] & 0x07u;
  } else
    return 0;
  if (len != need)
    return 0;
  for (size_t i = 1; i < need; i++) {
    if ((s[i] & 0xC0) != 0x80)
      return 0;
    cp = (cp << 6) | (s[i] & 0x3Fu);
  }
  static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < min_cp[need])
    return 0; /* overlong */
  if (cp >= 0xD800 && cp <= 0xDFFF)
    return 0; /* surrogate */
  return cp <= 0x10FFFF;
}

/* Every 2-octet and 3-octet sequence, and 4-octet ones over the first two octets. */
START_TEST(test_user_id_normalize_utf8_exhaustive) {
  uint8_t buf[5] = {'a'};
  cpns_ident_error err;
  for (unsigned b0 = 0x80; b0 < 0x100; b0++) {
    for (unsigned b1 = 0; b1 < 0x100; b1++) {
      buf[1] = (uint8_t)b0;
      buf[2] = (uint8_t)b1;
      int want = ref_utf8_one(buf + 1, 2);
      int rc = run1(cpns_user_id_normalize, buf, 3, &err);
      ck_assert_msg(want ? rc == 0 : rc == CPNS_ERR_ID_UTF8, "%02x %02x: rc %d", b0, b1, rc);
      if (b0 >= 0xE0 && b0 <= 0xF4) {
        for (unsigned b2 = 0x70; b2 < 0xC8; b2++) {
          buf[3] = (uint8_t)b2;
          size_t n = b0 >= 0xF0 ? 5 : 4;
          buf[4] = 0xBF;
          want = ref_utf8_one(buf + 1, n - 1);
          rc = run1(cpns_user_id_normalize, buf, n, &err);
          ck_assert_msg(want ? rc == 0 : rc == CPNS_ERR_ID_UTF8, "%02x %02x %02x: rc %d", b0, b1,
                        b2, rc);
        }
      }
    }
  }
}
END_TEST

/* --- PDU semantic validation --- */

static void fill_ids(uint8_t *eid, size_t *eid_len, uint8_t *uid, size_t *uid_len,
                     const char *entity, const char *user) {
  *eid_len = strlen(entity);
  memcpy(eid, entity, *eid_len);
  *uid_len = strlen(user);
  memcpy(uid, user, *uid_len);
}

START_TEST(test_key_request_validate_ids) {
  cpns_key_request req;
  memset(&req, 0, sizeof req);
  req.version = 1;
  req.offered_suites_len = 1;
  req.offered_suites[0] = 1;
  fill_ids(req.entity_id, &req.entity_id_len, req.user_id, &req.user_id_len,
           "urn:dev:mac:0024befffe804ff1", "owner@example.com");
  ck_assert_int_eq(cpns_key_request_validate(&req), 0);
  fill_ids(req.entity_id, &req.entity_id_len, req.user_id, &req.user_id_len,
           "urn:dev:mac:0024befffe804ff", "owner@example.com");
  ck_assert_int_eq(cpns_key_request_validate(&req), CPNS_ERR_ID_NAMESPACE);
  fill_ids(req.entity_id, &req.entity_id_len, req.user_id, &req.user_id_len, "urn:example:gw1",
           "owner@example");
  ck_assert_int_eq(cpns_key_request_validate(&req), CPNS_ERR_ID_TRUNCATED);
  fill_ids(req.entity_id, &req.entity_id_len, req.user_id, &req.user_id_len, "urn:example:gw1",
           "own\xc0\xafr@example.com");
  ck_assert_int_eq(cpns_key_request_validate(&req), CPNS_ERR_ID_UTF8);
  req.user_id_len = 0;
  ck_assert_int_eq(cpns_key_request_validate(&req), CPNS_ERR_ID_EMPTY);
  /* lengths beyond the arrays are refused without reading past them */
  req.entity_id_len = 100000;
  ck_assert_int_eq(cpns_key_request_validate(&req), CPNS_ERR_ID_TOO_LONG);
  ck_assert_int_eq(cpns_key_request_validate(NULL), CPNS_ERR_INVALID_ARGUMENT);
}
END_TEST

START_TEST(test_key_delivery_validate_result_assignment) {
  cpns_key_delivery del;
  memset(&del, 0, sizeof del);
  del.version = 1;
  fill_ids(del.entity_id, &del.entity_id_len, del.user_id, &del.user_id_len,
           "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6", "owner@example.com");
  del.result = CPNS_RESULT_SUCCESS;
  del.has_assignment = 1;
  ck_assert_int_eq(cpns_key_delivery_validate(&del), 0);
  del.has_assignment = 0;
  ck_assert_int_eq(cpns_key_delivery_validate(&del), CPNS_ERR_PROTOCOL);
  del.result = CPNS_RESULT_AUTHENTICATION_FAILED;
  ck_assert_int_eq(cpns_key_delivery_validate(&del), 0);
  del.has_assignment = 1;
  ck_assert_int_eq(cpns_key_delivery_validate(&del), CPNS_ERR_PROTOCOL);
  del.has_assignment = 0;
  del.user_id_len = 100000;
  ck_assert_int_eq(cpns_key_delivery_validate(&del), CPNS_ERR_ID_TOO_LONG);
  del.user_id_len = 5;
  del.entity_id[0] = 'x';
  ck_assert_int_eq(cpns_key_delivery_validate(&del), CPNS_ERR_ID_SYNTAX);
  ck_assert_int_eq(cpns_key_delivery_validate(NULL), CPNS_ERR_INVALID_ARGUMENT);
}
END_TEST

static Suite *ident_suite(void) {
  Suite *s = suite_create("ident");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_entity_id_normalize_table);
  tcase_add_test(tc, test_user_id_normalize_table);
  tcase_add_test(tc, test_entity_id_normalize_idempotent);
  tcase_add_test(tc, test_user_id_normalize_idempotent);
  tcase_add_test(tc, test_entity_id_normalize_equivalence);
  tcase_add_test(tc, test_user_id_normalize_equivalence);
  tcase_add_test(tc, test_entity_id_normalize_length_limit);
  tcase_add_test(tc, test_user_id_normalize_length_limit);
  tcase_add_test(tc, test_entity_id_normalize_buffer);
  tcase_add_test(tc, test_user_id_normalize_buffer);
  tcase_add_test(tc, test_ident_normalize_invalid_argument);
  tcase_add_test(tc, test_ident_expected_phrases);
  tcase_add_test(tc, test_entity_id_normalize_every_octet);
  tcase_add_test(tc, test_user_id_normalize_every_octet);
  tcase_add_test(tc, test_user_id_normalize_utf8_exhaustive);
  tcase_add_test(tc, test_key_request_validate_ids);
  tcase_add_test(tc, test_key_delivery_validate_result_assignment);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(ident_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
