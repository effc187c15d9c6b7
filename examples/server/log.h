/*
 * cpns-server log lines on stderr: one per exchange, identifiers escaped so
 * a peer cannot forge lines, never a secret.
 */
#ifndef CPNS_EXAMPLES_SERVER_LOG_H
#define CPNS_EXAMPLES_SERVER_LOG_H

#include <stddef.h>
#include <stdint.h>

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
} server_log_exchange_info;

/** Writes "exchange peer=... entity=... user=... result=... [suite=N] duration_ms=..." to
 * stderr (suite= once a KeyChallenge was sent). */
void server_log_exchange(const server_log_exchange_info *info);

/**
 * Copies in to out escaping every octet outside printable ASCII (and "\"
 * and '"') as \xHH; always NUL-terminates. Returns out.
 */
char *server_log_escape(char *out, size_t outlen, const uint8_t *in, size_t inlen);

#endif /* CPNS_EXAMPLES_SERVER_LOG_H */
