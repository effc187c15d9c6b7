/*
 * Allocation failure in the engines (nghttp2's failmalloc idea): complete
 * exchanges of a gateway against a server session, with and without a
 * secpool, on the success path and every refusal, where allocation number
 * N fails, for N = 1, 2, ... until an exchange runs with nothing failing.
 * Counted are the cpns_mem hook (the engines' blocks and their decodes) and
 * sodium_malloc() (the guarded secret blocks and the pool's region), which
 * this program interposes, as it links the core library statically. For
 * every N: the call that met the failure says CPNS_ERR_NOMEM and leaves its
 * engine failed with its secrets wiped, the peer ends as a host would end
 * it, everything is deleted and nothing is left allocated.
 * Its own suite: the interposed sodium_malloc() must not reach the others.
 */
#define _GNU_SOURCE /* RTLD_NEXT */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <sodium.h>

#include "exchange/gateway_internal.h"
#include "exchange/server_internal.h"
#include "tests/exchange_harness.h"

/* LeakSanitizer reports nothing from Check's forked children (seen with
 * gcc 12): this suite runs without fork, and each test asks for the check
 * itself so that a leak names its test. */
#if defined(__SANITIZE_ADDRESS__)
#define FM_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FM_LSAN 1
#endif
#endif
#ifdef FM_LSAN
#include <sanitizer/lsan_interface.h>
static int leaks_found(void) { return __lsan_do_recoverable_leak_check(); }
#else
static int leaks_found(void) { return 0; }
#endif

#define WRONG_PASSWORD "wrong horse battery staple"
#define RUNS_MAX 10000

/* ---- the failing allocator ------------------------------------------------ */

typedef struct fm_mem {
  long fail_at;       /* the allocation (1-based) that fails; 0 = none */
  long calls;         /* allocations asked for while armed */
  long sodium_calls;  /* of which sodium_malloc() */
  long allocs, frees; /* through the hook */
  long sodium_live;   /* sodium_malloc() blocks not yet freed, armed or not */
  int armed;          /* count and fail sodium_malloc() calls too */
} fm_mem;

static fm_mem *fm_current; /* the one sodium_malloc() reports to */

static int fm_should_fail(fm_mem *m) { return ++m->calls == m->fail_at; }

static void *fm_malloc(size_t size, void *ud) {
  fm_mem *m = ud;
  void *p;
  if (fm_should_fail(m)) {
    return NULL;
  }
  p = malloc(size);
  m->allocs += p != NULL;
  return p;
}

static void fm_free(void *ptr, void *ud) {
  fm_mem *m = ud;
  m->frees += ptr != NULL;
  free(ptr);
}

static void *fm_calloc(size_t nmemb, size_t size, void *ud) {
  fm_mem *m = ud;
  void *p;
  if (fm_should_fail(m)) {
    return NULL;
  }
  p = calloc(nmemb, size);
  m->allocs += p != NULL;
  return p;
}

static void *fm_realloc(void *ptr, size_t size, void *ud) {
  fm_mem *m = ud;
  void *p;
  if (fm_should_fail(m)) {
    return NULL;
  }
  p = realloc(ptr, size);
  m->allocs += p != NULL && ptr == NULL;
  return p;
}

/* Interposed on libsodium's, for the core library linked into this program. */
void *sodium_malloc(const size_t size) {
  static void *(*real)(size_t);
  void *p;
  if (real == NULL) {
    *(void **)&real = dlsym(RTLD_NEXT, "sodium_malloc");
    ck_assert_ptr_nonnull(real);
  }
  if (fm_current != NULL && fm_current->armed) {
    fm_current->sodium_calls++;
    if (fm_should_fail(fm_current)) {
      return NULL;
    }
  }
  p = real(size);
  if (fm_current != NULL && p != NULL) {
    fm_current->sodium_live++;
  }
  return p;
}

void sodium_free(void *ptr) {
  static void (*real)(void *);
  if (real == NULL) {
    *(void **)&real = dlsym(RTLD_NEXT, "sodium_free");
    ck_assert_ptr_nonnull(real);
  }
  if (fm_current != NULL && ptr != NULL) {
    fm_current->sodium_live--;
  }
  real(ptr);
}

/* ---- one exchange --------------------------------------------------------- */

typedef struct fm_case {
  const char *name;
  const char *password; /* the gateway's */
  hx_cred_mode cred_mode;
  cpns_store_status store_status;
  cpns_result result; /* the server's answer when nothing fails */
} fm_case;

static const fm_case cases[] = {
    {"success", HX_PASSWORD, HX_KNOWN, CPNS_STORE_OK, CPNS_RESULT_SUCCESS},
    {"wrong password", WRONG_PASSWORD, HX_KNOWN, CPNS_STORE_OK, CPNS_RESULT_AUTHENTICATION_FAILED},
    {"unknown user", HX_PASSWORD, HX_UNKNOWN, CPNS_STORE_OK, CPNS_RESULT_AUTHENTICATION_FAILED},
    {"entity conflict", HX_PASSWORD, HX_KNOWN, CPNS_STORE_CONFLICT, CPNS_RESULT_ENTITY_CONFLICT},
    {"store failure", HX_PASSWORD, HX_KNOWN, CPNS_STORE_FAILED, CPNS_RESULT_SERVER_ERROR},
    {"throttled", HX_PASSWORD, HX_THROTTLED, CPNS_STORE_OK, CPNS_RESULT_TRY_LATER},
};
#define N_CASES (int)(sizeof cases / sizeof cases[0])

typedef struct fm_run {
  fm_mem m;
  cpns_mem mem;
  cpns_secpool *pool;
  cpns_gateway *gw;
  cpns_server_session *s;
  int nomem; /* a call said CPNS_ERR_NOMEM */
  uint8_t stored_eukey[CPNS_EUKEY_LEN];
} fm_run;

static int is_zero(const void *p, size_t n) {
  const uint8_t *b = p;
  uint8_t acc = 0;
  size_t i;
  for (i = 0; i < n; i++) {
    acc |= b[i];
  }
  return acc == 0;
}

/* A call that met the failure: NOMEM, said once, and only once it was met. */
static void expect_nomem(fm_run *r, int rv) {
  ck_assert_int_eq(rv, CPNS_ERR_NOMEM);
  ck_assert_int_eq(r->nomem, 0);
  ck_assert_int_ge(r->m.calls, r->m.fail_at);
  r->nomem = 1;
}

/*
 * The one place the secpool and the engines are made (the settings are
 * about to be versioned: the change is an edit here). Returns 0 when all
 * exist, else stops at the one that met the failure.
 */
static int fm_new_engines(fm_run *r, const fm_case *c, int use_pool) {
  cpns_gateway_settings gs = hx_gateway_settings(c->password);
  cpns_server_settings ss = hx_server_settings();
  int rv;
  if (use_pool) {
    rv = cpns_secpool_new(&r->pool, 2, 0, &r->mem);
    if (rv != 0) {
      ck_assert_ptr_null(r->pool);
      expect_nomem(r, rv);
      return rv;
    }
    gs.secpool = r->pool;
    ss.secpool = r->pool;
  }
  rv = cpns_gateway_new(&r->gw, &gs, &r->mem, 1000);
  if (rv != 0) {
    ck_assert_ptr_null(r->gw);
    expect_nomem(r, rv);
    return rv;
  }
  rv = cpns_server_session_new(&r->s, &ss, &r->mem, 1000);
  if (rv != 0) {
    ck_assert_ptr_null(r->s);
    expect_nomem(r, rv);
  }
  return rv;
}

/* The gateway met the failure: it has failed with its secrets wiped. */
static void expect_gateway_failed(fm_run *r, int rv) {
  uint8_t out[CPNS_PDU_MAX_ENCODED];
  size_t n;
  expect_nomem(r, rv);
  ck_assert_int_eq(cpns_gateway_get_state(r->gw), CPNS_GATEWAY_FAILED);
  ck_assert_int_eq(cpns_gateway_get_error(r->gw), CPNS_ERR_NOMEM);
  ck_assert_uint_eq(r->gw->password_len, 0);
  ck_assert(is_zero(r->gw->sec, r->gw->sec_size));
  ck_assert_int_eq(cpns_gateway_write(r->gw, out, sizeof out, &n, 1000), CPNS_ERR_STATE);
}

/* The server session met the failure: it closes with its secrets wiped. */
static void expect_server_closed(fm_run *r, int rv) {
  uint8_t out[CPNS_PDU_MAX_ENCODED];
  size_t n;
  expect_nomem(r, rv);
  ck_assert_int_eq(cpns_server_session_get_state(r->s), CPNS_SERVER_CLOSE);
  ck_assert_int_eq(r->s->error, CPNS_ERR_NOMEM);
  ck_assert(is_zero(r->s->sec, sizeof *r->s->sec));
  ck_assert_int_eq(cpns_server_session_write(r->s, out, sizeof out, &n, 1000), CPNS_ERR_STATE);
}

/* The host's answer to NEED_CREDENTIAL; the record is made outside the count. */
static void provide_credential(fm_run *r, const fm_case *c) {
  cpns_credential *cred;
  r->m.armed = 0;
  cred = c->cred_mode == HX_KNOWN ? hx_credential(HX_PASSWORD) : NULL;
  r->m.armed = 1;
  ck_assert_int_eq(
      cpns_server_session_provide_credential(r->s, cred, c->cred_mode == HX_THROTTLED, 1000), 0);
  r->m.armed = 0;
  sodium_free(cred);
  r->m.armed = 1;
}

/* One move of either side; 0 when neither can move. */
static int fm_step(fm_run *r, const fm_case *c) {
  cpns_gateway_state g = cpns_gateway_get_state(r->gw);
  cpns_server_state sv = cpns_server_session_get_state(r->s);
  hx_wire w;
  int rv;
  if (g == CPNS_GATEWAY_SEND && sv == CPNS_SERVER_RECEIVE) {
    ck_assert_int_eq(cpns_gateway_write(r->gw, w.bytes, sizeof w.bytes, &w.len, 1000), 0);
    rv = cpns_server_session_read(r->s, w.bytes, w.len, 1000);
    if (rv != 0) {
      expect_server_closed(r, rv);
      /* The host closes the connection. */
      rv = cpns_gateway_read(r->gw, NULL, 0, 1000);
      if (cpns_gateway_get_state(r->gw) == CPNS_GATEWAY_RECONNECT) {
        /* A close before any answer: an allow_suite1 gateway may restart
         * with version 1 (§7) and keeps only its password for it. */
        ck_assert_int_eq(rv, 0);
        ck_assert(is_zero(r->gw->sec, sizeof *r->gw->sec));
      } else {
        ck_assert_int_eq(rv, CPNS_ERR_PEER_CLOSED);
        ck_assert(is_zero(r->gw->sec, r->gw->sec_size));
      }
      return 0;
    }
    return 1;
  }
  if (sv == CPNS_SERVER_SEND && g == CPNS_GATEWAY_RECEIVE) {
    ck_assert_int_eq(cpns_server_session_write(r->s, w.bytes, sizeof w.bytes, &w.len, 1000), 0);
    rv = cpns_gateway_read(r->gw, w.bytes, w.len, 1000);
    if (rv == CPNS_ERR_NOMEM) {
      expect_gateway_failed(r, rv);
      if (cpns_server_session_get_state(r->s) == CPNS_SERVER_RECEIVE) {
        ck_assert_int_eq(cpns_server_session_read(r->s, NULL, 0, 1000), CPNS_ERR_PEER_CLOSED);
        ck_assert(is_zero(r->s->sec, sizeof *r->s->sec));
      }
      return 0;
    }
    /* Refusals end the gateway here; they are checked by the caller. */
    ck_assert(rv == 0 || rv == CPNS_ERR_REFUSED);
    return 1;
  }
  if (sv == CPNS_SERVER_NEED_CREDENTIAL) {
    provide_credential(r, c);
    return 1;
  }
  if (sv == CPNS_SERVER_NEED_STORE) {
    cpns_server_assignment a;
    ck_assert_int_eq(cpns_server_session_get_assignment(r->s, &a), 0);
    memcpy(r->stored_eukey, a.eukey, CPNS_EUKEY_LEN);
    ck_assert_int_eq(cpns_server_session_store_done(r->s, c->store_status, 1000), 0);
    return 1;
  }
  if (g == CPNS_GATEWAY_DERIVE) {
    ck_assert_int_eq(cpns_gateway_derive(r->gw, 1000), 0);
    return 1;
  }
  return 0;
}

/* The exchange ran with nothing failing: its outcome is the case's. */
static void expect_outcome(fm_run *r, const fm_case *c) {
  uint8_t eukey[CPNS_EUKEY_LEN], key_id[CPNS_KEY_ID_LEN];
  ck_assert_int_eq(cpns_server_session_get_state(r->s), CPNS_SERVER_DONE);
  ck_assert_int_eq(hx_session_result(r->s), (int)c->result);
  ck_assert_int_eq(hx_gateway_result(r->gw), (int)c->result);
  if (c->result == CPNS_RESULT_SUCCESS) {
    ck_assert_int_eq(cpns_gateway_get_state(r->gw), CPNS_GATEWAY_DONE);
    ck_assert_int_eq(cpns_gateway_get_eukey(r->gw, eukey, key_id), 0);
    ck_assert_mem_eq(eukey, r->stored_eukey, CPNS_EUKEY_LEN);
  } else {
    ck_assert_int_eq(cpns_gateway_get_state(r->gw), CPNS_GATEWAY_FAILED);
    ck_assert_int_eq(cpns_gateway_get_error(r->gw), CPNS_ERR_REFUSED);
    ck_assert(is_zero(r->gw->sec, r->gw->sec_size));
  }
}

/* Runs c with allocation fail_at failing; returns the allocations asked for
 * (*sodium_calls of them from sodium_malloc()). */
static long fm_exchange(const fm_case *c, int use_pool, long fail_at, long *sodium_calls) {
  fm_run r;
  int steps = 0;
  memset(&r, 0, sizeof r);
  r.m.fail_at = fail_at;
  r.mem.user_data = &r.m;
  r.mem.malloc = fm_malloc;
  r.mem.free = fm_free;
  r.mem.calloc = fm_calloc;
  r.mem.realloc = fm_realloc;
  fm_current = &r.m;
  r.m.armed = 1;
  if (fm_new_engines(&r, c, use_pool) == 0) {
    while (fm_step(&r, c)) {
      ck_assert_int_lt(++steps, 32);
    }
    /* A failure met is a failure said: none is swallowed or turned into another. */
    ck_assert_int_eq(r.nomem, r.m.calls >= fail_at);
    if (!r.nomem) {
      expect_outcome(&r, c);
    }
  }
  r.m.armed = 0;
  cpns_gateway_del(r.gw);
  cpns_server_session_del(r.s);
  ck_assert_uint_eq(cpns_secpool_get_used(r.pool), 0);
  cpns_secpool_del(r.pool);
  fm_current = NULL;
  ck_assert_int_eq(r.m.allocs, r.m.frees);
  ck_assert_int_eq(r.m.sodium_live, 0);
  *sodium_calls = r.m.sodium_calls;
  return r.m.calls;
}

/* _i: case (i / 2), with a secpool when i is odd. */
START_TEST(test_failmalloc_every_allocation) {
  const fm_case *c = &cases[_i / 2];
  int use_pool = _i % 2;
  long fail_at, calls = 0, sodium_calls = 0;
  fm_current = NULL; /* a failed test before this one may have left it set */
  for (fail_at = 1; fail_at < RUNS_MAX; fail_at++) {
    calls = fm_exchange(c, use_pool, fail_at, &sodium_calls);
    if (calls < fail_at) {
      break;
    }
  }
  ck_assert_int_lt(fail_at, RUNS_MAX);
  /* Two engines, two secret blocks and the decodes: a run that allocated
   * less would not be testing the engines. */
  ck_assert_int_ge(calls, 4 + 2 * use_pool);
  ck_assert_int_eq(sodium_calls, use_pool ? 1 : 2);
  ck_assert_int_eq(leaks_found(), 0);
  fprintf(stderr, "failmalloc: %s, %s secpool: %ld allocation points (%ld sodium_malloc)\n",
          c->name, use_pool ? "with" : "without", calls, sodium_calls);
}
END_TEST

static Suite *failmalloc_suite(void) {
  Suite *su = suite_create("failmalloc");
  TCase *tc = tcase_create("core");
  tcase_add_loop_test(tc, test_failmalloc_every_allocation, 0, 2 * N_CASES);
  suite_add_tcase(su, tc);
  return su;
}

int main(void) {
  SRunner *sr;
  int failed;
  if (cpns_init() != 0) {
    return EXIT_FAILURE;
  }
  sr = srunner_create(failmalloc_suite());
  srunner_set_fork_status(sr, CK_NOFORK); /* see FM_LSAN */
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
