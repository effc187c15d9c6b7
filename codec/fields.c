/*
 * Field conversions from decoded asn1c values to the plain structs. Each
 * re-checks its size itself, so the plain struct never depends on the
 * runtime's constraint tables being intact. Together they check every
 * constraint of the module (strict.c relies on it to skip the generic
 * asn_check_constraints walk on success): sizes in octets imply the
 * UTF8String sizes in characters once the text is valid UTF-8.
 */
#include <stdint.h>
#include <string.h>

#include "codec/codec_internal.h"
#include "OCTET_STRING.h"
#include "UTF8String.h"
#include "asn_SEQUENCE_OF.h"

int cpnsi_check_text(size_t len, size_t max) {
  return len >= 1 && len <= max ? 0 : CPNS_ERR_CONSTRAINT;
}

int cpnsi_octets_from_asn(uint8_t *out, size_t len, const void *octet_string) {
  const OCTET_STRING_t *os = octet_string;
  if (os->size < 0 || (size_t)os->size != len)
    return CPNS_ERR_CONSTRAINT;
  memcpy(out, os->buf, len);
  return 0;
}

int cpnsi_text_from_asn(uint8_t *out, size_t *out_len, size_t max, const void *octet_string) {
  const OCTET_STRING_t *os = octet_string;
  if (os->size < 1 || (size_t)os->size > max)
    return CPNS_ERR_CONSTRAINT;
  /* Copied and checked in one pass. ASCII is valid UTF-8 of one character
   * per octet (UTF8String__process counts it so): most identifiers need no
   * full validation. Otherwise the same validation the UTF8String
   * constraints run; valid UTF-8 has at least one character per 1..max
   * octets and at most one per octet. On failure the caller zeroes out. */
  if ((cpnsi_copy_field(out, os->buf, (size_t)os->size) & 0x8080808080808080ULL) &&
      UTF8String_length(os) < 0)
    return CPNS_ERR_CONSTRAINT;
  *out_len = (size_t)os->size;
  return 0;
}

/* INTEGER contents whose first nine bits are all equal are not minimal. */
static int minimal_integer(const uint8_t *c, size_t len) {
  return len >= 1 &&
         !(len >= 2 && ((c[0] == 0x00 && !(c[1] & 0x80)) || (c[0] == 0xff && (c[1] & 0x80))));
}

/* Two's complement contents of at most four octets (none: 0). */
static int32_t int32_from_contents(const uint8_t *c, size_t len) {
  uint32_t u = len > 0 && (c[0] & 0x80) ? UINT32_MAX : 0;
  size_t i;
  for (i = 0; i < len; i++)
    u = (u << 8) | c[i];
  return (int32_t)u; /* two's complement on every platform we build for */
}

/*
 * offeredSuites keeps every suite number, known or not (§3): those within
 * int32_t as values, longer ones as their contents (cpns_suite_wide). Short
 * non-minimal contents become a value whose re-encoding differs, which the
 * canonical comparison reports; long ones are checked here, as they are
 * copied as they are.
 */
int cpnsi_suite_list_from_asn(int32_t *out, cpns_suite_wide *wide, size_t *out_len,
                              const void *list) {
  const asn_anonymous_sequence_ *seq = list;
  size_t used = 0;
  int i;
  memset(wide, 0, sizeof(*wide));
  if (seq->count < 1 || seq->count > CPNS_MAX_OFFERED_SUITES)
    return CPNS_ERR_CONSTRAINT;
  for (i = 0; i < seq->count; i++) {
    const ENUMERATED_t *e = seq->array[i];
    size_t len = e->size > 0 ? (size_t)e->size : 0;
    if (len <= 4) {
      out[i] = int32_from_contents(e->buf, len);
      continue;
    }
    if (!minimal_integer(e->buf, len))
      return CPNS_ERR_DER_NON_MINIMAL_INTEGER;
    if (len > CPNS_SUITE_WIDE_OCTETS_MAX - used)
      return CPNS_ERR_CONSTRAINT;
    memcpy(wide->octets + used, e->buf, len);
    wide->len[i] = (uint8_t)len;
    used += len;
    out[i] = CPNS_SUITE_WIDE;
  }
  *out_len = (size_t)seq->count;
  return 0;
}

int cpnsi_suite_list_check(const int32_t *suites, const cpns_suite_wide *wide, size_t n) {
  size_t i, used = 0;
  if (n < 1 || n > CPNS_MAX_OFFERED_SUITES)
    return CPNS_ERR_CONSTRAINT;
  for (i = 0; i < CPNS_MAX_OFFERED_SUITES; i++) {
    size_t len = wide->len[i];
    if (len == 0)
      continue;
    /* What decoding would give back: only past n nothing, and only values
     * longer than int32_t, minimal, marked as such, within the room. */
    if (i >= n || len < 5 || suites[i] != CPNS_SUITE_WIDE ||
        len > CPNS_SUITE_WIDE_OCTETS_MAX - used || !minimal_integer(wide->octets + used, len))
      return CPNS_ERR_CONSTRAINT;
    used += len;
  }
  return 0;
}

void cpnsi_octets_to_asn(void *octet_string, const uint8_t *buf, size_t len) {
  OCTET_STRING_t *os = octet_string;
  /* Encoding only reads: the const is cast away for asn1c's struct. */
  os->buf = (uint8_t *)(uintptr_t)buf;
  os->size = (int)len;
}

int cpnsi_suite_list_to_asn(void *list, cpnsi_suite_storage *st, const int32_t *suites,
                            const cpns_suite_wide *wide, size_t n) {
  asn_anonymous_sequence_ *seq = list;
  size_t i, used = 0;
  if (cpnsi_suite_list_check(suites, wide, n) < 0)
    return CPNS_ERR_CONSTRAINT;
  memset(st, 0, sizeof(*st));
  for (i = 0; i < n; i++) {
    ENUMERATED_t *e = &st->values[i];
    if (wide->len[i] != 0) {
      e->buf = (uint8_t *)(uintptr_t)(wide->octets + used); /* encoding only reads */
      e->size = wide->len[i];
      used += wide->len[i];
    } else {
      /* Minimal contents: drop leading octets that only extend the sign. */
      uint32_t u = (uint32_t)suites[i];
      size_t len = 4;
      st->small[i][0] = (uint8_t)(u >> 24);
      st->small[i][1] = (uint8_t)(u >> 16);
      st->small[i][2] = (uint8_t)(u >> 8);
      st->small[i][3] = (uint8_t)u;
      while (len > 1 && !minimal_integer(st->small[i] + 4 - len, len))
        len--;
      e->buf = st->small[i] + 4 - len;
      e->size = (int)len;
    }
    st->ptrs[i] = e;
  }
  seq->array = (void **)st->ptrs;
  seq->count = seq->size = (int)n;
  seq->free = NULL;
  return 0;
}

int cpnsi_kdf_to_asn(KdfParams_t *k, const cpns_kdf_params *p) {
  cpnsi_octets_to_asn(&k->salt, p->salt, CPNS_SALT_LEN);
  k->opsLimit = (long)p->ops_limit;
  k->memLimitKiB = (long)p->mem_limit_kib;
  return 0;
}

int cpnsi_kdf_check(const cpns_kdf_params *p) {
  if (p->ops_limit < CPNS_OPS_LIMIT_MIN || p->ops_limit > CPNS_OPS_LIMIT_MAX ||
      p->mem_limit_kib < CPNS_MEM_LIMIT_KIB_MIN || p->mem_limit_kib > CPNS_MEM_LIMIT_KIB_MAX)
    return CPNS_ERR_CONSTRAINT;
  return 0;
}

int cpnsi_kdf_from_asn(cpns_kdf_params *p, const KdfParams_t *k) {
  int rv = cpnsi_octets_from_asn(p->salt, CPNS_SALT_LEN, &k->salt);
  if (rv < 0)
    return rv;
  if (k->opsLimit < CPNS_OPS_LIMIT_MIN || k->opsLimit > CPNS_OPS_LIMIT_MAX ||
      k->memLimitKiB < CPNS_MEM_LIMIT_KIB_MIN || k->memLimitKiB > CPNS_MEM_LIMIT_KIB_MAX)
    return CPNS_ERR_CONSTRAINT;
  p->ops_limit = (uint32_t)k->opsLimit;
  p->mem_limit_kib = (uint32_t)k->memLimitKiB;
  return 0;
}

int cpnsi_version_from_asn(uint32_t *out, long v) {
  if (v < 1 || v > 255)
    return CPNS_ERR_CONSTRAINT;
  *out = (uint32_t)v;
  return 0;
}

int cpnsi_mode_from_asn(cpns_mode *out, long v) {
  if (v != CPNS_MODE_PN_GW && v != CPNS_MODE_PNE_PLUS_PN_GW)
    return CPNS_ERR_UNKNOWN_ENUM;
  *out = (cpns_mode)v;
  return 0;
}

int cpnsi_suite_known(long v) {
  return v == CPNS_SUITE_ARGON2ID_HMACSHA256_XCHACHA20POLY1305 ||
         v == CPNS_SUITE_OPAQUE3DH_RISTRETTO255_SHA512_ARGON2ID;
}

int cpnsi_suite_from_asn(cpns_suite *out, long v) {
  if (!cpnsi_suite_known(v))
    return CPNS_ERR_UNKNOWN_ENUM;
  *out = (cpns_suite)v;
  return 0;
}
