/*
 * --json output of the example programs (doc/json.md), built with jansson:
 * values made from stored octets, hex and times, and a document written as
 * a stream so that a long listing is never held in memory whole. Output is
 * one line of compact JSON, ASCII only (every other character \u-escaped),
 * so that hostile text cannot reach a terminal as control sequences.
 */
#ifndef CPNS_EXAMPLES_COMMON_JSON_H
#define CPNS_EXAMPLES_COMMON_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

/**
 * A JSON string holding the octets s[0..len) (a User ID, Entity ID, realm:
 * not NUL-terminated). Returns NULL with a message naming what on stderr
 * when they are not valid UTF-8 or hold a NUL (impossible for a normalized
 * identifier: a damaged store), or when out of memory.
 */
json_t *json_octets(const char *what, const uint8_t *s, size_t len);

/** A JSON string of len octets in lower-case hex, or NULL (out of memory). */
json_t *json_hex(const uint8_t *b, size_t len);

/**
 * RFC 3339 UTC: "YYYY-MM-DDTHH:MM:SSZ" for seconds since the epoch;
 * json_time_ms() adds milliseconds ("...SS.mmmZ"). Returns NULL with a
 * message naming what on stderr for a time before 1970 or after 9999.
 */
json_t *json_time_s(const char *what, int64_t seconds);
json_t *json_time_ms(const char *what, int64_t ms);

/** seconds * 1000, or 0 for a time json_time_s() refuses (no overflow). */
json_int_t json_s_to_ms(int64_t seconds);

/** A document being written: a head object, then one array filled item by item. */
typedef struct json_stream {
  FILE *out;
  size_t items;
  int failed; /**< 1 once anything failed: json_stream_end() returns -1 */
} json_stream;

/**
 * Writes head (a non-empty object; the reference is taken, NULL is an
 * error) without its closing brace, then `,"array_key":[`. Returns 0 or -1.
 */
int json_stream_begin(json_stream *js, FILE *out, json_t *head, const char *array_key);

/** Writes one array element (the reference is taken; NULL is an error). Returns 0 or -1. */
int json_stream_item(json_stream *js, json_t *item);

/**
 * Closes the array and the document, then flushes. Returns 0, or -1 when
 * anything failed since json_stream_begin() (output incomplete; a message
 * was printed on stderr).
 */
int json_stream_end(json_stream *js);

/** Writes a whole document (value is taken; NULL is an error) and a newline. Returns 0 or -1. */
int json_write(FILE *out, json_t *value);

#endif /* CPNS_EXAMPLES_COMMON_JSON_H */
