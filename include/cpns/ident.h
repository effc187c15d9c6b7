/*
 * libcpns identifiers (PROTOCOL.md §2): Entity ID (RFC 8141 URN) and
 * User ID (RFC 7542 NAI), validated by Ragel-generated machines and put in
 * normal form. No allocation, no locale, input need not be NUL-terminated.
 */
#ifndef CPNS_IDENT_H
#define CPNS_IDENT_H

#include <cpns/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Where and why an identifier failed to validate. */
typedef struct cpns_ident_error {
  size_t offset;        /**< First offending octet; inlen when the input ended too early. */
  const char *expected; /**< Static English phrase of what the grammar expected there,
                             e.g. "hex digit after %"; never NULL once filled. */
} cpns_ident_error;

/**
 * Validates an Entity ID and writes its normal form (lower-case "urn" and
 * NID, upper-case %HH hex; for urn:uuid: and urn:dev:mac: the whole NSS hex
 * lower-cased) to out. The normal form is never longer than the input, so
 * outlen >= inlen always suffices. out may equal in.
 *
 * Namespace rules: the NSS of urn:uuid: is exactly 8-4-4-4-12 hex digits
 * (RFC 4122); a urn:dev: NSS starting with "mac:" (any case) is exactly
 * "mac:" and 12 or 16 hex digits (RFC 9039). %-encoding is refused in both
 * (CPNS_ERR_ID_NAMESPACE), so each has one spelling per identifier.
 *
 * Returns 0 and sets *outlen_written, or a negative error and fills *err
 * (if not NULL; untouched on success):
 * CPNS_ERR_INVALID_ARGUMENT, CPNS_ERR_ID_EMPTY, CPNS_ERR_ID_TOO_LONG,
 * CPNS_ERR_ID_SYNTAX, CPNS_ERR_ID_PCT_ENCODING, CPNS_ERR_ID_NAMESPACE,
 * CPNS_ERR_ID_TRUNCATED, CPNS_ERR_BUFFER_TOO_SMALL.
 */
CPNS_EXTERN int cpns_entity_id_normalize(const uint8_t *in, size_t inlen, uint8_t *out,
                                         size_t outlen, size_t *outlen_written,
                                         cpns_ident_error *err);

/**
 * Validates a User ID and writes its normal form (realm ASCII letters
 * lower-cased, username unchanged) to out; outlen >= inlen suffices and out
 * may equal in.
 *
 * Returns 0 and sets *outlen_written, or a negative error and fills *err
 * as cpns_entity_id_normalize() does:
 * CPNS_ERR_INVALID_ARGUMENT, CPNS_ERR_ID_EMPTY, CPNS_ERR_ID_TOO_LONG,
 * CPNS_ERR_ID_SYNTAX, CPNS_ERR_ID_UTF8, CPNS_ERR_ID_TRUNCATED,
 * CPNS_ERR_BUFFER_TOO_SMALL.
 */
CPNS_EXTERN int cpns_user_id_normalize(const uint8_t *in, size_t inlen, uint8_t *out, size_t outlen,
                                       size_t *outlen_written, cpns_ident_error *err);

#ifdef __cplusplus
}
#endif

#endif /* CPNS_IDENT_H */
