/*
 * cpns-server metrics: counters and histograms kept by the loop thread
 * (plain integers, no locks: the store thread's figures arrive with each
 * finished batch), served in the Prometheus text exposition format 0.0.4
 * on GET /metrics by libevent's HTTP server on the loop's event base.
 */
#ifndef CPNS_EXAMPLES_SERVER_METRICS_H
#define CPNS_EXAMPLES_SERVER_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include <event2/buffer.h>
#include <event2/event.h>

/* Upper bounds (le) of the histograms' buckets; +Inf is implicit. */
#define SERVER_METRICS_BUCKETS_MAX 16

/** One histogram: counts per bucket (not cumulative), sum and count. */
typedef struct server_histogram {
  const double *bounds; /**< nbounds ascending upper bounds */
  size_t nbounds;
  uint64_t counts[SERVER_METRICS_BUCKETS_MAX + 1]; /**< [nbounds] = above the last bound */
  double sum;
  uint64_t count;
} server_histogram;

/** Results of an exchange, as labelled: cpns_result 0..7, then "closed". */
#define SERVER_METRICS_RESULTS 9
#define SERVER_METRICS_CLOSED 8
/** Suites as labelled: "none" (no KeyChallenge sent), "1", "2". */
#define SERVER_METRICS_SUITES 3

typedef struct server_metrics {
  uint64_t exchanges[SERVER_METRICS_SUITES][SERVER_METRICS_RESULTS];
  server_histogram exchange_seconds;
  uint64_t store_batches;
  server_histogram store_batch_size;
  server_histogram store_commit_seconds;
  uint64_t db_errors;
  uint64_t auth_failures;
} server_metrics;

/** Gauges read when scraped. */
typedef struct server_metrics_gauges {
  uint64_t connections_open;
  uint64_t lockouts_active;
} server_metrics_gauges;

/** Zeroes m and sets the histograms' buckets. */
void server_metrics_init(server_metrics *m);

/** Counts one exchange: result a cpns_result or -1 (closed without an answer),
 * suite 0 (none), 1 or 2, its duration in milliseconds. */
void server_metrics_exchange(server_metrics *m, int result, int suite, uint64_t duration_ms);

/** Counts one store batch of jobs committed (or not) in commit_us. */
void server_metrics_store_batch(server_metrics *m, uint64_t jobs, uint64_t commit_us);

/** Adds value to h. */
void server_histogram_observe(server_histogram *h, double value);

/**
 * Appends the exposition of m and g to out (text format 0.0.4: HELP and
 * TYPE lines, escaped label values). Returns 0, or -1 when out could not
 * grow.
 */
int server_metrics_render(const server_metrics *m, const server_metrics_gauges *g,
                          struct evbuffer *out);

/**
 * Appends value to out as a label value: backslash, double quote and line
 * feed escaped (\\, \", \n). Returns 0 or -1.
 */
int server_metrics_label_value(struct evbuffer *out, const char *value);

/** Reads the gauges for a scrape (loop.c). */
typedef void (*server_metrics_gauges_fn)(void *arg, server_metrics_gauges *g);

typedef struct server_metrics_http server_metrics_http;

/**
 * Serves GET /metrics on listen (HOST:PORT, port 0 = ephemeral) through
 * evhttp on base; other paths get 404, other methods 405; headers bounded,
 * no body, idle connections closed after a timeout. Prints "metrics on
 * HOST:PORT" on stderr once bound. Returns 0, or -1 with a message.
 */
int server_metrics_http_start(server_metrics_http **out, struct event_base *base,
                              const char *listen, const server_metrics *m,
                              server_metrics_gauges_fn gauges, void *gauges_arg);

/** Stops serving; NULL is allowed. */
void server_metrics_http_stop(server_metrics_http *h);

#endif /* CPNS_EXAMPLES_SERVER_METRICS_H */
