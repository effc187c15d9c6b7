/*
 * Writes the seed corpora of fuzz_server_session and fuzz_gateway_session:
 * real exchanges between the two engines (under the targets' deterministic
 * CSPRNG, so replays reach the same states) plus hostile variants.
 * Usage: gen_session_corpus DIR   (writes DIR/server_session/, DIR/gateway_session/)
 * Run by `make session-corpus`; the output is deterministic.
 */
#include <stdio.h>

#include "fuzz/fuzz_session_util.h"

typedef struct wire {
  size_t len;
  uint8_t bytes[CPNS_PDU_MAX_ENCODED];
} wire;

/* What crossed the wire in one exchange. */
typedef struct exchange {
  wire to_server[2];
  size_t n_to_server;
  wire to_gateway[2];
  size_t n_to_gateway;
  cpns_gateway_state gw_state;
} exchange;

typedef struct seed {
  size_t len;
  uint8_t bytes[8192];
} seed;

static cpns_credential *credential;

static void die(const char *what) {
  fprintf(stderr, "gen_session_corpus: %s\n", what);
  exit(1);
}

/* Runs a whole exchange like the targets' hosts do. server_side says whose
 * draws start at the reset: the server's (server seeds) or the gateway's. */
static void run(exchange *x, uint8_t sopts, uint8_t gopts, int server_side) {
  cpns_server_settings ss = fz_server_settings(sopts);
  cpns_gateway_settings gs = fz_gateway_settings(gopts);
  cpns_server_session *s = NULL;
  cpns_gateway *gw = NULL;
  int cred_mode = sopts & 3, store = (sopts >> 2) & 3, steps;
  memset(x, 0, sizeof *x);
  if (!server_side) {
    fz_rng_reset();
  }
  if (cpns_gateway_new(&gw, &gs, NULL, 0) != 0) {
    die("gateway_new");
  }
  if (server_side) {
    fz_rng_reset();
  }
  if (cpns_server_session_new(&s, &ss, NULL, 0) != 0) {
    die("server_session_new");
  }
  for (steps = 0; steps < 32; ++steps) {
    cpns_gateway_state g = cpns_gateway_get_state(gw);
    cpns_server_state sv = cpns_server_session_get_state(s);
    wire *w;
    if (g == CPNS_GATEWAY_SEND && sv == CPNS_SERVER_RECEIVE && x->n_to_server < 2) {
      w = &x->to_server[x->n_to_server++];
      if (cpns_gateway_write(gw, w->bytes, sizeof w->bytes, &w->len, 0) != 0) {
        die("gateway_write");
      }
      (void)cpns_server_session_read(s, w->bytes, w->len, 0);
    } else if (sv == CPNS_SERVER_SEND && g == CPNS_GATEWAY_RECEIVE && x->n_to_gateway < 2) {
      w = &x->to_gateway[x->n_to_gateway++];
      if (cpns_server_session_write(s, w->bytes, sizeof w->bytes, &w->len, 0) != 0) {
        die("server_write");
      }
      (void)cpns_gateway_read(gw, w->bytes, w->len, 0);
    } else if (sv == CPNS_SERVER_NEED_CREDENTIAL) {
      if (cpns_server_session_provide_records(
              s, cred_mode == 1 || (sopts & 0x40) ? NULL : credential,
              cred_mode == 1 || (sopts & 0x80) ? NULL : fz_s2_record, cred_mode == 2, 0) != 0) {
        die("provide_records");
      }
    } else if (sv == CPNS_SERVER_NEED_STORE) {
      if (cpns_server_session_store_done(s,
                                         store == 1   ? CPNS_STORE_CONFLICT
                                         : store == 2 ? CPNS_STORE_FAILED
                                                      : CPNS_STORE_OK,
                                         0) != 0) {
        die("store_done");
      }
    } else if (g == CPNS_GATEWAY_DERIVE) {
      if (cpns_gateway_derive(gw, 0) != 0 && cpns_gateway_get_state(gw) != CPNS_GATEWAY_FAILED) {
        die("derive");
      }
    } else {
      break;
    }
  }
  x->gw_state = cpns_gateway_get_state(gw);
  cpns_gateway_del(gw);
  cpns_server_session_del(s);
}

static void put(seed *sd, uint8_t b) {
  if (sd->len >= sizeof sd->bytes) {
    die("seed too long");
  }
  sd->bytes[sd->len++] = b;
}

static void seed_start(seed *sd, uint8_t opts) {
  sd->len = 0;
  put(sd, opts);
}

/* Stream bytes as data events of at most chunk octets. */
static void put_stream(seed *sd, const uint8_t *b, size_t n, size_t chunk) {
  if (chunk == 0 || chunk > FZ_CHUNK_MAX) {
    chunk = FZ_CHUNK_MAX;
  }
  while (n > 0) {
    size_t k = n < chunk ? n : chunk;
    put(sd, (uint8_t)k);
    while (k-- > 0) {
      put(sd, *b++);
      --n;
    }
  }
}

static void put_wire(seed *sd, const wire *w, size_t chunk) {
  put_stream(sd, w->bytes, w->len, chunk);
}

static void put_pdu(seed *sd, const cpns_pdu *pdu, size_t chunk) {
  wire w;
  if (cpns_pdu_encode(pdu, w.bytes, sizeof w.bytes, &w.len) != 0) {
    die("encode");
  }
  put_wire(sd, &w, chunk);
}

static void decode(cpns_pdu *pdu, const wire *w) {
  if (cpns_pdu_decode(pdu, w->bytes, w->len, NULL) != 0) {
    die("decode");
  }
}

static void write_seed(const char *dir, const char *sub, const char *name, const seed *sd) {
  char path[1024];
  FILE *f;
  snprintf(path, sizeof path, "%s/%s/%s", dir, sub, name);
  f = fopen(path, "wb");
  if (f == NULL || fwrite(sd->bytes, 1, sd->len, f) != sd->len || fclose(f) != 0) {
    die(path);
  }
}

static void server_seeds(const char *dir) {
  static const char sub[] = "server_session";
  exchange x;
  seed sd;
  cpns_pdu pdu;
  struct {
    const char *name;
    uint8_t sopts, gopts;
    size_t chunk;
  } runs[] = {{"success", 0x00, 0x00, 0},
              {"success-chunk7", 0x00, 0x20, 7},
              {"success-bytewise", 0x00, 0x00, 1},
              {"wrong-password", 0x00, 0x01, 0},
              {"unknown-user", 0x01, 0x00, 0},
              {"throttled", 0x02, 0x00, 0},
              {"store-conflict", 0x04, 0x00, 0},
              {"store-failed", 0x08, 0x00, 0},
              {"small-limit", 0x10, 0x00, 0},
              /* Suite 2 (server bit 5; gateway bit 1: suite 2 alone) */
              {"s2-success", 0x20, 0x00, 0},
              {"s2-success-chunk7", 0x20, 0x22, 7},
              {"s2-wrong-password", 0x20, 0x03, 0},
              {"s2-unknown-user", 0x21, 0x02, 0},
              {"s2-suite1-record-only", 0xa0, 0x00, 0},
              {"s2-fake-for-suite1-user", 0xa0, 0x02, 0},
              {"s2-store-conflict", 0x24, 0x02, 0},
              {"s2-v2-suite1-only-offer", 0x20, 0x02, 0}};
  size_t i;
  for (i = 0; i < sizeof runs / sizeof runs[0]; ++i) {
    size_t k;
    run(&x, runs[i].sopts, runs[i].gopts, 1);
    seed_start(&sd, runs[i].sopts);
    for (k = 0; k < x.n_to_server; ++k) {
      put_wire(&sd, &x.to_server[k], runs[i].chunk);
    }
    write_seed(dir, sub, runs[i].name, &sd);
  }
  if (x.n_to_server < 1) {
    die("no request");
  }
  run(&x, 0x00, 0x00, 1);
  if (x.gw_state != CPNS_GATEWAY_DONE) {
    die("the success exchange did not succeed");
  }
  /* Second request with one repeated field changed, a wrong nonce, a wrong proof. */
  for (i = 0; i < 4; ++i) {
    static const char *names[] = {"repeat-nonce-differs", "repeat-mode-differs",
                                  "wrong-server-nonce", "wrong-proof"};
    decode(&pdu, &x.to_server[1]);
    if (i == 0) {
      pdu.u.key_request.gateway_nonce[0] ^= 1;
    } else if (i == 1) {
      pdu.u.key_request.mode = CPNS_MODE_PNE_PLUS_PN_GW;
    } else if (i == 2) {
      pdu.u.key_request.server_nonce[31] ^= 1;
    } else {
      pdu.u.key_request.client_proof[0] ^= 1;
    }
    seed_start(&sd, 0x00);
    put_wire(&sd, &x.to_server[0], 0);
    put_pdu(&sd, &pdu, 0);
    write_seed(dir, sub, names[i], &sd);
  }
  /* Suite 2: the second request with a wrong ke3, with the response of suite 1, without ke3. */
  run(&x, 0x20, 0x02, 1);
  if (x.gw_state != CPNS_GATEWAY_DONE || x.n_to_server != 2) {
    die("the suite-2 exchange did not succeed");
  }
  for (i = 0; i < 3; ++i) {
    static const char *names[] = {"s2-wrong-ke3", "s2-response-instead-of-ke3", "s2-no-ke3"};
    decode(&pdu, &x.to_server[1]);
    if (i == 0) {
      pdu.u.key_request.ke3[0] ^= 1;
    } else if (i == 1) {
      pdu.u.key_request.has_ke3 = 0;
      pdu.u.key_request.has_response = 1;
    } else {
      pdu.u.key_request.has_ke3 = 0;
    }
    seed_start(&sd, 0x20);
    put_wire(&sd, &x.to_server[0], 0);
    put_pdu(&sd, &pdu, 0);
    write_seed(dir, sub, names[i], &sd);
  }
  /* Suite 2 first requests refused at once: presence rules, an invalid element. */
  for (i = 0; i < 3; ++i) {
    static const char *names[] = {"s2-no-ke1", "s2-ke1-in-v1", "s2-identity-element"};
    decode(&pdu, &x.to_server[0]);
    if (i == 0) {
      pdu.u.key_request.has_ke1 = 0;
    } else if (i == 1) {
      pdu.u.key_request.version = 1;
    } else {
      memset(pdu.u.key_request.ke1.blinded_message, 0, CPNS_OPAQUE_ELEMENT_LEN);
    }
    seed_start(&sd, 0x20);
    put_pdu(&sd, &pdu, 0);
    write_seed(dir, sub, names[i], &sd);
  }
  /* A close after KE2: a lockout failure (§6). */
  seed_start(&sd, 0x20);
  put_wire(&sd, &x.to_server[0], 0);
  put(&sd, FZ_EVENT_CLOSE);
  write_seed(dir, sub, "s2-close-after-ke2", &sd);
  run(&x, 0x00, 0x00, 1);
  /* First requests the server refuses at once. */
  for (i = 0; i < 5; ++i) {
    static const char *names[] = {"version-3", "no-known-suite", "bad-entity-id",
                                  "first-with-response", "unknown-suites-ignored"};
    decode(&pdu, &x.to_server[0]);
    if (i == 0) {
      pdu.u.key_request.version = 3;
    } else if (i == 1) {
      pdu.u.key_request.offered_suites[0] = 2;
    } else if (i == 2) {
      memcpy(pdu.u.key_request.entity_id, "urn:dev:mac:zz", 14);
    } else if (i == 3) {
      pdu.u.key_request.has_response = 1;
    } else {
      pdu.u.key_request.offered_suites_len = 3;
      pdu.u.key_request.offered_suites[1] = 1;
      pdu.u.key_request.offered_suites[0] = 17;
      pdu.u.key_request.offered_suites[2] = 255;
      pdu.u.key_request.has_ke1 = 0; /* suite 2 no longer offered (§4) */
    }
    seed_start(&sd, 0x00);
    put_pdu(&sd, &pdu, 0);
    write_seed(dir, sub, names[i], &sd);
  }
  /* A challenge where the second request belongs. */
  seed_start(&sd, 0x00);
  put_wire(&sd, &x.to_server[0], 0);
  put_wire(&sd, &x.to_gateway[0], 0);
  write_seed(dir, sub, "wrong-pdu-second", &sd);
  seed_start(&sd, 0x00);
  put_wire(&sd, &x.to_gateway[0], 0);
  write_seed(dir, sub, "wrong-pdu-first", &sd);
  /* Framing and DER failures, a peer that closes, a peer that stalls. */
  {
    static const uint8_t indefinite[] = {0xa0, 0x80, 0x02, 0x01, 0x01, 0x00, 0x00};
    static const uint8_t oversized[] = {0xa0, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x41, 0x41};
    static const uint8_t http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    seed_start(&sd, 0x00);
    put_stream(&sd, indefinite, sizeof indefinite, 0);
    write_seed(dir, sub, "indefinite-length", &sd);
    seed_start(&sd, 0x00);
    put_stream(&sd, oversized, sizeof oversized, 0);
    write_seed(dir, sub, "oversized-length", &sd);
    seed_start(&sd, 0x00);
    put_stream(&sd, http, sizeof http - 1, 0);
    write_seed(dir, sub, "not-der", &sd);
    seed_start(&sd, 0x00);
    put_stream(&sd, x.to_server[0].bytes, x.to_server[0].len / 2, 0);
    put(&sd, FZ_EVENT_CLOSE);
    write_seed(dir, sub, "peer-closed", &sd);
    seed_start(&sd, 0x00);
    put_wire(&sd, &x.to_server[0], 0);
    put(&sd, FZ_EVENT_TIME);
    put(&sd, 11); /* 11 s: past the 10 s PDU timeout */
    put_wire(&sd, &x.to_server[1], 0);
    write_seed(dir, sub, "timeout", &sd);
  }
}

static void gateway_seeds(const char *dir) {
  static const char sub[] = "gateway_session";
  exchange x;
  seed sd;
  cpns_pdu pdu;
  struct {
    const char *name;
    uint8_t sopts, gopts;
    size_t chunk;
  } runs[] = {{"success", 0x00, 0x00, 0},
              {"success-chunk5", 0x00, 0x20, 5},
              {"success-bytewise", 0x00, 0x00, 1},
              {"wrong-password", 0x00, 0x01, 0},
              {"unknown-user", 0x01, 0x00, 0},
              {"try-later", 0x02, 0x00, 0},
              {"entity-conflict", 0x04, 0x00, 0},
              {"server-error", 0x08, 0x00, 0},
              /* Suite 2 (server bit 5; gateway bit 1: suite 2 alone) */
              {"s2-success", 0x20, 0x02, 0},
              {"s2-success-chunk5", 0x20, 0x22, 5},
              {"s2-wrong-password", 0x20, 0x03, 0},
              {"s2-unknown-user", 0x21, 0x02, 0},
              {"s2-allow-suite1", 0x20, 0x00, 0},
              {"s2-suite1-record-only", 0xa0, 0x00, 0},
              {"s2-entity-conflict", 0x24, 0x02, 0}};
  size_t i;
  for (i = 0; i < sizeof runs / sizeof runs[0]; ++i) {
    size_t k;
    run(&x, runs[i].sopts, runs[i].gopts, 0);
    seed_start(&sd, runs[i].gopts);
    for (k = 0; k < x.n_to_gateway; ++k) {
      put_wire(&sd, &x.to_gateway[k], runs[i].chunk);
    }
    write_seed(dir, sub, runs[i].name, &sd);
  }
  run(&x, 0x00, 0x00, 0);
  if (x.gw_state != CPNS_GATEWAY_DONE || x.n_to_gateway != 2) {
    die("the success exchange did not succeed");
  }
  /* The successful delivery tampered field by field. */
  for (i = 0; i < 5; ++i) {
    static const char *names[] = {"bad-signature", "bad-wrapped-eukey", "bad-key-id",
                                  "echo-mismatch", "success-without-assignment"};
    cpns_key_delivery *d = &pdu.u.key_delivery;
    decode(&pdu, &x.to_gateway[1]);
    if (i == 0) {
      d->assignment.server_signature[0] ^= 1;
    } else if (i == 1) {
      d->assignment.wrapped_eukey[0] ^= 1;
    } else if (i == 2) {
      d->assignment.key_id[0] ^= 1;
    } else if (i == 3) {
      d->user_id[0] ^= 0x20;
    } else {
      d->has_assignment = 0;
    }
    seed_start(&sd, 0x00);
    put_wire(&sd, &x.to_gateway[0], 0);
    put_pdu(&sd, &pdu, 0);
    write_seed(dir, sub, names[i], &sd);
  }
  /* Challenges the gateway refuses. */
  for (i = 0; i < 3; ++i) {
    static const char *names[] = {"kdf-ops-above-bound", "kdf-mem-above-bound",
                                  "challenge-version-1"};
    decode(&pdu, &x.to_gateway[0]);
    if (i == 0) {
      pdu.u.key_challenge.kdf.ops_limit = 3;
    } else if (i == 1) {
      pdu.u.key_challenge.kdf.mem_limit_kib = 65;
    } else {
      pdu.u.key_challenge.version = 1;
    }
    seed_start(&sd, 0x00);
    put_pdu(&sd, &pdu, 0);
    write_seed(dir, sub, names[i], &sd);
  }
  /* A refusal before any challenge, and a second challenge. */
  decode(&pdu, &x.to_gateway[1]);
  pdu.u.key_delivery.result = CPNS_RESULT_TRY_LATER;
  pdu.u.key_delivery.has_assignment = 0;
  seed_start(&sd, 0x00);
  put_pdu(&sd, &pdu, 0);
  write_seed(dir, sub, "refusal-first", &sd);
  seed_start(&sd, 0x00);
  put_wire(&sd, &x.to_gateway[0], 0);
  put_wire(&sd, &x.to_gateway[0], 0);
  write_seed(dir, sub, "second-challenge", &sd);
  {
    static const uint8_t oversized[] = {0xa2, 0x82, 0x10, 0x01, 0x00};
    static const uint8_t indefinite[] = {0xa1, 0x80, 0x00, 0x00};
    seed_start(&sd, 0x00);
    put_stream(&sd, oversized, sizeof oversized, 0);
    write_seed(dir, sub, "oversized-length", &sd);
    seed_start(&sd, 0x00);
    put_stream(&sd, indefinite, sizeof indefinite, 0);
    write_seed(dir, sub, "indefinite-length", &sd);
    seed_start(&sd, 0x00);
    put_wire(&sd, &x.to_gateway[0], 0);
    put(&sd, FZ_EVENT_CLOSE);
    write_seed(dir, sub, "peer-closed", &sd);
    seed_start(&sd, 0x00);
    put(&sd, FZ_EVENT_TIME);
    put(&sd, 31); /* past the 30 s reply timeout */
    put_wire(&sd, &x.to_gateway[0], 0);
    write_seed(dir, sub, "timeout", &sd);
  }
  /* The fall back of §7: unsupportedVersion, or a close, then a version-1 exchange. */
  {
    exchange v1;
    cpns_pdu chal1;
    /* A suite-1 challenge as a version-1 server sends it: the restarted
     * request reaches DERIVE and sends its proof. */
    run(&v1, 0x00, 0x00, 0);
    decode(&chal1, &v1.to_gateway[0]);
    chal1.u.key_challenge.version = 1;
    decode(&pdu, &x.to_gateway[1]);
    pdu.u.key_delivery.version = 1;
    pdu.u.key_delivery.result = CPNS_RESULT_UNSUPPORTED_VERSION;
    pdu.u.key_delivery.has_assignment = 0;
    seed_start(&sd, 0x00);
    put_pdu(&sd, &pdu, 0);
    put_pdu(&sd, &chal1, 0);
    write_seed(dir, sub, "fall-back-unsupported-version", &sd);
    seed_start(&sd, 0x00);
    put(&sd, FZ_EVENT_CLOSE);
    put_pdu(&sd, &chal1, 0);
    write_seed(dir, sub, "fall-back-closed", &sd);
  }
  /* Suite 2: KE2 and the delivery tampered, and the presence rules of the challenge. */
  run(&x, 0x20, 0x02, 0);
  if (x.gw_state != CPNS_GATEWAY_DONE || x.n_to_gateway != 2) {
    die("the suite-2 exchange did not succeed");
  }
  for (i = 0; i < 6; ++i) {
    static const char *names[] = {"s2-bad-server-mac",        "s2-bad-evaluated-element",
                                  "s2-challenge-without-ke2", "s2-bad-signature",
                                  "s2-bad-wrapped-eukey",     "s2-bad-key-id"};
    seed_start(&sd, 0x02);
    if (i < 3) {
      decode(&pdu, &x.to_gateway[0]);
      if (i == 0) {
        pdu.u.key_challenge.ke2.server_mac[0] ^= 1;
      } else if (i == 1) {
        memset(pdu.u.key_challenge.ke2.evaluated_message, 0, CPNS_OPAQUE_ELEMENT_LEN);
      } else {
        pdu.u.key_challenge.has_ke2 = 0;
      }
      put_pdu(&sd, &pdu, 0);
    } else {
      decode(&pdu, &x.to_gateway[1]);
      if (i == 3) {
        pdu.u.key_delivery.assignment.server_signature[0] ^= 1;
      } else if (i == 4) {
        pdu.u.key_delivery.assignment.wrapped_eukey[0] ^= 1;
      } else {
        pdu.u.key_delivery.assignment.key_id[0] ^= 1;
      }
      put_wire(&sd, &x.to_gateway[0], 0);
      put_pdu(&sd, &pdu, 0);
    }
    write_seed(dir, sub, names[i], &sd);
  }
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  fz_setup();
  credential = sodium_malloc(sizeof *credential);
  if (credential == NULL || fz_credential(credential) != 0) {
    die("credential");
  }
  fz_s2_setup();
  server_seeds(argv[1]);
  gateway_seeds(argv[1]);
  sodium_free(credential);
  return 0;
}
