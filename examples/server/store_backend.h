/*
 * cpns-server store backends: the operations store.c dispatches to. Each
 * backend's connection struct starts with a server_db (its `be` field says
 * which backend made it). Only store.c, store_sqlite.c and store_pg.c see this.
 */
#ifndef CPNS_EXAMPLES_SERVER_STORE_BACKEND_H
#define CPNS_EXAMPLES_SERVER_STORE_BACKEND_H

#include "examples/server/store.h"

typedef struct server_db_backend server_db_backend;

struct server_db {
  const server_db_backend *be;
  const uint8_t *record_key; /* caller's guarded memory; NULL: no record access */
  int created;               /* this open made the schema */
};

/* Setting names, the same on both backends. */
#define SERVER_DB_SETTING_OPS "enroll_ops_limit"
#define SERVER_DB_SETTING_MEM "enroll_mem_limit_kib"
#define SERVER_DB_SETTING_SUITES "suites"

struct server_db_backend {
  server_db_kind kind;
  int (*open)(server_db **db, const char *where, server_db_mode mode, const uint8_t *record_key);
  void (*close)(server_db *db);
  /* A setting that must be a positive 32-bit value: 0, or -1 (message on stderr). */
  int (*get_setting)(server_db *db, const char *name, uint32_t *value);
  /* Stores n settings in one transaction: 0 or -1. */
  int (*put_settings)(server_db *db, const char *const *names, const uint32_t *values, size_t n);
  int (*user_put)(server_db *db, const uint8_t *uid, size_t uid_len, const uint8_t *r1,
                  size_t r1_len, const uint8_t *r2, size_t r2_len);
  /* server_db_user_remove: 0, 1 no such user, 2 has assignments, -1. */
  int (*user_del)(server_db *db, const uint8_t *uid, size_t uid_len, int revoke,
                  const char *source);
  /* server_db_user_replace_records: 0, 1 no such user, -1. */
  int (*user_replace)(server_db *db, const uint8_t *uid, size_t uid_len, const uint8_t *r1,
                      size_t r1_len, const uint8_t *r2, size_t r2_len, const char *source);
  int (*revoke)(server_db *db, const uint8_t *eid, size_t eid_len, const char *reason,
                const char *source);
  int (*history_foreach)(server_db *db, const server_db_history_filter *f, server_db_history_cb cb,
                         void *arg);
  int (*audit_foreach)(server_db *db, const server_db_audit_filter *f, server_db_audit_cb cb,
                       void *arg);
  int (*user_foreach)(server_db *db, server_db_records_cb cb, void *arg);
  /* out zeroed by the caller; with_lockout = 0: the user's records only. */
  int (*lookup)(server_db *db, const uint8_t *uid, size_t uid_len, server_db_lookup *out,
                int with_lockout);
  int (*assignment_foreach)(server_db *db, server_db_assignment_cb cb, void *arg);
  cpns_store_status (*assign)(server_db *db, const server_db_assignment *a);
  int (*begin)(server_db *db, int lockout_only);
  int (*commit)(server_db *db);
  int (*rollback)(server_db *db);
  int (*read_begin)(server_db *db);
  void (*read_end)(server_db *db);
  /* Optional (NULL: store.c runs the statements one by one). */
  int (*write_batch)(server_db *db, server_db_write *w, size_t n, int lockout_only);
  void (*lookup_batch)(server_db *db, server_db_lookup_request *req, size_t n);
  int (*lockout_get)(server_db *db, const uint8_t *uid, size_t uid_len, server_db_lockout *row);
  int (*lockout_put)(server_db *db, const uint8_t *uid, size_t uid_len,
                     const server_db_lockout *row);
  int (*lockout_fail)(server_db *db, const uint8_t *uid, size_t uid_len,
                      const server_db_lockout_policy *p, int64_t now_ms);
  int (*lockout_del)(server_db *db, const uint8_t *uid, size_t uid_len);
  int64_t (*lockout_purge)(server_db *db, int64_t failed_before_ms, int64_t now_ms);
};

extern const server_db_backend server_db_sqlite_backend;
extern const server_db_backend server_db_pg_backend;

/* SQLite's process-wide setup (store_sqlite.c). */
void server_db_sqlite_library_setup(void);

#endif /* CPNS_EXAMPLES_SERVER_STORE_BACKEND_H */
