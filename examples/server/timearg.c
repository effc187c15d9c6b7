/* cpns-server: TIME arguments (see timearg.h). */
#include "examples/server/timearg.h"

#include <stddef.h>

/* n decimal digits at s (n <= 9); -1 if any is not a digit. */
static int64_t digits(const char *s, int n) {
  int64_t v = 0;
  for (int i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') {
      return -1;
    }
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; Howard Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static int leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int server_parse_time(const char *s, int64_t *ms) {
  if (s == NULL || *s == '\0') {
    return -1;
  }
  size_t n = 0;
  while (s[n] >= '0' && s[n] <= '9') {
    n++;
  }
  if (s[n] == '\0') {
    /* Seconds since the epoch: at most 253402300799 (9999-12-31). */
    if (n > 12) {
      return -1;
    }
    int64_t v = digits(s, (int)n);
    if (v < 0 || v > 253402300799) {
      return -1;
    }
    *ms = v * 1000;
    return 0;
  }
  /* YYYY-MM-DDTHH:MM:SS[.f]Z */
  if (n != 4 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      s[13] != ':' || s[16] != ':') {
    return -1;
  }
  int64_t y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2), h = digits(s + 11, 2),
          mi = digits(s + 14, 2), se = digits(s + 17, 2);
  static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 ||
      se > 60 || d > mdays[mo - 1] + (mo == 2 && leap(y))) {
    return -1;
  }
  const char *p = s + 19;
  int64_t frac_ms = 0;
  if (*p == '.') {
    int k = 0;
    for (p++; *p >= '0' && *p <= '9'; p++, k++) {
      if (k < 3) {
        frac_ms = frac_ms * 10 + (*p - '0');
      }
    }
    if (k == 0 || k > 9) {
      return -1;
    }
    for (; k < 3; k++) {
      frac_ms *= 10;
    }
  }
  if ((*p != 'Z' && *p != 'z') || p[1] != '\0') {
    return -1;
  }
  if (se == 60) {
    se = 59; /* a leap second: its second before, as POSIX time has no 60 */
    frac_ms = 999;
  }
  *ms = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000 + se * 1000 + frac_ms;
  return 0;
}
