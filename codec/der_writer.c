/*
 * Direct DER writer for the v1 and v2 PDUs and AuthTranscript. asn1c's DER encoder
 * measures every nested member again at each level; this writer fills the
 * buffer backwards in one pass, so each length is known when its header is
 * written. Its output is tested (tests/test_codec.c, fuzz/fuzz_pdu.c) to be
 * byte-identical to asn1c's der_encode of the same value, which stays the
 * reference (cpnsi_*_encode_asn1c).
 *
 * Callers have checked every field against the module (pdu.c, transcript.c).
 */
#include <string.h>

#include "codec/codec_internal.h"
#include "codec/der_writer.h"

/* Writes backwards from the end of buf. Room is checked once per TLV; after
 * a failed check pos is OVERFLOW and every later write is skipped. */
typedef struct rev {
  uint8_t *buf;
  size_t pos;
} rev;

/* The per-TLV steps are a few stores each: inlined, they cost less than the
 * calls around them did. */
#if defined(__GNUC__)
#define TLV_STEP static inline __attribute__((always_inline))
#else
#define TLV_STEP static inline
#endif

#define OVERFLOW ((size_t)-1)
#define MAX_HEADER 6 /* tag, 0x84, four length octets */

TLV_STEP int room(rev *w, size_t n) {
  if (w->pos == OVERFLOW || w->pos < n) {
    w->pos = OVERFLOW;
    return 0;
  }
  return 1;
}

/* Identifier and length octets of a TLV whose contents end at end. */
TLV_STEP void put_header(rev *w, uint8_t tag, size_t end) {
  uint8_t *p;
  size_t len;
  if (!room(w, MAX_HEADER))
    return;
  p = w->buf + w->pos;
  len = end - w->pos;
  if (len < 0x80) {
    *--p = (uint8_t)len;
  } else {
    uint8_t n = 0;
    while (len) {
      *--p = (uint8_t)len;
      len >>= 8;
      n++;
    }
    *--p = (uint8_t)(0x80 | n);
  }
  *--p = tag;
  w->pos = (size_t)(p - w->buf);
}

TLV_STEP void put_octets(rev *w, uint8_t tag, const uint8_t *p, size_t n) {
  size_t end = w->pos;
  if (!room(w, n))
    return;
  w->pos -= n;
  memcpy(w->buf + w->pos, p, n);
  put_header(w, tag, end);
}

/* INTEGER / ENUMERATED: minimal two's complement, least significant first. */
TLV_STEP void put_integer(rev *w, uint8_t tag, long v) {
  size_t end = w->pos;
  unsigned long u = (unsigned long)v;
  const unsigned long sign = v < 0 ? ~0UL : 0UL;
  uint8_t *p;
  if (!room(w, sizeof(long) + 1 + MAX_HEADER))
    return;
  p = w->buf + w->pos;
  if (u < 0x80) { /* most fields (version, enumerations): one octet */
    p[-1] = (uint8_t)u;
    p[-2] = 1;
    p[-3] = tag;
    w->pos -= 3;
    return;
  }
  for (;;) {
    uint8_t b = (uint8_t)u;
    *--p = b;
    u = (u >> 8) | (sign & ~(~0UL >> 8));
    /* Done once the rest is the sign extension of this octet's top bit. */
    if (u == sign && (b & 0x80) == (sign & 0x80))
      break;
  }
  w->pos = (size_t)(p - w->buf);
  put_header(w, tag, end);
}

/* Values outside int32_t are written as they were received (cpns_suite_wide). */
static void put_suites(rev *w, uint8_t tag, const int32_t *s, const cpns_suite_wide *wide,
                       size_t n) {
  size_t end = w->pos, i, used = 0;
  for (i = 0; i < n; i++)
    used += wide->len[i];
  for (i = n; i > 0; i--) {
    if (wide->len[i - 1] != 0) {
      used -= wide->len[i - 1];
      put_octets(w, 0x0a, wide->octets + used, wide->len[i - 1]);
    } else {
      put_integer(w, 0x0a, s[i - 1]);
    }
  }
  put_header(w, tag, end);
}

static void put_kdf(rev *w, uint8_t tag, const cpns_kdf_params *k) {
  size_t end = w->pos;
  put_integer(w, 0x82, (long)k->mem_limit_kib);
  put_integer(w, 0x81, (long)k->ops_limit);
  put_octets(w, 0x80, k->salt, CPNS_SALT_LEN);
  put_header(w, tag, end);
}

static void put_request(rev *w, const cpns_key_request *r) {
  size_t end = w->pos;
  if (r->has_ke3)
    put_octets(w, 0x88, r->ke3, CPNS_OPAQUE_MAC_LEN);
  if (r->has_ke1) {
    size_t kend = w->pos;
    put_octets(w, 0x81, r->ke1.client_public_keyshare, CPNS_OPAQUE_ELEMENT_LEN);
    put_octets(w, 0x80, r->ke1.blinded_message, CPNS_OPAQUE_ELEMENT_LEN);
    put_header(w, 0xa7, kend);
  }
  if (r->has_response) {
    size_t rend = w->pos;
    put_octets(w, 0x81, r->client_proof, CPNS_PROOF_LEN);
    put_octets(w, 0x80, r->server_nonce, CPNS_NONCE_LEN);
    put_header(w, 0xa6, rend);
  }
  put_suites(w, 0xa5, r->offered_suites, &r->offered_suites_wide, r->offered_suites_len);
  put_octets(w, 0x84, r->gateway_nonce, CPNS_NONCE_LEN);
  put_integer(w, 0x83, (long)r->mode);
  put_octets(w, 0x82, r->user_id, r->user_id_len);
  put_octets(w, 0x81, r->entity_id, r->entity_id_len);
  put_integer(w, 0x80, (long)r->version);
  put_header(w, 0xa0, end);
}

static void put_challenge(rev *w, const cpns_key_challenge *c) {
  size_t end = w->pos;
  if (c->has_ke2) {
    const cpns_opaque_ke2 *k = &c->ke2;
    size_t kend = w->pos;
    put_octets(w, 0x84, k->server_mac, CPNS_OPAQUE_MAC_LEN);
    put_octets(w, 0x83, k->server_public_keyshare, CPNS_OPAQUE_ELEMENT_LEN);
    put_octets(w, 0x82, k->masked_response, CPNS_OPAQUE_MASKED_RESPONSE_LEN);
    put_octets(w, 0x81, k->masking_nonce, CPNS_OPAQUE_NONCE_LEN);
    put_octets(w, 0x80, k->evaluated_message, CPNS_OPAQUE_ELEMENT_LEN);
    put_header(w, 0xa5, kend);
  }
  put_kdf(w, 0xa4, &c->kdf);
  put_integer(w, 0x83, (long)c->suite);
  put_octets(w, 0x82, c->server_nonce, CPNS_NONCE_LEN);
  put_octets(w, 0x81, c->realm, c->realm_len);
  put_integer(w, 0x80, (long)c->version);
  put_header(w, 0xa1, end);
}

static void put_delivery(rev *w, const cpns_key_delivery *d) {
  size_t end = w->pos;
  if (d->has_assignment) {
    const cpns_key_assignment *a = &d->assignment;
    size_t aend = w->pos;
    put_octets(w, 0x83, a->wrapped_eukey, CPNS_WRAPPED_EUKEY_LEN);
    put_octets(w, 0x82, a->aead_nonce, CPNS_AEAD_NONCE_LEN);
    put_octets(w, 0x81, a->server_signature, CPNS_SIGNATURE_LEN);
    put_octets(w, 0x80, a->key_id, CPNS_KEY_ID_LEN);
    put_header(w, 0xa4, aend);
  }
  put_octets(w, 0x83, d->user_id, d->user_id_len);
  put_octets(w, 0x82, d->entity_id, d->entity_id_len);
  put_integer(w, 0x81, (long)d->result);
  put_integer(w, 0x80, (long)d->version);
  put_header(w, 0xa2, end);
}

static void put_transcript(rev *w, const cpns_auth_transcript *t) {
  size_t end = w->pos;
  put_kdf(w, 0xa9, &t->kdf);
  put_octets(w, 0x88, t->server_nonce, CPNS_NONCE_LEN);
  put_octets(w, 0x87, t->gateway_nonce, CPNS_NONCE_LEN);
  put_integer(w, 0x86, (long)t->mode);
  put_octets(w, 0x85, t->user_id, t->user_id_len);
  put_octets(w, 0x84, t->entity_id, t->entity_id_len);
  put_octets(w, 0x83, t->realm, t->realm_len);
  put_integer(w, 0x82, (long)t->suite);
  put_suites(w, 0xa1, t->offered_suites, &t->offered_suites_wide, t->offered_suites_len);
  put_integer(w, 0x80, (long)t->version);
  put_header(w, 0x30, end);
}

/* Where the finished encoding starts in scratch. */
static int finish(const rev *w, size_t cap, const uint8_t **der, size_t *len) {
  if (w->pos == OVERFLOW)
    return CPNS_ERR_ENCODE; /* above any v1 or v2 bound */
  *der = w->buf + w->pos;
  *len = cap - w->pos;
  return 0;
}

int cpnsi_der_write_pdu_in(const cpns_pdu *pdu, uint8_t scratch[CPNS_PDU_MAX_ENCODED],
                           const uint8_t **der, size_t *len) {
  rev w = {scratch, CPNS_PDU_MAX_ENCODED};
  switch (pdu->type) {
  case CPNS_PDU_KEY_REQUEST: put_request(&w, &pdu->u.key_request); break;
  case CPNS_PDU_KEY_CHALLENGE: put_challenge(&w, &pdu->u.key_challenge); break;
  case CPNS_PDU_KEY_DELIVERY: put_delivery(&w, &pdu->u.key_delivery); break;
  default: return CPNS_ERR_INVALID_ARGUMENT;
  }
  return finish(&w, CPNS_PDU_MAX_ENCODED, der, len);
}

int cpnsi_der_write_transcript_in(const cpns_auth_transcript *t,
                                  uint8_t scratch[CPNS_PDU_MAX_ENCODED], const uint8_t **der,
                                  size_t *len) {
  rev w = {scratch, CPNS_PDU_MAX_ENCODED};
  put_transcript(&w, t);
  return finish(&w, CPNS_PDU_MAX_ENCODED, der, len);
}

static int copy_out(int rv, const uint8_t *der, size_t len, uint8_t *out, size_t outlen,
                    size_t *written) {
  if (rv < 0)
    return rv;
  if (len > outlen)
    return CPNS_ERR_BUFFER_TOO_SMALL;
  memcpy(out, der, len);
  *written = len;
  return 0;
}

int cpnsi_der_write_pdu(const cpns_pdu *pdu, uint8_t *out, size_t outlen, size_t *written) {
  uint8_t scratch[CPNS_PDU_MAX_ENCODED];
  const uint8_t *der = NULL;
  size_t len = 0;
  int rv = cpnsi_der_write_pdu_in(pdu, scratch, &der, &len);
  return copy_out(rv, der, len, out, outlen, written);
}

int cpnsi_der_write_transcript(const cpns_auth_transcript *t, uint8_t *out, size_t outlen,
                               size_t *written) {
  uint8_t scratch[CPNS_PDU_MAX_ENCODED];
  const uint8_t *der = NULL;
  size_t len = 0;
  int rv = cpnsi_der_write_transcript_in(t, scratch, &der, &len);
  return copy_out(rv, der, len, out, outlen, written);
}
