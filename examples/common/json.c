/*
 * --json output helpers (json.h): stored octets, hex and times as JSON
 * values, and the streamed document.
 */
#define _POSIX_C_SOURCE 200809L

#include "examples/common/json.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "examples/common/cli.h"

/* Compact, one line, ASCII only (doc/json.md). */
#define DUMP_FLAGS (JSON_COMPACT | JSON_ENSURE_ASCII)

/* 9999-12-31T23:59:59Z: RFC 3339 has four-digit years. */
#define LAST_SECOND INT64_C(253402300799)

json_t *json_octets(const char *what, const uint8_t *s, size_t len) {
  /* jansson checks UTF-8 but would write a NUL as \u0000, which many
   * readers cut the string at. */
  if (len > 0 && memchr(s, 0, len) != NULL) {
    fprintf(stderr, "cannot write %s as JSON: holds a NUL (damaged store?)\n", what);
    return NULL;
  }
  json_t *v = json_stringn((const char *)s, len);
  if (v == NULL) {
    fprintf(stderr, "cannot write %s as JSON: not valid UTF-8 (damaged store?)\n", what);
  }
  return v;
}

json_t *json_hex(const uint8_t *b, size_t len) {
  char buf[2 * 64 + 1];
  if (len > 64) {
    return NULL; /* longer than any keyId */
  }
  cli_hex(buf, b, len);
  return json_stringn(buf, 2 * len);
}

/* seconds and the milliseconds within it (-1: none) as RFC 3339. */
static json_t *time_string(const char *what, int64_t seconds, int millis) {
  if (seconds < 0 || seconds > LAST_SECOND) {
    fprintf(stderr, "cannot write %s as JSON: time out of range (%" PRId64 " s)\n", what, seconds);
    return NULL;
  }
  time_t t = (time_t)seconds;
  struct tm tm;
  char buf[40];
  if (gmtime_r(&t, &tm) == NULL || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
    fprintf(stderr, "cannot write %s as JSON: time out of range\n", what);
    return NULL;
  }
  size_t n = strlen(buf);
  if (millis >= 0) {
    snprintf(buf + n, sizeof(buf) - n, ".%03dZ", millis);
  } else {
    snprintf(buf + n, sizeof(buf) - n, "Z");
  }
  return json_string(buf);
}

json_t *json_time_s(const char *what, int64_t seconds) { return time_string(what, seconds, -1); }

json_int_t json_s_to_ms(int64_t seconds) {
  return seconds >= 0 && seconds <= LAST_SECOND ? (json_int_t)seconds * 1000 : 0;
}

json_t *json_time_ms(const char *what, int64_t ms) {
  if (ms < 0) {
    fprintf(stderr, "cannot write %s as JSON: time out of range (%" PRId64 " ms)\n", what, ms);
    return NULL;
  }
  return time_string(what, ms / 1000, (int)(ms % 1000));
}

/* Records a failure once, with a message. Returns -1. */
static int stream_fail(json_stream *js, const char *why) {
  if (!js->failed && why != NULL) {
    fprintf(stderr, "cannot write the JSON output: %s\n", why);
  }
  js->failed = 1;
  return -1;
}

int json_stream_begin(json_stream *js, FILE *out, json_t *head, const char *array_key) {
  js->out = out;
  js->items = 0;
  js->failed = 0;
  if (head == NULL) {
    return stream_fail(js, NULL); /* its maker said why */
  }
  char *text = json_object_size(head) > 0 ? json_dumps(head, DUMP_FLAGS) : NULL;
  json_t *key = json_string(array_key);
  char *key_text = key != NULL ? json_dumps(key, DUMP_FLAGS | JSON_ENCODE_ANY) : NULL;
  size_t n = text != NULL ? strlen(text) : 0;
  int rc = 0;
  if (n < 2 || text[n - 1] != '}' || key_text == NULL) {
    rc = stream_fail(js, "out of memory");
  } else {
    text[n - 1] = '\0'; /* the document goes on */
    fprintf(out, "%s,%s:[", text, key_text);
  }
  free(text);
  free(key_text);
  json_decref(key);
  json_decref(head);
  return rc;
}

int json_stream_item(json_stream *js, json_t *item) {
  if (item == NULL) {
    return stream_fail(js, NULL);
  }
  if (js->failed) {
    json_decref(item);
    return -1;
  }
  if (js->items > 0) {
    fputc(',', js->out);
  }
  int rc = json_dumpf(item, js->out, DUMP_FLAGS);
  json_decref(item);
  js->items++;
  return rc == 0 ? 0 : stream_fail(js, strerror(errno));
}

int json_stream_end(json_stream *js) {
  if (js->failed) {
    return -1;
  }
  fputs("]}\n", js->out);
  if (fflush(js->out) != 0 || ferror(js->out)) {
    return stream_fail(js, strerror(errno));
  }
  return 0;
}

int json_write(FILE *out, json_t *value) {
  if (value == NULL) {
    return -1;
  }
  int rc = json_dumpf(value, out, DUMP_FLAGS);
  json_decref(value);
  if (rc == 0) {
    fputc('\n', out);
  }
  if (rc != 0 || fflush(out) != 0 || ferror(out)) {
    fprintf(stderr, "cannot write the JSON output: %s\n", strerror(errno));
    return -1;
  }
  return 0;
}
