/*
 * libFuzzer target: an arbitrary byte stream, split where the input says
 * (fuzz_session_util.h), into a server session whose host answers every
 * step. Options octet: bits 0-1 credential (0/3 known, 1 unknown,
 * 2 throttled), bits 2-3 store status (0/3 OK, 1 conflict, 2 failed),
 * bit 4 a 128-octet PDU limit, bit 5 suite 2 enabled (suites {2, 1}),
 * bit 6 the known user lacks a suite-1 record, bit 7 a suite-2 record.
 */
#include "fuzz/fuzz_session_util.h"

static cpns_credential *credential;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  fz_setup();
  credential = sodium_malloc(sizeof *credential);
  if (credential == NULL || fz_credential(credential) != 0) {
    abort();
  }
  fz_s2_setup();
  return 0;
}

/* Plays the host until the session waits for bytes or is finished. */
static void host_steps(cpns_server_session *s, uint8_t opts, uint64_t now) {
  uint8_t out[CPNS_PDU_MAX_ENCODED];
  size_t written;
  int cred_mode = opts & 3, store = (opts >> 2) & 3;
  for (;;) {
    switch (cpns_server_session_get_state(s)) {
    case CPNS_SERVER_NEED_CREDENTIAL: {
      const uint8_t *uid;
      size_t uid_len;
      if (cpns_server_session_get_user_id(s, &uid, &uid_len) != 0 || uid_len == 0 ||
          uid_len > CPNS_USER_ID_MAX || cpns_server_session_get_expiry(s) != UINT64_MAX) {
        abort();
      }
      if (cpns_server_session_provide_records(
              s, cred_mode == 1 || (opts & 0x40) ? NULL : credential,
              cred_mode == 1 || (opts & 0x80) ? NULL : fz_s2_record, cred_mode == 2, now) != 0) {
        abort();
      }
      break;
    }
    case CPNS_SERVER_SEND:
      if (cpns_server_session_write(s, out, sizeof out, &written, now) != 0) {
        abort();
      }
      fz_check_sent(out, written, 1);
      break;
    case CPNS_SERVER_NEED_STORE: {
      cpns_server_assignment a;
      if (cpns_server_session_get_assignment(s, &a) != 0 || a.entity_id_norm_len == 0 ||
          a.user_id_norm_len == 0) {
        abort();
      }
      if (cpns_server_session_store_done(s,
                                         store == 1   ? CPNS_STORE_CONFLICT
                                         : store == 2 ? CPNS_STORE_FAILED
                                                      : CPNS_STORE_OK,
                                         now) != 0) {
        abort();
      }
      break;
    }
    default: return;
    }
  }
}

typedef struct server_ctx {
  cpns_server_session *s;
  uint8_t opts;
} server_ctx;

static int sv_read(void *ctx, const uint8_t *in, size_t inlen, uint64_t now) {
  return cpns_server_session_read(((server_ctx *)ctx)->s, in, inlen, now);
}
static void sv_expiry(void *ctx, uint64_t now) {
  (void)cpns_server_session_handle_expiry(((server_ctx *)ctx)->s, now);
}
static cpns_server_state sv_state(void *ctx) {
  return cpns_server_session_get_state(((server_ctx *)ctx)->s);
}
static int sv_receiving(void *ctx) { return sv_state(ctx) == CPNS_SERVER_RECEIVE; }
static int sv_closed(void *ctx) { return sv_state(ctx) == CPNS_SERVER_CLOSE; }
static int sv_finished(void *ctx) { return sv_closed(ctx) || sv_state(ctx) == CPNS_SERVER_DONE; }
static void sv_host_steps(void *ctx, uint64_t now) {
  server_ctx *c = ctx;
  host_steps(c->s, c->opts, now);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cpns_server_settings st;
  server_ctx c = {NULL, 0};
  if (size < 1) {
    return 0;
  }
  c.opts = data[0];
  st = fz_server_settings(c.opts);
  fz_rng_reset();
  if (cpns_server_session_new(&c.s, &st, NULL, 0) != 0) {
    abort();
  }
  fz_engine e = {&c, sv_read, sv_expiry, sv_receiving, sv_finished, sv_closed, sv_host_steps};
  fz_play(data, size, &e);
  cpns_server_session_del(c.s);
  return 0;
}
