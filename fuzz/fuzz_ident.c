/*
 * Fuzz target for the identifier parsers: arbitrary bytes through both
 * normalizers. Checks that they accept exactly what a plain hand-written
 * reference of PROTOCOL.md §2 accepts (so a grammar slip in the .rl files
 * shows up); that normalizing a normal form gives it back, in a separate
 * buffer and in place; that every error is a documented code with an offset
 * inside the input; and, with the input and output in heap buffers of
 * exactly the needed size, that nothing is read or written out of bounds.
 */
#include <stdlib.h>
#include <string.h>

#include <cpns/ident.h>

typedef int (*normalize_fn)(const uint8_t *, size_t, uint8_t *, size_t, size_t *,
                            cpns_ident_error *);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok) {
  if (!ok)
    abort();
}

static int documented(int rc) {
  switch (rc) {
  case CPNS_ERR_ID_EMPTY:
  case CPNS_ERR_ID_TOO_LONG:
  case CPNS_ERR_ID_SYNTAX:
  case CPNS_ERR_ID_UTF8:
  case CPNS_ERR_ID_PCT_ENCODING:
  case CPNS_ERR_ID_NAMESPACE:
  case CPNS_ERR_ID_TRUNCATED: return 1;
  default: return 0;
  }
}

/* --- Reference acceptors, deliberately naive: loops, no state machine. --- */

static int ref_alnum(uint8_t c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
static int ref_hex(uint8_t c) {
  return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}
static int ref_in(uint8_t c, const char *set) { return c != 0 && strchr(set, c) != NULL; }
static int ref_ci_prefix(const uint8_t *s, size_t n, const char *lit) {
  size_t l = strlen(lit);
  if (n < l)
    return 0;
  for (size_t i = 0; i < l; i++)
    if ((s[i] >= 'A' && s[i] <= 'Z' ? s[i] | 0x20 : s[i]) != (uint8_t)lit[i])
      return 0;
  return 1;
}

static int ref_all_hex(const uint8_t *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!ref_hex(s[i]))
      return 0;
  return 1;
}

static int ref_entity(const uint8_t *s, size_t n) {
  if (n > 255 || !ref_ci_prefix(s, n, "urn:"))
    return 0;
  size_t i = 4, j = 4;
  while (j < n && (ref_alnum(s[j]) || s[j] == '-'))
    j++;
  size_t nidlen = j - i;
  if (nidlen < 2 || nidlen > 32 || s[i] == '-' || s[j - 1] == '-' || j >= n || s[j] != ':')
    return 0;
  const uint8_t *nss = s + j + 1;
  size_t nsslen = n - j - 1;
  if (nsslen == 0 || nss[0] == '/')
    return 0;
  for (size_t k = 0; k < nsslen; k++) {
    if (nss[k] == '%') {
      if (k + 2 >= nsslen || !ref_hex(nss[k + 1]) || !ref_hex(nss[k + 2]))
        return 0;
      k += 2;
    } else if (!ref_alnum(nss[k]) && !ref_in(nss[k], "-._~!$&'()*+,;=:@/")) {
      return 0;
    }
  }
  if (nidlen == 4 && ref_ci_prefix(s + 4, 4, "uuid")) {
    if (nsslen != 36)
      return 0;
    for (size_t k = 0; k < 36; k++)
      if ((k == 8 || k == 13 || k == 18 || k == 23) ? nss[k] != '-' : !ref_hex(nss[k]))
        return 0;
  } else if (nidlen == 3 && ref_ci_prefix(s + 4, 3, "dev") && ref_ci_prefix(nss, nsslen, "mac:")) {
    if ((nsslen != 16 && nsslen != 20) || !ref_all_hex(nss + 4, nsslen - 4))
      return 0;
  }
  return 1;
}

/* Length of the well-formed non-ASCII UTF-8 character at s[0..n), or 0. */
static size_t ref_utf8_char(const uint8_t *s, size_t n) {
  size_t need;
  uint32_t cp;
  if (s[0] >= 0xC0 && s[0] <= 0xDF) {
    need = 2;
    cp = s[0] & 0x1Fu;
  } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
    need = 3;
    cp = s[0] & 0x0Fu;
  } else if (s[0] >= 0xF0 && s[0] <= 0xF7) {
    need = 4;
    cp = s[0] & 0x07u;
  } else
    return 0;
  if (n < need)
    return 0;
  for (size_t i = 1; i < need; i++) {
    if ((s[i] & 0xC0) != 0x80)
      return 0;
    cp = (cp << 6) | (s[i] & 0x3Fu);
  }
  static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < min_cp[need] || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
    return 0;
  return need;
}

/* Octets of the character at s if it is in the class (atext or rtext), else 0. */
static size_t ref_char(const uint8_t *s, size_t n, int realm) {
  if (s[0] >= 0x80)
    return ref_utf8_char(s, n);
  if (ref_alnum(s[0]) || (!realm && ref_in(s[0], "!#$%&'*+-/=?^_`{|}~")))
    return 1;
  return 0;
}

static int ref_user(const uint8_t *s, size_t n) {
  if (n == 0 || n > 253)
    return 0;
  size_t at = 0;
  while (at < n && s[at] != '@')
    at++;
  /* username: non-empty strings of atext joined by single dots */
  int need_char = 1;
  for (size_t i = 0; i < at;) {
    if (s[i] == '.') {
      if (need_char)
        return 0;
      need_char = 1;
      i++;
      continue;
    }
    size_t l = ref_char(s + i, at - i, 0);
    if (l == 0)
      return 0;
    need_char = 0;
    i += l;
  }
  if (need_char)
    return 0;
  if (at == n)
    return 1;
  /* realm: at least two labels; a label is rtext, '-' only inside */
  size_t labels = 0;
  for (size_t i = at + 1; i <= n;) {
    size_t start = i;
    int last_dash = 1;
    while (i < n && s[i] != '.') {
      if (s[i] == '-') {
        if (i == start)
          return 0;
        last_dash = 1;
        i++;
        continue;
      }
      size_t l = ref_char(s + i, n - i, 1);
      if (l == 0)
        return 0;
      last_dash = 0;
      i += l;
    }
    if (i == start || last_dash)
      return 0;
    labels++;
    i++; /* past '.' or past the end */
  }
  return labels >= 2;
}

static void run(normalize_fn fn, const uint8_t *in, size_t size, int is_user) {
  uint8_t *out = malloc(size ? size : 1);
  check(out != NULL);
  size_t written = 0;
  cpns_ident_error err = {(size_t)-1, NULL};
  int rc = fn(in, size, out, size, &written, &err);
  check((rc == 0) == (is_user ? ref_user(in, size) : ref_entity(in, size)));
  if (rc != 0) {
    check(documented(rc));
    check(is_user ? rc != CPNS_ERR_ID_PCT_ENCODING && rc != CPNS_ERR_ID_NAMESPACE
                  : rc != CPNS_ERR_ID_UTF8);
    check(err.offset <= size);
    check(written == 0);
    check(err.expected != NULL);
    free(out);
    return;
  }
  check(written == size);
  check(size <= (is_user ? 253u : 255u));

  /* The normal form is valid and its own normal form. */
  uint8_t *again = malloc(written);
  check(again != NULL);
  size_t written2 = 0;
  check(fn(out, written, again, written, &written2, &err) == 0);
  check(written2 == written && memcmp(again, out, written) == 0);

  /* In place gives the same. */
  memcpy(again, in, size);
  check(fn(again, size, again, size, &written2, &err) == 0);
  check(written2 == written && memcmp(again, out, written) == 0);

  /* Only ASCII letter case may change. */
  for (size_t i = 0; i < size; i++) {
    uint8_t a = in[i], b = out[i];
    check(a == b || ((a | 0x20) == (b | 0x20) && ((a | 0x20) >= 'a' && (a | 0x20) <= 'z')));
  }
  if (!is_user)
    check(memcmp(out, "urn:", 4) == 0);
  free(again);
  free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* An exact-size copy: ASan catches a read one past the end. */
  uint8_t *in = malloc(size ? size : 1);
  if (in == NULL)
    return 0;
  if (size)
    memcpy(in, data, size);
  run(cpns_entity_id_normalize, in, size, 0);
  run(cpns_user_id_normalize, in, size, 1);
  free(in);
  return 0;
}
