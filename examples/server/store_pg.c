/*
 * cpns-server store, PostgreSQL backend (see store.h). Placeholder until
 * the libpq implementation lands: refuses every URI.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>

#include "examples/server/store_backend.h"

static int pg_open(server_db **out, const char *uri, server_db_mode mode,
                   const uint8_t *record_key) {
  (void)mode;
  (void)record_key;
  (void)uri;
  *out = NULL;
  fprintf(stderr, "PostgreSQL databases are not supported yet\n");
  return -1;
}

const server_db_backend server_db_pg_backend = {.kind = SERVER_DB_POSTGRES, .open = pg_open};
