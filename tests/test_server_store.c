/*
 * Check suite for cpns-server's units: key file, database (users,
 * assignments, schema version), store thread group commit, lockout,
 * per-address limits, log escaping and cli_util helpers.
 */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include <cpns/crypto.h>

#include "examples/cli_util.h"
#include "examples/server_addrlimit.h"
#include "examples/server_db.h"
#include "examples/server_keyfile.h"
#include "examples/server_lockout.h"
#include "examples/server_log.h"
#include "examples/server_store_thread.h"

static char tmpdir[256];

static void make_tmpdir(void) {
  const char *base = getenv("TMPDIR");
  snprintf(tmpdir, sizeof(tmpdir), "%s/cpns-server-test.XXXXXX", base ? base : "/tmp");
  ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void remove_tmpdir(void) {
  char cmd[512];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
  ck_assert_int_eq(system(cmd), 0);
}

static void path_in_tmp(char *out, size_t outlen, const char *name) {
  snprintf(out, outlen, "%s/%s", tmpdir, name);
}

static void setup(void) {
  ck_assert_int_eq(cpns_init(), 0);
  make_tmpdir();
}

static void teardown(void) { remove_tmpdir(); }

/* ---- key file ---- */

START_TEST(test_keyfile_create_load) {
  char path[512];
  path_in_tmp(path, sizeof(path), "keys");
  ck_assert_int_eq(server_keyfile_create(path), 0);
  struct stat st;
  ck_assert_int_eq(stat(path, &st), 0);
  ck_assert_int_eq(st.st_mode & 0777, 0600);
  ck_assert_int_eq(st.st_size, SERVER_KEYFILE_LEN);
  server_keys *k1 = NULL, *k2 = NULL;
  ck_assert_int_eq(server_keyfile_load(path, &k1), 0);
  ck_assert_int_eq(server_keyfile_load(path, &k2), 0);
  ck_assert_mem_eq(k1->master_key, k2->master_key, CPNS_MASTER_KEY_LEN);
  ck_assert_int_ne(memcmp(k1->master_key, k1->server_secret, CPNS_MASTER_KEY_LEN), 0);
  server_keys_free(k1);
  server_keys_free(k2);
}
END_TEST

START_TEST(test_keyfile_create_refuses_existing) {
  char path[512];
  path_in_tmp(path, sizeof(path), "keys");
  ck_assert_int_eq(server_keyfile_create(path), 0);
  server_keys *before = NULL, *after = NULL;
  ck_assert_int_eq(server_keyfile_load(path, &before), 0);
  ck_assert_int_eq(server_keyfile_create(path), -1);
  ck_assert_int_eq(server_keyfile_load(path, &after), 0);
  ck_assert_mem_eq(before->master_key, after->master_key, CPNS_MASTER_KEY_LEN);
  server_keys_free(before);
  server_keys_free(after);
}
END_TEST

START_TEST(test_keyfile_load_group_readable) {
  char path[512];
  path_in_tmp(path, sizeof(path), "keys");
  ck_assert_int_eq(server_keyfile_create(path), 0);
  ck_assert_int_eq(chmod(path, 0640), 0);
  server_keys *k = NULL;
  ck_assert_int_eq(server_keyfile_load(path, &k), -1);
  ck_assert_ptr_null(k);
  ck_assert_int_eq(chmod(path, 0604), 0);
  ck_assert_int_eq(server_keyfile_load(path, &k), -1);
}
END_TEST

START_TEST(test_keyfile_load_bad_content) {
  char path[512];
  path_in_tmp(path, sizeof(path), "keys");
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
  ck_assert_int_ge(fd, 0);
  uint8_t junk[SERVER_KEYFILE_LEN];
  memset(junk, 'x', sizeof(junk));
  ck_assert_int_eq(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
  close(fd);
  server_keys *k = NULL;
  ck_assert_int_eq(server_keyfile_load(path, &k), -1); /* wrong magic */
  ck_assert_int_eq(truncate(path, 10), 0);
  ck_assert_int_eq(server_keyfile_load(path, &k), -1); /* wrong size */
  path_in_tmp(path, sizeof(path), "missing");
  ck_assert_int_eq(server_keyfile_load(path, &k), -1);
}
END_TEST

/* ---- database ---- */

static server_db *open_new_db(char *path, size_t len) {
  path_in_tmp(path, len, "cpns.db");
  server_db *db = NULL;
  ck_assert_int_eq(server_db_open(&db, path, SERVER_DB_CREATE), 0);
  return db;
}

static void make_record(uint8_t *rec, size_t *rec_len, const char *pw, uint32_t ops) {
  cpns_credential *cred = sodium_malloc(sizeof(*cred));
  cpns_kdf_params kdf;
  cpns_random(kdf.salt, sizeof(kdf.salt));
  kdf.ops_limit = ops;
  kdf.mem_limit_kib = 8;
  ck_assert_int_eq(cpns_credential_create(cred, (const uint8_t *)pw, strlen(pw), &kdf), 0);
  ck_assert_int_eq(cpns_credential_encode(cred, rec, CPNS_CREDENTIAL_ENCODED_MAX, rec_len), 0);
  sodium_free(cred);
}

START_TEST(test_db_open_existing_requires_init) {
  char path[512];
  path_in_tmp(path, sizeof(path), "none.db");
  server_db *db = NULL;
  ck_assert_int_eq(server_db_open(&db, path, SERVER_DB_EXISTING), -1);
  ck_assert_int_eq(access(path, F_OK), -1); /* not created as a side effect */
  /* An empty SQLite file is not ours either. */
  sqlite3 *raw = NULL;
  ck_assert_int_eq(sqlite3_open(path, &raw), SQLITE_OK);
  ck_assert_int_eq(sqlite3_exec(raw, "CREATE TABLE x(y)", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(raw);
  ck_assert_int_eq(server_db_open(&db, path, SERVER_DB_EXISTING), -1);
}
END_TEST

START_TEST(test_db_schema_version_wal) {
  char path[512];
  server_db *db = open_new_db(path, sizeof(path));
  server_db_close(db);
  sqlite3 *raw = NULL;
  ck_assert_int_eq(sqlite3_open(path, &raw), SQLITE_OK);
  sqlite3_stmt *st = NULL;
  ck_assert_int_eq(sqlite3_prepare_v2(raw, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
  ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
  ck_assert_int_eq(sqlite3_column_int(st, 0), SERVER_DB_SCHEMA_VERSION);
  sqlite3_finalize(st);
  ck_assert_int_eq(sqlite3_prepare_v2(raw, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
  ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
  ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "wal");
  sqlite3_finalize(st);
  /* A newer schema is refused rather than misread. */
  ck_assert_int_eq(sqlite3_exec(raw, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(raw);
  ck_assert_int_eq(server_db_open(&db, path, SERVER_DB_EXISTING), -1);
  /* Opening again with CREATE keeps data (idempotent init). */
}
END_TEST

START_TEST(test_db_user_add_get_del) {
  char path[512];
  server_db *db = open_new_db(path, sizeof(path));
  uint8_t rec[CPNS_CREDENTIAL_ENCODED_MAX];
  size_t rec_len = 0;
  make_record(rec, &rec_len, "secret", 1);
  const uint8_t *uid = (const uint8_t *)"alice@example.com";
  size_t uid_len = strlen((const char *)uid);
  ck_assert_int_eq(server_db_user_add(db, uid, uid_len, rec, rec_len), 0);
  ck_assert_int_eq(server_db_user_add(db, uid, uid_len, rec, rec_len), 1);

  cpns_credential *cred = sodium_malloc(sizeof(*cred));
  cpns_credential *expect = sodium_malloc(sizeof(*expect));
  ck_assert_int_eq(cpns_credential_decode(expect, rec, rec_len), 0);
  ck_assert_int_eq(server_db_user_get(db, uid, uid_len, cred), 0);
  ck_assert_mem_eq(cred->stored_key, expect->stored_key, CPNS_STORED_KEY_LEN);
  ck_assert_uint_eq(cred->kdf.ops_limit, 1);
  ck_assert_int_eq(server_db_user_get(db, (const uint8_t *)"bob", 3, cred), 1);

  /* A reader connection sees the writer's data and cannot write. */
  server_db *reader = NULL;
  ck_assert_int_eq(server_db_open(&reader, path, SERVER_DB_READER), 0);
  ck_assert_int_eq(server_db_user_get(reader, uid, uid_len, cred), 0);
  ck_assert_int_eq(server_db_user_add(reader, (const uint8_t *)"bob", 3, rec, rec_len), -1);
  server_db_close(reader);

  ck_assert_int_eq(server_db_user_del(db, uid, uid_len), 0);
  ck_assert_int_eq(server_db_user_del(db, uid, uid_len), 1);
  ck_assert_int_eq(server_db_user_get(db, uid, uid_len, cred), 1);
  sodium_free(cred);
  sodium_free(expect);
  server_db_close(db);
}
END_TEST

START_TEST(test_db_user_get_malformed_record) {
  char path[512];
  server_db *db = open_new_db(path, sizeof(path));
  uint8_t junk[20] = {1, 2, 3};
  ck_assert_int_eq(server_db_user_add(db, (const uint8_t *)"eve", 3, junk, sizeof(junk)), 0);
  cpns_credential *cred = sodium_malloc(sizeof(*cred));
  ck_assert_int_eq(server_db_user_get(db, (const uint8_t *)"eve", 3, cred), -1);
  sodium_free(cred);
  server_db_close(db);
}
END_TEST

typedef struct collected {
  int n;
  char names[8][64];
  int ops[8];
} collected;

static int collect_user(void *arg, const uint8_t *uid, size_t len, const cpns_kdf_params *kdf) {
  collected *c = arg;
  snprintf(c->names[c->n], sizeof(c->names[0]), "%.*s", (int)len, (const char *)uid);
  c->ops[c->n] = (int)kdf->ops_limit;
  c->n++;
  return 0;
}

START_TEST(test_db_user_foreach_sorted) {
  char path[512];
  server_db *db = open_new_db(path, sizeof(path));
  uint8_t rec[CPNS_CREDENTIAL_ENCODED_MAX];
  size_t rec_len = 0;
  make_record(rec, &rec_len, "pw", 2);
  ck_assert_int_eq(server_db_user_add(db, (const uint8_t *)"zed", 3, rec, rec_len), 0);
  ck_assert_int_eq(server_db_user_add(db, (const uint8_t *)"amy", 3, rec, rec_len), 0);
  collected c;
  memset(&c, 0, sizeof(c));
  ck_assert_int_eq(server_db_user_foreach(db, collect_user, &c), 0);
  ck_assert_int_eq(c.n, 2);
  ck_assert_str_eq(c.names[0], "amy");
  ck_assert_str_eq(c.names[1], "zed");
  ck_assert_int_eq(c.ops[0], 2);
  server_db_close(db);
}
END_TEST

static server_db_assignment make_assignment(const char *entity, const char *user,
                                            const uint8_t *key_id, const uint8_t *sealed) {
  server_db_assignment a;
  a.entity_id = (const uint8_t *)entity;
  a.entity_id_len = strlen(entity);
  a.user_id = (const uint8_t *)user;
  a.user_id_len = strlen(user);
  a.mode = CPNS_MODE_PN_GW;
  a.key_id = key_id;
  a.sealed_eukey = sealed;
  a.assigned_at = 1700000000;
  return a;
}

typedef struct rows {
  int n;
  char user[64];
  uint8_t key_id[CPNS_KEY_ID_LEN];
  uint8_t sealed[CPNS_SEALED_EUKEY_LEN];
} rows;

static int collect_row(void *arg, const server_db_assignment *a) {
  rows *r = arg;
  r->n++;
  snprintf(r->user, sizeof(r->user), "%.*s", (int)a->user_id_len, (const char *)a->user_id);
  memcpy(r->key_id, a->key_id, CPNS_KEY_ID_LEN);
  memcpy(r->sealed, a->sealed_eukey, CPNS_SEALED_EUKEY_LEN);
  return 0;
}

START_TEST(test_db_assign_replace_and_conflict) {
  char path[512];
  server_db *db = open_new_db(path, sizeof(path));
  uint8_t k1[CPNS_KEY_ID_LEN], k2[CPNS_KEY_ID_LEN], k3[CPNS_KEY_ID_LEN];
  uint8_t sealed[CPNS_SEALED_EUKEY_LEN];
  memset(k1, 1, sizeof(k1));
  memset(k2, 2, sizeof(k2));
  memset(k3, 3, sizeof(k3));
  memset(sealed, 9, sizeof(sealed));
  const char *ent = "urn:dev:mac:0011223344aa";
  server_db_assignment a = make_assignment(ent, "alice", k1, sealed);
  ck_assert_int_eq(server_db_begin(db), 0);
  ck_assert_int_eq(server_db_assign(db, &a), CPNS_STORE_OK);
  ck_assert_int_eq(server_db_commit(db), 0);
  /* Same user again: replaced. */
  a = make_assignment(ent, "alice", k2, sealed);
  ck_assert_int_eq(server_db_begin(db), 0);
  ck_assert_int_eq(server_db_assign(db, &a), CPNS_STORE_OK);
  /* Another user: conflict, the binding stays. */
  a = make_assignment(ent, "bob", k3, sealed);
  ck_assert_int_eq(server_db_assign(db, &a), CPNS_STORE_CONFLICT);
  ck_assert_int_eq(server_db_commit(db), 0);
  rows r;
  memset(&r, 0, sizeof(r));
  ck_assert_int_eq(server_db_assignment_foreach(db, collect_row, &r), 0);
  ck_assert_int_eq(r.n, 1);
  ck_assert_str_eq(r.user, "alice");
  ck_assert_mem_eq(r.key_id, k2, CPNS_KEY_ID_LEN);
  server_db_close(db);
}
END_TEST

START_TEST(test_db_assign_rollback_not_stored) {
  char path[512];
  server_db *db = open_new_db(path, sizeof(path));
  uint8_t k[CPNS_KEY_ID_LEN] = {0}, sealed[CPNS_SEALED_EUKEY_LEN] = {0};
  server_db_assignment a = make_assignment("urn:x:y", "alice", k, sealed);
  ck_assert_int_eq(server_db_begin(db), 0);
  ck_assert_int_eq(server_db_assign(db, &a), CPNS_STORE_OK);
  ck_assert_int_eq(server_db_rollback(db), 0);
  rows r;
  memset(&r, 0, sizeof(r));
  ck_assert_int_eq(server_db_assignment_foreach(db, collect_row, &r), 0);
  ck_assert_int_eq(r.n, 0);
  server_db_close(db);
}
END_TEST

/* ---- store thread ---- */

typedef struct waiter {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  int notified;
} waiter;

static void notify(void *arg) {
  waiter *w = arg;
  pthread_mutex_lock(&w->lock);
  w->notified++;
  pthread_cond_signal(&w->cond);
  pthread_mutex_unlock(&w->lock);
}

static server_store_job *new_job(const char *entity, const char *user, uint8_t tag) {
  server_store_job *j = calloc(1, sizeof(*j));
  ck_assert_ptr_nonnull(j);
  j->entity_id_len = strlen(entity);
  memcpy(j->entity_id, entity, j->entity_id_len);
  j->user_id_len = strlen(user);
  memcpy(j->user_id, user, j->user_id_len);
  memset(j->key_id, tag, sizeof(j->key_id));
  j->assigned_at = 1700000000;
  j->owner = (void *)(uintptr_t)tag;
  return j;
}

/* Waits (no sleeps: condition variable) until n jobs came back. */
static int take_n(server_store *st, waiter *w, server_store_job **jobs, int n) {
  int got = 0;
  while (got < n) {
    pthread_mutex_lock(&w->lock);
    while (w->notified == 0) {
      pthread_cond_wait(&w->cond, &w->lock);
    }
    w->notified = 0;
    pthread_mutex_unlock(&w->lock);
    for (server_store_job *j = server_store_take_done(st); j != NULL;) {
      server_store_job *next = j->next;
      jobs[(uintptr_t)j->owner] = j;
      got++;
      j = next;
    }
  }
  return got;
}

START_TEST(test_store_thread_batch_conflict) {
  char path[512];
  server_db *db = open_new_db(path, sizeof(path));
  waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
  server_store *st = NULL;
  ck_assert_int_eq(server_store_start(&st, path, 0, notify, &w), 0);
  server_store_job *back[4] = {NULL, NULL, NULL, NULL};
  server_store_submit(st, new_job("urn:a:1", "alice", 0));
  server_store_submit(st, new_job("urn:a:1", "bob", 1));
  server_store_submit(st, new_job("urn:a:2", "bob", 2));
  server_store_submit(st, new_job("urn:a:1", "alice", 3));
  ck_assert_int_eq(take_n(st, &w, back, 4), 4);
  ck_assert_int_eq(back[0]->status, CPNS_STORE_OK);
  ck_assert_int_eq(back[1]->status, CPNS_STORE_CONFLICT);
  ck_assert_int_eq(back[2]->status, CPNS_STORE_OK);
  ck_assert_int_eq(back[3]->status, CPNS_STORE_OK);
  uint64_t batches = 0, jobs = 0, busy_us = 0;
  server_store_stats(st, &batches, &jobs, &busy_us);
  ck_assert_uint_eq(jobs, 4);
  ck_assert_uint_ge(batches, 1);
  ck_assert_uint_le(batches, 4);
  server_store_stop(st);
  for (int i = 0; i < 4; i++) {
    free(back[i]);
  }
  /* Durable and visible to another connection: urn:a:1 holds alice's newest key. */
  rows r;
  memset(&r, 0, sizeof(r));
  ck_assert_int_eq(server_db_assignment_foreach(db, collect_row, &r), 0);
  ck_assert_int_eq(r.n, 2);
  server_db_close(db);
}
END_TEST

START_TEST(test_store_thread_stop_drains_queue) {
  char path[512];
  server_db *db = open_new_db(path, sizeof(path));
  server_store *st = NULL;
  ck_assert_int_eq(server_store_start(&st, path, 2, NULL, NULL), 0);
  char ent[32];
  for (int i = 0; i < 10; i++) {
    snprintf(ent, sizeof(ent), "urn:a:%d", i);
    server_store_submit(st, new_job(ent, "alice", (uint8_t)i));
  }
  server_store_stop(st); /* frees the finished jobs itself */
  rows r;
  memset(&r, 0, sizeof(r));
  ck_assert_int_eq(server_db_assignment_foreach(db, collect_row, &r), 0);
  ck_assert_int_eq(r.n, 10);
  server_db_close(db);
}
END_TEST

START_TEST(test_store_sealed_eukey_roundtrip) {
  /* What the server stores unseals under the master key and its binding only. */
  uint8_t master[CPNS_MASTER_KEY_LEN], eukey[CPNS_EUKEY_LEN], out[CPNS_EUKEY_LEN];
  uint8_t key_id[CPNS_KEY_ID_LEN], sealed[CPNS_SEALED_EUKEY_LEN];
  cpns_random(master, sizeof(master));
  cpns_random(eukey, sizeof(eukey));
  cpns_random(key_id, sizeof(key_id));
  ck_assert_int_eq(cpns_eukey_seal(sealed, eukey, master, (const uint8_t *)"urn:a:1", 7,
                                   (const uint8_t *)"alice", 5, key_id), 0);
  char path[512];
  server_db *db = open_new_db(path, sizeof(path));
  server_db_assignment a = make_assignment("urn:a:1", "alice", key_id, sealed);
  ck_assert_int_eq(server_db_begin(db), 0);
  ck_assert_int_eq(server_db_assign(db, &a), CPNS_STORE_OK);
  ck_assert_int_eq(server_db_commit(db), 0);
  rows r;
  memset(&r, 0, sizeof(r));
  ck_assert_int_eq(server_db_assignment_foreach(db, collect_row, &r), 0);
  ck_assert_int_eq(cpns_eukey_unseal(out, r.sealed, master, (const uint8_t *)"urn:a:1", 7,
                                     (const uint8_t *)"alice", 5, r.key_id), 0);
  ck_assert_mem_eq(out, eukey, CPNS_EUKEY_LEN);
  ck_assert_int_ne(cpns_eukey_unseal(out, r.sealed, master, (const uint8_t *)"urn:a:1", 7,
                                     (const uint8_t *)"bob", 3, r.key_id), 0);
  server_db_close(db);
}
END_TEST

/* ---- lockout ---- */

static const uint8_t ALICE[] = "alice";

START_TEST(test_lockout_after_threshold_and_growth) {
  server_lockout_settings s = {.threshold = 3, .base_ms = 1000, .max_ms = 4000, .capacity = 8};
  server_lockout *lo = NULL;
  ck_assert_int_eq(server_lockout_new(&lo, &s), 0);
  uint64_t t = 1000000;
  ck_assert_int_eq(server_lockout_attempt(lo, ALICE, 5, t), 0);
  ck_assert_int_eq(server_lockout_attempt(lo, ALICE, 5, t), 0);
  ck_assert_int_eq(server_lockout_attempt(lo, ALICE, 5, t), 0); /* third counted, then blocked */
  ck_assert_int_eq(server_lockout_attempt(lo, ALICE, 5, t + 999), 1);
  ck_assert_int_eq(server_lockout_attempt(lo, ALICE, 5, t + 1000), 0); /* 4th: 2 s block */
  ck_assert_int_eq(server_lockout_attempt(lo, ALICE, 5, t + 2999), 1);
  ck_assert_int_eq(server_lockout_attempt(lo, ALICE, 5, t + 3000), 0); /* 5th: 4 s */
  ck_assert_int_eq(server_lockout_attempt(lo, ALICE, 5, t + 6999), 1);
  ck_assert_int_eq(server_lockout_attempt(lo, ALICE, 5, t + 7000), 0); /* 6th: capped 4 s */
  ck_assert_int_eq(server_lockout_attempt(lo, ALICE, 5, t + 10999), 1);
  ck_assert_int_eq(server_lockout_attempt(lo, ALICE, 5, t + 11000), 0);
  /* Another User ID is not affected. */
  ck_assert_int_eq(server_lockout_attempt(lo, (const uint8_t *)"bob", 3, t + 11000), 0);
  server_lockout_del(lo);
}
END_TEST

START_TEST(test_lockout_success_resets) {
  server_lockout *lo = NULL;
  ck_assert_int_eq(server_lockout_new(&lo, NULL), 0); /* defaults: 5 attempts */
  for (int i = 0; i < 4; i++) {
    ck_assert_int_eq(server_lockout_attempt(lo, ALICE, 5, 100), 0);
  }
  server_lockout_success(lo, ALICE, 5);
  ck_assert_uint_eq(server_lockout_size(lo), 0);
  for (int i = 0; i < 5; i++) {
    ck_assert_int_eq(server_lockout_attempt(lo, ALICE, 5, 100), 0);
  }
  ck_assert_int_eq(server_lockout_attempt(lo, ALICE, 5, 100), 1);
  ck_assert_int_eq(server_lockout_attempt(lo, ALICE, 5, 1099), 1);
  ck_assert_int_eq(server_lockout_attempt(lo, ALICE, 5, 1100), 0);
  server_lockout_del(lo);
}
END_TEST

START_TEST(test_lockout_bounded_lru_eviction) {
  server_lockout_settings s = {.threshold = 1, .base_ms = 100000, .capacity = 4};
  server_lockout *lo = NULL;
  ck_assert_int_eq(server_lockout_new(&lo, &s), 0);
  char id[16];
  ck_assert_int_eq(server_lockout_attempt(lo, ALICE, 5, 10), 0);
  for (int i = 0; i < 3; i++) {
    snprintf(id, sizeof(id), "u%d", i);
    ck_assert_int_eq(server_lockout_attempt(lo, (const uint8_t *)id, strlen(id), 10), 0);
  }
  ck_assert_int_eq(server_lockout_attempt(lo, ALICE, 5, 11), 1); /* alice most recent now */
  for (int i = 3; i < 100; i++) {
    snprintf(id, sizeof(id), "u%d", i);
    ck_assert_int_eq(server_lockout_attempt(lo, (const uint8_t *)id, strlen(id), 12), 0);
    ck_assert_uint_le(server_lockout_size(lo), 4);
  }
  /* u99 is tracked and blocked; the oldest ones were evicted. */
  ck_assert_int_eq(server_lockout_attempt(lo, (const uint8_t *)"u99", 3, 13), 1);
  ck_assert_int_eq(server_lockout_attempt(lo, (const uint8_t *)"u0", 2, 13), 0);
  server_lockout_del(lo);
}
END_TEST

/* ---- per-address limit ---- */

START_TEST(test_addrlimit_per_address_and_total) {
  server_addrlimit *al = NULL;
  ck_assert_int_eq(server_addrlimit_new(&al, 2, 2), 0);
  struct sockaddr_in a4;
  memset(&a4, 0, sizeof(a4));
  a4.sin_family = AF_INET;
  a4.sin_addr.s_addr = htonl(0x7f000001);
  server_addr_key k1, k2, k3;
  ck_assert_int_eq(server_addr_key_from(&k1, (struct sockaddr *)&a4, sizeof(a4)), 0);
  a4.sin_addr.s_addr = htonl(0x7f000002);
  ck_assert_int_eq(server_addr_key_from(&k2, (struct sockaddr *)&a4, sizeof(a4)), 0);
  a4.sin_addr.s_addr = htonl(0x7f000003);
  ck_assert_int_eq(server_addr_key_from(&k3, (struct sockaddr *)&a4, sizeof(a4)), 0);
  ck_assert_int_eq(server_addrlimit_acquire(al, &k1), 0);
  ck_assert_int_eq(server_addrlimit_acquire(al, &k1), 0);
  ck_assert_int_eq(server_addrlimit_acquire(al, &k1), 1);
  ck_assert_int_eq(server_addrlimit_acquire(al, &k2), 0);
  ck_assert_int_eq(server_addrlimit_acquire(al, &k3), 1); /* table full */
  server_addrlimit_release(al, &k1);
  ck_assert_int_eq(server_addrlimit_acquire(al, &k1), 0);
  server_addrlimit_release(al, &k2);
  ck_assert_int_eq(server_addrlimit_acquire(al, &k3), 0);
  server_addrlimit_del(al);
}
END_TEST

/* ---- log and cli helpers ---- */

START_TEST(test_log_escape_control_chars) {
  char out[64];
  const uint8_t in[] = "a b\n\"\\\xc3\xa9";
  server_log_escape(out, sizeof(out), in, sizeof(in) - 1);
  ck_assert_str_eq(out, "a\\x20b\\x0a\\x22\\x5c\\xc3\\xa9");
  server_log_escape(out, 5, in, sizeof(in) - 1); /* "\\x20" would not fit with its NUL */
  ck_assert_str_eq(out, "a");
}
END_TEST

START_TEST(test_cli_password_from_file_strips_newline) {
  char path[512];
  path_in_tmp(path, sizeof(path), "pw");
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs("p a s s\n\n", f);
  fclose(f);
  ck_assert_int_eq(chmod(path, 0600), 0);
  uint8_t *pw = NULL;
  size_t len = 0;
  ck_assert_int_eq(cli_password_from_file(path, &pw, &len), 0);
  ck_assert_uint_eq(len, 8); /* only one newline stripped */
  ck_assert_mem_eq(pw, "p a s s\n", 8);
  sodium_free(pw);
  f = fopen(path, "w");
  fputs("\n", f);
  fclose(f);
  ck_assert_int_eq(cli_password_from_file(path, &pw, &len), -1);
  f = fopen(path, "w");
  for (int i = 0; i < CLI_PASSWORD_MAX + 1; i++) {
    fputc('x', f);
  }
  fclose(f);
  ck_assert_int_eq(cli_password_from_file(path, &pw, &len), -1);
}
END_TEST

/* A password file others can read, or a symbolic link, is refused. */
START_TEST(test_cli_password_from_file_refuses_open_or_linked) {
  char path[512], link[512];
  uint8_t *pw = NULL;
  size_t len = 0;
  path_in_tmp(path, sizeof(path), "pw");
  path_in_tmp(link, sizeof(link), "pw-link");
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs("secret\n", f);
  fclose(f);
  ck_assert_int_eq(chmod(path, 0600), 0);
  ck_assert_int_eq(cli_password_from_file(path, &pw, &len), 0);
  sodium_free(pw);
  pw = NULL;
  ck_assert_int_eq(symlink(path, link), 0);
  ck_assert_int_eq(cli_password_from_file(link, &pw, &len), -1);
  ck_assert_ptr_null(pw);
  static const mode_t open_modes[] = {0604, 0640, 0620, 0602, 0644};
  for (size_t i = 0; i < sizeof(open_modes) / sizeof(open_modes[0]); i++) {
    ck_assert_int_eq(chmod(path, open_modes[i]), 0);
    ck_assert_int_eq(cli_password_from_file(path, &pw, &len), -1);
    ck_assert_ptr_null(pw);
  }
  unlink(link);
}
END_TEST

START_TEST(test_cli_split_host_port_forms) {
  char host[64], port[8];
  ck_assert_int_eq(cli_split_host_port("127.0.0.1:0", host, sizeof(host), port, sizeof(port)), 0);
  ck_assert_str_eq(host, "127.0.0.1");
  ck_assert_str_eq(port, "0");
  ck_assert_int_eq(cli_split_host_port("[::1]:443", host, sizeof(host), port, sizeof(port)), 0);
  ck_assert_str_eq(host, "::1");
  ck_assert_int_eq(cli_split_host_port("::1:443", host, sizeof(host), port, sizeof(port)), -1);
  ck_assert_int_eq(cli_split_host_port("h:65536", host, sizeof(host), port, sizeof(port)), -1);
  ck_assert_int_eq(cli_split_host_port("h:", host, sizeof(host), port, sizeof(port)), -1);
  ck_assert_int_eq(cli_split_host_port(":1", host, sizeof(host), port, sizeof(port)), -1);
  ck_assert_int_eq(cli_split_host_port("h:1x", host, sizeof(host), port, sizeof(port)), -1);
  ck_assert_int_eq(cli_split_host_port("hostname:1", host, 4, port, sizeof(port)), -1);
  char hex[7];
  const uint8_t bin[3] = {0x00, 0xab, 0xff};
  cli_hex(hex, bin, 3);
  ck_assert_str_eq(hex, "00abff");
  ck_assert_uint_ge(cli_now_ms() + 1, cli_now_ms());
}
END_TEST

static Suite *server_store_suite(void) {
  Suite *s = suite_create("server_store");
  TCase *tc = tcase_create("keyfile");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_keyfile_create_load);
  tcase_add_test(tc, test_keyfile_create_refuses_existing);
  tcase_add_test(tc, test_keyfile_load_group_readable);
  tcase_add_test(tc, test_keyfile_load_bad_content);
  suite_add_tcase(s, tc);

  tc = tcase_create("db");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_db_open_existing_requires_init);
  tcase_add_test(tc, test_db_schema_version_wal);
  tcase_add_test(tc, test_db_user_add_get_del);
  tcase_add_test(tc, test_db_user_get_malformed_record);
  tcase_add_test(tc, test_db_user_foreach_sorted);
  tcase_add_test(tc, test_db_assign_replace_and_conflict);
  tcase_add_test(tc, test_db_assign_rollback_not_stored);
  suite_add_tcase(s, tc);

  tc = tcase_create("store_thread");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_store_thread_batch_conflict);
  tcase_add_test(tc, test_store_thread_stop_drains_queue);
  tcase_add_test(tc, test_store_sealed_eukey_roundtrip);
  suite_add_tcase(s, tc);

  tc = tcase_create("limits");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_lockout_after_threshold_and_growth);
  tcase_add_test(tc, test_lockout_success_resets);
  tcase_add_test(tc, test_lockout_bounded_lru_eviction);
  tcase_add_test(tc, test_addrlimit_per_address_and_total);
  tcase_add_test(tc, test_log_escape_control_chars);
  tcase_add_test(tc, test_cli_password_from_file_strips_newline);
  tcase_add_test(tc, test_cli_password_from_file_refuses_open_or_linked);
  tcase_add_test(tc, test_cli_split_host_port_forms);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(server_store_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
