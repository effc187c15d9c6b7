/*
 * cpns_ident_expected(): the phrase of the last identifier error on this
 * thread. The normalizers record it through cpnsi_ident_fail(); thread-local
 * so concurrent callers never see each other's phrase.
 */
#include <cpns/ident.h>

#include "codec/ident_internal.h"

static _Thread_local int last_error;
static _Thread_local const char *last_expected;

int cpnsi_ident_fail(int error, const char *expected, size_t offset,
                     size_t *error_offset) {
  last_error = error;
  last_expected = expected;
  if (error_offset)
    *error_offset = offset;
  return error;
}

/* What each code means when no detailed phrase is on record. */
static const char *generic_expected(int error) {
  switch (error) {
  case CPNS_ERR_INVALID_ARGUMENT: return "non-NULL input, output and length pointers";
  case CPNS_ERR_ID_EMPTY: return "a non-empty identifier";
  case CPNS_ERR_ID_TOO_LONG: return "at most 255 (Entity ID) or 253 (User ID) octets";
  case CPNS_ERR_ID_SYNTAX: return "an octet the identifier grammar allows here";
  case CPNS_ERR_ID_UTF8: return "well-formed UTF-8 (RFC 3629)";
  case CPNS_ERR_ID_PCT_ENCODING: return "two hex digits after '%'";
  case CPNS_ERR_ID_NAMESPACE: return "an NSS that follows its namespace (urn:uuid:, urn:dev:mac:)";
  case CPNS_ERR_ID_TRUNCATED: return "more input: the identifier is incomplete";
  case CPNS_ERR_BUFFER_TOO_SMALL: return "an output buffer at least as long as the input";
  default: return "a valid identifier";
  }
}

const char *cpns_ident_expected(int error) {
  if (error == last_error && last_expected)
    return last_expected;
  return generic_expected(error);
}
