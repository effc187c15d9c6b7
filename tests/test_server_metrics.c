/*
 * Check suite for cpns-server's metrics (examples/server/metrics.c): label
 * escaping, histogram buckets, the exposition of each family.
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include <cpns/codec.h>

#include "examples/server/metrics.h"

/* The evbuffer's content as a NUL-terminated string (freed by the caller). */
static char *text_of(struct evbuffer *b) {
  size_t n = evbuffer_get_length(b);
  char *s = malloc(n + 1);
  ck_assert_ptr_nonnull(s);
  ck_assert_int_eq(evbuffer_remove(b, s, n), (int)n);
  s[n] = '\0';
  return s;
}

START_TEST(label_value_escapes_backslash_quote_newline) {
  struct evbuffer *b = evbuffer_new();
  ck_assert_int_eq(server_metrics_label_value(b, "a\\b\"c\nd e"), 0);
  char *s = text_of(b);
  ck_assert_str_eq(s, "a\\\\b\\\"c\\nd e");
  free(s);
  evbuffer_free(b);
}
END_TEST

START_TEST(histogram_buckets_by_upper_bound) {
  static const double bounds[] = {1, 2, 4};
  server_histogram h;
  memset(&h, 0, sizeof(h));
  h.bounds = bounds;
  h.nbounds = 3;
  server_histogram_observe(&h, 0.5);
  server_histogram_observe(&h, 1); /* le="1" includes 1 */
  server_histogram_observe(&h, 3);
  server_histogram_observe(&h, 9); /* only +Inf */
  ck_assert_uint_eq(h.counts[0], 2);
  ck_assert_uint_eq(h.counts[1], 0);
  ck_assert_uint_eq(h.counts[2], 1);
  ck_assert_uint_eq(h.counts[3], 1);
  ck_assert_uint_eq(h.count, 4);
  ck_assert(h.sum == 13.5);
}
END_TEST

START_TEST(render_counts_each_family) {
  server_metrics m;
  server_metrics_init(&m);
  server_metrics_exchange(&m, CPNS_RESULT_SUCCESS, 2, 3);
  server_metrics_exchange(&m, CPNS_RESULT_SUCCESS, 2, 7);
  server_metrics_exchange(&m, -1, 0, 10000);
  server_metrics_exchange(&m, CPNS_RESULT_AUTHENTICATION_FAILED, 1, 20);
  server_metrics_store_batch(&m, 3, 1500);
  m.db_errors = 4;
  m.auth_failures = 5;
  server_metrics_gauges g = {.connections_open = 6, .lockouts_active = 7};
  struct evbuffer *b = evbuffer_new();
  ck_assert_int_eq(server_metrics_render(&m, &g, b), 0);
  char *s = text_of(b);
  static const char *const want[] = {
      "# TYPE cpns_exchanges_total counter\n",
      "\ncpns_exchanges_total{result=\"success\",suite=\"2\"} 2\n",
      "\ncpns_exchanges_total{result=\"closed\",suite=\"none\"} 1\n",
      "\ncpns_exchanges_total{result=\"authenticationFailed\",suite=\"1\"} 1\n",
      "# TYPE cpns_exchange_duration_seconds histogram\n",
      "\ncpns_exchange_duration_seconds_bucket{le=\"0.005\"} 1\n",
      "\ncpns_exchange_duration_seconds_bucket{le=\"0.01\"} 2\n",
      "\ncpns_exchange_duration_seconds_bucket{le=\"0.025\"} 3\n",
      "\ncpns_exchange_duration_seconds_bucket{le=\"10\"} 4\n",
      "\ncpns_exchange_duration_seconds_bucket{le=\"+Inf\"} 4\n",
      "\ncpns_exchange_duration_seconds_sum 10.03\n",
      "\ncpns_exchange_duration_seconds_count 4\n",
      "\ncpns_connections_open 6\n",
      "\ncpns_lockouts_active 7\n",
      "\ncpns_store_batches_total 1\n",
      "\ncpns_store_batch_size_bucket{le=\"2\"} 0\n",
      "\ncpns_store_batch_size_bucket{le=\"4\"} 1\n",
      "\ncpns_store_batch_size_sum 3\n",
      "\ncpns_store_commit_seconds_bucket{le=\"0.001\"} 0\n",
      "\ncpns_store_commit_seconds_bucket{le=\"0.0025\"} 1\n",
      "\ncpns_store_commit_seconds_sum 0.0015\n",
      "\ncpns_db_errors_total 4\n",
      "\ncpns_auth_failures_total 5\n"};
  for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
    ck_assert_msg(strstr(s, want[i]) != NULL, "missing %s in\n%s", want[i], s);
  }
  /* Series that never happened are left out. */
  ck_assert_ptr_null(strstr(s, "result=\"tryLater\""));
  ck_assert_int_eq(s[strlen(s) - 1], '\n');
  free(s);
  evbuffer_free(b);
}
END_TEST

int main(void) {
  Suite *s = suite_create("server_metrics");
  TCase *tc = tcase_create("metrics");
  tcase_add_test(tc, label_value_escapes_backslash_quote_newline);
  tcase_add_test(tc, histogram_buckets_by_upper_bound);
  tcase_add_test(tc, render_counts_each_family);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
