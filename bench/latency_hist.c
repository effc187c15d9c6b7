/* Latency histogram for the benchmarks (see latency_hist.h). */
#include "bench/latency_hist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUB_HALF (1u << (LAT_HIST_SUB_BITS - 1))
#define VALUE_MAX ((UINT64_C(1) << LAT_HIST_MAX_BITS) - 1)

/* Values below 2^SUB_BITS index themselves; above, a value keeps its top
 * SUB_BITS bits (mantissa in [SUB_HALF, 2 * SUB_HALF)) and the number of bits
 * shifted out picks the row: rows follow each other without gaps. */
static unsigned bucket_of(uint64_t ns) {
  if (ns > VALUE_MAX)
    ns = VALUE_MAX;
  if (ns < 2u * SUB_HALF)
    return (unsigned)ns;
  unsigned top = 63u - (unsigned)__builtin_clzll(ns);
  unsigned shift = top - (LAT_HIST_SUB_BITS - 1);
  return shift * SUB_HALF + (unsigned)(ns >> shift);
}

/* Middle of bucket i: within 1/(2 * SUB_HALF) of every value in it. */
static uint64_t bucket_middle(unsigned i) {
  if (i < 2u * SUB_HALF)
    return i;
  unsigned shift = i / SUB_HALF - 1;
  uint64_t mantissa = i % SUB_HALF + SUB_HALF;
  return (mantissa << shift) + ((UINT64_C(1) << shift) >> 1);
}

void lat_hist_record(lat_hist *h, uint64_t ns) {
  h->bucket[bucket_of(ns)]++;
  h->count++;
  if (ns > h->max_ns)
    h->max_ns = ns;
}

void lat_hist_merge(lat_hist *into, const lat_hist *from) {
  for (unsigned i = 0; i < LAT_HIST_BUCKETS; i++)
    into->bucket[i] += from->bucket[i];
  into->count += from->count;
  if (from->max_ns > into->max_ns)
    into->max_ns = from->max_ns;
}

/* 1-based nearest rank of percentile p among n values (the epsilon keeps
 * 99 % of 100 at rank 99 despite binary fractions). */
static uint64_t nearest_rank(double p, uint64_t n) {
  double r = p * (double)n / 100.0 - 1e-9;
  if (r < 1.0)
    return 1;
  if (r >= (double)n)
    return n;
  uint64_t k = (uint64_t)r; /* ceil() without libm */
  return (double)k < r ? k + 1 : k;
}

uint64_t lat_hist_percentile(const lat_hist *h, double p) {
  if (h->count == 0)
    return 0;
  if (p >= 100.0)
    return h->max_ns;
  uint64_t rank = nearest_rank(p, h->count), seen = 0;
  for (unsigned i = 0; i < LAT_HIST_BUCKETS; i++) {
    seen += h->bucket[i];
    if (seen >= rank) {
      uint64_t mid = bucket_middle(i);
      return mid < h->max_ns ? mid : h->max_ns;
    }
  }
  return h->max_ns;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

int lat_hist_self_check(void) {
  enum { N = 20011 };
  static const double ps[] = {1, 50, 90, 99, 99.9, 100};
  uint64_t *v = malloc(N * sizeof(*v));
  lat_hist *h = calloc(1, sizeof(*h));
  int rc = v != NULL && h != NULL ? 0 : -1;
  for (unsigned i = 0; rc == 0 && i < LAT_HIST_BUCKETS; i++) {
    if (bucket_of(bucket_middle(i)) != i) {
      fprintf(stderr, "latency histogram: bucket %u does not hold its own middle\n", i);
      rc = -1;
    }
  }
  uint64_t x = UINT64_C(0x9e3779b97f4a7c15); /* xorshift64: any spread will do */
  for (unsigned i = 0; rc == 0 && i < N; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    /* 0 ns .. ~69 s, as many short values as long ones: every row is hit. */
    v[i] = (x >> 28) >> (x % LAT_HIST_MAX_BITS);
    lat_hist_record(h, v[i]);
  }
  if (rc == 0)
    qsort(v, N, sizeof(*v), cmp_u64);
  for (size_t k = 0; rc == 0 && k < sizeof(ps) / sizeof(ps[0]); k++) {
    uint64_t exact = v[nearest_rank(ps[k], N) - 1], got = lat_hist_percentile(h, ps[k]);
    uint64_t err = got > exact ? got - exact : exact - got;
    if (h->count != N || err * 2 * SUB_HALF > exact) {
      fprintf(stderr, "latency histogram: p%g is %llu ns, sorting says %llu ns\n", ps[k],
              (unsigned long long)got, (unsigned long long)exact);
      rc = -1;
    }
  }
  /* Below 2^SUB_BITS ns every value has its own bucket: nearest ranks are exact. */
  if (rc == 0) {
    memset(h, 0, sizeof(*h));
    for (uint64_t ns = 1; ns <= 200; ns++)
      lat_hist_record(h, ns);
    if (lat_hist_percentile(h, 0.5) != 1 || lat_hist_percentile(h, 50) != 100 ||
        lat_hist_percentile(h, 99) != 198 || lat_hist_percentile(h, 99.9) != 200 ||
        lat_hist_percentile(h, 100) != 200) {
      fprintf(stderr, "latency histogram: wrong nearest rank among 1..200 ns\n");
      rc = -1;
    }
  }
  free(v);
  free(h);
  return rc;
}
