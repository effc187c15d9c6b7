/*
 * cpns-server log lines (see log.h).
 */
#define _DEFAULT_SOURCE /* syslog facilities, LOG_AUTHPRIV */

#include "examples/server/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <sodium.h>

#include <cpns/codec.h>

char *server_log_escape(char *out, size_t outlen, const uint8_t *in, size_t inlen) {
  static const char digits[] = "0123456789abcdef";
  size_t o = 0;
  if (outlen == 0) {
    return out;
  }
  for (size_t i = 0; i < inlen; i++) {
    uint8_t c = in[i];
    /* UTF-8 in a User ID is escaped too: a log line stays plain ASCII. */
    int plain = c > 0x20 && c < 0x7f && c != '\\' && c != '"';
    size_t need = plain ? 1 : 4;
    if (o + need + 1 > outlen) {
      break;
    }
    if (plain) {
      out[o++] = (char)c;
    } else {
      out[o++] = '\\';
      out[o++] = 'x';
      out[o++] = digits[c >> 4];
      out[o++] = digits[c & 0x0f];
    }
  }
  out[o] = '\0';
  return out;
}

static server_log_target log_target = SERVER_LOG_STDERR;

void server_log_open(server_log_target target, int facility) {
  log_target = target;
  if (target == SERVER_LOG_SYSLOG) {
    openlog("cpns-server", LOG_PID | LOG_NDELAY, facility != 0 ? facility : LOG_DAEMON);
  }
}

void server_log_close(void) {
  if (log_target == SERVER_LOG_SYSLOG) {
    closelog();
  }
  log_target = SERVER_LOG_STDERR;
}

int server_log_facility_parse(const char *name, int *facility) {
  static const struct {
    const char *name;
    int facility;
  } names[] = {{"daemon", LOG_DAEMON},     {"user", LOG_USER},     {"auth", LOG_AUTH},
               {"authpriv", LOG_AUTHPRIV}, {"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1},
               {"local2", LOG_LOCAL2},     {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4},
               {"local5", LOG_LOCAL5},     {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7}};
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    if (strcmp(name, names[i].name) == 0) {
      *facility = names[i].facility;
      return 0;
    }
  }
  return -1;
}

int server_log_target_parse(const char *name, server_log_target *target) {
  if (strcmp(name, "stderr") == 0) {
    *target = SERVER_LOG_STDERR;
    return 0;
  }
  if (strcmp(name, "syslog") == 0) {
    *target = SERVER_LOG_SYSLOG;
    return 0;
  }
  return -1;
}

/* line holds len octets and room for a newline: one write(2), or one syslog(3). */
static void emit(int level, char *line, size_t len) {
  if (log_target == SERVER_LOG_SYSLOG) {
    syslog(level, "%s", line);
    return;
  }
  line[len++] = '\n';
  size_t off = 0;
  while (off < len) {
    ssize_t n = write(STDERR_FILENO, line + off, len - off);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return; /* nowhere to report it */
    }
    off += (size_t)n;
  }
}

void server_log_info(const char *fmt, ...) {
  if (log_target != SERVER_LOG_SYSLOG) {
    return;
  }
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
  va_end(ap);
  if (n < 0) {
    return;
  }
  size_t len = (size_t)n < sizeof(line) - 1 ? (size_t)n : sizeof(line) - 2;
  emit(LOG_INFO, line, len);
}

static int level_of(int result) {
  switch (result) {
  case CPNS_RESULT_SUCCESS: return LOG_INFO;
  case CPNS_RESULT_SERVER_ERROR: return LOG_ERR;
  case -1: return LOG_INFO; /* closed: timeouts, scanners, shutdown */
  default: return LOG_NOTICE;
  }
}

void server_log_exchange(const server_log_exchange_info *info) {
  char entity[4 * CPNS_ENTITY_ID_MAX + 1];
  char user[4 * CPNS_USER_ID_MAX + 1];
  server_log_escape(entity, sizeof(entity), info->entity_id, info->entity_id_len);
  server_log_escape(user, sizeof(user), info->user_id, info->user_id_len);
  char suite[24] = "";
  if (info->suite > 0) {
    snprintf(suite, sizeof(suite), " suite=%d", info->suite);
  }
  char key_id[8 + 2 * CPNS_KEY_ID_LEN + 1] = "";
  if (info->key_id != NULL && info->result == CPNS_RESULT_SUCCESS) {
    memcpy(key_id, " keyId=", 7);
    sodium_bin2hex(key_id + 7, sizeof(key_id) - 7, info->key_id, CPNS_KEY_ID_LEN);
  }
  /* Escaped identifiers, a peer name and fixed words: always fits. */
  char line[sizeof(entity) + sizeof(user) + sizeof(key_id) + 256];
  int n;
  if (info->result >= 0) {
    n = snprintf(line, sizeof(line) - 1,
                 "exchange peer=%s entity=%s user=%s result=%s%s%s duration_ms=%llu", info->peer,
                 entity[0] ? entity : "-", user[0] ? user : "-", cpns_result_name(info->result),
                 suite, key_id, (unsigned long long)info->duration_ms);
  } else {
    n = snprintf(line, sizeof(line) - 1,
                 "exchange peer=%s entity=%s user=%s result=none%s closed=\"%s\" duration_ms=%llu",
                 info->peer, entity[0] ? entity : "-", user[0] ? user : "-", suite,
                 info->reason != NULL ? info->reason
                 : info->error != 0   ? cpns_strerror(info->error)
                                      : "closed",
                 (unsigned long long)info->duration_ms);
  }
  if (n < 0) {
    return;
  }
  size_t len = (size_t)n < sizeof(line) - 1 ? (size_t)n : sizeof(line) - 2;
  emit(level_of(info->result), line, len);
}
