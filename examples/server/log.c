/*
 * cpns-server log lines (see log.h).
 */
#include "examples/server/log.h"

#include <stdio.h>

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

void server_log_exchange(const server_log_exchange_info *info) {
  char entity[4 * CPNS_ENTITY_ID_MAX + 1];
  char user[4 * CPNS_USER_ID_MAX + 1];
  server_log_escape(entity, sizeof(entity), info->entity_id, info->entity_id_len);
  server_log_escape(user, sizeof(user), info->user_id, info->user_id_len);
  char suite[24] = "";
  if (info->suite > 0) {
    snprintf(suite, sizeof(suite), " suite=%d", info->suite);
  }
  if (info->result >= 0) {
    fprintf(stderr, "exchange peer=%s entity=%s user=%s result=%s%s duration_ms=%llu\n", info->peer,
            entity[0] ? entity : "-", user[0] ? user : "-", cpns_result_name(info->result), suite,
            (unsigned long long)info->duration_ms);
  } else {
    fprintf(stderr,
            "exchange peer=%s entity=%s user=%s result=none%s closed=\"%s\" duration_ms=%llu\n",
            info->peer, entity[0] ? entity : "-", user[0] ? user : "-", suite,
            info->reason != NULL ? info->reason
            : info->error != 0   ? cpns_strerror(info->error)
                                 : "closed",
            (unsigned long long)info->duration_ms);
  }
}
