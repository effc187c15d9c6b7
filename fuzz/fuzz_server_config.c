/*
 * Fuzz target for cpns-server's configuration file reader
 * (examples/server/conffile.c): arbitrary octets through its checks and
 * libinih. Checks that every key handed on is a NUL-terminated string
 * shorter than a line, with a location "config:LINE" inside the input, and
 * that nothing is read out of the exact-size input buffer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "examples/server/conffile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok) {
  if (!ok)
    abort();
}

typedef struct seen {
  size_t lines; /* in the input, at least */
  size_t keys;
} seen;

/* Refuses keys that start with 'x', as an unknown key would be. */
static int on_key(void *arg, const char *where, const char *key, const char *value) {
  seen *s = arg;
  check(strncmp(where, "config:", 7) == 0);
  unsigned long line = strtoul(where + 7, NULL, 10);
  check(line >= 1 && line <= s->lines);
  check(strlen(key) <= SERVER_CONFIG_LINE_MAX && strlen(value) <= SERVER_CONFIG_LINE_MAX);
  s->keys++;
  return key[0] == 'x' ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *buf = malloc(size > 0 ? size : 1);
  if (buf == NULL) {
    return 0;
  }
  memcpy(buf, data, size);
  seen s = {.lines = 1};
  for (size_t i = 0; i < size; i++) {
    s.lines += data[i] == '\n';
  }
  /* The messages are the reader's; the fuzzer need not see them. */
  FILE *saved = stderr;
  FILE *null = fopen("/dev/null", "w");
  if (null != NULL) {
    stderr = null;
  }
  int rc = server_config_parse("config", buf, size, on_key, &s);
  if (null != NULL) {
    stderr = saved;
    fclose(null);
  }
  check(rc == 0 || rc == -1);
  free(buf);
  return 0;
}
