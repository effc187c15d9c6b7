/*
 * cpnsi_ident_fail(): fills the caller's cpns_ident_error (offset and the
 * phrase of what the grammar expected) on an identifier failure. No
 * library state: each call reports through its own out-parameter.
 */
#include <cpns/ident.h>

#include "codec/ident_internal.h"

/* What each code means when no detailed phrase applies. */
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

int cpnsi_ident_fail(int error, const char *expected, size_t offset, cpns_ident_error *err) {
  if (err) {
    err->offset = offset;
    err->expected = expected ? expected : generic_expected(error);
  }
  return error;
}
