/*
 * cpns-server store (see store.h): picks the backend from the --db value
 * and does what is the same on both: sealing and unsealing records,
 * checking the enrollment defaults and the enabled suites.
 */
#define _POSIX_C_SOURCE 200809L

#include "examples/server/store.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "examples/server/store_backend.h"

server_db_kind server_db_kind_of(const char *where) {
  return strncmp(where, "postgresql://", 13) == 0 || strncmp(where, "postgres://", 11) == 0
             ? SERVER_DB_POSTGRES
             : SERVER_DB_SQLITE;
}

void server_db_display_name(char *out, size_t outlen, const char *where) {
  size_t n = 0;
  int pg = server_db_kind_of(where) == SERVER_DB_POSTGRES;
  const char *auth = pg ? strstr(where, "//") + 2 : NULL;
  const char *at = NULL;
  if (pg) {
    const char *colon = NULL;
    for (const char *p = auth; *p != '\0' && *p != '/' && *p != '?' && *p != '#'; p++) {
      if (*p == ':' && colon == NULL) {
        colon = p;
      } else if (*p == '@') {
        at = p; /* the last '@' of the authority ends the userinfo */
      }
    }
    if (at == NULL || colon == NULL || colon > at) {
      at = NULL; /* no password in the userinfo */
    } else {
      auth = colon + 1; /* the password runs from here to at */
    }
  }
  for (const char *p = where; *p != '\0' && n + 1 < outlen;) {
    if (at != NULL && p == auth) {
      n += (size_t)snprintf(out + n, outlen - n, "***");
      p = at;
      continue;
    }
    /* A password=... query parameter. */
    if (pg && p > where && (p[-1] == '?' || p[-1] == '&') && strncmp(p, "password=", 9) == 0) {
      n += (size_t)snprintf(out + n, outlen - n, "password=***");
      p += strcspn(p, "&#");
      continue;
    }
    out[n++] = *p++;
  }
  if (n >= outlen) {
    n = outlen - 1;
  }
  out[n] = '\0';
}

int server_db_open(server_db **db, const char *where, server_db_mode mode) {
  return server_db_open_with_key(db, where, mode, NULL);
}

int server_db_open_with_key(server_db **db, const char *where, server_db_mode mode,
                            const uint8_t record_key[CPNS_CREDENTIAL_SEAL_KEY_LEN]) {
  const server_db_backend *be = server_db_kind_of(where) == SERVER_DB_POSTGRES
                                    ? &server_db_pg_backend
                                    : &server_db_sqlite_backend;
  *db = NULL;
  return be->open(db, where, mode, record_key);
}

server_db_kind server_db_get_kind(const server_db *db) { return db->be->kind; }

int server_db_created(const server_db *db) { return db->created; }

void server_db_close(server_db *db) {
  if (db != NULL) {
    db->be->close(db);
  }
}

void server_db_library_setup(void) { server_db_sqlite_library_setup(); }

int server_db_get_defaults(server_db *db, server_db_defaults *out) {
  cpns_kdf_params kdf;
  memset(&kdf, 0, sizeof(kdf));
  if (db->be->get_setting(db, SERVER_DB_SETTING_OPS, &kdf.ops_limit) != 0 ||
      db->be->get_setting(db, SERVER_DB_SETTING_MEM, &kdf.mem_limit_kib) != 0) {
    return -1;
  }
  if (cpns_crypto_kdf_check_enrollment(&kdf) != 0) {
    fprintf(stderr,
            "database: stored enrollment defaults (ops %" PRIu32 ", mem-kib %" PRIu32
            ") are out of range\n",
            kdf.ops_limit, kdf.mem_limit_kib);
    return -1;
  }
  out->ops_limit = kdf.ops_limit;
  out->mem_limit_kib = kdf.mem_limit_kib;
  return 0;
}

int server_db_set_defaults(server_db *db, const server_db_defaults *d) {
  cpns_kdf_params kdf;
  memset(&kdf, 0, sizeof(kdf));
  kdf.ops_limit = d->ops_limit;
  kdf.mem_limit_kib = d->mem_limit_kib;
  if (cpns_crypto_kdf_check_enrollment(&kdf) != 0) {
    fprintf(stderr, "enrollment defaults out of range: ops %" PRIu32 ", mem-kib %" PRIu32 "\n",
            d->ops_limit, d->mem_limit_kib);
    return -1;
  }
  static const char *const names[] = {SERVER_DB_SETTING_OPS, SERVER_DB_SETTING_MEM};
  const uint32_t values[] = {d->ops_limit, d->mem_limit_kib};
  return db->be->put_settings(db, names, values, 2);
}

int server_db_suites_valid(uint32_t suites) {
  int seen[10] = {0};
  if (suites == 0) {
    return 0;
  }
  for (; suites != 0; suites /= 10) {
    unsigned digit = suites % 10;
    if ((digit != 1 && digit != 2) || seen[digit]++) {
      return 0;
    }
  }
  return 1;
}

int server_db_get_suites(server_db *db, uint32_t *suites) {
  uint32_t v = 0;
  if (db->be->get_setting(db, SERVER_DB_SETTING_SUITES, &v) != 0) {
    return -1;
  }
  if (!server_db_suites_valid(v)) {
    fprintf(stderr, "database: stored enabled suites %" PRIu32 " are invalid\n", v);
    return -1;
  }
  *suites = v;
  return 0;
}

int server_db_set_suites(server_db *db, uint32_t suites) {
  if (!server_db_suites_valid(suites)) {
    fprintf(stderr, "enabled suites %" PRIu32 " are invalid (digits 1 and 2, each once)\n", suites);
    return -1;
  }
  static const char *const names[] = {SERVER_DB_SETTING_SUITES};
  return db->be->put_settings(db, names, &suites, 1);
}

int server_db_user_put_records(server_db *db, const uint8_t *user_id, size_t user_id_len,
                               const uint8_t *record1, size_t record1_len, const uint8_t *record2,
                               size_t record2_len) {
  if (record1 == NULL) {
    record1_len = 0;
  }
  if (record2 == NULL) {
    record2_len = 0;
  }
  if (user_id_len == 0 || user_id_len > CPNS_USER_ID_MAX ||
      (record1_len == 0 && record2_len == 0) || record1_len > SERVER_DB_RECORD_MAX ||
      record2_len > SERVER_DB_RECORD_MAX) {
    fprintf(stderr,
            "database: a user needs a User ID and one or two records of at most %d "
            "octets\n",
            SERVER_DB_RECORD_MAX);
    return -1;
  }
  return db->be->user_put(db, user_id, user_id_len, record1_len > 0 ? record1 : NULL, record1_len,
                          record2_len > 0 ? record2 : NULL, record2_len);
}

int server_db_user_add(server_db *db, const uint8_t *user_id, size_t user_id_len,
                       const cpns_credential *cred) {
  uint8_t sealed[CPNS_SEALED_CREDENTIAL_LEN];
  if (db->record_key == NULL) {
    fprintf(stderr, "database: adding a user needs the key file\n");
    return -1;
  }
  if (cpns_crypto_credential_seal(sealed, cred, db->record_key, user_id, user_id_len) != 0) {
    fprintf(stderr, "database: cannot seal the credential record\n");
    return -1;
  }
  return server_db_user_put_records(db, user_id, user_id_len, sealed, sizeof(sealed), NULL, 0);
}

int server_db_user_del(server_db *db, const uint8_t *user_id, size_t user_id_len) {
  return server_db_user_remove(db, user_id, user_id_len, 0, NULL);
}

int server_db_user_remove(server_db *db, const uint8_t *user_id, size_t user_id_len,
                          int revoke_assignments, const char *source) {
  return db->be->user_del(db, user_id, user_id_len, revoke_assignments != 0, source);
}

int server_db_user_replace_records(server_db *db, const uint8_t *user_id, size_t user_id_len,
                                   const uint8_t *record1, size_t record1_len,
                                   const uint8_t *record2, size_t record2_len, const char *source) {
  if (record1 == NULL) {
    record1_len = 0;
  }
  if (record2 == NULL) {
    record2_len = 0;
  }
  if (user_id_len == 0 || user_id_len > CPNS_USER_ID_MAX ||
      (record1_len == 0 && record2_len == 0) || record1_len > SERVER_DB_RECORD_MAX ||
      record2_len > SERVER_DB_RECORD_MAX) {
    fprintf(stderr,
            "database: a user needs a User ID and one or two records of at most %d "
            "octets\n",
            SERVER_DB_RECORD_MAX);
    return -1;
  }
  return db->be->user_replace(db, user_id, user_id_len, record1_len > 0 ? record1 : NULL,
                              record1_len, record2_len > 0 ? record2 : NULL, record2_len, source);
}

int server_db_assignment_revoke(server_db *db, const uint8_t *entity_id, size_t entity_id_len,
                                const char *reason, const char *source) {
  return db->be->revoke(db, entity_id, entity_id_len, reason, source);
}

int server_db_history_foreach(server_db *db, const server_db_history_filter *filter,
                              server_db_history_cb cb, void *arg) {
  return db->be->history_foreach(db, filter, cb, arg);
}

int server_db_audit_foreach(server_db *db, const server_db_audit_filter *filter,
                            server_db_audit_cb cb, void *arg) {
  return db->be->audit_foreach(db, filter, cb, arg);
}

int server_db_lookup_user(server_db *db, const uint8_t *user_id, size_t user_id_len,
                          server_db_lookup *out) {
  out->user_found = 0;
  out->lockout_found = 0;
  out->records.record1_len = out->records.record2_len = 0;
  memset(&out->lockout, 0, sizeof(out->lockout));
  return db->be->lookup(db, user_id, user_id_len, out, 1);
}

int server_db_unseal_record1(server_db *db, const uint8_t *user_id, size_t user_id_len,
                             const uint8_t *record1, size_t record1_len, cpns_credential *cred) {
  int u = db->record_key != NULL
              ? cpns_crypto_credential_unseal(cred, record1, record1_len, db->record_key, user_id,
                                              user_id_len)
              : CPNS_ERR_INVALID_ARGUMENT;
  if (u == 0) {
    return 0;
  }
  sodium_memzero(cred, sizeof(*cred));
  fprintf(stderr, "database: credential record for user %.*s %s\n", (int)user_id_len,
          (const char *)user_id,
          u == CPNS_ERR_DECRYPT         ? "does not open (another key file, or an altered row)"
          : u == CPNS_ERR_RECORD_FORMAT ? "is malformed"
                                        : "cannot be read without the key file");
  return -1;
}

int server_db_user_get(server_db *db, const uint8_t *user_id, size_t user_id_len,
                       cpns_credential *cred) {
  sodium_memzero(cred, sizeof(*cred));
  server_db_lookup look; /* sealed records: nothing secret */
  look.user_found = 0;
  look.records.record1_len = look.records.record2_len = 0;
  int rc = db->be->lookup(db, user_id, user_id_len, &look, 0);
  if (rc == 0) {
    rc = !look.user_found || look.records.record1_len == 0
             ? 1
             : server_db_unseal_record1(db, user_id, user_id_len, look.records.record1,
                                        look.records.record1_len, cred);
  }
  return rc;
}

typedef struct kdf_walk {
  server_db_user_cb cb;
  void *arg;
} kdf_walk;

static int kdf_of_records(void *arg, const uint8_t *uid, size_t uid_len, const uint8_t *r1,
                          size_t r1_len, const uint8_t *r2, size_t r2_len) {
  (void)r2;
  (void)r2_len;
  const kdf_walk *w = arg;
  cpns_kdf_params kdf;
  memset(&kdf, 0, sizeof(kdf));
  if (r1_len > 0 && cpns_crypto_credential_sealed_kdf(&kdf, r1, r1_len) != 0) {
    memset(&kdf, 0, sizeof(kdf));
    fprintf(stderr, "database: malformed credential record for user %.*s\n", (int)uid_len,
            (const char *)uid); /* listed with zero parameters */
  }
  return w->cb(w->arg, uid, uid_len, &kdf);
}

int server_db_user_foreach(server_db *db, server_db_user_cb cb, void *arg) {
  kdf_walk w = {cb, arg};
  return db->be->user_foreach(db, kdf_of_records, &w);
}

int server_db_user_foreach_records(server_db *db, server_db_records_cb cb, void *arg) {
  return db->be->user_foreach(db, cb, arg);
}

cpns_store_status server_db_assign(server_db *db, const server_db_assignment *a) {
  return db->be->assign(db, a);
}

int server_db_begin(server_db *db) { return db->be->begin(db, 0); }
int server_db_begin_lockout_only(server_db *db) { return db->be->begin(db, 1); }
int server_db_commit(server_db *db) { return db->be->commit(db); }
int server_db_rollback(server_db *db) { return db->be->rollback(db); }
int server_db_read_begin(server_db *db) { return db->be->read_begin(db); }
void server_db_read_end(server_db *db) { db->be->read_end(db); }

int server_db_assignment_foreach(server_db *db, server_db_assignment_cb cb, void *arg) {
  return db->be->assignment_foreach(db, cb, arg);
}

int server_db_lockout_get(server_db *db, const uint8_t *user_id, size_t user_id_len,
                          server_db_lockout *row) {
  memset(row, 0, sizeof(*row));
  return db->be->lockout_get(db, user_id, user_id_len, row);
}

int server_db_lockout_put(server_db *db, const uint8_t *user_id, size_t user_id_len,
                          const server_db_lockout *row) {
  return db->be->lockout_put(db, user_id, user_id_len, row);
}

int server_db_lockout_fail(server_db *db, const uint8_t *user_id, size_t user_id_len,
                           const server_db_lockout_policy *policy, int64_t now_ms) {
  return db->be->lockout_fail(db, user_id, user_id_len, policy, now_ms);
}

int server_db_lockout_del(server_db *db, const uint8_t *user_id, size_t user_id_len) {
  return db->be->lockout_del(db, user_id, user_id_len);
}

int64_t server_db_lockout_purge(server_db *db, int64_t failed_before_ms, int64_t now_ms) {
  return db->be->lockout_purge(db, failed_before_ms, now_ms);
}

static cpns_store_status write_one(server_db *db, const server_db_write *w) {
  int rc = -1;
  switch (w->kind) {
  case SERVER_DB_WRITE_ASSIGN: return db->be->assign(db, &w->assignment);
  case SERVER_DB_WRITE_LOCKOUT_PUT:
    rc = db->be->lockout_put(db, w->user_id, w->user_id_len, &w->lockout);
    break;
  case SERVER_DB_WRITE_LOCKOUT_DEL: rc = db->be->lockout_del(db, w->user_id, w->user_id_len); break;
  case SERVER_DB_WRITE_LOCKOUT_FAIL:
    rc = db->be->lockout_fail(db, w->user_id, w->user_id_len, &w->policy,
                              w->lockout.last_failure_ms);
    break;
  case SERVER_DB_WRITE_LOCKOUT_PURGE:
    rc = db->be->lockout_purge(db, w->lockout.last_failure_ms, w->lockout.blocked_until_ms) < 0 ? -1
                                                                                                : 0;
    break;
  }
  return rc == 0 ? CPNS_STORE_OK : CPNS_STORE_FAILED;
}

int server_db_write_batch(server_db *db, server_db_write *w, size_t n) {
  int lockout_only = 1;
  for (size_t i = 0; i < n; i++) {
    lockout_only &= w[i].kind != SERVER_DB_WRITE_ASSIGN;
  }
  int committed;
  if (db->be->write_batch != NULL) {
    committed = db->be->write_batch(db, w, n, lockout_only) == 0;
  } else if (db->be->begin(db, lockout_only) != 0) {
    for (size_t i = 0; i < n; i++) {
      w[i].status = CPNS_STORE_FAILED;
    }
    return -1;
  } else {
    for (size_t i = 0; i < n; i++) {
      w[i].status = write_one(db, &w[i]);
    }
    committed = db->be->commit(db) == 0;
    if (!committed) {
      db->be->rollback(db);
    }
  }
  if (!committed) {
    /* Nothing was stored; a conflict found inside still stands. */
    for (size_t i = 0; i < n; i++) {
      if (w[i].status == CPNS_STORE_OK) {
        w[i].status = CPNS_STORE_FAILED;
      }
    }
  }
  return committed ? 0 : -1;
}

void server_db_lookup_batch(server_db *db, server_db_lookup_request *req, size_t n) {
  for (size_t i = 0; i < n; i++) {
    server_db_lookup *out = req[i].out;
    out->user_found = 0;
    out->lockout_found = 0;
    out->records.record1_len = out->records.record2_len = 0;
    memset(&out->lockout, 0, sizeof(out->lockout));
  }
  if (db->be->lookup_batch != NULL) {
    db->be->lookup_batch(db, req, n);
    return;
  }
  for (size_t i = 0; i < n; i++) {
    req[i].rc = db->be->lookup(db, req[i].user_id, req[i].user_id_len, req[i].out, 1);
  }
}
