/*
 * Fuzz target for the identifier parsers: arbitrary bytes through both
 * normalizers. Checks that normalizing a normal form gives it back, in a
 * separate buffer and in place; that every error is a documented code with
 * an offset inside the input; and, with the input and output in heap
 * buffers of exactly the needed size, that nothing is read or written out
 * of bounds.
 */
#include <stdlib.h>
#include <string.h>

#include <cpns/ident.h>

typedef int (*normalize_fn)(const uint8_t *, size_t, uint8_t *, size_t, size_t *,
                            size_t *);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok) {
  if (!ok)
    abort();
}

static int documented(int rc) {
  switch (rc) {
  case CPNS_ERR_ID_EMPTY: case CPNS_ERR_ID_TOO_LONG: case CPNS_ERR_ID_SYNTAX:
  case CPNS_ERR_ID_UTF8: case CPNS_ERR_ID_PCT_ENCODING: case CPNS_ERR_ID_NAMESPACE:
  case CPNS_ERR_ID_TRUNCATED:
    return 1;
  default:
    return 0;
  }
}

static void run(normalize_fn fn, const uint8_t *in, size_t size, int is_user) {
  uint8_t *out = malloc(size ? size : 1);
  check(out != NULL);
  size_t written = 0, off = (size_t)-1;
  int rc = fn(in, size, out, size, &written, &off);
  if (rc != 0) {
    check(documented(rc));
    check(is_user ? rc != CPNS_ERR_ID_PCT_ENCODING && rc != CPNS_ERR_ID_NAMESPACE
                  : rc != CPNS_ERR_ID_UTF8);
    check(off <= size);
    check(written == 0);
    check(cpns_ident_expected(rc) != NULL);
    free(out);
    return;
  }
  check(written == size);
  check(size <= (is_user ? 253u : 255u));

  /* The normal form is valid and its own normal form. */
  uint8_t *again = malloc(written);
  check(again != NULL);
  size_t written2 = 0;
  check(fn(out, written, again, written, &written2, &off) == 0);
  check(written2 == written && memcmp(again, out, written) == 0);

  /* In place gives the same. */
  memcpy(again, in, size);
  check(fn(again, size, again, size, &written2, &off) == 0);
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
