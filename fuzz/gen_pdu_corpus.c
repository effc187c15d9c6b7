/*
 * Writes the seed corpus of fuzz/fuzz_pdu: the canonical DER of every PDU
 * shape of v1 and v2 (optional parts and extension additions present and
 * absent, sizes at their edges) and of an AuthTranscript of each version,
 * plus a few near-misses for each non-DER rule and each v2 rule. Output is
 * deterministic; `make pdu-corpus` rewrites fuzz/corpus/pdu/.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cpns/codec.h>

static const char *outdir;

static void write_seed(const char *name, const uint8_t *b, size_t n) {
  char path[4096];
  FILE *f;
  snprintf(path, sizeof(path), "%s/%s", outdir, name);
  f = fopen(path, "wb");
  if (!f || fwrite(b, 1, n, f) != n || fclose(f) != 0) {
    perror(path);
    exit(1);
  }
}

static void fill(uint8_t *p, size_t n, uint8_t seed) {
  size_t i;
  for (i = 0; i < n; i++)
    p[i] = (uint8_t)(seed + i * 13);
}

static size_t put_pdu(const char *name, const cpns_pdu *p, uint8_t *buf) {
  size_t n;
  if (cpns_pdu_encode(p, buf, CPNS_PDU_MAX_ENCODED, &n) != 0) {
    fprintf(stderr, "cannot encode %s\n", name);
    exit(1);
  }
  write_seed(name, buf, n);
  return n;
}

static cpns_pdu request(int response, size_t suites, size_t id_len) {
  cpns_pdu p;
  cpns_key_request *r = &p.u.key_request;
  size_t i;
  memset(&p, 0, sizeof(p));
  p.type = CPNS_PDU_KEY_REQUEST;
  r->version = 1;
  memcpy(r->entity_id, "urn:uuid:", 9);
  memset(r->entity_id + 9, 'a', id_len - 9);
  r->entity_id_len = id_len;
  memcpy(r->user_id, "user@example.org", 16);
  r->user_id_len = 16;
  r->mode = CPNS_MODE_PN_GW;
  fill(r->gateway_nonce, CPNS_NONCE_LEN, 1);
  r->offered_suites_len = suites;
  for (i = 0; i < suites; i++)
    r->offered_suites[i] = (int32_t)(i + 1);
  if (response) {
    r->has_response = 1;
    fill(r->server_nonce, CPNS_NONCE_LEN, 2);
    fill(r->client_proof, CPNS_PROOF_LEN, 3);
  }
  return p;
}

static cpns_pdu challenge(void) {
  cpns_pdu p;
  cpns_key_challenge *c = &p.u.key_challenge;
  memset(&p, 0, sizeof(p));
  p.type = CPNS_PDU_KEY_CHALLENGE;
  c->version = 1;
  memcpy(c->realm, "example.org", 11);
  c->realm_len = 11;
  fill(c->server_nonce, CPNS_NONCE_LEN, 4);
  c->suite = CPNS_SUITE_ARGON2ID_HMACSHA256_XCHACHA20POLY1305;
  fill(c->kdf.salt, CPNS_SALT_LEN, 5);
  c->kdf.ops_limit = 4096;
  c->kdf.mem_limit_kib = 4194304;
  return p;
}

static cpns_pdu delivery(cpns_result result) {
  cpns_pdu p;
  cpns_key_delivery *d = &p.u.key_delivery;
  memset(&p, 0, sizeof(p));
  p.type = CPNS_PDU_KEY_DELIVERY;
  d->version = 1;
  d->result = result;
  memcpy(d->entity_id, "urn:dev:mac:001122334455", 24);
  d->entity_id_len = 24;
  memcpy(d->user_id, "user@example.org", 16);
  d->user_id_len = 16;
  if (result == CPNS_RESULT_SUCCESS) {
    d->has_assignment = 1;
    fill(d->assignment.key_id, CPNS_KEY_ID_LEN, 6);
    fill(d->assignment.server_signature, CPNS_SIGNATURE_LEN, 7);
    fill(d->assignment.aead_nonce, CPNS_AEAD_NONCE_LEN, 8);
    fill(d->assignment.wrapped_eukey, CPNS_WRAPPED_EUKEY_LEN, 9);
  }
  return p;
}

/* The v2 PDUs of a suite-2 exchange (PROTOCOL.md §4). */
static cpns_pdu request_v2(int second) {
  cpns_pdu p = request(0, 2, 20);
  cpns_key_request *r = &p.u.key_request;
  r->version = 2;
  memcpy(r->entity_id, "urn:dev:mac:001122334455", 24); /* valid: validation says why */
  r->entity_id_len = 24;
  r->offered_suites[0] = CPNS_SUITE_OPAQUE3DH_RISTRETTO255_SHA512_ARGON2ID;
  r->offered_suites[1] = CPNS_SUITE_ARGON2ID_HMACSHA256_XCHACHA20POLY1305;
  if (second) {
    r->has_ke3 = 1;
    fill(r->ke3, CPNS_OPAQUE_MAC_LEN, 10);
  } else {
    r->has_ke1 = 1;
    fill(r->ke1.blinded_message, CPNS_OPAQUE_ELEMENT_LEN, 11);
    fill(r->ke1.client_public_keyshare, CPNS_OPAQUE_ELEMENT_LEN, 12);
  }
  return p;
}

static cpns_pdu challenge_v2(void) {
  cpns_pdu p = challenge();
  cpns_key_challenge *c = &p.u.key_challenge;
  c->version = 2;
  c->suite = CPNS_SUITE_OPAQUE3DH_RISTRETTO255_SHA512_ARGON2ID;
  c->kdf.ops_limit = 3;
  c->kdf.mem_limit_kib = 65536;
  c->has_ke2 = 1;
  fill(c->ke2.evaluated_message, CPNS_OPAQUE_ELEMENT_LEN, 13);
  fill(c->ke2.masking_nonce, CPNS_OPAQUE_NONCE_LEN, 14);
  fill(c->ke2.masked_response, CPNS_OPAQUE_MASKED_RESPONSE_LEN, 15);
  fill(c->ke2.server_public_keyshare, CPNS_OPAQUE_ELEMENT_LEN, 16);
  fill(c->ke2.server_mac, CPNS_OPAQUE_MAC_LEN, 17);
  return p;
}

/* Rewrites the outermost TLV in[0..n) with its contents cut by drop octets
 * at the end and extra appended; returns the new length in out. */
static size_t rewrap(uint8_t *out, const uint8_t *in, size_t n, size_t drop, const uint8_t *extra,
                     size_t extra_len) {
  size_t hdr = (in[1] & 0x80) ? 2 + (size_t)(in[1] & 0x7f) : 2, len = n - hdr - drop + extra_len,
         o = 0;
  uint8_t contents[CPNS_PDU_MAX_ENCODED + 16];
  memcpy(contents, in + hdr, n - hdr - drop);
  memcpy(contents + n - hdr - drop, extra, extra_len);
  out[o++] = in[0];
  if (len >= 0x100) {
    out[o++] = 0x82;
    out[o++] = (uint8_t)(len >> 8);
  } else if (len >= 0x80) {
    out[o++] = 0x81;
  }
  out[o++] = (uint8_t)len;
  memcpy(out + o, contents, len);
  return o + len;
}

static void v2_seeds(uint8_t *buf) {
  static const uint8_t unknown_9[] = {0x89, 0x01, 0x00};
  uint8_t bad[CPNS_PDU_MAX_ENCODED + 16], ke3_short[2 + 63];
  cpns_pdu first = request_v2(0), second = request_v2(1), chal = challenge_v2(), p;
  cpns_auth_transcript t;
  size_t n;
  put_pdu("v2-request-first-ke1.der", &first, buf);
  n = put_pdu("v2-request-second-ke3.der", &second, buf);
  /* An addition v2 does not define, after ke3 [8]: CPNS_ERR_EXTENSION_PRESENT. */
  write_seed("bad-v2-extension-after-ke3.der", bad, rewrap(bad, buf, n, 0, unknown_9, 3));
  /* ke3 one octet short: CPNS_ERR_CONSTRAINT. */
  ke3_short[0] = 0x88;
  ke3_short[1] = 63;
  memcpy(ke3_short + 2, second.u.key_request.ke3, 63);
  write_seed("bad-v2-ke3-short.der", bad,
             rewrap(bad, buf, n, 2 + CPNS_OPAQUE_MAC_LEN, ke3_short, sizeof(ke3_short)));
  put_pdu("v2-challenge-ke2.der", &chal, buf);
  p = delivery(CPNS_RESULT_SUCCESS);
  p.u.key_delivery.version = 2;
  put_pdu("v2-delivery-success.der", &p, buf);
  /* Suite 1 under v2: version 2, no v2 field. */
  p = first;
  p.u.key_request.has_ke1 = 0;
  p.u.key_request.has_response = 1;
  fill(p.u.key_request.server_nonce, CPNS_NONCE_LEN, 2);
  fill(p.u.key_request.client_proof, CPNS_PROOF_LEN, 3);
  put_pdu("v2-request-second-suite1.der", &p, buf);
  /* A version-1 PDU carrying a v2 field decodes; validation refuses it (§3). */
  p = first;
  p.u.key_request.version = 1;
  put_pdu("v1-request-with-ke1.der", &p, buf);
  p = chal;
  p.u.key_challenge.version = 1;
  put_pdu("v1-challenge-with-ke2.der", &p, buf);
  if (cpns_auth_transcript_from(&t, &first.u.key_request, &chal.u.key_challenge) != 0 ||
      cpns_auth_transcript_encode(&t, buf, CPNS_PDU_MAX_ENCODED, &n) != 0)
    exit(1);
  write_seed("v2-transcript.der", buf, n);
}

int main(int argc, char **argv) {
  uint8_t buf[CPNS_PDU_MAX_ENCODED + 16];
  cpns_pdu p, q;
  cpns_auth_transcript t;
  size_t n;
  int r;
  char name[64];
  if (argc != 2) {
    fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
    return 2;
  }
  outdir = argv[1];

  p = request(0, 1, 20);
  n = put_pdu("request-first.der", &p, buf);
  p = request(1, 8, 255);
  put_pdu("request-second-max.der", &p, buf);
  {
    /* Suite numbers outside int32_t (§3: ignored, kept as sent): 5 and 20 octets. */
    cpns_pdu w = request(0, 3, 20);
    cpns_suite_wide *wide = &w.u.key_request.offered_suites_wide;
    w.u.key_request.offered_suites[0] = CPNS_SUITE_WIDE;
    w.u.key_request.offered_suites[2] = CPNS_SUITE_WIDE;
    wide->len[0] = 5;
    wide->len[2] = 20;
    memset(wide->octets, 0xff, 25);
    wide->octets[0] = 0x01;
    wide->octets[1] = 0x00;
    wide->octets[5] = 0x80;
    put_pdu("request-wide-suites.der", &w, buf);
  }
  q = challenge();
  put_pdu("challenge.der", &q, buf);
  for (r = CPNS_RESULT_SUCCESS; r <= CPNS_RESULT_SERVER_ERROR; r++) {
    cpns_pdu d = delivery((cpns_result)r);
    snprintf(name, sizeof(name), "delivery-%s.der", cpns_result_name(r));
    put_pdu(name, &d, buf);
  }
  if (cpns_auth_transcript_from(&t, &p.u.key_request, &q.u.key_challenge) != 0 ||
      cpns_auth_transcript_encode(&t, buf, CPNS_PDU_MAX_ENCODED, &n) != 0)
    return 1;
  write_seed("transcript.der", buf, n);

  /* Near-misses, one per rule. */
  p = request(0, 1, 20);
  n = put_pdu("request-first.der", &p, buf);
  buf[n] = 0x00;
  write_seed("bad-trailing.der", buf, n + 1);
  buf[1] = 0x80;
  write_seed("bad-indefinite.der", buf, n);
  {
    static const uint8_t non_min_int[] = {0xa2, 0x19, 0x80, 0x02, 0x00, 0x01, 0x81, 0x01, 0x06,
                                          0x82, 0x09, 'u',  'r',  'n',  ':',  'a',  ':',  'b',
                                          ':',  'c',  0x83, 0x05, 'a',  'l',  'i',  'c',  'e'};
    static const uint8_t constructed[] = {
        0xa2, 0x1c, 0x80, 0x01, 0x01, 0x81, 0x01, 0x06, 0x82, 0x09, 'u',  'r',  'n', ':', 'a',
        ':',  'b',  ':',  'c',  0xa3, 0x09, 0x0c, 0x02, 'a',  'l',  0x0c, 0x03, 'i', 'c', 'e'};
    static const uint8_t extension[] = {0xa2, 0x1b, 0x80, 0x01, 0x01, 0x81, 0x01, 0x06, 0x82, 0x09,
                                        'u',  'r',  'n',  ':',  'a',  ':',  'b',  ':',  'c',  0x83,
                                        0x05, 'a',  'l',  'i',  'c',  'e',  0x85, 0x01, 0x00};
    static const uint8_t high_tag[] = {0xa2, 0x04, 0x9f, 0x01, 0x01, 0x01};
    write_seed("bad-non-minimal-integer.der", non_min_int, sizeof(non_min_int));
    write_seed("bad-constructed-string.der", constructed, sizeof(constructed));
    write_seed("bad-extension.der", extension, sizeof(extension));
    write_seed("bad-high-tag.der", high_tag, sizeof(high_tag));
  }
  v2_seeds(buf);
  return 0;
}
