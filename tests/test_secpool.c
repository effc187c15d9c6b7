/*
 * Guarded-memory pool (cpns/secpool.h): slots lent to the engines, zeroed
 * when given back, and the fallback to a block of their own when the pool
 * is full or a slot is too small.
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <sodium.h>

#include "exchange/gateway_internal.h"
#include "exchange/secpool_internal.h"
#include "exchange/server_internal.h"
#include "tests/exchange_harness.h"

static const uint8_t zeros[CPNS_SECPOOL_SLOT_DEFAULT];

static int fail_calloc_calls;
static void *failing_calloc(size_t n, size_t size, void *ud) {
  (void)ud;
  return fail_calloc_calls-- > 0 ? calloc(n, size) : NULL;
}
static void *plain_malloc(size_t size, void *ud) {
  (void)ud;
  return malloc(size);
}
static void *plain_realloc(void *p, size_t size, void *ud) {
  (void)ud;
  return realloc(p, size);
}
static void plain_free(void *p, void *ud) {
  (void)ud;
  free(p);
}

START_TEST(test_secpool_new_invalid_arguments) {
  cpns_secpool *pool = (cpns_secpool *)1;
  cpns_mem partial = {NULL, NULL, plain_free, NULL, NULL};
  ck_assert_int_eq(cpns_secpool_new(NULL, 1, 0, NULL), CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(cpns_secpool_new(&pool, 0, 0, NULL), CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_ptr_null(pool);
  ck_assert_int_eq(cpns_secpool_new(&pool, CPNS_SECPOOL_SLOTS_MAX + 1, 0, NULL),
                   CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(cpns_secpool_new(&pool, 1, 65537, NULL), CPNS_ERR_INVALID_ARGUMENT);
  ck_assert_int_eq(cpns_secpool_new(&pool, 1, 0, &partial), CPNS_ERR_INVALID_ARGUMENT);
  cpns_secpool_del(NULL);
  ck_assert_uint_eq(cpns_secpool_get_used(NULL), 0);
}
END_TEST

/* The bookkeeping comes from the caller's allocator; its failure is NOMEM, no leak. */
START_TEST(test_secpool_new_nomem) {
  cpns_secpool *pool = NULL;
  cpns_mem mem = {NULL, plain_malloc, plain_free, failing_calloc, plain_realloc};
  fail_calloc_calls = _i;
  ck_assert_int_eq(cpns_secpool_new(&pool, 4, 0, &mem), CPNS_ERR_NOMEM);
  ck_assert_ptr_null(pool);
}
END_TEST

/* Slots are distinct, 16-aligned, zero when taken and zeroed when given back. */
START_TEST(test_secpool_take_give) {
  cpns_secpool *pool = NULL;
  uint8_t *a, *b;
  ck_assert_int_eq(cpns_secpool_new(&pool, 2, 100, NULL), 0);
  ck_assert_ptr_null(cpnsi_secpool_take(pool, 113)); /* 100 rounds up to 112 */
  a = cpnsi_secpool_take(pool, 112);
  b = cpnsi_secpool_take(pool, 1);
  ck_assert_ptr_nonnull(a);
  ck_assert_ptr_nonnull(b);
  ck_assert_ptr_ne(a, b);
  ck_assert_uint_eq((uintptr_t)a % 16, 0);
  ck_assert_uint_eq((uintptr_t)b % 16, 0);
  ck_assert_mem_eq(a, zeros, 112);
  ck_assert_uint_eq(cpns_secpool_get_used(pool), 2);
  ck_assert_ptr_null(cpnsi_secpool_take(pool, 1)); /* full */
  memset(a, 0xa5, 112);
  cpnsi_secpool_give(pool, a);
  ck_assert_mem_eq(a, zeros, 112); /* still mapped: the region lives on */
  ck_assert_uint_eq(cpns_secpool_get_used(pool), 1);
  ck_assert_ptr_eq(cpnsi_secpool_take(pool, 1), a);
  cpnsi_secpool_give(pool, a);
  cpnsi_secpool_give(pool, b);
  ck_assert_uint_eq(cpns_secpool_get_used(pool), 0);
  ck_assert_ptr_null(cpnsi_secpool_take(NULL, 1));
  cpns_secpool_del(pool);
}
END_TEST

/* A full exchange with both engines on one pool; the slots come back zeroed. */
START_TEST(test_secpool_exchange_success) {
  cpns_secpool *pool = NULL;
  cpns_gateway_settings gs = hx_gateway_settings(HX_PASSWORD);
  cpns_server_settings ss = hx_server_settings();
  uint8_t eukey[CPNS_EUKEY_LEN], key_id[CPNS_KEY_ID_LEN];
  hx h;
  ck_assert_int_eq(cpns_secpool_new(&pool, 2, 0, NULL), 0);
  gs.secpool = pool;
  ss.secpool = pool;
  hx_init_with(&h, &gs, &ss);
  ck_assert_ptr_eq(h.gw->sec_pool, pool);
  ck_assert_ptr_eq(h.s->sec_pool, pool);
  ck_assert_uint_eq(cpns_secpool_get_used(pool), 2);
  hx_run(&h);
  ck_assert_int_eq(cpns_gateway_get_state(h.gw), CPNS_GATEWAY_DONE);
  ck_assert_int_eq(cpns_server_session_get_state(h.s), CPNS_SERVER_DONE);
  ck_assert_int_eq(cpns_gateway_get_eukey(h.gw, eukey, key_id), 0);
  ck_assert_mem_eq(eukey, h.stored_eukey, CPNS_EUKEY_LEN);
  ck_assert_mem_eq(key_id, h.stored_key_id, CPNS_KEY_ID_LEN);
  {
    uint8_t *gw_slot = (uint8_t *)h.gw->sec, *s_slot = (uint8_t *)h.s->sec;
    hx_free(&h);
    ck_assert_mem_eq(gw_slot, zeros, CPNS_SECPOOL_SLOT_DEFAULT);
    ck_assert_mem_eq(s_slot, zeros, CPNS_SECPOOL_SLOT_DEFAULT);
  }
  ck_assert_uint_eq(cpns_secpool_get_used(pool), 0);
  cpns_secpool_del(pool);
}
END_TEST

/* A full pool or a password too long for a slot: the engine's own block. */
START_TEST(test_secpool_fallback_when_full_or_too_small) {
  cpns_secpool *pool = NULL;
  static char long_password[CPNS_SECPOOL_SLOT_DEFAULT];
  cpns_gateway_settings gs;
  cpns_server_settings ss = hx_server_settings();
  cpns_server_session *s1 = NULL, *s2 = NULL;
  cpns_gateway *gw = NULL;
  memset(long_password, 'p', sizeof long_password - 1);
  gs = hx_gateway_settings(long_password);
  ck_assert_int_eq(cpns_secpool_new(&pool, 1, 0, NULL), 0);
  ss.secpool = pool;
  gs.secpool = pool;
  ck_assert_int_eq(cpns_gateway_new(&gw, &gs, NULL, 0), 0);
  ck_assert_ptr_null(gw->sec_pool);
  ck_assert_int_eq(cpns_server_session_new(&s1, &ss, NULL, 0), 0);
  ck_assert_int_eq(cpns_server_session_new(&s2, &ss, NULL, 0), 0);
  ck_assert_ptr_eq(s1->sec_pool, pool);
  ck_assert_ptr_null(s2->sec_pool);
  ck_assert_uint_eq(cpns_secpool_get_used(pool), 1);
  cpns_server_session_del(s1);
  cpns_server_session_del(s2);
  cpns_gateway_del(gw);
  ck_assert_uint_eq(cpns_secpool_get_used(pool), 0);
  cpns_secpool_del(pool);
}
END_TEST

/* The session's randomness comes from one draw; distinct sessions differ. */
START_TEST(test_secpool_server_session_fresh_distinct) {
  cpns_key_request req;
  cpns_server_session *a, *b;
  hx_first_request(&req);
  a = hx_session_after_first(&req, HX_UNKNOWN, NULL);
  b = hx_session_after_first(&req, HX_UNKNOWN, NULL);
  ck_assert_mem_ne(&a->sec->fresh, &b->sec->fresh, sizeof a->sec->fresh);
  ck_assert_mem_ne(a->sec->fresh.eukey, zeros, CPNS_EUKEY_LEN);
  ck_assert_mem_eq(a->chal.server_nonce, a->sec->fresh.server_nonce, CPNS_NONCE_LEN);
  cpns_server_session_del(a);
  cpns_server_session_del(b);
}
END_TEST

static Suite *secpool_suite(void) {
  Suite *su = suite_create("secpool");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_secpool_new_invalid_arguments);
  tcase_add_loop_test(tc, test_secpool_new_nomem, 0, 2);
  tcase_add_test(tc, test_secpool_take_give);
  tcase_add_test(tc, test_secpool_exchange_success);
  tcase_add_test(tc, test_secpool_fallback_when_full_or_too_small);
  tcase_add_test(tc, test_secpool_server_session_fresh_distinct);
  suite_add_tcase(su, tc);
  return su;
}

int main(void) {
  SRunner *sr;
  int failed;
  if (cpns_init() != 0) {
    return EXIT_FAILURE;
  }
  sr = srunner_create(secpool_suite());
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
