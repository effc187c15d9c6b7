/*
 * A reader for the flat JSON of tests/vectors/suite1.json and suite2.json (tests only): an array
 * of objects whose values are strings, non-negative integers, booleans or
 * arrays of such integers. Strings keep their UTF-8 octets (hex stays text).
 */
#ifndef CPNS_TESTS_VECTORS_JSON_H
#define CPNS_TESTS_VECTORS_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <cpns/codec.h>

enum ftype { F_STR, F_NUM, F_ARR, F_BOOL };

struct field {
  char name[32];
  enum ftype type;
  uint8_t str[2 * CPNS_PDU_MAX_ENCODED + 1];
  size_t len;
  long num; /**< F_NUM, and F_BOOL (1 true, 0 false) */
  long arr[CPNS_MAX_OFFERED_SUITES];
  size_t arr_len;
};

struct vec {
  struct field f[64];
  size_t n;
};

/**
 * Parses text[0..len) into vecs[0..max); *n is the count. Returns 1, or 0
 * on a syntax error, too many objects or fields, or a value too long.
 */
int vectors_json_read(const char *text, size_t len, struct vec *vecs, size_t max, size_t *n);

#endif /* CPNS_TESTS_VECTORS_JSON_H */
