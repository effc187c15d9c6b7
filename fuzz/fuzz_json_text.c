/*
 * Fuzz target for the text that --json writes and that cpns-server checks
 * before storing (examples/common/json.c, cli_check_text): arbitrary bytes
 * as stored octets. Checks that what cli_check_text() accepts is valid
 * UTF-8 for jansson too; that json_octets() of anything it accepts dumps to
 * ASCII without C0 controls (the ASCII-only rule of doc/json.md) and parses back
 * to exactly the same octets; that it refuses text holding a NUL.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "examples/common/cli.h"
#include "examples/common/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok) {
  if (!ok)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 4096) {
    return 0;
  }
  json_t *v = json_octets("fuzz input", data, size);
  int has_nul = memchr(data, 0, size) != NULL;
  if (!has_nul) {
    char *s = malloc(size + 1);
    if (s != NULL) {
      memcpy(s, data, size);
      s[size] = '\0';
      if (cli_check_text("--fuzz", s, 4096) == 0) {
        check(v != NULL); /* accepted as text => valid UTF-8 */
        for (size_t i = 0; i < size; i++) {
          check(data[i] >= 0x20 && data[i] != 0x7F);
        }
      }
      free(s);
    }
  } else {
    check(v == NULL);
  }
  if (v == NULL) {
    return 0;
  }
  char *out = json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_ENCODE_ANY);
  if (out != NULL) {
    for (const unsigned char *p = (const unsigned char *)out; *p != '\0'; p++) {
      check(*p >= 0x20 && *p <= 0x7F); /* jansson writes DEL as is */
    }
    json_error_t err;
    json_t *back = json_loads(out, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    check(back != NULL && json_is_string(back));
    check(json_string_length(back) == size && memcmp(json_string_value(back), data, size) == 0);
    json_decref(back);
    free(out);
  }
  json_decref(v);
  return 0;
}
