/*
 * dbhold: another process holding the server's database locked, for the
 * end-to-end tests.
 *
 *   dbhold DB
 *
 * Opens DB, begins an immediate (write) transaction, writes a row into the
 * lockout table, prints "held" on stdout and keeps the lock until its stdin
 * reaches EOF; then rolls back and exits 0 (1 if it could not take the lock).
 */
#include <stdio.h>

#include <sqlite3.h>

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: dbhold DB\n");
    return 2;
  }
  sqlite3 *db = NULL;
  char *err = NULL;
  if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
      sqlite3_busy_timeout(db, 5000) != SQLITE_OK ||
      sqlite3_exec(db,
                   "BEGIN IMMEDIATE;"
                   "INSERT OR REPLACE INTO lockout VALUES('dbhold@example.com', 1, 0, 0);",
                   NULL, NULL, &err) != SQLITE_OK) {
    fprintf(stderr, "dbhold: %s\n", err != NULL ? err : sqlite3_errmsg(db));
    sqlite3_free(err);
    sqlite3_close(db);
    return 1;
  }
  printf("held\n");
  fflush(stdout);
  while (getchar() != EOF) {
  }
  sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
  sqlite3_close(db);
  return 0;
}
