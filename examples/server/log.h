/*
 * cpns-server log lines: one per exchange, identifiers escaped so a peer
 * cannot forge lines, never a secret. Each line leaves the process whole
 * when it is made (one write(2) on stderr, or one syslog(3) call): none
 * waits in a buffer to be lost in a crash.
 */
#ifndef CPNS_EXAMPLES_SERVER_LOG_H
#define CPNS_EXAMPLES_SERVER_LOG_H

#include <stddef.h>
#include <stdint.h>

#include <cpns/codec.h>

/** Where the exchange lines go. */
typedef enum server_log_target {
  SERVER_LOG_STDERR = 0, /**< one write(2) per line on descriptor 2 */
  SERVER_LOG_SYSLOG = 1  /**< syslog(3), ident "cpns-server" */
} server_log_target;

/**
 * Sends the exchange lines (and server_log_info()) to target; facility is a
 * LOG_* facility for syslog (LOG_DAEMON when 0 is given: LOG_KERN is not
 * for programs). Call before the loop starts.
 */
void server_log_open(server_log_target target, int facility);

/** Closes the syslog connection, if any. */
void server_log_close(void);

/**
 * Parses a facility name ("daemon", "user", "auth", "authpriv", "local0" to
 * "local7") into *facility. Returns 0, or -1 for an unknown name.
 */
int server_log_facility_parse(const char *name, int *facility);

/** Parses "stderr" or "syslog". Returns 0 or -1. */
int server_log_target_parse(const char *name, server_log_target *target);

/** With the syslog target, a line of the server's life (startup, shutdown)
 * at level info; with stderr nothing (the caller's stderr line stands). */
void server_log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** What one exchange left behind for its log line. */
typedef struct server_log_exchange_info {
  const char *peer;         /**< "ADDR:PORT" */
  const uint8_t *entity_id; /**< may be NULL / 0 when never received */
  size_t entity_id_len;
  const uint8_t *user_id;
  size_t user_id_len;
  int result;         /**< cpns_result, or -1 when nothing was answered */
  int suite;          /**< the suite of the KeyChallenge sent, 0 if none */
  int error;          /**< why the connection closed without a result (0 if none) */
  const char *reason; /**< overrides error's text when not NULL (e.g. shutdown) */
  uint64_t duration_ms;
  const uint8_t *key_id; /**< the assignment's keyId on success, else NULL */
} server_log_exchange_info;

/** Writes "exchange peer=... entity=... user=... result=... [suite=N] [keyId=HEX]
 * duration_ms=..." (suite= once a KeyChallenge was sent, keyId= on success) as one
 * line to the target. Syslog levels: success info, serverError err, other
 * results notice, closed without a result info. */
void server_log_exchange(const server_log_exchange_info *info);

/**
 * Copies in to out escaping every octet outside printable ASCII (and "\"
 * and '"') as \xHH; always NUL-terminates. Returns out.
 */
char *server_log_escape(char *out, size_t outlen, const uint8_t *in, size_t inlen);

#endif /* CPNS_EXAMPLES_SERVER_LOG_H */
