/*
 * Codec benchmark: ns per cpns_pdu_encode, per strict cpns_pdu_decode, and
 * per plain asn1c ber_decode (+ free) of the same bytes, for each PDU shape:
 * once through libcpns's patched asn1c runtime (codec/gen) and once through
 * the stock Debian asn1c 0.9.28 runtime (bench/stock-asn1c.sh), which is the
 * plain decode an asn1c user gets. The strict decode does strictly more
 * (pre-check, constraints, re-encode and compare); the target is that it is
 * no slower than either plain decode. Each figure is the best of ROUNDS
 * interleaved rounds.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cpns/codec.h>

#include "AuthTranscript.h"
#include "CpnsPdu.h"
#include "ber_decoder.h"
#include "bench/stock_asn1c.h"

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void fill(uint8_t *p, size_t n, uint8_t seed) {
  size_t i;
  for (i = 0; i < n; i++)
    p[i] = (uint8_t)(seed + i * 13);
}

static volatile int sink;

typedef struct shape {
  const char *name;
  cpns_pdu pdu;
  int transcript;
  cpns_auth_transcript t;
} shape;

/* Defaults; `bench_codec ITER ROUNDS [SHAPE]` shortens a run under
 * callgrind, SHAPE (0..7) picking one row. */
static int ITER = 50000;
static int ROUNDS = 7; /* the best round counts: the machine may be shared */

static double bench_encode(const shape *s) {
  uint8_t buf[CPNS_PDU_MAX_ENCODED];
  size_t n;
  double t0 = now_ns();
  int i;
  for (i = 0; i < ITER; i++)
    sink += s->transcript ? cpns_auth_transcript_encode(&s->t, buf, sizeof(buf), &n)
                          : cpns_pdu_encode(&s->pdu, buf, sizeof(buf), &n);
  return (now_ns() - t0) / ITER;
}

static double bench_strict(const shape *s, const uint8_t *b, size_t n) {
  cpns_pdu p;
  cpns_auth_transcript t;
  double t0 = now_ns();
  int i;
  for (i = 0; i < ITER; i++)
    sink += s->transcript ? cpns_auth_transcript_decode(&t, b, n, NULL)
                          : cpns_pdu_decode(&p, b, n, NULL);
  return (now_ns() - t0) / ITER;
}

static double bench_plain(const shape *s, const uint8_t *b, size_t n) {
  asn_TYPE_descriptor_t *td = s->transcript ? &asn_DEF_AuthTranscript : &asn_DEF_CpnsPdu;
  double t0 = now_ns();
  int i;
  for (i = 0; i < ITER; i++) {
    void *v = NULL;
    asn_dec_rval_t rv = ber_decode(NULL, td, &v, b, n);
    sink += rv.code;
    td->free_struct(td, v, 0);
  }
  return (now_ns() - t0) / ITER;
}

static double bench_stock(const shape *s, const uint8_t *b, size_t n) {
  size_t consumed;
  double t0 = now_ns();
  int i;
  for (i = 0; i < ITER; i++)
    sink += cpnsbench_stock_decode(s->transcript, b, n, &consumed);
  return (now_ns() - t0) / ITER;
}

int main(int argc, char **argv) {
  static shape shapes[8];
  cpns_key_request *r;
  cpns_key_challenge *c;
  cpns_key_delivery *d;
  size_t i;
  int only = -1;
  if (argc > 1)
    ITER = atoi(argv[1]);
  if (argc > 2)
    ROUNDS = atoi(argv[2]);
  if (argc > 3)
    only = atoi(argv[3]);
  if (ITER < 1 || ROUNDS < 1) {
    fprintf(stderr, "usage: bench_codec [ITERATIONS [ROUNDS]]\n");
    return 2;
  }
  if (cpns_init() != 0)
    return 1;

  shapes[0].name = "keyRequest (first)";
  shapes[0].pdu.type = CPNS_PDU_KEY_REQUEST;
  r = &shapes[0].pdu.u.key_request;
  r->version = 1;
  memcpy(r->entity_id, "urn:dev:mac:0011223344556677", 28);
  r->entity_id_len = 28;
  memcpy(r->user_id, "alice@example.org", 17);
  r->user_id_len = 17;
  fill(r->gateway_nonce, 32, 1);
  r->offered_suites_len = 2;
  r->offered_suites[0] = 1;
  r->offered_suites[1] = 2;
  shapes[1] = shapes[0];
  shapes[1].name = "keyRequest (second)";
  shapes[1].pdu.u.key_request.has_response = 1;
  fill(shapes[1].pdu.u.key_request.server_nonce, 32, 2);
  fill(shapes[1].pdu.u.key_request.client_proof, 32, 3);

  shapes[2].name = "keyChallenge";
  shapes[2].pdu.type = CPNS_PDU_KEY_CHALLENGE;
  c = &shapes[2].pdu.u.key_challenge;
  c->version = 1;
  memcpy(c->realm, "example.org", 11);
  c->realm_len = 11;
  fill(c->server_nonce, 32, 4);
  c->suite = CPNS_SUITE_ARGON2ID_HMACSHA256_XCHACHA20POLY1305;
  fill(c->kdf.salt, 16, 5);
  c->kdf.ops_limit = 3;
  c->kdf.mem_limit_kib = 65536;

  shapes[3].name = "keyDelivery (refused)";
  shapes[3].pdu.type = CPNS_PDU_KEY_DELIVERY;
  d = &shapes[3].pdu.u.key_delivery;
  d->version = 1;
  d->result = CPNS_RESULT_AUTHENTICATION_FAILED;
  memcpy(d->entity_id, r->entity_id, 28);
  d->entity_id_len = 28;
  memcpy(d->user_id, r->user_id, 17);
  d->user_id_len = 17;
  shapes[4] = shapes[3];
  shapes[4].name = "keyDelivery (success)";
  d = &shapes[4].pdu.u.key_delivery;
  d->result = CPNS_RESULT_SUCCESS;
  d->has_assignment = 1;
  fill(d->assignment.key_id, 16, 6);
  fill(d->assignment.server_signature, 32, 7);
  fill(d->assignment.aead_nonce, 24, 8);
  fill(d->assignment.wrapped_eukey, 48, 9);

  shapes[5].name = "AuthTranscript";
  shapes[5].transcript = 1;
  if (cpns_auth_transcript_from(&shapes[5].t, &shapes[1].pdu.u.key_request,
                                &shapes[2].pdu.u.key_challenge) != 0)
    return 1;

  /* Protocol v2, suite 2: the PDUs that carry the OPAQUE messages. */
  shapes[6] = shapes[0];
  shapes[6].name = "keyRequest (v2 ke1)";
  r = &shapes[6].pdu.u.key_request;
  r->version = 2;
  r->offered_suites[0] = CPNS_SUITE_OPAQUE3DH_RISTRETTO255_SHA512_ARGON2ID;
  r->offered_suites[1] = CPNS_SUITE_ARGON2ID_HMACSHA256_XCHACHA20POLY1305;
  r->has_ke1 = 1;
  fill(r->ke1.blinded_message, CPNS_OPAQUE_ELEMENT_LEN, 10);
  fill(r->ke1.client_public_keyshare, CPNS_OPAQUE_ELEMENT_LEN, 11);
  shapes[7] = shapes[2];
  shapes[7].name = "keyChallenge (v2 ke2)";
  c = &shapes[7].pdu.u.key_challenge;
  c->version = 2;
  c->suite = CPNS_SUITE_OPAQUE3DH_RISTRETTO255_SHA512_ARGON2ID;
  c->has_ke2 = 1;
  fill(c->ke2.evaluated_message, CPNS_OPAQUE_ELEMENT_LEN, 12);
  fill(c->ke2.masking_nonce, CPNS_OPAQUE_NONCE_LEN, 13);
  fill(c->ke2.masked_response, CPNS_OPAQUE_MASKED_RESPONSE_LEN, 14);
  fill(c->ke2.server_public_keyshare, CPNS_OPAQUE_ELEMENT_LEN, 15);
  fill(c->ke2.server_mac, CPNS_OPAQUE_MAC_LEN, 16);

  printf("%-22s %6s %9s %10s %13s %11s %9s %9s\n", "PDU", "octets", "encode ns", "strict ns",
         "patched ns", "stock ns", "/patched", "/stock");
  for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
    uint8_t buf[CPNS_PDU_MAX_ENCODED];
    size_t n;
    double enc, strict, plain, stock;
    size_t consumed = 0;
    if (only >= 0 && (size_t)only != i)
      continue;
    int rc = shapes[i].transcript ? cpns_auth_transcript_encode(&shapes[i].t, buf, sizeof(buf), &n)
                                  : cpns_pdu_encode(&shapes[i].pdu, buf, sizeof(buf), &n);
    if (rc != 0) {
      fprintf(stderr, "%s: encode failed: %s\n", shapes[i].name, cpns_strerror(rc));
      return 1;
    }
    /* Both plain decoders must accept the bytes, or they measure nothing. */
    if (cpnsbench_stock_decode(shapes[i].transcript, buf, n, &consumed) != 0 || consumed != n) {
      fprintf(stderr, "%s: stock asn1c decode failed\n", shapes[i].name);
      return 1;
    }
    {
      int k;
      enc = strict = plain = stock = 1e30;
      for (k = 0; k < ROUNDS; k++) {
        double e = bench_encode(&shapes[i]), s = bench_strict(&shapes[i], buf, n),
               p = bench_plain(&shapes[i], buf, n), o = bench_stock(&shapes[i], buf, n);
        if (e < enc)
          enc = e;
        if (s < strict)
          strict = s;
        if (p < plain)
          plain = p;
        if (o < stock)
          stock = o;
      }
    }
    printf("%-22s %6zu %9.0f %10.0f %13.0f %11.0f %9.2f %9.2f\n", shapes[i].name, n, enc, strict,
           plain, stock, strict / plain, strict / stock);
  }
  return sink == 42 ? 1 : 0;
}
