/*
 * Structural DER checks that need no schema, run before asn1c sees the
 * bytes, and the diagnosis of a non-canonical input against its canonical
 * re-encoding (which needs no schema either: the re-encoding is the schema).
 */
#include <string.h>

#include "codec/codec_internal.h"

/* Tags above this (three high-tag octets) cannot occur in any CPNS PDU. */
#define MAX_TAG_NUMBER ((1u << 21) - 1)

int cpnsi_der_header(const uint8_t *in, size_t len, uint8_t *tag, size_t *hdr_len,
                     size_t *content_len) {
  size_t pos = 1, n, i, value = 0;
  if (len < 1)
    return 1;
  *tag = in[0];
  if ((in[0] & 0x1f) == 0x1f) {
    uint32_t number = 0;
    for (i = 0;; i++) {
      if (pos >= len)
        return 1;
      if (i == 0 && in[pos] == 0x80)
        return CPNS_ERR_DER_HIGH_TAG_FORM;
      if (i == 3)
        return CPNS_ERR_DER_HIGH_TAG_FORM;
      number = (number << 7) | (in[pos] & 0x7f);
      if (!(in[pos++] & 0x80))
        break;
    }
    if (number < 31 || number > MAX_TAG_NUMBER)
      return CPNS_ERR_DER_HIGH_TAG_FORM;
  }
  if (pos >= len)
    return 1;
  if (in[pos] < 0x80) {
    *hdr_len = pos + 1;
    *content_len = in[pos];
    return 0;
  }
  if (in[pos] == 0x80)
    return CPNS_ERR_DER_INDEFINITE_LENGTH;
  n = in[pos++] & 0x7f;
  if (pos >= len)
    return 1;
  if (in[pos] == 0)
    return CPNS_ERR_DER_NON_MINIMAL_LENGTH;
  /* No CPNS PDU comes near 2^32 octets; a longer length is truncation. */
  if (n > 4)
    return CPNS_ERR_DER_TRUNCATED;
  for (i = 0; i < n; i++) {
    if (pos >= len)
      return 1;
    value = (value << 8) | in[pos++];
  }
  if (value < 0x80)
    return CPNS_ERR_DER_NON_MINIMAL_LENGTH;
  *hdr_len = pos;
  *content_len = value;
  return 0;
}

/* Checks the TLVs filling in[0..len), the contents of the outer TLV, in
 * document order without recursion: ends[] holds where each open enclosing
 * list ends. The lists inside the outer TLV are at depth 2 and deeper. */
static int check_contents(const uint8_t *in, size_t len, unsigned max_depth) {
  size_t ends[CPNSI_DER_MAX_DEPTH];
  size_t pos = 0, end = len;
  unsigned depth = 2;
  if (depth > max_depth)
    return CPNS_ERR_DER_TOO_DEEP;
  for (;;) {
    uint8_t tag;
    size_t hdr, clen;
    while (pos == end) { /* this list is complete: back to its parent */
      if (depth == 2)
        return 0;
      end = ends[--depth - 2];
    }
    tag = in[pos];
    if ((tag & 0x1f) != 0x1f && end - pos >= 2 && in[pos + 1] < 0x80) {
      hdr = 2; /* the usual case: low tag, short definite length */
      clen = in[pos + 1];
    } else {
      int rv = cpnsi_der_header(in + pos, end - pos, &tag, &hdr, &clen);
      if (rv == 1)
        return CPNS_ERR_DER_TRUNCATED;
      if (rv < 0)
        return rv;
    }
    if (clen > end - pos - hdr)
      return CPNS_ERR_DER_TRUNCATED;
    pos += hdr;
    if (tag & 0x20) {
      if (depth + 1 > max_depth)
        return CPNS_ERR_DER_TOO_DEEP;
      ends[depth++ - 2] = end;
      end = pos + clen;
    } else {
      pos += clen;
    }
  }
}

int cpnsi_der_check(const uint8_t *in, size_t len, unsigned max_depth) {
  uint8_t tag;
  size_t hdr, clen;
  int rv;
  if (max_depth > CPNSI_DER_MAX_DEPTH)
    return CPNS_ERR_INTERNAL;
  if (len >= 2 && (in[0] & 0x1f) != 0x1f && in[1] < 0x80) {
    tag = in[0]; /* low tag, short definite length */
    hdr = 2;
    clen = in[1];
  } else {
    rv = cpnsi_der_header(in, len, &tag, &hdr, &clen);
    if (rv == 1)
      return CPNS_ERR_DER_TRUNCATED;
    if (rv < 0)
      return rv;
  }
  if (clen > len - hdr)
    return CPNS_ERR_DER_TRUNCATED;
  if (tag & 0x20) {
    rv = check_contents(in + hdr, clen, max_depth);
    if (rv < 0)
      return rv;
  }
  if (hdr + clen != len)
    return CPNS_ERR_DER_TRAILING_BYTES;
  return 0;
}

/* INTEGER contents whose first nine bits are all equal are not minimal. */
static int non_minimal_integer(const uint8_t *c, size_t len) {
  return len >= 2 && ((c[0] == 0x00 && !(c[1] & 0x80)) || (c[0] == 0xff && (c[1] & 0x80)));
}

/* Both inputs passed cpnsi_der_check (canon is our own DER). */
static int diagnose_list(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen) {
  size_t pa = 0, pb = 0;
  while (pa < alen) {
    uint8_t ta, tb;
    size_t ha, ca, hb, cb;
    int rv;
    if (pb >= blen)
      return CPNS_ERR_EXTENSION_PRESENT; /* skipped by asn1c */
    if (cpnsi_der_header(a + pa, alen - pa, &ta, &ha, &ca) != 0 ||
        cpnsi_der_header(b + pb, blen - pb, &tb, &hb, &cb) != 0)
      return CPNS_ERR_DER_NON_CANONICAL;
    if ((ta & 0x1f) == 0x1f)
      return CPNS_ERR_EXTENSION_PRESENT; /* no v1 tag is high */
    if (ta != tb) {
      if ((ta & ~0x20) == tb && (ta & 0x20))
        return CPNS_ERR_DER_CONSTRUCTED_STRING;
      return CPNS_ERR_EXTENSION_PRESENT; /* an element v1 does not know */
    }
    if (ta & 0x20) {
      rv = diagnose_list(a + pa + ha, ca, b + pb + hb, cb);
      if (rv < 0)
        return rv;
    } else if (ca != cb || memcmp(a + pa + ha, b + pb + hb, ca) != 0) {
      if (non_minimal_integer(a + pa + ha, ca))
        return CPNS_ERR_DER_NON_MINIMAL_INTEGER;
      return CPNS_ERR_DER_NON_CANONICAL;
    }
    pa += ha + ca;
    pb += hb + cb;
  }
  return pb < blen ? CPNS_ERR_DER_NON_CANONICAL : 0;
}

int cpnsi_der_diagnose(const uint8_t *input, size_t input_len, const uint8_t *canon,
                       size_t canon_len) {
  int rv = diagnose_list(input, input_len, canon, canon_len);
  return rv < 0 ? rv : CPNS_ERR_DER_NON_CANONICAL;
}
