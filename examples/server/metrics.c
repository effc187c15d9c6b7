/*
 * cpns-server metrics (see metrics.h): the counters, their exposition and
 * the HTTP endpoint serving it.
 */
#define _POSIX_C_SOURCE 200809L

#include "examples/server/metrics.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include <cpns/codec.h>

#include "examples/common/cli.h"

/* Exchanges take milliseconds (an Argon2id or OPAQUE step) up to the
 * exchange timeout. */
static const double EXCHANGE_BOUNDS[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                         1,     2.5,  5,     10,   30,  60,   120};
/* Group commits hold 1 to --store-batch (default 256) jobs. */
static const double BATCH_SIZE_BOUNDS[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};
/* A commit waits for an fsync (SQLite) or a round trip and a flush (PostgreSQL). */
static const double COMMIT_BOUNDS[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                       0.05,   0.1,   0.25,   0.5,   1,    2.5};

#define NBOUNDS(a) (sizeof(a) / sizeof((a)[0]))

/* Request headers of a scrape stay far below this; no body is taken. */
#define HTTP_HEADERS_MAX 8192
#define HTTP_BODY_MAX 0
/* An idle or slow scraper connection is closed after this. */
#define HTTP_TIMEOUT_S 10

static void histogram_init(server_histogram *h, const double *bounds, size_t n) {
  memset(h, 0, sizeof(*h));
  h->bounds = bounds;
  h->nbounds = n < SERVER_METRICS_BUCKETS_MAX ? n : SERVER_METRICS_BUCKETS_MAX;
}

void server_metrics_init(server_metrics *m) {
  memset(m, 0, sizeof(*m));
  histogram_init(&m->exchange_seconds, EXCHANGE_BOUNDS, NBOUNDS(EXCHANGE_BOUNDS));
  histogram_init(&m->store_batch_size, BATCH_SIZE_BOUNDS, NBOUNDS(BATCH_SIZE_BOUNDS));
  histogram_init(&m->store_commit_seconds, COMMIT_BOUNDS, NBOUNDS(COMMIT_BOUNDS));
}

void server_histogram_observe(server_histogram *h, double value) {
  size_t i = 0;
  while (i < h->nbounds && value > h->bounds[i]) {
    i++;
  }
  h->counts[i]++;
  h->sum += value;
  h->count++;
}

void server_metrics_exchange(server_metrics *m, int result, int suite, uint64_t duration_ms) {
  int r = result >= 0 && result < SERVER_METRICS_CLOSED ? result : SERVER_METRICS_CLOSED;
  int s = suite == 1 || suite == 2 ? suite : 0;
  m->exchanges[s][r]++;
  server_histogram_observe(&m->exchange_seconds, (double)duration_ms / 1000.0);
}

void server_metrics_store_batch(server_metrics *m, uint64_t jobs, uint64_t commit_us) {
  m->store_batches++;
  server_histogram_observe(&m->store_batch_size, (double)jobs);
  server_histogram_observe(&m->store_commit_seconds, (double)commit_us / 1e6);
}

int server_metrics_label_value(struct evbuffer *out, const char *value) {
  for (const char *p = value; *p != '\0'; p++) {
    const char *esc = *p == '\\' ? "\\\\" : *p == '"' ? "\\\"" : *p == '\n' ? "\\n" : NULL;
    if ((esc != NULL ? evbuffer_add(out, esc, 2) : evbuffer_add(out, p, 1)) != 0) {
      return -1;
    }
  }
  return 0;
}

static int header(struct evbuffer *out, const char *name, const char *type, const char *help) {
  return evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type) < 0 ? -1
                                                                                              : 0;
}

/* A float as Prometheus reads it (Go's ParseFloat): the shortest of %.15g
 * and %.17g that reads back as v (0.005 rather than 0.0050000000000000001). */
static int add_double(struct evbuffer *out, double v) {
  char text[32];
  snprintf(text, sizeof(text), "%.15g", v);
  if (strtod(text, NULL) != v) {
    snprintf(text, sizeof(text), "%.17g", v);
  }
  return evbuffer_add(out, text, strlen(text));
}

static int histogram(struct evbuffer *out, const char *name, const char *help,
                     const server_histogram *h) {
  int rc = header(out, name, "histogram", help);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < h->nbounds && rc == 0; i++) {
    cumulative += h->counts[i];
    rc |= evbuffer_add_printf(out, "%s_bucket{le=\"", name) < 0;
    rc |= add_double(out, h->bounds[i]);
    rc |= evbuffer_add_printf(out, "\"} %llu\n", (unsigned long long)cumulative) < 0;
  }
  rc |= evbuffer_add_printf(out, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum ", name,
                            (unsigned long long)h->count, name) < 0;
  rc |= add_double(out, h->sum);
  rc |= evbuffer_add_printf(out, "\n%s_count %llu\n", name, (unsigned long long)h->count) < 0;
  return rc != 0 ? -1 : 0;
}

static int counter(struct evbuffer *out, const char *name, const char *help, uint64_t v) {
  int rc = header(out, name, "counter", help);
  rc |= evbuffer_add_printf(out, "%s %llu\n", name, (unsigned long long)v) < 0;
  return rc != 0 ? -1 : 0;
}

static int gauge(struct evbuffer *out, const char *name, const char *help, uint64_t v) {
  int rc = header(out, name, "gauge", help);
  rc |= evbuffer_add_printf(out, "%s %llu\n", name, (unsigned long long)v) < 0;
  return rc != 0 ? -1 : 0;
}

int server_metrics_render(const server_metrics *m, const server_metrics_gauges *g,
                          struct evbuffer *out) {
  static const char *const suites[SERVER_METRICS_SUITES] = {"none", "1", "2"};
  int rc = header(out, "cpns_exchanges_total", "counter",
                  "Exchanges ended, by result sent (closed: none was sent) and suite.");
  for (int s = 0; s < SERVER_METRICS_SUITES && rc == 0; s++) {
    for (int r = 0; r < SERVER_METRICS_RESULTS && rc == 0; r++) {
      if (m->exchanges[s][r] == 0) {
        continue; /* only the series that happened, as client libraries do */
      }
      rc |= evbuffer_add_printf(out, "cpns_exchanges_total{result=\"") < 0;
      rc |= server_metrics_label_value(out,
                                       r == SERVER_METRICS_CLOSED ? "closed" : cpns_result_name(r));
      rc |= evbuffer_add_printf(out, "\",suite=\"") < 0;
      rc |= server_metrics_label_value(out, suites[s]);
      rc |= evbuffer_add_printf(out, "\"} %llu\n", (unsigned long long)m->exchanges[s][r]) < 0;
    }
  }
  rc |= histogram(out, "cpns_exchange_duration_seconds",
                  "Time from accept to the end of an exchange.", &m->exchange_seconds);
  rc |= gauge(out, "cpns_connections_open", "Connections open now.", g->connections_open);
  rc |= gauge(out, "cpns_lockouts_active",
              "User IDs in a lockout back-off now (held in this server's memory).",
              g->lockouts_active);
  rc |= counter(out, "cpns_store_batches_total",
                "Store transactions (group commits of assignments and lockout rows).",
                m->store_batches);
  rc |=
      histogram(out, "cpns_store_batch_size", "Jobs per store transaction.", &m->store_batch_size);
  rc |= histogram(out, "cpns_store_commit_seconds", "Time to write and commit one store batch.",
                  &m->store_commit_seconds);
  rc |= counter(out, "cpns_db_errors_total",
                "Database operations that failed (store jobs, credential lookups).", m->db_errors);
  rc |= counter(out, "cpns_auth_failures_total",
                "Authentication attempts that failed (wrong password, unknown User ID, "
                "no valid proof).",
                m->auth_failures);
  return rc != 0 ? -1 : 0;
}

struct server_metrics_http {
  struct evhttp *http;
  const server_metrics *metrics;
  server_metrics_gauges_fn gauges;
  void *gauges_arg;
};

static void on_metrics(struct evhttp_request *req, void *arg) {
  server_metrics_http *h = arg;
  enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
  if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
    evhttp_send_error(req, 405, "Method Not Allowed");
    return;
  }
  server_metrics_gauges g;
  memset(&g, 0, sizeof(g));
  h->gauges(h->gauges_arg, &g);
  struct evbuffer *body = evbuffer_new();
  if (body == NULL || server_metrics_render(h->metrics, &g, body) != 0) {
    evbuffer_free(body);
    evhttp_send_error(req, HTTP_INTERNAL, "Out of memory");
    return;
  }
  evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                    "text/plain; version=0.0.4; charset=utf-8");
  evhttp_send_reply(req, HTTP_OK, "OK", body);
  evbuffer_free(body);
}

static void on_other(struct evhttp_request *req, void *arg) {
  (void)arg;
  evhttp_send_error(req, HTTP_NOTFOUND, "Not Found");
}

static void print_bound(evutil_socket_t fd) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  char host[INET6_ADDRSTRLEN] = "?";
  unsigned port = 0;
  if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
    return;
  }
  if (ss.ss_family == AF_INET) {
    const struct sockaddr_in *in4 = (const struct sockaddr_in *)(const void *)&ss;
    inet_ntop(AF_INET, &in4->sin_addr, host, sizeof(host));
    port = ntohs(in4->sin_port);
    fprintf(stderr, "metrics on %s:%u\n", host, port);
  } else if (ss.ss_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)&ss;
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
    port = ntohs(in6->sin6_port);
    fprintf(stderr, "metrics on [%s]:%u\n", host, port);
  }
  fflush(stderr);
}

int server_metrics_http_start(server_metrics_http **out, struct event_base *base,
                              const char *listen, const server_metrics *m,
                              server_metrics_gauges_fn gauges, void *gauges_arg) {
  *out = NULL;
  char host[256], port[8];
  uint64_t portnum = 0;
  if (cli_split_host_port(listen, host, sizeof(host), port, sizeof(port)) != 0 ||
      cli_parse_u64("--metrics-listen port", port, 0, 65535, &portnum) != 0) {
    fprintf(stderr, "bad --metrics-listen %s: expected HOST:PORT or [V6]:PORT\n", listen);
    return -1;
  }
  server_metrics_http *h = calloc(1, sizeof(*h));
  if (h == NULL || (h->http = evhttp_new(base)) == NULL) {
    fprintf(stderr, "out of memory starting the metrics endpoint\n");
    free(h);
    return -1;
  }
  h->metrics = m;
  h->gauges = gauges;
  h->gauges_arg = gauges_arg;
  evhttp_set_max_headers_size(h->http, HTTP_HEADERS_MAX);
  evhttp_set_max_body_size(h->http, HTTP_BODY_MAX);
  evhttp_set_timeout(h->http, HTTP_TIMEOUT_S);
  evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
  evhttp_set_gencb(h->http, on_other, h);
  struct evhttp_bound_socket *bound = NULL;
  if (evhttp_set_cb(h->http, "/metrics", on_metrics, h) != 0 ||
      (bound = evhttp_bind_socket_with_handle(h->http, host, (uint16_t)portnum)) == NULL) {
    fprintf(stderr, "cannot serve metrics on %s: %s\n", listen, strerror(errno));
    server_metrics_http_stop(h);
    return -1;
  }
  print_bound(evhttp_bound_socket_get_fd(bound));
  *out = h;
  return 0;
}

void server_metrics_http_stop(server_metrics_http *h) {
  if (h == NULL) {
    return;
  }
  if (h->http != NULL) {
    evhttp_free(h->http);
  }
  free(h);
}
