/*
 * The strict decode pipeline shared by every top-level type, and DER
 * encoding into caller buffers. Each stage has its own error so that a
 * rejected input says why.
 */
#include <string.h>

#include "codec/codec_internal.h"
#include "der_encoder.h"
#include "ber_decoder.h"
#include "constraints.h"

/* Writes the encoding into a bounded buffer; fails once it would overflow. */
typedef struct out_buffer {
  uint8_t *buf;
  size_t cap, len;
} out_buffer;

static int write_bounded(const void *data, size_t size, void *key) {
  out_buffer *o = key;
  if (size > o->cap - o->len)
    return -1;
  memcpy(o->buf + o->len, data, size);
  o->len += size;
  return 0;
}

int cpnsi_encode(asn_TYPE_descriptor_t *td, const void *value, uint8_t *out, size_t outlen,
                 size_t *written) {
  out_buffer o = {out, outlen, 0};
  asn_enc_rval_t er;
  char errbuf[128];
  size_t errlen = sizeof(errbuf);
  if (asn_check_constraints(td, value, errbuf, &errlen) != 0)
    return CPNS_ERR_CONSTRAINT;
  /* Measure first so that a short buffer is told apart from a bad value. */
  er = der_encode(td, (void *)(uintptr_t)value, NULL, NULL);
  if (er.encoded < 0)
    return CPNS_ERR_ENCODE;
  if ((size_t)er.encoded > outlen)
    return CPNS_ERR_BUFFER_TOO_SMALL;
  er = der_encode(td, (void *)(uintptr_t)value, write_bounded, &o);
  if (er.encoded < 0 || (size_t)er.encoded != o.len)
    return CPNS_ERR_ENCODE;
  *written = o.len;
  return 0;
}

/* Maps a failed asn1c decode to the reason the scope recorded. */
static int decode_failure(const cpnsi_asn_scope *scope) {
  if (scope->stack_exceeded)
    return CPNS_ERR_STACK_BUDGET;
  if (scope->over_budget)
    return CPNS_ERR_ALLOC_BUDGET;
  if (scope->out_of_memory)
    return CPNS_ERR_NOMEM;
  return CPNS_ERR_DECODE;
}

int cpns_decode_limits_default_versioned(int limits_version, cpns_decode_limits *limits) {
  if (!limits || limits_version != CPNS_DECODE_LIMITS_V1)
    return CPNS_ERR_INVALID_ARGUMENT;
  memset(limits, 0, sizeof(*limits));
  limits->max_len = CPNS_PDU_MAX_DEFAULT;
  limits->alloc_budget = CPNS_DECODE_ALLOC_BUDGET_DEFAULT;
  limits->stack_budget = CPNS_DECODE_STACK_BUDGET_DEFAULT;
  return 0;
}

int cpnsi_strict_decode(asn_TYPE_descriptor_t *td, const uint8_t *in, size_t inlen,
                        const cpns_decode_limits *limits, cpnsi_outer_tag_fn outer_tag,
                        cpnsi_from_asn_fn to_plain, cpnsi_write_plain_fn write_plain, void *out) {
  /* The runtime measures stack use from this frame: ctx must be local. */
  asn_codec_ctx_t ctx;
  cpnsi_asn_scope scope;
  uint8_t scratch[CPNS_PDU_MAX_ENCODED];
  const uint8_t *canon = NULL;
  size_t canon_len = 0, max_len = CPNS_PDU_MAX_DEFAULT;
  size_t alloc_budget = CPNSI_DEFAULT_ALLOC_BUDGET;
  size_t stack_budget = CPNSI_DEFAULT_STACK_BUDGET;
  const cpns_mem *mem = NULL;
  void *value = NULL;
  asn_dec_rval_t dr;
  int rv;

  if (limits) {
    /* 0 is no default (cpns_decode_limits_default() fills those). */
    if (!limits->max_len || !limits->alloc_budget || !limits->stack_budget)
      return CPNS_ERR_INVALID_ARGUMENT;
    max_len = limits->max_len;
    alloc_budget = limits->alloc_budget;
    stack_budget = limits->stack_budget;
    mem = limits->mem;
  }
  if (inlen > max_len)
    return CPNS_ERR_PDU_TOO_LONG;
  rv = cpnsi_der_check(in, inlen, CPNSI_DER_MAX_DEPTH);
  if (rv < 0)
    return rv;
  rv = outer_tag(in[0]);
  if (rv < 0)
    return rv;

  memset(&ctx, 0, sizeof(ctx));
  ctx.max_stack_size = stack_budget;
  cpnsi_asn_scope_enter(&scope, mem, alloc_budget);
  dr = ber_decode(&ctx, td, &value, in, inlen);
  if (dr.code != RC_OK) {
    rv = dr.code == RC_WMORE ? CPNS_ERR_DER_TRUNCATED : decode_failure(&scope);
    goto done;
  }
  if (dr.consumed != inlen) {
    rv = CPNS_ERR_DER_TRAILING_BYTES;
    goto done;
  }
  /* Constraints, v1 rules (unknown enumerations) and the plain struct's own
   * size checks in one pass: to_plain checks every constraint of the module
   * (fields.c), so its success implies asn_check_constraints' success. The
   * generic walk runs only when to_plain fails for another reason, where a
   * constraint violation must still take precedence as it always has. */
  rv = to_plain(out, value);
  if (rv < 0) {
    char errbuf[128];
    size_t errlen = sizeof(errbuf);
    if (rv != CPNS_ERR_CONSTRAINT && asn_check_constraints(td, value, errbuf, &errlen) != 0)
      rv = CPNS_ERR_CONSTRAINT;
    goto done;
  }
  /* Then the canonical comparison, on the plain value that is returned. */
  rv = write_plain(out, scratch, &canon, &canon_len);
  if (rv < 0)
    goto done;
  if (canon_len != inlen || memcmp(canon, in, inlen) != 0)
    rv = cpnsi_der_diagnose(in, inlen, canon, canon_len);

done:
  if (value && !cpnsi_asn_scope_release_all(&scope))
    td->free_struct(td, value, 0);
  cpnsi_asn_scope_leave(&scope);
  if (rv == 0 && scope.live != 0)
    rv = CPNS_ERR_INTERNAL; /* runtime leaked */
  return rv;
}
