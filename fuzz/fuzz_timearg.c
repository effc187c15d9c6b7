/*
 * Fuzz target for the TIME argument of `cpns-server audit --since`
 * (examples/server/timearg.c): arbitrary bytes, as a NUL-terminated string
 * in a heap buffer of exactly its size. Checks that an accepted time is in
 * 1970..9999, that seconds since the epoch come back times 1000, and that
 * an accepted RFC 3339 time formats back (gmtime) to the date and time it
 * was written with; nothing is read past the string.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "examples/server/timearg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok) {
  if (!ok)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 64 || memchr(data, 0, size) != NULL) {
    return 0;
  }
  char *s = malloc(size + 1);
  if (s == NULL) {
    return 0;
  }
  memcpy(s, data, size);
  s[size] = '\0';
  int64_t ms = -1;
  if (server_parse_time(s, &ms) == 0) {
    check(ms >= 0 && ms <= 253402300799999);
    size_t digits = strspn(s, "0123456789");
    if (digits == size) {
      check(ms == strtoll(s, NULL, 10) * 1000);
    } else if (size >= 20 && memcmp(s + 17, "60", 2) != 0) {
      char back[32];
      time_t t = (time_t)(ms / 1000);
      struct tm tm;
      check(gmtime_r(&t, &tm) != NULL);
      check(strftime(back, sizeof(back), "%Y-%m-%dT%H:%M:%S", &tm) == 19);
      char written[20];
      memcpy(written, s, 19);
      written[10] = 'T';
      written[19] = '\0';
      check(strcmp(back, written) == 0);
    }
  }
  free(s);
  return 0;
}
