/*
 * Check suite for cpns-server's units: key file, database (users,
 * assignments, schema version), store thread group commit, lockout,
 * per-source budget, per-address limits, log escaping and common/cli helpers.
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

#include "examples/common/cli.h"
#include "examples/server/addrlimit.h"
#include "examples/server/store.h"
#include "examples/server/keyfile.h"
#include "examples/server/lockout.h"
#include "examples/server/log.h"
#include "examples/server/ratelimit.h"
#include "examples/server/store_thread.h"

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

/* A version-1 key file (the previous release's) is upgraded when loaded:
 * its two keys kept, suite-2 keys added once, the file replaced (0600). */
START_TEST(test_keyfile_upgrades_v1) {
  char path[512];
  path_in_tmp(path, sizeof(path), "keys");
  uint8_t v1[SERVER_KEYFILE_V1_LEN];
  memcpy(v1, SERVER_KEYFILE_MAGIC_V1, SERVER_KEYFILE_MAGIC_LEN);
  for (size_t i = SERVER_KEYFILE_MAGIC_LEN; i < sizeof(v1); i++) {
    v1[i] = (uint8_t)i;
  }
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write(fd, v1, sizeof(v1)), (ssize_t)sizeof(v1));
  close(fd);
  struct stat before, after;
  ck_assert_int_eq(stat(path, &before), 0);
  server_keys *k1 = NULL, *k2 = NULL;
  ck_assert_int_eq(server_keyfile_load(path, &k1), 0);
  ck_assert_mem_eq(k1->server_secret, v1 + SERVER_KEYFILE_MAGIC_LEN, CPNS_SERVER_SECRET_LEN);
  ck_assert_mem_eq(k1->master_key, v1 + SERVER_KEYFILE_MAGIC_LEN + CPNS_SERVER_SECRET_LEN,
                   CPNS_MASTER_KEY_LEN);
  ck_assert_int_eq(stat(path, &after), 0);
  ck_assert_int_eq(after.st_size, SERVER_KEYFILE_LEN);
  ck_assert_int_eq(after.st_mode & 0777, 0600);
  ck_assert_int_ne(after.st_ino, before.st_ino); /* replaced by rename, not rewritten */
  uint8_t head[SERVER_KEYFILE_MAGIC_LEN];
  fd = open(path, O_RDONLY);
  ck_assert_int_eq(read(fd, head, sizeof(head)), (ssize_t)sizeof(head));
  close(fd);
  ck_assert_mem_eq(head, SERVER_KEYFILE_MAGIC, SERVER_KEYFILE_MAGIC_LEN);
  /* Loaded again: the same suite-2 keys, nothing upgraded twice. */
  ck_assert_int_eq(server_keyfile_load(path, &k2), 0);
  ck_assert_mem_eq(&k1->s2, &k2->s2, sizeof(k1->s2));
  ck_assert_mem_eq(k1->master_key, k2->master_key, CPNS_MASTER_KEY_LEN);
  uint8_t zero[CPNS_S2_OPRF_SEED_LEN] = {0};
  ck_assert_int_ne(memcmp(k1->s2.oprf_seed, zero, sizeof(zero)), 0);
  server_keys_free(k1);
  server_keys_free(k2);
  /* No temporary file left beside it. */
  char cmd[600];
  snprintf(cmd, sizeof(cmd), "test \"$(ls '%s' | wc -l)\" = 1", tmpdir);
  ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* Two key files made by init hold different suite-2 keys. */
START_TEST(test_keyfile_create_has_s2_keys) {
  char a[512], b[512];
  path_in_tmp(a, sizeof(a), "a");
  path_in_tmp(b, sizeof(b), "b");
  ck_assert_int_eq(server_keyfile_create(a), 0);
  ck_assert_int_eq(server_keyfile_create(b), 0);
  server_keys *ka = NULL, *kb = NULL;
  ck_assert_int_eq(server_keyfile_load(a, &ka), 0);
  ck_assert_int_eq(server_keyfile_load(b, &kb), 0);
  ck_assert_int_ne(memcmp(ka->s2.oprf_seed, kb->s2.oprf_seed, CPNS_S2_OPRF_SEED_LEN), 0);
  ck_assert_int_ne(memcmp(ka->s2.public_key, kb->s2.public_key, CPNS_S2_PUBLIC_KEY_LEN), 0);
  server_keys_free(ka);
  server_keys_free(kb);
}
END_TEST

/* ---- database ---- */

/* The record key a test database is opened with (server_keys.record_key). */
static const uint8_t *test_record_key(void) {
  static uint8_t key[CPNS_CREDENTIAL_SEAL_KEY_LEN];
  uint8_t master[CPNS_MASTER_KEY_LEN];
  memset(master, 0x42, sizeof(master));
  ck_assert_int_eq(cpns_crypto_credential_seal_key(key, master), 0);
  return key;
}

static const uint8_t ALICE[] = "alice";

static server_db *open_new_db(char *path, size_t len) {
  path_in_tmp(path, len, "cpns.db");
  server_db *db = NULL;
  ck_assert_int_eq(server_db_open_with_key(&db, path, SERVER_DB_CREATE, test_record_key()), 0);
  return db;
}

/* A credential record (guarded memory; sodium_free it). */
static cpns_credential *make_cred(const char *pw, uint32_t ops) {
  cpns_credential *cred = sodium_malloc(sizeof(*cred));
  cpns_kdf_params kdf;
  ck_assert_ptr_nonnull(cred);
  cpns_crypto_random(kdf.salt, sizeof(kdf.salt));
  kdf.ops_limit = ops;
  kdf.mem_limit_kib = 8;
  ck_assert_int_eq(cpns_crypto_credential_create(cred, (const uint8_t *)pw, strlen(pw), &kdf), 0);
  return cred;
}

static int raw_user_version(const char *path) {
  sqlite3 *raw = NULL;
  sqlite3_stmt *st = NULL;
  ck_assert_int_eq(sqlite3_open_v2(path, &raw, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  ck_assert_int_eq(sqlite3_prepare_v2(raw, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
  ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
  int v = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(raw);
  return v;
}

/* Runs one SQL statement with an optional blob (?1) on the file directly. */
static void raw_exec_blob(const char *path, const char *sql, const void *blob, int blob_len) {
  sqlite3 *raw = NULL;
  sqlite3_stmt *st = NULL;
  ck_assert_int_eq(sqlite3_open(path, &raw), SQLITE_OK);
  ck_assert_int_eq(sqlite3_prepare_v2(raw, sql, -1, &st, NULL), SQLITE_OK);
  if (blob != NULL) {
    sqlite3_bind_blob(st, 1, blob, blob_len, SQLITE_TRANSIENT);
  }
  ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
  sqlite3_finalize(st);
  sqlite3_close(raw);
}

/* 1 iff the file at path (if it exists) contains the len octets of needle. */
static int file_contains(const char *path, const uint8_t *needle, size_t len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    ck_assert_int_eq(errno, ENOENT);
    return 0;
  }
  size_t cap = 1 << 16, n = 0;
  uint8_t *buf = malloc(cap);
  ck_assert_ptr_nonnull(buf);
  size_t got;
  while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
    n += got;
    if (n == cap) {
      cap *= 2;
      buf = realloc(buf, cap);
      ck_assert_ptr_nonnull(buf);
    }
  }
  fclose(f);
  int found = 0;
  for (size_t i = 0; !found && i + len <= n; i++) {
    found = memcmp(buf + i, needle, len) == 0;
  }
  free(buf);
  return found;
}

/* Neither 32-octet secret of cred is anywhere in the database or its WAL. */
static void assert_secrets_absent(const char *path, const cpns_credential *cred) {
  char wal[600];
  snprintf(wal, sizeof(wal), "%s-wal", path);
  ck_assert(!file_contains(path, cred->stored_key, CPNS_STORED_KEY_LEN));
  ck_assert(!file_contains(path, cred->server_key, CPNS_SERVER_KEY_LEN));
  ck_assert(!file_contains(wal, cred->stored_key, CPNS_STORED_KEY_LEN));
  ck_assert(!file_contains(wal, cred->server_key, CPNS_SERVER_KEY_LEN));
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
  ck_assert_int_eq(server_db_created(db), 1);
  server_db_close(db);
  ck_assert_int_eq(raw_user_version(path), SERVER_DB_SCHEMA_VERSION);
  sqlite3 *raw = NULL;
  ck_assert_int_eq(sqlite3_open(path, &raw), SQLITE_OK);
  sqlite3_stmt *st = NULL;
  ck_assert_int_eq(sqlite3_prepare_v2(raw, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
  ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
  ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "wal");
  sqlite3_finalize(st);
  /* A newer schema is refused rather than misread. */
  ck_assert_int_eq(sqlite3_exec(raw, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(raw);
  ck_assert_int_eq(server_db_open(&db, path, SERVER_DB_EXISTING), -1);
}
END_TEST

START_TEST(test_db_defaults) {
  char path[512];
  server_db *db = open_new_db(path, sizeof(path));
  server_db_defaults d = {0, 0};
  /* A new database starts with the library's enrollment defaults. */
  ck_assert_int_eq(server_db_get_defaults(db, &d), 0);
  ck_assert_uint_eq(d.ops_limit, CPNS_KDF_OPS_DEFAULT);
  ck_assert_uint_eq(d.mem_limit_kib, CPNS_KDF_MEM_KIB_DEFAULT);
  server_db_defaults want = {1, 8};
  ck_assert_int_eq(server_db_set_defaults(db, &want), 0);
  server_db_defaults bad = {1, 7}; /* below Argon2id's minimum */
  ck_assert_int_eq(server_db_set_defaults(db, &bad), -1);
  bad.ops_limit = 0;
  bad.mem_limit_kib = 8;
  ck_assert_int_eq(server_db_set_defaults(db, &bad), -1);
  server_db_close(db);
  /* Kept, and readable without the key; reopening creates nothing. */
  ck_assert_int_eq(server_db_open(&db, path, SERVER_DB_READER), 0);
  ck_assert_int_eq(server_db_created(db), 0);
  ck_assert_int_eq(server_db_get_defaults(db, &d), 0);
  ck_assert_uint_eq(d.ops_limit, 1);
  ck_assert_uint_eq(d.mem_limit_kib, 8);
  server_db_close(db);
  /* A value out of range in the file is refused, not used. */
  raw_exec_blob(path, "UPDATE settings SET value = 4 WHERE name = 'enroll_mem_limit_kib'", NULL, 0);
  ck_assert_int_eq(server_db_open(&db, path, SERVER_DB_READER), 0);
  ck_assert_int_eq(server_db_get_defaults(db, &d), -1);
  server_db_close(db);
  raw_exec_blob(path, "DELETE FROM settings WHERE name = 'enroll_ops_limit'", NULL, 0);
  ck_assert_int_eq(server_db_open(&db, path, SERVER_DB_READER), 0);
  ck_assert_int_eq(server_db_get_defaults(db, &d), -1);
  server_db_close(db);
}
END_TEST

/* A database made by the previous release (schema 1) gains the lockout
 * table when opened, and keeps its rows. */
START_TEST(test_db_user_add_get_del) {
  char path[512];
  server_db *db = open_new_db(path, sizeof(path));
  cpns_credential *expect = make_cred("secret", 1);
  const uint8_t *uid = (const uint8_t *)"alice@example.com";
  size_t uid_len = strlen((const char *)uid);
  ck_assert_int_eq(server_db_user_add(db, uid, uid_len, expect), 0);
  ck_assert_int_eq(server_db_user_add(db, uid, uid_len, expect), 1);

  cpns_credential *cred = sodium_malloc(sizeof(*cred));
  ck_assert_int_eq(server_db_user_get(db, uid, uid_len, cred), 0);
  ck_assert_mem_eq(cred, expect, sizeof(*cred));
  ck_assert_int_eq(server_db_user_get(db, (const uint8_t *)"bob", 3, cred), 1);

  /* A reader connection sees the writer's data and cannot write. */
  server_db *reader = NULL;
  ck_assert_int_eq(server_db_open_with_key(&reader, path, SERVER_DB_READER, test_record_key()), 0);
  ck_assert_int_eq(server_db_user_get(reader, uid, uid_len, cred), 0);
  ck_assert_int_eq(server_db_user_add(reader, (const uint8_t *)"bob", 3, expect), -1);
  server_db_close(reader);

  /* Without the key a connection can neither read nor add records. */
  ck_assert_int_eq(server_db_open(&reader, path, SERVER_DB_EXISTING), 0);
  ck_assert_int_eq(server_db_user_get(reader, uid, uid_len, cred), -1);
  ck_assert_int_eq(server_db_user_add(reader, (const uint8_t *)"bob", 3, expect), -1);
  server_db_close(reader);

  ck_assert_int_eq(server_db_user_del(db, uid, uid_len), 0);
  ck_assert_int_eq(server_db_user_del(db, uid, uid_len), 1);
  ck_assert_int_eq(server_db_user_get(db, uid, uid_len, cred), 1);
  sodium_free(cred);
  sodium_free(expect);
  server_db_close(db);
}
END_TEST

START_TEST(test_db_records_sealed_on_disk) {
  char path[512];
  server_db *db = open_new_db(path, sizeof(path));
  cpns_credential *c = make_cred("secret", 1);
  ck_assert_int_eq(server_db_user_add(db, (const uint8_t *)"alice", 5, c), 0);
  /* Checked with the connection open (data in the WAL) and after close. */
  assert_secrets_absent(path, c);
  /* The check can fail: the plain encoding would be found. */
  uint8_t plain[CPNS_CREDENTIAL_ENCODED_MAX];
  size_t n = 0;
  ck_assert_int_eq(cpns_crypto_credential_encode(plain, sizeof(plain), &n, c), 0);
  raw_exec_blob(path, "INSERT INTO users(user_id, credential, created_at) VALUES('plain', ?1, 0)",
                plain, (int)n);
  char wal[600];
  snprintf(wal, sizeof(wal), "%s-wal", path);
  ck_assert(file_contains(path, c->stored_key, CPNS_STORED_KEY_LEN) ||
            file_contains(wal, c->stored_key, CPNS_STORED_KEY_LEN));
  server_db_close(db);
  sodium_free(c);
}
END_TEST

START_TEST(test_db_user_get_malformed_record) {
  char path[512];
  server_db *db = open_new_db(path, sizeof(path));
  uint8_t junk[20] = {1, 2, 3};
  raw_exec_blob(path, "INSERT INTO users(user_id, credential, created_at) VALUES('eve', ?1, 0)",
                junk, sizeof(junk));
  cpns_credential *cred = sodium_malloc(sizeof(*cred));
  ck_assert_int_eq(server_db_user_get(db, (const uint8_t *)"eve", 3, cred), -1);
  /* A sealed record copied to another user's row does not open there. */
  cpns_credential *c = make_cred("pw", 1);
  ck_assert_int_eq(server_db_user_add(db, (const uint8_t *)"amy", 3, c), 0);
  raw_exec_blob(path,
                "UPDATE users SET credential = (SELECT credential FROM users"
                " WHERE user_id = 'amy') WHERE user_id = 'eve'",
                NULL, 0);
  ck_assert_int_eq(server_db_user_get(db, (const uint8_t *)"eve", 3, cred), -1);
  ck_assert_int_eq(server_db_user_get(db, (const uint8_t *)"amy", 3, cred), 0);
  server_db_close(db);
  /* Under another key file's record key nothing opens. */
  uint8_t other[CPNS_CREDENTIAL_SEAL_KEY_LEN];
  memset(other, 0x43, sizeof(other));
  ck_assert_int_eq(server_db_open_with_key(&db, path, SERVER_DB_READER, other), 0);
  ck_assert_int_eq(server_db_user_get(db, (const uint8_t *)"amy", 3, cred), -1);
  server_db_close(db);
  sodium_free(cred);
  sodium_free(c);
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
  cpns_credential *c = make_cred("pw", 2);
  ck_assert_int_eq(server_db_user_add(db, (const uint8_t *)"zed", 3, c), 0);
  ck_assert_int_eq(server_db_user_add(db, (const uint8_t *)"amy", 3, c), 0);
  server_db_close(db);
  /* Listing needs no key: the parameters are in the clear header. */
  ck_assert_int_eq(server_db_open(&db, path, SERVER_DB_READER), 0);
  collected col;
  memset(&col, 0, sizeof(col));
  ck_assert_int_eq(server_db_user_foreach(db, collect_user, &col), 0);
  ck_assert_int_eq(col.n, 2);
  ck_assert_str_eq(col.names[0], "amy");
  ck_assert_str_eq(col.names[1], "zed");
  ck_assert_int_eq(col.ops[0], 2);
  ck_assert_int_eq(col.ops[1], 2);
  server_db_close(db);
  sodium_free(c);
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
  a.source = NULL;
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

/* The schema of release 3934e41 (schema version 1), verbatim. */
static const char V1_SCHEMA[] = "CREATE TABLE users ("
                                " user_id TEXT PRIMARY KEY NOT NULL,"
                                " credential BLOB NOT NULL,"
                                " created_at INTEGER NOT NULL"
                                ") WITHOUT ROWID;"
                                "CREATE TABLE assignments ("
                                " entity_id TEXT PRIMARY KEY NOT NULL,"
                                " user_id TEXT NOT NULL,"
                                " mode INTEGER NOT NULL,"
                                " key_id BLOB NOT NULL,"
                                " sealed_eukey BLOB NOT NULL,"
                                " assigned_at INTEGER NOT NULL"
                                ") WITHOUT ROWID;"
                                "CREATE INDEX assignments_by_user ON assignments(user_id);"
                                "PRAGMA user_version = 1;";

/* A schema-1 database as release 3934e41 leaves it, users holding plain records. */
static void make_v1_db(const char *path, cpns_credential **creds, const char *const *users, int n) {
  sqlite3 *raw = NULL;
  ck_assert_int_eq(sqlite3_open(path, &raw), SQLITE_OK);
  ck_assert_int_eq(sqlite3_exec(raw, "PRAGMA journal_mode = WAL", NULL, NULL, NULL), SQLITE_OK);
  ck_assert_int_eq(sqlite3_exec(raw, V1_SCHEMA, NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(raw);
  for (int i = 0; i < n; i++) {
    uint8_t plain[CPNS_CREDENTIAL_ENCODED_MAX];
    size_t len = 0;
    char sql[200];
    ck_assert_int_eq(cpns_crypto_credential_encode(plain, sizeof(plain), &len, creds[i]), 0);
    snprintf(sql, sizeof(sql), "INSERT INTO users VALUES('%s', ?1, 1700000000)", users[i]);
    raw_exec_blob(path, sql, plain, (int)len);
  }
  raw_exec_blob(path,
                "INSERT INTO assignments VALUES('urn:a:1', 'amy', 1, zeroblob(16),"
                " zeroblob(72), 1)",
                NULL, 0);
}

START_TEST(test_db_upgrade_v1_seals_records) {
  char path[512];
  path_in_tmp(path, sizeof(path), "v1.db");
  static const char *const users[] = {"amy", "bob@example.com", "zed"};
  cpns_credential *creds[3] = {make_cred("a", 1), make_cred("b", 2), make_cred("z", 1)};
  make_v1_db(path, creds, users, 3);
  /* The plain records are there to begin with (so the final check means something). */
  ck_assert(file_contains(path, creds[1]->server_key, CPNS_SERVER_KEY_LEN));

  /* Without the key: refused, database untouched. */
  server_db *db = NULL;
  ck_assert_int_eq(server_db_open(&db, path, SERVER_DB_EXISTING), -1);
  ck_assert_int_eq(server_db_open(&db, path, SERVER_DB_READER), -1);
  ck_assert_int_eq(server_db_open(&db, path, SERVER_DB_CREATE), -1);
  ck_assert_int_eq(raw_user_version(path), 1);

  /* With it: upgraded, nothing else lost. */
  ck_assert_int_eq(server_db_open_with_key(&db, path, SERVER_DB_READER, test_record_key()), 0);
  ck_assert_int_eq(server_db_created(db), 0);
  ck_assert_int_eq(raw_user_version(path), SERVER_DB_SCHEMA_VERSION);
  cpns_credential *got = sodium_malloc(sizeof(*got));
  for (int i = 0; i < 3; i++) {
    ck_assert_int_eq(server_db_user_get(db, (const uint8_t *)users[i], strlen(users[i]), got), 0);
    ck_assert_mem_eq(got, creds[i], sizeof(*got));
  }
  server_db_defaults d;
  ck_assert_int_eq(server_db_get_defaults(db, &d), 0);
  ck_assert_uint_eq(d.ops_limit, 3);
  ck_assert_uint_eq(d.mem_limit_kib, 65536);
  rows r;
  memset(&r, 0, sizeof(r));
  ck_assert_int_eq(server_db_assignment_foreach(db, collect_row, &r), 0);
  ck_assert_int_eq(r.n, 1);
  server_db_lockout lrow; /* the lockout table exists, empty */
  ck_assert_int_eq(server_db_lockout_get(db, (const uint8_t *)users[0], strlen(users[0]), &lrow),
                   1);
  for (int i = 0; i < 3; i++) {
    assert_secrets_absent(path, creds[i]);
  }
  server_db_close(db);
  for (int i = 0; i < 3; i++) {
    assert_secrets_absent(path, creds[i]);
    sodium_free(creds[i]);
  }
  /* Upgraded once: reopening without the key works now. */
  ck_assert_int_eq(server_db_open(&db, path, SERVER_DB_EXISTING), 0);
  server_db_close(db);
  sodium_free(got);
}
END_TEST

/* The schema-2 additions of release 8a609c0, verbatim (on top of V1_SCHEMA). */
static const char V2_STEP[] = "CREATE TABLE settings ("
                              " name TEXT PRIMARY KEY NOT NULL,"
                              " value INTEGER NOT NULL"
                              ") WITHOUT ROWID;"
                              "CREATE TABLE lockout ("
                              " user_id TEXT PRIMARY KEY NOT NULL,"
                              " failures INTEGER NOT NULL,"
                              " last_failure_ms INTEGER NOT NULL,"
                              " blocked_until_ms INTEGER NOT NULL"
                              ") WITHOUT ROWID;"
                              "INSERT INTO settings VALUES('enroll_ops_limit', 2),"
                              " ('enroll_mem_limit_kib', 16);"
                              "INSERT INTO lockout VALUES('bob', 4, 1700000000000, 1700000009000);"
                              "PRAGMA user_version = 2;";

/* Schema 2 -> 3 on any open (no key needed): the users table rebuilt with
 * record2 and a nullable credential, suites 1; users, assignments, settings
 * and lockout rows kept. */
START_TEST(test_db_upgrade_v2_to_v3) {
  char path[512];
  path_in_tmp(path, sizeof(path), "v2.db");
  cpns_credential *amy = make_cred("a", 1);
  uint8_t sealed[CPNS_SEALED_CREDENTIAL_LEN];
  ck_assert_int_eq(
      cpns_crypto_credential_seal(sealed, amy, test_record_key(), (const uint8_t *)"amy", 3), 0);
  sqlite3 *raw = NULL;
  ck_assert_int_eq(sqlite3_open(path, &raw), SQLITE_OK);
  ck_assert_int_eq(sqlite3_exec(raw, V1_SCHEMA, NULL, NULL, NULL), SQLITE_OK);
  ck_assert_int_eq(sqlite3_exec(raw, V2_STEP, NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(raw);
  raw_exec_blob(path, "INSERT INTO users VALUES('amy', ?1, 1700000000)", sealed, sizeof(sealed));
  raw_exec_blob(path,
                "INSERT INTO assignments VALUES('urn:a:1', 'amy', 1, zeroblob(16),"
                " zeroblob(72), 1)",
                NULL, 0);
  /* A suite-2-only user cannot be stored under schema 2. */
  ck_assert_int_eq(raw_user_version(path), 2);

  server_db *db = NULL;
  ck_assert_int_eq(server_db_open(&db, path, SERVER_DB_READER), 0);
  ck_assert_int_eq(server_db_created(db), 0);
  ck_assert_int_eq(raw_user_version(path), SERVER_DB_SCHEMA_VERSION); /* 3, then 4 */
  uint32_t suites = 0;
  ck_assert_int_eq(server_db_get_suites(db, &suites), 0);
  ck_assert_uint_eq(suites, 1);
  server_db_defaults d;
  ck_assert_int_eq(server_db_get_defaults(db, &d), 0);
  ck_assert_uint_eq(d.ops_limit, 2);
  ck_assert_uint_eq(d.mem_limit_kib, 16);
  server_db_lockout row;
  ck_assert_int_eq(server_db_lockout_get(db, (const uint8_t *)"bob", 3, &row), 0);
  ck_assert_uint_eq(row.failures, 4);
  ck_assert_int_eq(row.blocked_until_ms, 1700000009000);
  rows r;
  memset(&r, 0, sizeof(r));
  ck_assert_int_eq(server_db_assignment_foreach(db, collect_row, &r), 0);
  ck_assert_int_eq(r.n, 1);
  server_db_close(db);

  ck_assert_int_eq(server_db_open_with_key(&db, path, SERVER_DB_EXISTING, test_record_key()), 0);
  cpns_credential *got = sodium_malloc(sizeof(*got));
  ck_assert_int_eq(server_db_user_get(db, (const uint8_t *)"amy", 3, got), 0);
  ck_assert_mem_eq(got, amy, sizeof(*got));
  /* Now a user may have a suite-2 record only. */
  const uint8_t r2[40] = {2};
  ck_assert_int_eq(
      server_db_user_put_records(db, (const uint8_t *)"zoe", 3, NULL, 0, r2, sizeof(r2)), 0);
  ck_assert_int_eq(server_db_user_get(db, (const uint8_t *)"zoe", 3, got), 1);
  server_db_close(db);
  /* Upgraded once: reopening changes nothing. */
  ck_assert_int_eq(server_db_open(&db, path, SERVER_DB_EXISTING), 0);
  ck_assert_int_eq(server_db_get_suites(db, &suites), 0);
  server_db_close(db);
  ck_assert_int_eq(raw_user_version(path), SERVER_DB_SCHEMA_VERSION);
  sodium_free(got);
  sodium_free(amy);
}
END_TEST

/* Messages show a --db value without a PostgreSQL password. */
START_TEST(test_db_display_name) {
  static const char *const in[][2] = {
      {"postgresql://u:secret@h1,h2/db?x=1", "postgresql://u:***@h1,h2/db?x=1"},
      {"postgres://u@h/db", "postgres://u@h/db"},
      {"postgresql:///cpns?host=/tmp/s&password=zz&port=1",
       "postgresql:///cpns?host=/tmp/s&password=***&port=1"},
      {"postgresql://h/db?password=zz", "postgresql://h/db?password=***"},
      {"postgresql://:p@ss@h/", "postgresql://:***@h/"},
      {"/tmp/a:b@c.db", "/tmp/a:b@c.db"},
      {"p", "p"}};
  char out[128];
  for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
    server_db_display_name(out, sizeof(out), in[i][0]);
    ck_assert_str_eq(out, in[i][1]);
  }
  server_db_display_name(out, 12, in[0][0]); /* truncated, terminated */
  ck_assert_str_eq(out, "postgresql:");
}
END_TEST

START_TEST(test_db_upgrade_v1_malformed_rolls_back) {
  char path[512];
  path_in_tmp(path, sizeof(path), "v1bad.db");
  static const char *const users[] = {"amy", "bob"};
  cpns_credential *creds[2] = {make_cred("a", 1), make_cred("b", 1)};
  make_v1_db(path, creds, users, 2);
  uint8_t junk[96] = {'C', 'P', 'C', 'R', 9};
  raw_exec_blob(path, "UPDATE users SET credential = ?1 WHERE user_id = 'bob'", junk, sizeof(junk));
  server_db *db = NULL;
  ck_assert_int_eq(server_db_open_with_key(&db, path, SERVER_DB_EXISTING, test_record_key()), -1);
  /* One transaction: amy's record was not sealed either. */
  ck_assert_int_eq(raw_user_version(path), 1);
  uint8_t plain[CPNS_CREDENTIAL_ENCODED_MAX];
  size_t n = 0;
  ck_assert_int_eq(cpns_crypto_credential_encode(plain, sizeof(plain), &n, creds[0]), 0);
  sqlite3 *raw = NULL;
  sqlite3_stmt *st = NULL;
  ck_assert_int_eq(sqlite3_open(path, &raw), SQLITE_OK);
  ck_assert_int_eq(
      sqlite3_prepare_v2(raw, "SELECT credential FROM users WHERE user_id = 'amy'", -1, &st, NULL),
      SQLITE_OK);
  ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
  ck_assert_int_eq(sqlite3_column_bytes(st, 0), (int)n);
  ck_assert_mem_eq(sqlite3_column_blob(st, 0), plain, n);
  sqlite3_finalize(st);
  ck_assert_int_eq(sqlite3_prepare_v2(raw,
                                      "SELECT count(*) FROM sqlite_schema"
                                      " WHERE name = 'settings'",
                                      -1, &st, NULL),
                   SQLITE_OK);
  ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
  ck_assert_int_eq(sqlite3_column_int(st, 0), 0);
  sqlite3_finalize(st);
  sqlite3_close(raw);
  sodium_free(creds[0]);
  sodium_free(creds[1]);
}
END_TEST

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
  cpns_crypto_random(master, sizeof(master));
  cpns_crypto_random(eukey, sizeof(eukey));
  cpns_crypto_random(key_id, sizeof(key_id));
  ck_assert_int_eq(cpns_crypto_eukey_seal(sealed, eukey, master, (const uint8_t *)"urn:a:1", 7,
                                          (const uint8_t *)"alice", 5, key_id),
                   0);
  char path[512];
  server_db *db = open_new_db(path, sizeof(path));
  server_db_assignment a = make_assignment("urn:a:1", "alice", key_id, sealed);
  ck_assert_int_eq(server_db_begin(db), 0);
  ck_assert_int_eq(server_db_assign(db, &a), CPNS_STORE_OK);
  ck_assert_int_eq(server_db_commit(db), 0);
  rows r;
  memset(&r, 0, sizeof(r));
  ck_assert_int_eq(server_db_assignment_foreach(db, collect_row, &r), 0);
  ck_assert_int_eq(cpns_crypto_eukey_unseal(out, r.sealed, master, (const uint8_t *)"urn:a:1", 7,
                                            (const uint8_t *)"alice", 5, r.key_id),
                   0);
  ck_assert_mem_eq(out, eukey, CPNS_EUKEY_LEN);
  ck_assert_int_ne(cpns_crypto_eukey_unseal(out, r.sealed, master, (const uint8_t *)"urn:a:1", 7,
                                            (const uint8_t *)"bob", 3, r.key_id),
                   0);
  server_db_close(db);
}
END_TEST

/* ---- lockout ---- */

/* A lockout table over a real database: the reader it reads rows from, and
 * the jobs it emitted, run by a real store thread in flush(). */
typedef struct lockout_fixture {
  char path[512];
  server_db *reader;
  server_store *store;
  server_lockout *lo;
  waiter w;
  server_store_job *head, *tail;
  size_t emitted;
} lockout_fixture;

static void collect_job(void *arg, server_store_job *job) {
  lockout_fixture *f = arg;
  if (f->tail != NULL) {
    f->tail->next = job;
  } else {
    f->head = job;
  }
  f->tail = job;
  f->emitted++;
}

static void fixture_open_table(lockout_fixture *f, const server_lockout_settings *s) {
  ck_assert_int_eq(server_lockout_new(&f->lo, s, f->reader, collect_job, f), 0);
}

static void fixture_start(lockout_fixture *f, const server_lockout_settings *s) {
  memset(f, 0, sizeof(*f));
  pthread_mutex_init(&f->w.lock, NULL);
  pthread_cond_init(&f->w.cond, NULL);
  server_db_close(open_new_db(f->path, sizeof(f->path)));
  ck_assert_int_eq(server_db_open(&f->reader, f->path, SERVER_DB_READER), 0);
  ck_assert_int_eq(server_store_start(&f->store, f->path, 0, notify, &f->w), 0);
  fixture_open_table(f, s);
}

/* Hands the emitted jobs to the store thread, waits (condition variable)
 * until all came back and reports them to the table, as loop.c:on_store_done does.
 * Returns how many failed. */
static int flush(lockout_fixture *f) {
  if (f->head == NULL) {
    return 0;
  }
  size_t want = 0;
  for (server_store_job *j = f->head; j != NULL; j = j->next) {
    want++;
  }
  server_store_submit(f->store, f->head);
  f->head = f->tail = NULL;
  int failed = 0;
  for (size_t got = 0; got < want;) {
    pthread_mutex_lock(&f->w.lock);
    while (f->w.notified == 0) {
      pthread_cond_wait(&f->w.cond, &f->w.lock);
    }
    f->w.notified = 0;
    pthread_mutex_unlock(&f->w.lock);
    server_db_read_end(f->reader);
    for (server_store_job *j = server_store_take_done(f->store); j != NULL;) {
      server_store_job *next = j->next;
      failed += j->status != CPNS_STORE_OK;
      server_lockout_stored(f->lo, j);
      free(j);
      got++;
      j = next;
    }
  }
  return failed;
}

static void fixture_stop(lockout_fixture *f) {
  flush(f);
  server_lockout_del(f->lo);
  server_store_stop(f->store);
  server_db_close(f->reader);
}

static server_lockout_verdict begin(lockout_fixture *f, const char *id, uint64_t t) {
  return server_lockout_begin(f->lo, (const uint8_t *)id, strlen(id), t);
}

static void fail_attempt(lockout_fixture *f, const char *id, uint64_t t) {
  ck_assert_int_eq(begin(f, id, t), SERVER_LOCKOUT_GO);
  server_lockout_end(f->lo, (const uint8_t *)id, strlen(id), 0, t, NULL);
}

/* The table's row for id: returns 0 and fills *row, or 1 if there is none. */
static int row_of(lockout_fixture *f, const char *id, server_db_lockout *row) {
  server_db_read_end(f->reader);
  return server_db_lockout_get(f->reader, (const uint8_t *)id, strlen(id), row);
}

START_TEST(test_lockout_after_threshold_and_growth) {
  server_lockout_settings s = {.threshold = 3, .base_ms = 1000, .max_ms = 4000, .capacity = 8};
  lockout_fixture f;
  fixture_start(&f, &s);
  uint64_t t = 1000000;
  fail_attempt(&f, "alice", t);
  fail_attempt(&f, "alice", t);
  fail_attempt(&f, "alice", t); /* third counted, then blocked */
  ck_assert_int_eq(begin(&f, "alice", t + 999), SERVER_LOCKOUT_THROTTLED);
  fail_attempt(&f, "alice", t + 1000); /* 4th: 2 s block */
  ck_assert_int_eq(begin(&f, "alice", t + 2999), SERVER_LOCKOUT_THROTTLED);
  fail_attempt(&f, "alice", t + 3000); /* 5th: 4 s */
  ck_assert_int_eq(begin(&f, "alice", t + 6999), SERVER_LOCKOUT_THROTTLED);
  fail_attempt(&f, "alice", t + 7000); /* 6th: capped 4 s */
  ck_assert_int_eq(begin(&f, "alice", t + 10999), SERVER_LOCKOUT_THROTTLED);
  ck_assert_int_eq(begin(&f, "alice", t + 11000), SERVER_LOCKOUT_GO);
  /* Attempts in flight count: the 7th is out, the 8th would be a guess too many. */
  ck_assert_int_eq(begin(&f, "alice", t + 11000), SERVER_LOCKOUT_THROTTLED);
  server_lockout_end(f.lo, ALICE, 5, 0, t + 11000, NULL);
  /* Another User ID is not affected. */
  ck_assert_int_eq(begin(&f, "bob", t + 11000), SERVER_LOCKOUT_GO);
  server_lockout_end(f.lo, (const uint8_t *)"bob", 3, 1, t + 11000, NULL);
  ck_assert_int_eq(flush(&f), 0);
  server_db_lockout row;
  ck_assert_int_eq(row_of(&f, "alice", &row), 0);
  ck_assert_uint_eq(row.failures, 7);
  ck_assert_int_eq(row.last_failure_ms, (int64_t)(t + 11000));
  ck_assert_int_eq(row.blocked_until_ms, (int64_t)(t + 15000));
  ck_assert_int_eq(row_of(&f, "bob", &row), 1);
  fixture_stop(&f);
}
END_TEST

/* A reload (SIGHUP) changes the policy of a running table: counts stay. */
START_TEST(test_lockout_policy_changed_live) {
  server_lockout_settings s = {.threshold = 5, .base_ms = 1000, .max_ms = 4000, .capacity = 8};
  lockout_fixture f;
  fixture_start(&f, &s);
  uint64_t t = 1000000;
  fail_attempt(&f, "alice", t);
  fail_attempt(&f, "alice", t);
  ck_assert_int_eq(begin(&f, "alice", t), SERVER_LOCKOUT_GO); /* 2 of 5 */
  server_lockout_end(f.lo, ALICE, 5, 0, t, NULL);             /* 3rd failure */
  server_lockout_settings lower = {.threshold = 3, .base_ms = 2000, .capacity = 1};
  server_lockout_set_policy(f.lo, &lower);
  server_lockout_settings now;
  server_lockout_get_policy(f.lo, &now);
  ck_assert_uint_eq(now.threshold, 3);
  ck_assert_uint_eq(now.base_ms, 2000);
  ck_assert_uint_eq(now.max_ms, 900000);     /* zero: the default */
  ck_assert_uint_eq(now.window_ms, 3600000); /* zero: the default */
  ck_assert_uint_eq(now.capacity, 8);        /* the table keeps its size */
  /* The 3 failures counted meet the new threshold: blocked from now on. */
  fail_attempt(&f, "alice", t + 1);
  ck_assert_int_eq(begin(&f, "alice", t + 1 + 3999), SERVER_LOCKOUT_THROTTLED);
  ck_assert_int_eq(begin(&f, "alice", t + 1 + 4000), SERVER_LOCKOUT_GO); /* 2 s doubled */
  server_lockout_end(f.lo, ALICE, 5, 1, t + 1 + 4000, NULL);
  ck_assert_int_eq(flush(&f), 0);
  fixture_stop(&f);
}
END_TEST

START_TEST(test_lockout_success_resets_and_costs_no_write) {
  lockout_fixture f;
  fixture_start(&f, NULL); /* defaults: 5 attempts */
  /* A success with no failures on record emits no write (the hot path). */
  ck_assert_int_eq(begin(&f, "alice", 100), SERVER_LOCKOUT_GO);
  ck_assert_int_eq(server_lockout_end(f.lo, ALICE, 5, 1, 100, NULL), 0);
  ck_assert_uint_eq(f.emitted, 0);
  ck_assert_uint_eq(server_lockout_size(f.lo), 0);
  for (int i = 0; i < 4; i++) {
    fail_attempt(&f, "alice", 100);
  }
  ck_assert_uint_eq(f.emitted, 4);
  ck_assert_int_eq(flush(&f), 0);
  server_db_lockout row;
  ck_assert_int_eq(row_of(&f, "alice", &row), 0);
  ck_assert_uint_eq(row.failures, 4);
  /* Success: the row goes, and with it the entry once that is committed. */
  ck_assert_int_eq(begin(&f, "alice", 100), SERVER_LOCKOUT_GO);
  server_lockout_end(f.lo, ALICE, 5, 1, 100, NULL);
  ck_assert_uint_eq(f.emitted, 5);
  ck_assert_uint_eq(server_lockout_size(f.lo), 1); /* its delete is not committed yet */
  ck_assert_int_eq(flush(&f), 0);
  ck_assert_uint_eq(server_lockout_size(f.lo), 0);
  ck_assert_int_eq(row_of(&f, "alice", &row), 1);
  for (int i = 0; i < 5; i++) {
    fail_attempt(&f, "alice", 100);
  }
  ck_assert_int_eq(begin(&f, "alice", 100), SERVER_LOCKOUT_THROTTLED);
  ck_assert_int_eq(begin(&f, "alice", 1099), SERVER_LOCKOUT_THROTTLED);
  ck_assert_int_eq(begin(&f, "alice", 1100), SERVER_LOCKOUT_GO);
  /* The put job carries its owner, for the caller that holds the answer. */
  int owner_tag = 0;
  ck_assert_int_eq(server_lockout_end(f.lo, ALICE, 5, 0, 1100, &owner_tag), 1);
  ck_assert_ptr_eq(f.tail->owner, &owner_tag);
  ck_assert_int_eq(f.tail->kind, SERVER_STORE_LOCKOUT_PUT);
  fixture_stop(&f);
}
END_TEST

/* The flood of issue 8 in small: far more User IDs than the table holds. */
START_TEST(test_lockout_never_drops_live_entries) {
  server_lockout_settings s = {.threshold = 1, .base_ms = 100000, .capacity = 4};
  lockout_fixture f;
  fixture_start(&f, &s);
  fail_attempt(&f, "alice", 10); /* locked; its write not committed yet */
  char id[16];
  for (int i = 0; i < 3; i++) { /* three attempts in flight */
    snprintf(id, sizeof(id), "u%d", i);
    ck_assert_int_eq(begin(&f, id, 10), SERVER_LOCKOUT_GO);
  }
  /* Full of entries that may not leave: refused, not forgotten. */
  ck_assert_int_eq(begin(&f, "u3", 11), SERVER_LOCKOUT_UNAVAILABLE);
  for (int i = 0; i < 3; i++) {
    snprintf(id, sizeof(id), "u%d", i);
    server_lockout_end(f.lo, (const uint8_t *)id, strlen(id), 0, 11, NULL);
  }
  ck_assert_int_eq(begin(&f, "u3", 11), SERVER_LOCKOUT_UNAVAILABLE); /* writes still out */
  ck_assert_uint_eq(server_lockout_size(f.lo), 4);
  ck_assert_int_eq(flush(&f), 0);
  /* Committed entries make room now; alice's state comes back from the table. */
  for (int i = 3; i < 500; i++) {
    snprintf(id, sizeof(id), "u%d", i);
    fail_attempt(&f, id, 12);
    ck_assert_uint_le(server_lockout_size(f.lo), 4);
    if (i % 3 == 0) {
      ck_assert_int_eq(flush(&f), 0);
    }
  }
  ck_assert_int_eq(flush(&f), 0);
  ck_assert_int_eq(begin(&f, "alice", 13), SERVER_LOCKOUT_THROTTLED);
  ck_assert_int_eq(begin(&f, "u3", 13), SERVER_LOCKOUT_THROTTLED);
  ck_assert_int_eq(begin(&f, "u499", 13), SERVER_LOCKOUT_THROTTLED);
  /* Unknown and known User IDs alike: an ID never seen gets its first attempt. */
  ck_assert_int_eq(begin(&f, "new", 13), SERVER_LOCKOUT_GO);
  fixture_stop(&f);
}
END_TEST

START_TEST(test_lockout_survives_restart) {
  server_lockout_settings s = {.threshold = 2, .base_ms = 5000, .capacity = 16};
  lockout_fixture f;
  fixture_start(&f, &s);
  fail_attempt(&f, "alice", 1000);
  fail_attempt(&f, "alice", 1000);
  ck_assert_int_eq(flush(&f), 0);
  server_lockout_del(f.lo);
  fixture_open_table(&f, &s); /* a new process's empty cache */
  ck_assert_uint_eq(server_lockout_size(f.lo), 0);
  ck_assert_int_eq(begin(&f, "alice", 5999), SERVER_LOCKOUT_THROTTLED);
  ck_assert_int_eq(begin(&f, "alice", 6000), SERVER_LOCKOUT_GO); /* the back-off still ends */
  server_lockout_end(f.lo, ALICE, 5, 1, 6000, NULL);
  ck_assert_int_eq(flush(&f), 0);
  server_db_lockout row;
  ck_assert_int_eq(row_of(&f, "alice", &row), 1);
  fixture_stop(&f);
}
END_TEST

START_TEST(test_lockout_expired_purged) {
  server_lockout_settings s = {
      .threshold = 1, .base_ms = 100, .max_ms = 100, .window_ms = 1000, .capacity = 16};
  lockout_fixture f;
  fixture_start(&f, &s);
  fail_attempt(&f, "alice", 1000);
  fail_attempt(&f, "bob", 1500);
  ck_assert_int_eq(flush(&f), 0);
  ck_assert_uint_eq(server_lockout_size(f.lo), 2);
  server_lockout_maintain(f.lo, 2000); /* alice's failure is 1000 ms old: gone */
  ck_assert_uint_eq(server_lockout_size(f.lo), 1);
  ck_assert_int_eq(flush(&f), 0);
  server_db_lockout row;
  ck_assert_int_eq(row_of(&f, "alice", &row), 1);
  ck_assert_int_eq(row_of(&f, "bob", &row), 0);
  /* A clock set back expires nothing. */
  server_lockout_maintain(f.lo, 100);
  ck_assert_uint_eq(server_lockout_size(f.lo), 1);
  /* An expired row read back counts for nothing either. */
  server_lockout_del(f.lo);
  fixture_open_table(&f, &s);
  ck_assert_int_eq(begin(&f, "bob", 2500), SERVER_LOCKOUT_GO);
  ck_assert_int_eq(begin(&f, "bob", 2500), SERVER_LOCKOUT_THROTTLED); /* threshold 1 again */
  fixture_stop(&f);
}
END_TEST

START_TEST(test_lockout_failed_write_kept) {
  server_lockout_settings s = {.threshold = 1, .base_ms = 100000, .capacity = 2};
  lockout_fixture f;
  fixture_start(&f, &s);
  /* Writes of lockout rows fail (as on a full disk); reads still work. */
  sqlite3 *raw = NULL;
  ck_assert_int_eq(sqlite3_open(f.path, &raw), SQLITE_OK);
  ck_assert_int_eq(sqlite3_exec(raw,
                                "CREATE TRIGGER full BEFORE INSERT ON lockout"
                                " BEGIN SELECT RAISE(ABORT, 'disk full'); END",
                                NULL, NULL, NULL),
                   SQLITE_OK);
  fail_attempt(&f, "alice", 10);
  ck_assert_int_eq(flush(&f), 1);
  /* Never dropped while unsaved: a second ID fits, a third does not. */
  fail_attempt(&f, "bob", 10);
  ck_assert_int_eq(flush(&f), 1);
  ck_assert_int_eq(begin(&f, "carol", 11), SERVER_LOCKOUT_UNAVAILABLE);
  ck_assert_int_eq(begin(&f, "alice", 11), SERVER_LOCKOUT_THROTTLED);
  /* Repaired: upkeep writes them again, then they may leave. */
  ck_assert_int_eq(sqlite3_exec(raw, "DROP TRIGGER full", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(raw);
  server_lockout_maintain(f.lo, 12);
  ck_assert_int_eq(flush(&f), 0);
  fail_attempt(&f, "carol", 13);
  server_db_lockout row;
  ck_assert_int_eq(row_of(&f, "alice", &row), 0);
  ck_assert_int_eq(row_of(&f, "bob", &row), 0);
  fixture_stop(&f);
}
END_TEST

/* ---- per-source budget ---- */

static server_addr_key v4_key(uint32_t host_order) {
  struct sockaddr_in a4;
  memset(&a4, 0, sizeof(a4));
  a4.sin_family = AF_INET;
  a4.sin_addr.s_addr = htonl(host_order);
  server_addr_key k;
  ck_assert_int_eq(server_addr_key_from(&k, (struct sockaddr *)&a4, sizeof(a4)), 0);
  return k;
}

static server_addr_key v6_key(const char *text) {
  struct sockaddr_in6 a6;
  memset(&a6, 0, sizeof(a6));
  a6.sin6_family = AF_INET6;
  ck_assert_int_eq(inet_pton(AF_INET6, text, &a6.sin6_addr), 1);
  server_addr_key k;
  ck_assert_int_eq(server_addr_key_from(&k, (struct sockaddr *)&a6, sizeof(a6)), 0);
  return k;
}

START_TEST(test_ratelimit_burst_refill_per_source) {
  server_ratelimit *rl = NULL;
  ck_assert_int_eq(server_ratelimit_new(&rl, 20, 100, 16), 0);
  server_addr_key a = v4_key(0x7f000001), b = v4_key(0x7f000002);
  for (int i = 0; i < 100; i++) {
    ck_assert_int_eq(server_ratelimit_take(rl, &a, 1000), 0);
  }
  ck_assert_int_eq(server_ratelimit_take(rl, &a, 1000), 1);
  ck_assert_int_eq(server_ratelimit_take(rl, &b, 1000), 0); /* another source is served */
  ck_assert_int_eq(server_ratelimit_take(rl, &a, 1049), 1); /* 0.98 of a token */
  ck_assert_int_eq(server_ratelimit_take(rl, &a, 1050), 0); /* 20 per second */
  ck_assert_int_eq(server_ratelimit_take(rl, &a, 1050), 1);
  ck_assert_int_eq(server_ratelimit_take(rl, &a, 1000000), 0); /* refilled, capped at the burst */
  for (int i = 0; i < 99; i++) {
    ck_assert_int_eq(server_ratelimit_take(rl, &a, 1000000), 0);
  }
  ck_assert_int_eq(server_ratelimit_take(rl, &a, 1000000), 1);
  server_ratelimit_del(rl);
}
END_TEST

START_TEST(test_ratelimit_ipv6_by_64_and_mapped_v4) {
  server_ratelimit *rl = NULL;
  ck_assert_int_eq(server_ratelimit_new(&rl, 1, 2, 16), 0);
  server_addr_key x1 = v6_key("2001:db8:1:2::1"), x2 = v6_key("2001:db8:1:2:ffff:1:2:3");
  server_addr_key y = v6_key("2001:db8:1:3::1");
  ck_assert_mem_eq(x1.octets, x2.octets, 16);
  ck_assert_int_eq(server_ratelimit_take(rl, &x1, 0), 0);
  ck_assert_int_eq(server_ratelimit_take(rl, &x2, 0), 0);
  ck_assert_int_eq(server_ratelimit_take(rl, &x1, 0), 1); /* one /64, one budget */
  ck_assert_int_eq(server_ratelimit_take(rl, &y, 0), 0);  /* the next /64 has its own */
  /* IPv4-mapped IPv6 (a dual-stack listener) is the IPv4 address, whole. */
  server_addr_key m1 = v6_key("::ffff:127.0.0.1"), m2 = v6_key("::ffff:127.0.0.2");
  server_addr_key v1 = v4_key(0x7f000001);
  ck_assert_mem_eq(m1.octets, v1.octets, 16);
  ck_assert_int_ne(memcmp(m1.octets, m2.octets, 16), 0);
  server_ratelimit_del(rl);
}
END_TEST

/* A reload lowers the burst: tokens above it are cut; raising it refills. */
START_TEST(test_ratelimit_set_live) {
  server_ratelimit *rl = NULL;
  ck_assert_int_eq(server_ratelimit_new(&rl, 1, 100, 16), 0);
  server_addr_key a = v4_key(0x7f000001);
  ck_assert_int_eq(server_ratelimit_take(rl, &a, 1000), 0); /* 99 left */
  ck_assert_int_eq(server_ratelimit_set(rl, 1, 0), -1);
  ck_assert_int_eq(server_ratelimit_set(rl, 1, 3), 0);
  for (int i = 0; i < 3; i++) {
    ck_assert_int_eq(server_ratelimit_take(rl, &a, 1000), 0);
  }
  ck_assert_int_eq(server_ratelimit_take(rl, &a, 1000), 1);
  ck_assert_int_eq(server_ratelimit_set(rl, 10, 50), 0);
  ck_assert_int_eq(server_ratelimit_take(rl, &a, 1099), 1); /* 0.99 of a token */
  ck_assert_int_eq(server_ratelimit_take(rl, &a, 1100), 0); /* 10 per second now */
  ck_assert_int_eq(server_ratelimit_take(rl, &a, 1100), 1);
  server_ratelimit_del(rl);
}
END_TEST

START_TEST(test_ratelimit_full_table) {
  server_ratelimit *rl = NULL;
  ck_assert_int_eq(server_ratelimit_new(&rl, 10, 10, 2), 0);
  server_addr_key a = v4_key(1), b = v4_key(2), c = v4_key(3);
  ck_assert_int_eq(server_ratelimit_take(rl, &a, 0), 0);
  ck_assert_int_eq(server_ratelimit_take(rl, &b, 0), 0);
  /* Both buckets still refilling: their state may not be forgotten. */
  ck_assert_int_eq(server_ratelimit_take(rl, &c, 50), 1);
  ck_assert_uint_eq(server_ratelimit_size(rl), 2);
  /* a is full again after 100 ms: it carries nothing and makes room. */
  ck_assert_int_eq(server_ratelimit_take(rl, &c, 100), 0);
  ck_assert_uint_eq(server_ratelimit_size(rl), 2);
  server_ratelimit_del(rl);
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

START_TEST(test_addrlimit_ipv6_per_64) {
  server_addrlimit *al = NULL;
  ck_assert_int_eq(server_addrlimit_new(&al, 8, 2), 0);
  /* A peer picks any address of its /64: they share one limit. */
  server_addr_key a = v6_key("2001:db8:0:1::1"), b = v6_key("2001:db8:0:1:8000::2");
  server_addr_key c = v6_key("2001:db8:0:1:ffff:ffff:ffff:ffff"), d = v6_key("2001:db8:0:2::1");
  ck_assert_int_eq(server_addrlimit_acquire(al, &a), 0);
  ck_assert_int_eq(server_addrlimit_acquire(al, &b), 0);
  ck_assert_int_eq(server_addrlimit_acquire(al, &c), 1);
  ck_assert_int_eq(server_addrlimit_acquire(al, &d), 0); /* the next /64 */
  server_addrlimit_release(al, &a);
  ck_assert_int_eq(server_addrlimit_acquire(al, &c), 0);
  /* IPv4 stays per address, mapped or not. */
  server_addr_key v1 = v4_key(0x7f000001), m1 = v6_key("::ffff:127.0.0.1");
  server_addr_key v2 = v4_key(0x7f000002);
  ck_assert_int_eq(server_addrlimit_acquire(al, &v1), 0);
  ck_assert_int_eq(server_addrlimit_acquire(al, &m1), 0);
  ck_assert_int_eq(server_addrlimit_acquire(al, &v1), 1);
  ck_assert_int_eq(server_addrlimit_acquire(al, &v2), 0);
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
  tcase_add_test(tc, test_keyfile_upgrades_v1);
  tcase_add_test(tc, test_keyfile_create_has_s2_keys);
  suite_add_tcase(s, tc);

  tc = tcase_create("db");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_db_open_existing_requires_init);
  tcase_add_test(tc, test_db_schema_version_wal);
  tcase_add_test(tc, test_db_defaults);
  tcase_add_test(tc, test_db_user_add_get_del);
  tcase_add_test(tc, test_db_records_sealed_on_disk);
  tcase_add_test(tc, test_db_user_get_malformed_record);
  tcase_add_test(tc, test_db_user_foreach_sorted);
  tcase_add_test(tc, test_db_upgrade_v1_seals_records);
  tcase_add_test(tc, test_db_upgrade_v1_malformed_rolls_back);
  tcase_add_test(tc, test_db_upgrade_v2_to_v3);
  tcase_add_test(tc, test_db_display_name);
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
  tcase_add_test(tc, test_lockout_success_resets_and_costs_no_write);
  tcase_add_test(tc, test_lockout_policy_changed_live);
  tcase_add_test(tc, test_lockout_never_drops_live_entries);
  tcase_add_test(tc, test_lockout_survives_restart);
  tcase_add_test(tc, test_lockout_expired_purged);
  tcase_add_test(tc, test_lockout_failed_write_kept);
  tcase_add_test(tc, test_ratelimit_burst_refill_per_source);
  tcase_add_test(tc, test_ratelimit_ipv6_by_64_and_mapped_v4);
  tcase_add_test(tc, test_ratelimit_full_table);
  tcase_add_test(tc, test_ratelimit_set_live);
  tcase_add_test(tc, test_addrlimit_per_address_and_total);
  tcase_add_test(tc, test_addrlimit_ipv6_per_64);
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
