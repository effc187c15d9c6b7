/*
 * Codec-private declarations: the strict DER pipeline around asn1c, the
 * structural DER checks, and the allocator hook the patched asn1c runtime
 * calls (codec/patches/0001-allocator-hook.patch).
 */
#ifndef CPNS_CODEC_CODEC_INTERNAL_H
#define CPNS_CODEC_CODEC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cpns/codec.h>

#include "asn_application.h"
#include "ENUMERATED.h"
#include "KdfParams.h"

/* Deepest TLV nesting accepted by the pre-check: a v1 or v2 PDU nests 3 deep. */
#define CPNSI_DER_MAX_DEPTH 8
#define CPNSI_DEFAULT_ALLOC_BUDGET CPNS_DECODE_ALLOC_BUDGET_DEFAULT
#define CPNSI_DEFAULT_STACK_BUDGET CPNS_DECODE_STACK_BUDGET_DEFAULT

/** Allocation scope of one decode: allocator, budget and what happened. */
typedef struct cpnsi_asn_scope {
  const cpns_mem *mem;
  size_t budget;      /* bytes the runtime may hold at once */
  size_t used;        /* bytes it holds now */
  size_t live;        /* blocks it holds now */
  int over_budget;    /* an allocation was refused by the budget */
  int out_of_memory;  /* the allocator itself failed */
  int stack_exceeded; /* the runtime hit max_stack_size */
  int arena;          /* blocks may come from this thread's arena */
  size_t heap_blocks; /* blocks it holds from mem (not the arena) */
  struct cpnsi_asn_scope *prev;
} cpnsi_asn_scope;

/** Makes scope current for this thread (until cpnsi_asn_scope_leave). */
void cpnsi_asn_scope_enter(cpnsi_asn_scope *scope, const cpns_mem *mem, size_t budget);
void cpnsi_asn_scope_leave(cpnsi_asn_scope *scope);

/**
 * Returns 1 and drops every block at once if all of them are in the arena
 * (the decoded value then needs no free_struct), else 0.
 */
int cpnsi_asn_scope_release_all(cpnsi_asn_scope *scope);

/* Called by the patched asn1c runtime (asn_internal.h). */
void *cpnsi_asn_malloc(size_t size);
void *cpnsi_asn_calloc(size_t nmemb, size_t size);
void *cpnsi_asn_realloc(void *ptr, size_t size);
void cpnsi_asn_free(void *ptr);
void cpnsi_asn_stack_exceeded(void);

/**
 * Structural DER check of exactly one TLV in in[0..len): definite minimal
 * lengths, low tags in low-tag form, nesting at most max_depth, nothing
 * truncated or left over. Returns 0 or a CPNS_ERR_DER_* code
 * (CPNS_ERR_INTERNAL if max_depth exceeds CPNSI_DER_MAX_DEPTH).
 */
int cpnsi_der_check(const uint8_t *in, size_t len, unsigned max_depth);

/**
 * Reads the identifier and length octets at in[0..len). Returns 0 and sets
 * *tag (first identifier octet), *hdr_len and *content_len; 1 when more
 * octets are needed; or a CPNS_ERR_DER_* code.
 */
int cpnsi_der_header(const uint8_t *in, size_t len, uint8_t *tag, size_t *hdr_len,
                     size_t *content_len);

/**
 * Explains why input, which decodes to the value whose DER is canon, is
 * not canon: CPNS_ERR_DER_CONSTRUCTED_STRING,
 * CPNS_ERR_DER_NON_MINIMAL_INTEGER, CPNS_ERR_EXTENSION_PRESENT or
 * CPNS_ERR_DER_NON_CANONICAL.
 */
int cpnsi_der_diagnose(const uint8_t *input, size_t input_len, const uint8_t *canon,
                       size_t canon_len);

/**
 * Converts a decoded asn1c value into the caller's plain struct. Must fail
 * with CPNS_ERR_CONSTRAINT on every value asn_check_constraints rejects
 * (the strict decode runs that walk only when this fails otherwise).
 */
typedef int (*cpnsi_from_asn_fn)(void *out, const void *asn);

/** Writes the canonical DER of a plain struct into scratch (der_writer.c). */
typedef int (*cpnsi_write_plain_fn)(const void *plain, uint8_t scratch[CPNS_PDU_MAX_ENCODED],
                                    const uint8_t **der, size_t *len);

/** Returns 0 if a TLV with this first identifier octet may be decoded. */
typedef int (*cpnsi_outer_tag_fn)(uint8_t tag);

/**
 * The strict pipeline (codec.h, cpns_pdu_decode) for one asn1c type:
 * to_plain runs before the decoded value is freed, inside the budget;
 * write_plain re-encodes the plain result for the canonical comparison.
 */
int cpnsi_strict_decode(asn_TYPE_descriptor_t *td, const uint8_t *in, size_t inlen,
                        const cpns_decode_limits *limits, cpnsi_outer_tag_fn outer_tag,
                        cpnsi_from_asn_fn to_plain, cpnsi_write_plain_fn write_plain, void *out);

/** DER-encodes a value after asn_check_constraints. */
int cpnsi_encode(asn_TYPE_descriptor_t *td, const void *value, uint8_t *out, size_t outlen,
                 size_t *written);

/* Field conversions shared by pdu.c and transcript.c. */
int cpnsi_check_text(size_t len, size_t max);
int cpnsi_suite_list_from_asn(int32_t *out, cpns_suite_wide *wide, size_t *out_len,
                              const void *list);
/** Checks a plain offeredSuites list (1..8 values, cpns_suite_wide's rules): 0 or
 * CPNS_ERR_CONSTRAINT. */
int cpnsi_suite_list_check(const int32_t *suites, const cpns_suite_wide *wide, size_t n);
int cpnsi_octets_from_asn(uint8_t *out, size_t len, const void *octet_string);
int cpnsi_text_from_asn(uint8_t *out, size_t *out_len, size_t max, const void *octet_string);

/* Backing store for an offeredSuites list (of ENUMERATED_t) built for encoding. */
typedef struct cpnsi_suite_storage {
  ENUMERATED_t values[CPNS_MAX_OFFERED_SUITES];
  ENUMERATED_t *ptrs[CPNS_MAX_OFFERED_SUITES];
  uint8_t small[CPNS_MAX_OFFERED_SUITES][4]; /* contents of the int32_t values */
} cpnsi_suite_storage;

void cpnsi_octets_to_asn(void *octet_string, const uint8_t *buf, size_t len);
int cpnsi_suite_list_to_asn(void *list, cpnsi_suite_storage *st, const int32_t *suites,
                            const cpns_suite_wide *wide, size_t n);
int cpnsi_kdf_to_asn(KdfParams_t *k, const cpns_kdf_params *p);
int cpnsi_kdf_check(const cpns_kdf_params *p);
int cpnsi_kdf_from_asn(cpns_kdf_params *p, const KdfParams_t *k);
int cpnsi_version_from_asn(uint32_t *out, long v);
int cpnsi_mode_from_asn(cpns_mode *out, long v);
/** 1 if v is a Suite of the module (1, or 2 from v2 on, §3), else 0. */
int cpnsi_suite_known(long v);
int cpnsi_suite_from_asn(cpns_suite *out, long v);

/**
 * Copies n octets of a field (identifiers, nonces: tens of octets) without
 * a libc call, sixteen at a time with the last block overlapping the one
 * before, and returns the OR of every word copied, so that a caller can
 * test all octets' high bits at once (ASCII). dst and src do not overlap.
 * The calls to memcpy it replaces were a tenth of a small PDU's strict
 * decode beyond the plain one.
 */
static inline uint64_t cpnsi_copy_field(uint8_t *dst, const uint8_t *src, size_t n) {
  uint64_t acc = 0, w[2];
  uint32_t h;
  size_t i;
  if (n >= 16) { /* sixteen at a time, the last sixteen overlapping */
    for (i = 0;; i += 16) {
      if (i + 16 > n)
        i = n - 16;
      memcpy(w, src + i, 16);
      memcpy(dst + i, w, 16);
      acc |= w[0] | w[1];
      if (i + 16 == n)
        break;
    }
  } else if (n >= 8) {
    memcpy(w, src, 8);
    memcpy(w + 1, src + n - 8, 8);
    memcpy(dst, w, 8);
    memcpy(dst + n - 8, w + 1, 8);
    acc = w[0] | w[1];
  } else if (n >= 4) {
    memcpy(&h, src, 4);
    memcpy(dst, &h, 4);
    acc = h;
    memcpy(&h, src + n - 4, 4);
    memcpy(dst + n - 4, &h, 4);
    acc |= h;
  } else {
    for (i = 0; i < n; i++)
      acc |= dst[i] = src[i];
  }
  return acc;
}

/** memset(p, 0, n) through libc, never inlined (mem.c says why). */
void cpnsi_zero(void *p, size_t n);

/* Resolves the generated type descriptors once (cpns_init and first use). */
void cpnsi_codec_once(void);

#endif /* CPNS_CODEC_CODEC_INTERNAL_H */
