/*
 * Latency histogram for the benchmarks, HdrHistogram-style: log-linear
 * buckets of nanoseconds, 128 per power of two above 256 ns (every value
 * below 256 ns has its own), so a reported percentile is within 1/256 of a
 * recorded value; fixed size (about 15 KiB), no allocation while recording.
 * One histogram per thread, merged after the threads are joined: recording
 * takes no lock.
 */
#ifndef CPNS_BENCH_LATENCY_HIST_H
#define CPNS_BENCH_LATENCY_HIST_H

#include <stdint.h>

/* Sub-buckets per power of two are 2^(LAT_HIST_SUB_BITS - 1). */
#define LAT_HIST_SUB_BITS 8
/* Largest value kept apart: 2^36 ns (about 69 s); longer ones count as it. */
#define LAT_HIST_MAX_BITS 36
#define LAT_HIST_BUCKETS ((LAT_HIST_MAX_BITS - LAT_HIST_SUB_BITS + 2) << (LAT_HIST_SUB_BITS - 1))

typedef struct lat_hist {
  uint64_t count;
  uint64_t max_ns; /* exact */
  uint32_t bucket[LAT_HIST_BUCKETS];
} lat_hist;

void lat_hist_record(lat_hist *h, uint64_t ns);
void lat_hist_merge(lat_hist *into, const lat_hist *from);
/* The nearest-rank percentile (0 < p <= 100): the smallest recorded latency
 * that at least p % of the values do not exceed, as the middle of its
 * bucket; the exact maximum for p = 100; 0 when h is empty. */
uint64_t lat_hist_percentile(const lat_hist *h, double p);
/* Records random values, compares against sorting them; 0 if within bounds. */
int lat_hist_self_check(void);

#endif
