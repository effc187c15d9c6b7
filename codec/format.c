/* cpns_pdu_format and cpns_result_name: readable text for tools and logs. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "codec/codec_internal.h"

const char *cpns_result_name(int result) {
  switch (result) {
  case CPNS_RESULT_SUCCESS: return "success";
  case CPNS_RESULT_AUTHENTICATION_FAILED: return "authenticationFailed";
  case CPNS_RESULT_UNSUPPORTED_VERSION: return "unsupportedVersion";
  case CPNS_RESULT_UNSUPPORTED_SUITE: return "unsupportedSuite";
  case CPNS_RESULT_BAD_REQUEST: return "badRequest";
  case CPNS_RESULT_ENTITY_CONFLICT: return "entityConflict";
  case CPNS_RESULT_TRY_LATER: return "tryLater";
  case CPNS_RESULT_SERVER_ERROR: return "serverError";
  }
  return "unknown";
}

static const char *mode_name(int mode) {
  switch (mode) {
  case CPNS_MODE_PN_GW: return "pnGw";
  case CPNS_MODE_PNE_PLUS_PN_GW: return "pnePlusPnGw";
  }
  return "unknown";
}

static const char *suite_name(int32_t suite) {
  switch (suite) {
  case CPNS_SUITE_ARGON2ID_HMACSHA256_XCHACHA20POLY1305:
    return "argon2id-hmacsha256-xchacha20poly1305";
  case CPNS_SUITE_OPAQUE3DH_RISTRETTO255_SHA512_ARGON2ID:
    return "opaque3dh-ristretto255-sha512-argon2id";
  }
  return "unknown";
}

/* Appends to a bounded string; remembers overflow instead of failing early. */
typedef struct text_out {
  char *buf;
  size_t cap, len;
  int overflow;
} text_out;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void
put(text_out *o, const char *fmt, ...) {
  va_list ap;
  int n;
  if (o->overflow)
    return;
  va_start(ap, fmt);
  n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= o->cap - o->len) {
    o->overflow = 1;
    return;
  }
  o->len += (size_t)n;
}

static void put_hex(text_out *o, const char *name, const uint8_t *p, size_t n) {
  size_t i;
  put(o, "%s: ", name);
  for (i = 0; i < n; i++)
    put(o, "%02x", p[i]);
  put(o, "\n");
}

/* Text fields are untrusted: printable ASCII as is, the rest as \xHH. */
static void put_text(text_out *o, const char *name, const uint8_t *p, size_t n) {
  size_t i;
  put(o, "%s: \"", name);
  for (i = 0; i < n; i++) {
    if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\')
      put(o, "%c", p[i]);
    else
      put(o, "\\x%02x", p[i]);
  }
  put(o, "\"\n");
}

/* A value outside int32_t shows as its two's complement contents in hex. */
static void put_suites(text_out *o, const int32_t *s, const cpns_suite_wide *wide, size_t n) {
  size_t i, j, used = 0;
  put(o, "offeredSuites:");
  for (i = 0; i < n && i < CPNS_MAX_OFFERED_SUITES; i++) {
    size_t len = wide->len[i];
    if (len == 0 || len > CPNS_SUITE_WIDE_OCTETS_MAX - used) {
      put(o, " %ld(%s)", (long)s[i], suite_name(s[i]));
      continue;
    }
    put(o, " 0x");
    for (j = 0; j < len; j++)
      put(o, "%02x", wide->octets[used + j]);
    put(o, "(unknown)");
    used += len;
  }
  put(o, "\n");
}

static size_t clamp(size_t len, size_t max) { return len < max ? len : max; }

static void put_kdf(text_out *o, const cpns_kdf_params *k) {
  put_hex(o, "kdfParams.salt", k->salt, CPNS_SALT_LEN);
  put(o, "kdfParams.opsLimit: %lu\n", (unsigned long)k->ops_limit);
  put(o, "kdfParams.memLimitKiB: %lu\n", (unsigned long)k->mem_limit_kib);
}

int cpns_pdu_format(const cpns_pdu *pdu, char *out, size_t outlen) {
  text_out o = {out, outlen, 0, 0};
  if (!pdu || !out)
    return CPNS_ERR_INVALID_ARGUMENT;
  if (outlen == 0)
    return CPNS_ERR_BUFFER_TOO_SMALL;
  out[0] = '\0';
  switch (pdu->type) {
  case CPNS_PDU_KEY_REQUEST: {
    const cpns_key_request *r = &pdu->u.key_request;
    put(&o, "pdu: keyRequest\nversion: %lu\n", (unsigned long)r->version);
    put_text(&o, "entityId", r->entity_id, clamp(r->entity_id_len, CPNS_ENTITY_ID_MAX));
    put_text(&o, "userId", r->user_id, clamp(r->user_id_len, CPNS_USER_ID_MAX));
    put(&o, "mode: %d(%s)\n", (int)r->mode, mode_name((int)r->mode));
    put_hex(&o, "gatewayNonce", r->gateway_nonce, CPNS_NONCE_LEN);
    put_suites(&o, r->offered_suites, &r->offered_suites_wide, r->offered_suites_len);
    if (r->has_response) {
      put_hex(&o, "response.serverNonce", r->server_nonce, CPNS_NONCE_LEN);
      put_hex(&o, "response.clientProof", r->client_proof, CPNS_PROOF_LEN);
    } else {
      put(&o, "response: absent\n");
    }
    /* v2 fields only when present: a v1 PDU prints as it always did. */
    if (r->has_ke1) {
      put_hex(&o, "ke1.blindedMessage", r->ke1.blinded_message, CPNS_OPAQUE_ELEMENT_LEN);
      put_hex(&o, "ke1.clientPublicKeyshare", r->ke1.client_public_keyshare,
              CPNS_OPAQUE_ELEMENT_LEN);
    }
    if (r->has_ke3)
      put_hex(&o, "ke3", r->ke3, CPNS_OPAQUE_MAC_LEN);
    break;
  }
  case CPNS_PDU_KEY_CHALLENGE: {
    const cpns_key_challenge *c = &pdu->u.key_challenge;
    put(&o, "pdu: keyChallenge\nversion: %lu\n", (unsigned long)c->version);
    put_text(&o, "realm", c->realm, clamp(c->realm_len, CPNS_REALM_MAX));
    put_hex(&o, "serverNonce", c->server_nonce, CPNS_NONCE_LEN);
    put(&o, "suite: %d(%s)\n", (int)c->suite, suite_name((int32_t)c->suite));
    put_kdf(&o, &c->kdf);
    if (c->has_ke2) {
      const cpns_opaque_ke2 *k = &c->ke2;
      put_hex(&o, "ke2.evaluatedMessage", k->evaluated_message, CPNS_OPAQUE_ELEMENT_LEN);
      put_hex(&o, "ke2.maskingNonce", k->masking_nonce, CPNS_OPAQUE_NONCE_LEN);
      put_hex(&o, "ke2.maskedResponse", k->masked_response, CPNS_OPAQUE_MASKED_RESPONSE_LEN);
      put_hex(&o, "ke2.serverPublicKeyshare", k->server_public_keyshare, CPNS_OPAQUE_ELEMENT_LEN);
      put_hex(&o, "ke2.serverMac", k->server_mac, CPNS_OPAQUE_MAC_LEN);
    }
    break;
  }
  case CPNS_PDU_KEY_DELIVERY: {
    const cpns_key_delivery *d = &pdu->u.key_delivery;
    put(&o, "pdu: keyDelivery\nversion: %lu\n", (unsigned long)d->version);
    put(&o, "result: %d(%s)\n", (int)d->result, cpns_result_name((int)d->result));
    put_text(&o, "entityId", d->entity_id, clamp(d->entity_id_len, CPNS_ENTITY_ID_MAX));
    put_text(&o, "userId", d->user_id, clamp(d->user_id_len, CPNS_USER_ID_MAX));
    if (d->has_assignment) {
      put_hex(&o, "assignment.keyId", d->assignment.key_id, CPNS_KEY_ID_LEN);
      put_hex(&o, "assignment.serverSignature", d->assignment.server_signature, CPNS_SIGNATURE_LEN);
      put_hex(&o, "assignment.aeadNonce", d->assignment.aead_nonce, CPNS_AEAD_NONCE_LEN);
      put_hex(&o, "assignment.wrappedEUKey", d->assignment.wrapped_eukey, CPNS_WRAPPED_EUKEY_LEN);
    } else {
      put(&o, "assignment: absent\n");
    }
    break;
  }
  default: return CPNS_ERR_INVALID_ARGUMENT;
  }
  if (o.overflow) {
    out[0] = '\0';
    return CPNS_ERR_BUFFER_TOO_SMALL;
  }
  return 0;
}
