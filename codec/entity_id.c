/*
 * cpns_entity_id_normalize(): validate an Entity ID with the Ragel machines
 * of codec/entity_id.rl and write its RFC 8141 §3.1 normal form.
 *
 * Namespace rules on top of RFC 8141: an NSS under NID "uuid" is exactly
 * 8-4-4-4-12 hex digits (RFC 4122); under NID "dev", an NSS starting with
 * "mac:" (any case) is exactly "mac:" and 12 or 16 hex digits (RFC 9039).
 * Percent-encoding is not allowed in either: every character there is a hex
 * digit, '-' or the "mac:" prefix, so %HH could only spell one of those,
 * and refusing it keeps one spelling per identifier. Their whole NSS is
 * lower-cased in the normal form.
 */
#include <cpns/codec.h>
#include <cpns/ident.h>

#include "codec/ident_internal.h"

static uint8_t ascii_lower(uint8_t c) {
  return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + ('a' - 'A')) : c;
}

static uint8_t ascii_upper(uint8_t c) {
  return (c >= 'a' && c <= 'z') ? (uint8_t)(c - ('a' - 'A')) : c;
}

/* ASCII case-insensitive comparison of in[0..len) with lower-case lit. */
static int equals_ci(const uint8_t *in, size_t len, const char *lit, size_t litlen) {
  if (len != litlen)
    return 0;
  for (size_t i = 0; i < len; i++)
    if (ascii_lower(in[i]) != (uint8_t)lit[i])
      return 0;
  return 1;
}

/* Error and phrase for a failure of the generic RFC 8141 machine. */
static int generic_failure(const uint8_t *in, size_t inlen, const cpnsi_entity_scan *s,
                           cpns_ident_error *err) {
  size_t at = s->stop;
  int ran_out = at == inlen;
  int code_plain = ran_out ? CPNS_ERR_ID_TRUNCATED : CPNS_ERR_ID_SYNTAX;
  uint8_t c = ran_out ? 0 : in[at];
  uint8_t prev = at > 0 ? in[at - 1] : 0;

  if (s->pct_open != CPNSI_NO_OFFSET)
    return cpnsi_ident_fail(CPNS_ERR_ID_PCT_ENCODING, "two hex digits after '%'", at, err);
  switch (s->region) {
  case CPNSI_ENTITY_PREFIX: return cpnsi_ident_fail(code_plain, "\"urn:\" (in any case)", at, err);
  case CPNSI_ENTITY_NID: {
    size_t nidlen = at - 4;
    const char *what;
    if (nidlen == 0)
      what = "letter or digit starting the NID";
    else if (prev == '-' && (ran_out || c == ':'))
      what = "letter or digit (the NID cannot end in '-')";
    else if (nidlen == 1 && (ran_out || c == ':'))
      what = "another NID character (the NID has 2 to 32)";
    else if (nidlen == 31)
      what = "letter, digit or ':' (the 32nd NID character cannot be '-')";
    else if (nidlen >= 32)
      what = "':' after the NID (at most 32 characters)";
    else
      what = "letter, digit, '-' or ':' after the NID";
    return cpnsi_ident_fail(code_plain, what, at, err);
  }
  default: {
    const char *what;
    if (c == '?' || c == '#')
      what = "end of input (no ?+, ?= or # component in an Entity ID)";
    else if (at == s->nid_end + 1)
      what = "unreserved, sub-delim, ':', '@' or %HH starting the NSS (not '/')";
    else
      what = "unreserved, sub-delim, ':', '@', '/' or %HH in the NSS";
    return cpnsi_ident_fail(code_plain, what, at, err);
  }
  }
}

int cpns_entity_id_normalize(const uint8_t *in, size_t inlen, uint8_t *out, size_t outlen,
                             size_t *outlen_written, cpns_ident_error *err) {
  if ((in == NULL && inlen > 0) || out == NULL || outlen_written == NULL)
    return cpnsi_ident_fail(CPNS_ERR_INVALID_ARGUMENT, "non-NULL input, output and length pointers",
                            0, err);
  *outlen_written = 0;
  if (inlen == 0)
    return cpnsi_ident_fail(CPNS_ERR_ID_EMPTY, "an Entity ID (\"urn:\" NID \":\" NSS)", 0, err);
  if (inlen > CPNS_ENTITY_ID_MAX)
    return cpnsi_ident_fail(CPNS_ERR_ID_TOO_LONG, "end of input (at most 255 octets)",
                            CPNS_ENTITY_ID_MAX, err);

  cpnsi_entity_scan s;
  if (!cpnsi_entity_scan_run(in, inlen, &s))
    return generic_failure(in, inlen, &s, err);

  const size_t nid_start = 4, nss_start = s.nid_end + 1;
  const uint8_t *nid = in + nid_start, *nss = in + nss_start;
  size_t nidlen = s.nid_end - nid_start, nsslen = inlen - nss_start, stop;
  int hex_namespace = 0;
  if (equals_ci(nid, nidlen, "uuid", 4)) {
    if (!cpnsi_uuid_nss_run(nss, nsslen, &stop))
      return cpnsi_ident_fail(CPNS_ERR_ID_NAMESPACE,
                              "urn:uuid: then 8-4-4-4-12 hex digits (no %-encoding)",
                              nss_start + stop, err);
    hex_namespace = 1;
  } else if (equals_ci(nid, nidlen, "dev", 3) && nsslen >= 4 && equals_ci(nss, 4, "mac:", 4)) {
    if (!cpnsi_mac_nss_run(nss, nsslen, &stop))
      return cpnsi_ident_fail(CPNS_ERR_ID_NAMESPACE,
                              "urn:dev:mac: then 12 or 16 hex digits (no %-encoding)",
                              nss_start + stop, err);
    hex_namespace = 1;
  }
  if (outlen < inlen)
    return cpnsi_ident_fail(CPNS_ERR_BUFFER_TOO_SMALL,
                            "an output buffer at least as long as the input", 0, err);

  /* Same length in and out, each octet written after it is read: out may equal in. */
  for (size_t i = 0; i < nss_start; i++)
    out[i] = ascii_lower(in[i]);
  if (hex_namespace) {
    for (size_t i = nss_start; i < inlen; i++)
      out[i] = ascii_lower(in[i]);
  } else {
    for (size_t i = nss_start; i < inlen; i++) {
      uint8_t c = in[i];
      out[i] = c;
      if (c == '%') { /* the machine guarantees two hex digits follow */
        out[i + 1] = ascii_upper(in[i + 1]);
        out[i + 2] = ascii_upper(in[i + 2]);
        i += 2;
      }
    }
  }
  *outlen_written = inlen;
  return 0;
}
