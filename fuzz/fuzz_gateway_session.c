/*
 * libFuzzer target: an arbitrary byte stream from a "server", split where
 * the input says (fuzz_session_util.h), into a gateway engine whose host
 * writes, derives and reads. Options octet: bit 0 wrong password, bit 1
 * suite 2 alone (else allow_suite1: offers {2, 1}, and the host restarts
 * with version 1 when the engine allows it), bit 4 a 128-octet PDU limit,
 * bit 5 mode pnePlusPnGw.
 */
#include "fuzz/fuzz_session_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  fz_setup();
  return 0;
}

/* Plays the host until the engine waits for bytes or is finished. */
static void host_steps(cpns_gateway *gw, uint64_t now) {
  uint8_t out[CPNS_PDU_MAX_ENCODED];
  size_t written;
  for (;;) {
    switch (cpns_gateway_get_state(gw)) {
    case CPNS_GATEWAY_SEND:
      if (cpns_gateway_write(gw, out, sizeof out, &written, now) != 0) {
        abort();
      }
      fz_check_sent(out, written, 0);
      break;
    case CPNS_GATEWAY_DERIVE: {
      cpns_kdf_params kdf;
      if (cpns_gateway_get_challenge(gw, &kdf, NULL, NULL) != 0 || kdf.ops_limit > 2 ||
          kdf.mem_limit_kib > 64) {
        abort(); /* the bounds must hold before any Argon2id run */
      }
      /* Suite 2 finds a wrong password or a forged KE2 here. */
      if (cpns_gateway_derive(gw, now) != 0 && cpns_gateway_get_state(gw) != CPNS_GATEWAY_FAILED) {
        abort();
      }
      break;
    }
    case CPNS_GATEWAY_DONE: {
      uint8_t eukey[CPNS_EUKEY_LEN], key_id[CPNS_KEY_ID_LEN];
      cpns_result result;
      if (cpns_gateway_get_eukey(gw, eukey, key_id) != 0 ||
          cpns_gateway_get_result(gw, &result) != 0 || result != CPNS_RESULT_SUCCESS) {
        abort();
      }
      return;
    }
    case CPNS_GATEWAY_FAILED:
      if (cpns_gateway_get_error(gw) >= 0) {
        abort();
      }
      return;
    case CPNS_GATEWAY_RECONNECT:
      /* The host reconnects: the same stream goes on as the new connection. */
      if (cpns_gateway_restart_v1(gw, now) != 0) {
        abort();
      }
      break;
    default: return;
    }
  }
}

static int gw_read(void *ctx, const uint8_t *in, size_t inlen, uint64_t now) {
  return cpns_gateway_read(ctx, in, inlen, now);
}
static void gw_expiry(void *ctx, uint64_t now) { (void)cpns_gateway_handle_expiry(ctx, now); }
static int gw_receiving(void *ctx) { return cpns_gateway_get_state(ctx) == CPNS_GATEWAY_RECEIVE; }
static int gw_failed(void *ctx) { return cpns_gateway_get_state(ctx) == CPNS_GATEWAY_FAILED; }
static int gw_finished(void *ctx) {
  return gw_failed(ctx) || cpns_gateway_get_state(ctx) == CPNS_GATEWAY_DONE;
}
static void gw_host_steps(void *ctx, uint64_t now) { host_steps(ctx, now); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cpns_gateway_settings st;
  cpns_gateway *gw = NULL;
  if (size < 1) {
    return 0;
  }
  st = fz_gateway_settings(data[0]);
  fz_rng_reset();
  if (cpns_gateway_new(&gw, &st, NULL, 0) != 0) {
    abort();
  }
  fz_engine e = {gw, gw_read, gw_expiry, gw_receiving, gw_finished, gw_failed, gw_host_steps};
  fz_play(data, size, &e);
  cpns_gateway_del(gw);
  return 0;
}
