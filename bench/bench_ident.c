/*
 * bench_ident: nanoseconds per identifier for cpns_entity_id_normalize()
 * and cpns_user_id_normalize() over a few typical inputs (valid, so the
 * whole machine and the normalization pass run). Process CPU time, not
 * wall time, so a busy shared machine skews the figure less.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cpns/ident.h>

typedef int (*normalize_fn)(const uint8_t *, size_t, uint8_t *, size_t, size_t *,
                            cpns_ident_error *);

#define ITERATIONS 2000000u

static const char *const entity_ids[] = {
    "urn:uuid:F81D4FAE-7DEC-11D0-A765-00A0C91E6BF6",
    "urn:dev:mac:0024BEFFFE804FF1",
    "URN:example:gateway/home-7%2Fliving-room;rev=2",
};

static const char *const user_ids[] = {
    "alice@Example.COM", "fred.smith+cpns@eng.example.net",
    "\xc3\xbcser.n\xc3\xa4me@b\xc3\xbc\x63her.example", /* "c" as \x63: \xbcc would run on */
};

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void bench(const char *name, normalize_fn fn, const char *const *ids, size_t n) {
  uint8_t out[256];
  size_t written, total_octets = 0;
  unsigned failures = 0;
  for (size_t i = 0; i < n; i++)
    total_octets += strlen(ids[i]);
  double t0 = now_ns();
  for (unsigned it = 0; it < ITERATIONS; it++) {
    const char *id = ids[it % n];
    /* strlen inside the loop is part of a real caller's cost, and keeps the
     * compiler from hoisting the call out */
    failures += fn((const uint8_t *)id, strlen(id), out, sizeof out, &written, NULL) != 0;
  }
  double ns = (now_ns() - t0) / ITERATIONS;
  double avg_len = (double)total_octets / (double)n;
  printf("%-24s %7.1f ns/identifier (CPU)  (avg %.0f octets, %.0f MB/s)%s\n", name, ns, avg_len,
         avg_len / ns * 1e3, failures ? "  FAILURES!" : "");
}

int main(void) {
  bench("entity_id_normalize", cpns_entity_id_normalize, entity_ids,
        sizeof entity_ids / sizeof entity_ids[0]);
  bench("user_id_normalize", cpns_user_id_normalize, user_ids,
        sizeof user_ids / sizeof user_ids[0]);
  return 0;
}
