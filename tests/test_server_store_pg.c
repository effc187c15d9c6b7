/*
 * Check suite for cpns-server's store interface on both backends: SQLite
 * (a file in a temporary directory) and PostgreSQL (the database named by
 * CPNS_TEST_PG_URI: tests/server_store_pg.sh starts a throwaway
 * cluster for it, and gives CPNS_TEST_PG_STOP / CPNS_TEST_PG_START, shell
 * commands that stop and start that cluster). Exits 77 without
 * CPNS_TEST_PG_URI.
 *
 * Each looped test runs once per backend (_i: 0 SQLite, 1 PostgreSQL) on a
 * fresh schema, with two handles (two connections) where servers would
 * share the database.
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sodium.h>

#include <cpns/crypto.h>

#include "examples/server/store.h"
#include "examples/server/store_thread.h"

static char tmpdir[256];
static char where[512]; /* the --db value of the backend under test */

static const uint8_t *test_record_key(void) {
  static uint8_t key[CPNS_CREDENTIAL_SEAL_KEY_LEN];
  uint8_t master[CPNS_MASTER_KEY_LEN];
  memset(master, 0x42, sizeof(master));
  ck_assert_int_eq(cpns_crypto_credential_seal_key(key, master), 0);
  return key;
}

/* Drops our tables from the test database (a fresh schema per test). */
static void pg_reset(const char *uri) {
  PGconn *c = PQconnectdb(uri);
  ck_assert_int_eq(PQstatus(c), CONNECTION_OK);
  PGresult *r = PQexec(c, "DROP TABLE IF EXISTS users, assignments, lockout, settings,"
                          " assignment_history, audit");
  ck_assert_int_eq(PQresultStatus(r), PGRES_COMMAND_OK);
  PQclear(r);
  PQfinish(c);
}

/* Selects backend i (0 SQLite, 1 PostgreSQL) on an empty database. */
static void use_backend(int i) {
  if (i == 0) {
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof(tmpdir), "%s/cpns-store-pg-test.XXXXXX", base ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    snprintf(where, sizeof(where), "%s/cpns.db", tmpdir);
  } else {
    tmpdir[0] = '\0';
    snprintf(where, sizeof(where), "%s", getenv("CPNS_TEST_PG_URI"));
    pg_reset(where);
  }
}

static void teardown(void) {
  if (tmpdir[0] != '\0') {
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
    tmpdir[0] = '\0';
  }
}

static server_db *open_db(server_db_mode mode) {
  server_db *db = NULL;
  ck_assert_int_eq(server_db_open_with_key(&db, where, mode, test_record_key()), 0);
  return db;
}

static server_db_assignment make_assignment(const char *entity, const char *user, uint8_t fill,
                                            uint8_t *key_id, uint8_t *sealed) {
  memset(key_id, fill, CPNS_KEY_ID_LEN);
  memset(sealed, fill, CPNS_SEALED_EUKEY_LEN);
  server_db_assignment a = {.entity_id = (const uint8_t *)entity,
                            .entity_id_len = strlen(entity),
                            .user_id = (const uint8_t *)user,
                            .user_id_len = strlen(user),
                            .mode = CPNS_MODE_PN_GW,
                            .key_id = key_id,
                            .sealed_eukey = sealed,
                            .assigned_at = 1700000000};
  return a;
}

typedef struct listing {
  int n;
  char entity[8][64];
  char user[8][64];
  uint8_t fill[8];
} listing;

static int collect(void *arg, const server_db_assignment *a) {
  listing *l = arg;
  if (l->n < 8) {
    snprintf(l->entity[l->n], 64, "%.*s", (int)a->entity_id_len, (const char *)a->entity_id);
    snprintf(l->user[l->n], 64, "%.*s", (int)a->user_id_len, (const char *)a->user_id);
    l->fill[l->n] = a->key_id[0];
  }
  l->n++;
  return 0;
}

/* ---- schema, settings, records ---- */

typedef struct records_seen {
  int n;
  size_t r1_len[4], r2_len[4];
  char uid[4][32];
} records_seen;

static int collect_records(void *arg, const uint8_t *uid, size_t uid_len, const uint8_t *r1,
                           size_t r1_len, const uint8_t *r2, size_t r2_len) {
  (void)r1;
  (void)r2;
  records_seen *s = arg;
  if (s->n < 4) {
    snprintf(s->uid[s->n], 32, "%.*s", (int)uid_len, (const char *)uid);
    s->r1_len[s->n] = r1_len;
    s->r2_len[s->n] = r2_len;
  }
  s->n++;
  return 0;
}

START_TEST(test_init_settings_records) {
  use_backend(_i);
  server_db *db = NULL;
  ck_assert_int_eq(server_db_open(&db, where, SERVER_DB_EXISTING), -1); /* not initialized */
  db = open_db(SERVER_DB_CREATE);
  ck_assert_int_eq(server_db_created(db), 1);
  ck_assert_int_eq(server_db_get_kind(db), _i == 0 ? SERVER_DB_SQLITE : SERVER_DB_POSTGRES);
  server_db_defaults d = {1, 8};
  ck_assert_int_eq(server_db_set_defaults(db, &d), 0);
  server_db_defaults bad = {1, 7};
  ck_assert_int_eq(server_db_set_defaults(db, &bad), -1);
  uint32_t suites = 0;
  ck_assert_int_eq(server_db_get_suites(db, &suites), 0);
  ck_assert_uint_eq(suites, SERVER_DB_SUITES_UPGRADED); /* until init says */
  ck_assert_int_eq(server_db_set_suites(db, 21), 0);
  ck_assert_int_eq(server_db_set_suites(db, 11), -1);
  ck_assert_int_eq(server_db_set_suites(db, 3), -1);
  ck_assert_int_eq(server_db_set_suites(db, 0), -1);

  /* A suite-2-only user, a suite-1-only user, one with both. */
  uint8_t r2[300];
  memset(r2, 0xa5, sizeof(r2));
  ck_assert_int_eq(server_db_user_put_records(db, (const uint8_t *)"zoe", 3, NULL, 0, r2, 300), 0);
  ck_assert_int_eq(server_db_user_put_records(db, (const uint8_t *)"zoe", 3, NULL, 0, r2, 300), 1);
  ck_assert_int_eq(server_db_user_put_records(db, (const uint8_t *)"nobody", 6, NULL, 0, NULL, 0),
                   -1);
  static uint8_t huge[SERVER_DB_RECORD_MAX + 1];
  ck_assert_int_eq(
      server_db_user_put_records(db, (const uint8_t *)"big", 3, huge, sizeof(huge), NULL, 0), -1);
  cpns_credential *cred = sodium_malloc(sizeof(*cred));
  cpns_kdf_params kdf = {.ops_limit = 1, .mem_limit_kib = 8};
  cpns_crypto_random(kdf.salt, sizeof(kdf.salt));
  ck_assert_int_eq(cpns_crypto_credential_create(cred, (const uint8_t *)"pw", 2, &kdf), 0);
  ck_assert_int_eq(server_db_user_add(db, (const uint8_t *)"amy", 3, cred), 0);
  uint8_t sealed[CPNS_SEALED_CREDENTIAL_LEN];
  ck_assert_int_eq(
      cpns_crypto_credential_seal(sealed, cred, test_record_key(), (const uint8_t *)"bo", 2), 0);
  ck_assert_int_eq(
      server_db_user_put_records(db, (const uint8_t *)"bo", 2, sealed, sizeof(sealed), r2, 17), 0);
  server_db_close(db);

  /* Another connection sees it all; the schema is not made again. */
  db = open_db(SERVER_DB_CREATE);
  ck_assert_int_eq(server_db_created(db), 0);
  ck_assert_int_eq(server_db_get_defaults(db, &d), 0);
  ck_assert_uint_eq(d.ops_limit, 1);
  ck_assert_uint_eq(d.mem_limit_kib, 8);
  ck_assert_int_eq(server_db_get_suites(db, &suites), 0);
  ck_assert_uint_eq(suites, 21);
  server_db_close(db);

  db = open_db(SERVER_DB_READER);
  server_db_lookup *look = sodium_malloc(sizeof(*look));
  ck_assert_int_eq(server_db_lookup_user(db, (const uint8_t *)"zoe", 3, look), 0);
  ck_assert_int_eq(look->user_found, 1);
  ck_assert_uint_eq(look->records.record1_len, 0);
  ck_assert_uint_eq(look->records.record2_len, 300);
  ck_assert_mem_eq(look->records.record2, r2, 300);
  ck_assert_int_eq(look->lockout_found, 0);
  ck_assert_int_eq(server_db_lookup_user(db, (const uint8_t *)"bo", 2, look), 0);
  ck_assert_uint_eq(look->records.record1_len, sizeof(sealed));
  ck_assert_uint_eq(look->records.record2_len, 17);
  ck_assert_int_eq(server_db_lookup_user(db, (const uint8_t *)"nobody", 6, look), 0);
  ck_assert_int_eq(look->user_found, 0);
  /* The same through a batch (pipelined on PostgreSQL), in order. */
  server_db_lookup *outs = sodium_malloc(3 * sizeof(*outs));
  server_db_lookup_request req[3] = {{(const uint8_t *)"zoe", 3, &outs[0], 9},
                                     {(const uint8_t *)"nobody", 6, &outs[1], 9},
                                     {(const uint8_t *)"bo", 2, &outs[2], 9}};
  server_db_lookup_batch(db, req, 3);
  ck_assert_int_eq(req[0].rc, 0);
  ck_assert_int_eq(req[1].rc, 0);
  ck_assert_int_eq(req[2].rc, 0);
  ck_assert_int_eq(outs[0].user_found, 1);
  ck_assert_uint_eq(outs[0].records.record2_len, 300);
  ck_assert_int_eq(outs[1].user_found, 0);
  ck_assert_int_eq(outs[2].user_found, 1);
  ck_assert_uint_eq(outs[2].records.record1_len, sizeof(sealed));
  ck_assert_uint_eq(outs[2].records.record2_len, 17);
  sodium_free(outs);
  cpns_credential *got = sodium_malloc(sizeof(*got));
  ck_assert_int_eq(server_db_user_get(db, (const uint8_t *)"amy", 3, got), 0);
  ck_assert_mem_eq(got, cred, sizeof(*got));
  ck_assert_int_eq(server_db_user_get(db, (const uint8_t *)"zoe", 3, got), 1); /* no suite 1 */
  ck_assert_int_eq(server_db_user_get(db, (const uint8_t *)"bo", 2, got), 0);
  records_seen seen;
  memset(&seen, 0, sizeof(seen));
  ck_assert_int_eq(server_db_user_foreach_records(db, collect_records, &seen), 0);
  ck_assert_int_eq(seen.n, 3);
  ck_assert_str_eq(seen.uid[0], "amy"); /* octet order on both */
  ck_assert_str_eq(seen.uid[1], "bo");
  ck_assert_str_eq(seen.uid[2], "zoe");
  ck_assert_uint_eq(seen.r2_len[0], 0);
  ck_assert_uint_eq(seen.r1_len[2], 0);
  ck_assert_uint_eq(seen.r2_len[2], 300);
  /* The reader refuses writes. */
  ck_assert_int_eq(server_db_user_del(db, (const uint8_t *)"amy", 3), -1);
  server_db_close(db);
  db = open_db(SERVER_DB_EXISTING);
  ck_assert_int_eq(server_db_user_del(db, (const uint8_t *)"amy", 3), 0);
  ck_assert_int_eq(server_db_user_del(db, (const uint8_t *)"amy", 3), 1);
  server_db_close(db);
  sodium_free(got);
  sodium_free(look);
  sodium_free(cred);
}
END_TEST

/* A schema newer than this program's is refused with a message. */
START_TEST(test_newer_schema_refused) {
  use_backend(1);
  server_db *db = open_db(SERVER_DB_CREATE);
  server_db_close(db);
  PGconn *c = PQconnectdb(where);
  PGresult *r = PQexec(c, "UPDATE settings SET value = 99 WHERE name = 'schema_version'");
  ck_assert_int_eq(PQresultStatus(r), PGRES_COMMAND_OK);
  PQclear(r);
  PQfinish(c);
  ck_assert_int_eq(server_db_open(&db, where, SERVER_DB_EXISTING), -1);
  ck_assert_int_eq(server_db_open(&db, where, SERVER_DB_CREATE), -1);
}
END_TEST

/* ---- assignments ---- */

typedef struct assign_arg {
  server_db *db;
  server_db_assignment a;
  cpns_store_status status;
  int commit_rc;
} assign_arg;

static void *assign_in_thread(void *p) {
  assign_arg *x = p;
  ck_assert_int_eq(server_db_begin(x->db), 0);
  x->status = server_db_assign(x->db, &x->a);
  x->commit_rc = server_db_commit(x->db);
  return NULL;
}

/* Two handles (two servers) ask for one Entity ID for two users: the
 * database decides once. The second starts while the first's transaction
 * is open, and is decided by what the first committed. */
START_TEST(test_conflict_decided_once) {
  use_backend(_i);
  server_db *a = open_db(SERVER_DB_CREATE);
  server_db *b = open_db(SERVER_DB_EXISTING);
  uint8_t k1[CPNS_KEY_ID_LEN], s1[CPNS_SEALED_EUKEY_LEN];
  assign_arg second;
  memset(&second, 0, sizeof(second));
  second.db = b;
  uint8_t k2[CPNS_KEY_ID_LEN], s2[CPNS_SEALED_EUKEY_LEN];
  second.a = make_assignment("urn:dev:mac:0011223344ff", "bob", 2, k2, s2);
  server_db_assignment first = make_assignment("urn:dev:mac:0011223344ff", "alice", 1, k1, s1);
  ck_assert_int_eq(server_db_begin(a), 0);
  ck_assert_int_eq(server_db_assign(a, &first), CPNS_STORE_OK);
  pthread_t t;
  if (_i == 1) { /* PostgreSQL waits for the row lock; SQLite for the write lock */
    ck_assert_int_eq(pthread_create(&t, NULL, assign_in_thread, &second), 0);
  }
  ck_assert_int_eq(server_db_commit(a), 0);
  if (_i == 1) {
    pthread_join(t, NULL);
  } else {
    assign_in_thread(&second);
  }
  ck_assert_int_eq(second.status, CPNS_STORE_CONFLICT);
  ck_assert_int_eq(second.commit_rc, 0);
  /* The same user replaces its own assignment through either handle. */
  uint8_t k3[CPNS_KEY_ID_LEN], s3[CPNS_SEALED_EUKEY_LEN];
  second.a = make_assignment("urn:dev:mac:0011223344ff", "alice", 3, k3, s3);
  assign_in_thread(&second);
  ck_assert_int_eq(second.status, CPNS_STORE_OK);
  listing l;
  memset(&l, 0, sizeof(l));
  ck_assert_int_eq(server_db_assignment_foreach(a, collect, &l), 0);
  ck_assert_int_eq(l.n, 1);
  ck_assert_str_eq(l.user[0], "alice");
  ck_assert_uint_eq(l.fill[0], 3);
  server_db_close(a);
  server_db_close(b);
}
END_TEST

/* The store thread's batch path: one call, one transaction. */
typedef struct waiter {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  int batches;
} waiter;

static void notify(void *arg) {
  waiter *w = arg;
  pthread_mutex_lock(&w->lock);
  w->batches++;
  pthread_cond_signal(&w->cond);
  pthread_mutex_unlock(&w->lock);
}

/* Submits jobs (linked) and waits until every one came back; returns them. */
static server_store_job *store_and_wait(server_store *st, waiter *w, server_store_job *jobs,
                                        int n) {
  server_store_job *done = NULL, *tail = NULL;
  int got = 0;
  server_store_submit(st, jobs);
  while (got < n) {
    pthread_mutex_lock(&w->lock);
    while (w->batches == 0) {
      pthread_cond_wait(&w->cond, &w->lock);
    }
    w->batches = 0;
    pthread_mutex_unlock(&w->lock);
    for (server_store_job *j = server_store_take_done(st); j != NULL;) {
      server_store_job *next = j->next;
      j->next = NULL;
      if (tail != NULL) {
        tail->next = j;
      } else {
        done = j;
      }
      tail = j;
      got++;
      j = next;
    }
  }
  return done;
}

static server_store_job *assign_job(const char *entity, const char *user, uint8_t fill) {
  server_store_job *j = calloc(1, sizeof(*j));
  ck_assert_ptr_nonnull(j);
  j->kind = SERVER_STORE_ASSIGN;
  j->mode = CPNS_MODE_PN_GW;
  j->assigned_at = 1700000000;
  j->entity_id_len = strlen(entity);
  memcpy(j->entity_id, entity, j->entity_id_len);
  j->user_id_len = strlen(user);
  memcpy(j->user_id, user, j->user_id_len);
  memset(j->key_id, fill, sizeof(j->key_id));
  memset(j->sealed_eukey, fill, sizeof(j->sealed_eukey));
  return j;
}

static void free_jobs(server_store_job *j) {
  while (j != NULL) {
    server_store_job *next = j->next;
    free(j);
    j = next;
  }
}

/* Duplicates inside one batch: statements run in order, so the second job
 * for an entity sees the first. */
START_TEST(test_duplicate_entity_in_batch) {
  use_backend(_i);
  server_db *db = open_db(SERVER_DB_CREATE);
  waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
  server_store *st = NULL;
  ck_assert_int_eq(server_store_start(&st, where, 0, notify, &w), 0);
  /* (PostgreSQL writes them sorted by Entity ID: ee last, dd's in order.) */
  server_store_job *j1 = assign_job("urn:dev:mac:0011223344ee", "bob", 4);
  j1->next = assign_job("urn:dev:mac:0011223344dd", "alice", 1);
  j1->next->next = assign_job("urn:dev:mac:0011223344dd", "bob", 2);
  j1->next->next->next = assign_job("urn:dev:mac:0011223344dd", "alice", 3);
  server_store_job *done = store_and_wait(st, &w, j1, 4);
  ck_assert_int_eq(done->status, CPNS_STORE_OK);
  ck_assert_int_eq(done->next->status, CPNS_STORE_OK);
  ck_assert_int_eq(done->next->next->status, CPNS_STORE_CONFLICT);
  ck_assert_int_eq(done->next->next->next->status, CPNS_STORE_OK);
  free_jobs(done);
  uint64_t batches, jobs, busy;
  server_store_stats(st, &batches, &jobs, &busy);
  ck_assert_uint_eq(jobs, 4);
  ck_assert_uint_eq(batches, 1);
  server_store_stop(st);
  listing l;
  memset(&l, 0, sizeof(l));
  ck_assert_int_eq(server_db_assignment_foreach(db, collect, &l), 0);
  ck_assert_int_eq(l.n, 2);
  ck_assert_str_eq(l.user[0], "alice");
  ck_assert_uint_eq(l.fill[0], 3);
  ck_assert_str_eq(l.user[1], "bob");
  server_db_close(db);
}
END_TEST

/* ---- lockout ---- */

static const server_db_lockout_policy POLICY = {
    .threshold = 3, .base_ms = 1000, .max_ms = 8000, .window_ms = 60000};

static void fail_once(server_db *db, const char *uid, int64_t now) {
  ck_assert_int_eq(server_db_begin_lockout_only(db), 0);
  ck_assert_int_eq(server_db_lockout_fail(db, (const uint8_t *)uid, strlen(uid), &POLICY, now), 0);
  ck_assert_int_eq(server_db_commit(db), 0);
}

/* ---- lifecycle: history, revoke, user removal and passwd, audit ---- */

typedef struct audit_seen {
  int n;
  char line[32][160]; /* "event entity user keyfill source result" */
  int64_t time_ms[32];
} audit_seen;

static int collect_audit(void *arg, const server_db_audit_row *r) {
  audit_seen *a = arg;
  if (a->n < 32) {
    snprintf(a->line[a->n], sizeof(a->line[0]), "%s %.*s %.*s %d %s %s", r->event,
             r->entity_id != NULL ? (int)r->entity_id_len : 1,
             r->entity_id != NULL ? (const char *)r->entity_id : "-",
             r->user_id != NULL ? (int)r->user_id_len : 1,
             r->user_id != NULL ? (const char *)r->user_id : "-",
             r->key_id != NULL ? r->key_id[0] : -1, r->source != NULL ? r->source : "-",
             r->result != NULL ? r->result : "-");
    a->time_ms[a->n] = r->time_ms;
  }
  a->n++;
  return 0;
}

static audit_seen *audit_of(server_db *db, const server_db_audit_filter *f) {
  static audit_seen seen;
  memset(&seen, 0, sizeof(seen));
  ck_assert_int_eq(server_db_audit_foreach(db, f, collect_audit, &seen), 0);
  ck_assert_int_le(seen.n, 32);
  return &seen;
}

typedef struct history_seen {
  int n;
  char line[8][128]; /* "entity user keyfill state ended reason source" */
} history_seen;

static int collect_history(void *arg, const server_db_history_row *h) {
  history_seen *x = arg;
  if (x->n < 8) {
    ck_assert_uint_eq(h->a.sealed_eukey[0], h->a.key_id[0]); /* kept, as stored */
    snprintf(x->line[x->n], sizeof(x->line[0]), "%.*s %.*s %d %d %d %s %s", (int)h->a.entity_id_len,
             (const char *)h->a.entity_id, (int)h->a.user_id_len, (const char *)h->a.user_id,
             h->a.key_id[0], (int)h->state, h->ended_at != 0, h->reason != NULL ? h->reason : "-",
             h->a.source != NULL ? h->a.source : "-");
  }
  x->n++;
  return 0;
}

static void add_user(server_db *db, const char *uid) {
  uint8_t rec[40];
  memset(rec, 0x55, sizeof(rec));
  ck_assert_int_eq(
      server_db_user_put_records(db, (const uint8_t *)uid, strlen(uid), NULL, 0, rec, sizeof(rec)),
      0);
}

/* One store batch: assignments (a refusal among them) and a failure that
 * crosses the lockout threshold, each with its audit row in the batch's
 * transaction; then the commands' changes, each with its rows. */
START_TEST(test_history_and_audit) {
  use_backend(_i);
  server_db *db = open_db(SERVER_DB_CREATE);
  const char *e1 = "urn:dev:mac:0011223344aa", *e2 = "urn:dev:mac:0011223344bb";
  add_user(db, "alice");
  add_user(db, "bob");
  int64_t before_ms = (int64_t)time(NULL) * 1000 - 1000;
  waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
  server_store *st = NULL;
  ck_assert_int_eq(server_store_start(&st, where, 0, notify, &w), 0);
  server_store_job *j = assign_job(e1, "alice", 1);
  snprintf(j->source, sizeof(j->source), "192.0.2.1:4000");
  j->next = assign_job(e1, "bob", 2); /* refused */
  snprintf(j->next->source, sizeof(j->next->source), "192.0.2.2:4000");
  j->next->next = assign_job(e1, "alice", 3); /* replaces 1 */
  snprintf(j->next->next->source, sizeof(j->next->next->source), "192.0.2.1:4001");
  server_store_job *done = store_and_wait(st, &w, j, 3);
  ck_assert_int_eq(done->next->status, CPNS_STORE_CONFLICT);
  free_jobs(done);
  /* Failures of carol: the third starts a block (threshold 3), audited once. */
  for (int i = 0; i < 4; i++) {
    j = calloc(1, sizeof(*j));
    ck_assert_ptr_nonnull(j);
    j->kind = SERVER_STORE_LOCKOUT_FAIL;
    j->user_id_len = 5;
    memcpy(j->user_id, "carol", 5);
    j->lockout.last_failure_ms = (int64_t)time(NULL) * 1000 + i;
    j->policy = POLICY;
    free_jobs(store_and_wait(st, &w, j, 1));
  }
  server_store_stop(st);
  audit_seen *a = audit_of(db, NULL);
  ck_assert_int_eq(a->n, 6);
  ck_assert_str_eq(a->line[0], "user-added - alice -1 local ok");
  ck_assert_str_eq(a->line[1], "user-added - bob -1 local ok");
  ck_assert_str_eq(a->line[2], "assigned urn:dev:mac:0011223344aa alice 1 192.0.2.1:4000 ok");
  ck_assert_str_eq(a->line[3],
                   "conflict urn:dev:mac:0011223344aa bob 2 192.0.2.2:4000 entityConflict");
  ck_assert_str_eq(a->line[4], "replaced urn:dev:mac:0011223344aa alice 3 192.0.2.1:4001 ok");
  ck_assert_int_eq(strncmp(a->line[5], "lockout - carol -1 - failures 3, blocked until ", 47), 0);
  ck_assert_int_ge(a->time_ms[2], before_ms);
  ck_assert_int_le(a->time_ms[2], (int64_t)time(NULL) * 1000 + 1000);

  /* Revoke: history kept, the Entity ID free for bob. */
  ck_assert_int_eq(server_db_assignment_revoke(db, (const uint8_t *)e1, strlen(e1), "lost", "me"),
                   0);
  ck_assert_int_eq(server_db_assignment_revoke(db, (const uint8_t *)e1, strlen(e1), NULL, "me"), 1);
  uint8_t k[CPNS_KEY_ID_LEN], sealed[CPNS_SEALED_EUKEY_LEN];
  server_db_assignment asg = make_assignment(e1, "bob", 4, k, sealed);
  ck_assert_int_eq(server_db_begin(db), 0);
  ck_assert_int_eq(server_db_assign(db, &asg), CPNS_STORE_OK);
  uint8_t k2[CPNS_KEY_ID_LEN], sealed2[CPNS_SEALED_EUKEY_LEN];
  server_db_assignment asg2 = make_assignment(e2, "bob", 5, k2, sealed2);
  ck_assert_int_eq(server_db_assign(db, &asg2), CPNS_STORE_OK);
  ck_assert_int_eq(server_db_commit(db), 0);
  history_seen h;
  memset(&h, 0, sizeof(h));
  server_db_history_filter hf = {
      .entity_id = (const uint8_t *)e1, .entity_id_len = strlen(e1), .ended = 1};
  ck_assert_int_eq(server_db_history_foreach(db, &hf, collect_history, &h), 0);
  ck_assert_int_eq(h.n, 3);
  ck_assert_str_eq(h.line[0], "urn:dev:mac:0011223344aa alice 1 1 1 - 192.0.2.1:4000");
  ck_assert_str_eq(h.line[1], "urn:dev:mac:0011223344aa alice 3 2 1 lost 192.0.2.1:4001");
  ck_assert_str_eq(h.line[2], "urn:dev:mac:0011223344aa bob 4 0 0 - -");
  memset(&h, 0, sizeof(h));
  hf.ended = 0;
  hf.entity_id = NULL;
  ck_assert_int_eq(server_db_history_foreach(db, &hf, collect_history, &h), 0);
  ck_assert_int_eq(h.n, 2); /* current keys only, every Entity ID */

  /* user del: refused while bob has assignments, then revokes them. */
  ck_assert_int_eq(server_db_user_del(db, (const uint8_t *)"bob", 3), 2);
  ck_assert_int_eq(server_db_user_remove(db, (const uint8_t *)"bob", 3, 0, "me"), 2);
  listing l;
  memset(&l, 0, sizeof(l));
  ck_assert_int_eq(server_db_assignment_foreach(db, collect, &l), 0);
  ck_assert_int_eq(l.n, 2);
  ck_assert_int_eq(server_db_user_remove(db, (const uint8_t *)"bob", 3, 1, "me"), 0);
  ck_assert_int_eq(server_db_user_remove(db, (const uint8_t *)"bob", 3, 1, "me"), 1);
  memset(&l, 0, sizeof(l));
  ck_assert_int_eq(server_db_assignment_foreach(db, collect, &l), 0);
  ck_assert_int_eq(l.n, 0);
  /* bob enrolled again inherits nothing: alice can bind bob's old Entity ID. */
  add_user(db, "bob");
  server_db_assignment asg3 = make_assignment(e2, "alice", 6, k2, sealed2);
  ck_assert_int_eq(server_db_begin(db), 0);
  ck_assert_int_eq(server_db_assign(db, &asg3), CPNS_STORE_OK);
  ck_assert_int_eq(server_db_commit(db), 0);

  /* passwd: records replaced, assignments kept, lockout row gone. */
  server_db_lockout row;
  ck_assert_int_eq(server_db_lockout_get(db, (const uint8_t *)"carol", 5, &row), 0);
  add_user(db, "carol");
  uint8_t rec[40];
  memset(rec, 0x66, sizeof(rec));
  ck_assert_int_eq(server_db_user_replace_records(db, (const uint8_t *)"carol", 5, rec, sizeof(rec),
                                                  NULL, 0, "me"),
                   0);
  ck_assert_int_eq(server_db_user_replace_records(db, (const uint8_t *)"nobody", 6, rec,
                                                  sizeof(rec), NULL, 0, "me"),
                   1);
  ck_assert_int_eq(server_db_lockout_get(db, (const uint8_t *)"carol", 5, &row), 1);
  server_db_lookup *look = sodium_malloc(sizeof(*look));
  ck_assert_int_eq(server_db_lookup_user(db, (const uint8_t *)"carol", 5, look), 0);
  ck_assert_uint_eq(look->records.record1_len, sizeof(rec));
  ck_assert_uint_eq(look->records.record2_len, 0);
  ck_assert_uint_eq(look->records.record1[0], 0x66);
  sodium_free(look);

  /* Filters. */
  server_db_audit_filter f = {.user_id = (const uint8_t *)"bob", .user_id_len = 3};
  a = audit_of(db, &f);
  ck_assert_int_eq(a->n, 8);
  ck_assert_str_eq(a->line[2], "assigned urn:dev:mac:0011223344aa bob 4 - ok");
  ck_assert_str_eq(a->line[4], "revoked urn:dev:mac:0011223344aa bob 4 me user removed");
  ck_assert_str_eq(a->line[5], "revoked urn:dev:mac:0011223344bb bob 5 me user removed");
  ck_assert_str_eq(a->line[6], "user-removed - bob -1 me ok");
  ck_assert_str_eq(a->line[7], "user-added - bob -1 local ok");
  memset(&f, 0, sizeof(f));
  f.entity_id = (const uint8_t *)e1;
  f.entity_id_len = strlen(e1);
  a = audit_of(db, &f);
  ck_assert_int_eq(a->n, 6);
  ck_assert_str_eq(a->line[3], "revoked urn:dev:mac:0011223344aa alice 3 me lost");
  memset(&f, 0, sizeof(f));
  f.user_id = (const uint8_t *)"carol";
  f.user_id_len = 5;
  a = audit_of(db, &f);
  ck_assert_int_eq(a->n, 3);
  ck_assert_str_eq(a->line[2], "user-passwd - carol -1 me ok");
  memset(&f, 0, sizeof(f));
  f.since_ms = (int64_t)time(NULL) * 1000 + 3600000;
  ck_assert_int_eq(audit_of(db, &f)->n, 0);
  server_db_close(db);
}
END_TEST

/* The schema of release 18d04b9 (version 3) on PostgreSQL, with a binding
 * whose user was deleted: the upgrade to 4 revokes it. */
START_TEST(test_pg_upgrade_3_to_4) {
  use_backend(1);
  PGconn *c = PQconnectdb(where);
  ck_assert_int_eq(PQstatus(c), CONNECTION_OK);
  char sql[2048];
  snprintf(sql, sizeof(sql),
           "BEGIN;"
           "CREATE TABLE settings (name text COLLATE \"C\" PRIMARY KEY, value bigint NOT NULL);"
           "CREATE TABLE users (user_id text COLLATE \"C\" PRIMARY KEY, credential bytea,"
           " record2 bytea, created_at bigint NOT NULL);"
           "CREATE TABLE assignments (entity_id text COLLATE \"C\" PRIMARY KEY,"
           " user_id text COLLATE \"C\" NOT NULL, mode integer NOT NULL, key_id bytea NOT NULL,"
           " sealed_eukey bytea NOT NULL, assigned_at bigint NOT NULL);"
           "CREATE INDEX assignments_by_user ON assignments(user_id);"
           "CREATE TABLE lockout (user_id text COLLATE \"C\" PRIMARY KEY,"
           " failures bigint NOT NULL, last_failure_ms bigint NOT NULL,"
           " blocked_until_ms bigint NOT NULL);"
           "INSERT INTO settings VALUES('schema_version', 3), ('enroll_ops_limit', 1),"
           " ('enroll_mem_limit_kib', 8), ('suites', 21);"
           "INSERT INTO users VALUES('alice', NULL, '\\x5555', 1);"
           "INSERT INTO assignments VALUES"
           " ('urn:dev:mac:0011223344aa', 'alice', 1, decode(repeat('01', %d), 'hex'),"
           "  decode(repeat('01', %d), 'hex'), 1700000000),"
           " ('urn:dev:mac:0011223344bb', 'bob', 1, decode(repeat('02', %d), 'hex'),"
           "  decode(repeat('02', %d), 'hex'), 1700000000);"
           "COMMIT",
           CPNS_KEY_ID_LEN, CPNS_SEALED_EUKEY_LEN, CPNS_KEY_ID_LEN, CPNS_SEALED_EUKEY_LEN);
  PGresult *r = PQexec(c, sql);
  ck_assert_int_eq(PQresultStatus(r), PGRES_COMMAND_OK);
  PQclear(r);
  server_db *db = open_db(SERVER_DB_READER); /* any command upgrades */
  r = PQexec(c, "SELECT value FROM settings WHERE name = 'schema_version'");
  ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
  ck_assert_str_eq(PQgetvalue(r, 0, 0), "4");
  PQclear(r);
  PQfinish(c);
  listing l;
  memset(&l, 0, sizeof(l));
  ck_assert_int_eq(server_db_assignment_foreach(db, collect, &l), 0);
  ck_assert_int_eq(l.n, 1);
  ck_assert_str_eq(l.user[0], "alice");
  audit_seen *a = audit_of(db, NULL);
  ck_assert_int_eq(a->n, 1);
  ck_assert_str_eq(a->line[0],
                   "revoked urn:dev:mac:0011223344bb bob 2 upgrade user deleted before schema 4");
  server_db_close(db);
  /* Opened again: already 4, nothing more revoked. */
  db = open_db(SERVER_DB_EXISTING);
  ck_assert_int_eq(audit_of(db, NULL)->n, 1);
  server_db_close(db);
}
END_TEST

/* Failures counted through two handles add up, with lockout.c's back-off
 * computed from the new count; expired ones restart at 1. */
START_TEST(test_lockout_counts_add_up) {
  use_backend(_i);
  server_db *a = open_db(SERVER_DB_CREATE);
  server_db *b = open_db(SERVER_DB_EXISTING);
  const int64_t now = 1800000000000;
  server_db_lockout row;
  fail_once(a, "carol", now);
  fail_once(b, "carol", now + 1);
  ck_assert_int_eq(server_db_lockout_get(a, (const uint8_t *)"carol", 5, &row), 0);
  ck_assert_uint_eq(row.failures, 2);
  ck_assert_int_eq(row.blocked_until_ms, 0); /* below the threshold */
  fail_once(a, "carol", now + 2);
  ck_assert_int_eq(server_db_lockout_get(b, (const uint8_t *)"carol", 5, &row), 0);
  ck_assert_uint_eq(row.failures, 3);
  ck_assert_int_eq(row.last_failure_ms, now + 2);
  ck_assert_int_eq(row.blocked_until_ms, now + 2 + 1000);
  fail_once(b, "carol", now + 3);
  fail_once(a, "carol", now + 4);
  fail_once(b, "carol", now + 5);
  fail_once(a, "carol", now + 6); /* 7: 1000 << 4 capped at 8000 */
  server_db_lookup *look = sodium_malloc(sizeof(*look));
  ck_assert_int_eq(server_db_lookup_user(b, (const uint8_t *)"carol", 5, look), 0);
  ck_assert_int_eq(look->user_found, 0);
  ck_assert_int_eq(look->lockout_found, 1);
  ck_assert_uint_eq(look->lockout.failures, 7);
  ck_assert_int_eq(look->lockout.blocked_until_ms, now + 6 + 8000);
  /* A window after the last failure, with no block running: counted anew. */
  fail_once(b, "carol", now + 6 + 60000);
  ck_assert_int_eq(server_db_lockout_get(a, (const uint8_t *)"carol", 5, &row), 0);
  ck_assert_uint_eq(row.failures, 1);
  ck_assert_int_eq(row.blocked_until_ms, 0);
  /* A success deletes the row. */
  ck_assert_int_eq(server_db_begin(a), 0);
  ck_assert_int_eq(server_db_lockout_del(a, (const uint8_t *)"carol", 5), 0);
  ck_assert_int_eq(server_db_commit(a), 0);
  ck_assert_int_eq(server_db_lockout_get(b, (const uint8_t *)"carol", 5, &row), 1);
  sodium_free(look);
  server_db_close(a);
  server_db_close(b);
}
END_TEST

typedef struct hammer_arg {
  server_db *db;
  int n;
} hammer_arg;

static void *hammer(void *p) {
  hammer_arg *h = p;
  for (int i = 0; i < h->n; i++) {
    fail_once(h->db, "dave", 1800000000000 + i);
  }
  return NULL;
}

/* Concurrent increments from two connections lose none (PostgreSQL). */
START_TEST(test_lockout_concurrent_increments) {
  use_backend(1);
  server_db *a = open_db(SERVER_DB_CREATE);
  server_db *b = open_db(SERVER_DB_EXISTING);
  hammer_arg ha = {a, 50}, hb = {b, 50};
  pthread_t ta, tb;
  ck_assert_int_eq(pthread_create(&ta, NULL, hammer, &ha), 0);
  ck_assert_int_eq(pthread_create(&tb, NULL, hammer, &hb), 0);
  pthread_join(ta, NULL);
  pthread_join(tb, NULL);
  server_db_lockout row;
  ck_assert_int_eq(server_db_lockout_get(a, (const uint8_t *)"dave", 4, &row), 0);
  ck_assert_uint_eq(row.failures, 100);
  server_db_close(a);
  server_db_close(b);
}
END_TEST

/* ---- the database going away ---- */

static void cluster(const char *var) {
  const char *cmd = getenv(var);
  ck_assert_msg(cmd != NULL, "%s is not set (run tests/server_store_pg.sh)", var);
  ck_assert_int_eq(system(cmd), 0);
}

/* Polls a lookup until the handle reconnected by itself; returns 0 on
 * success within 20 s (the back-off is at most 5 s). */
static int lookup_until_up(server_db *db) {
  server_db_lookup *look = sodium_malloc(sizeof(*look));
  struct timespec pause = {0, 50 * 1000 * 1000};
  int rc = -1;
  for (int i = 0; i < 400 && rc != 0; i++) {
    rc = server_db_lookup_user(db, (const uint8_t *)"alice", 5, look);
    if (rc != 0) {
      nanosleep(&pause, NULL);
    }
  }
  sodium_free(look);
  return rc;
}

/* A batch whose COMMIT cannot happen (the server stopped mid-transaction)
 * is reported failed, lookups fail instead of answering, and the handles
 * and the store thread reconnect by themselves once it is back. */
START_TEST(test_stop_fails_then_reconnects) {
  use_backend(1);
  server_db *db = open_db(SERVER_DB_CREATE);
  server_db *reader = open_db(SERVER_DB_READER);
  waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
  server_store *st = NULL;
  ck_assert_int_eq(server_store_start(&st, where, 0, notify, &w), 0);
  uint8_t k[CPNS_KEY_ID_LEN], s[CPNS_SEALED_EUKEY_LEN];
  server_db_assignment a = make_assignment("urn:dev:mac:0011223344aa", "alice", 7, k, s);
  ck_assert_int_eq(server_db_begin(db), 0);
  ck_assert_int_eq(server_db_assign(db, &a), CPNS_STORE_OK);
  cluster("CPNS_TEST_PG_STOP");
  ck_assert_int_eq(server_db_commit(db), -1); /* never success */
  server_db_rollback(db);
  server_db_lookup *look = sodium_malloc(sizeof(*look));
  ck_assert_int_eq(server_db_lookup_user(reader, (const uint8_t *)"alice", 5, look), -1);
  server_store_job *done =
      store_and_wait(st, &w, assign_job("urn:dev:mac:0011223344bb", "bob", 8), 1);
  ck_assert_int_eq(done->status, CPNS_STORE_FAILED);
  free_jobs(done);
  cluster("CPNS_TEST_PG_START");
  ck_assert_int_eq(lookup_until_up(reader), 0);
  ck_assert_int_eq(lookup_until_up(db), 0);
  /* The store thread's connection comes back too (its back-off bounded). */
  cpns_store_status status = CPNS_STORE_FAILED;
  for (int i = 0; i < 100 && status != CPNS_STORE_OK; i++) {
    done = store_and_wait(st, &w, assign_job("urn:dev:mac:0011223344bb", "bob", 8), 1);
    status = done->status;
    free_jobs(done);
    if (status != CPNS_STORE_OK) {
      struct timespec pause = {0, 100 * 1000 * 1000};
      nanosleep(&pause, NULL);
    }
  }
  ck_assert_int_eq(status, CPNS_STORE_OK);
  server_store_stop(st);
  listing l;
  memset(&l, 0, sizeof(l));
  ck_assert_int_eq(server_db_assignment_foreach(db, collect, &l), 0);
  ck_assert_int_eq(l.n, 1); /* the batch that failed left nothing */
  ck_assert_str_eq(l.entity[0], "urn:dev:mac:0011223344bb");
  sodium_free(look);
  server_db_close(reader);
  server_db_close(db);
}
END_TEST

static Suite *store_pg_suite(void) {
  Suite *s = suite_create("server_store_pg");
  TCase *tc = tcase_create("both");
  tcase_add_checked_fixture(tc, NULL, teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, test_init_settings_records, 0, 2);
  tcase_add_loop_test(tc, test_conflict_decided_once, 0, 2);
  tcase_add_loop_test(tc, test_duplicate_entity_in_batch, 0, 2);
  tcase_add_loop_test(tc, test_lockout_counts_add_up, 0, 2);
  tcase_add_loop_test(tc, test_history_and_audit, 0, 2);
  suite_add_tcase(s, tc);
  tc = tcase_create("pg");
  tcase_add_checked_fixture(tc, NULL, teardown);
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_newer_schema_refused);
  tcase_add_test(tc, test_pg_upgrade_3_to_4);
  tcase_add_test(tc, test_lockout_concurrent_increments);
  tcase_add_test(tc, test_stop_fails_then_reconnects);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  if (getenv("CPNS_TEST_PG_URI") == NULL || getenv("CPNS_TEST_PG_URI")[0] == '\0') {
    printf("SKIP: CPNS_TEST_PG_URI is not set (tests/server_store_pg.sh sets it)\n");
    return 77;
  }
  if (cpns_init() != 0) {
    return 1;
  }
  server_db_library_setup();
  SRunner *sr = srunner_create(store_pg_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? 0 : 1;
}
