/*
 * libFuzzer target: an arbitrary byte stream, split where the input says
 * (fuzz_session_util.h), into a server session whose host answers every
 * step. Options octet: bits 0-1 credential (0/3 known, 1 unknown,
 * 2 throttled), bits 2-3 store status (0/3 OK, 1 conflict, 2 failed),
 * bit 4 a 128-octet PDU limit.
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
          uid_len > CPNS_USER_ID_MAX ||
          cpns_server_session_get_expiry(s) != UINT64_MAX) {
        abort();
      }
      if (cpns_server_session_provide_credential(s, cred_mode == 1 ? NULL : credential,
                                                 cred_mode == 2, now) != 0) {
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
      if (cpns_server_session_store_done(s, store == 1   ? CPNS_STORE_CONFLICT
                                            : store == 2 ? CPNS_STORE_FAILED
                                                         : CPNS_STORE_OK,
                                         now) != 0) {
        abort();
      }
      break;
    }
    default:
      return;
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cpns_server_settings st;
  cpns_server_session *s = NULL;
  uint64_t now = 0;
  size_t off = 1;
  uint8_t opts;
  if (size < 1) {
    return 0;
  }
  opts = data[0];
  st = fz_server_settings(opts);
  fz_rng_reset();
  if (cpns_server_session_new(&s, &st, NULL, now) != 0) {
    abort();
  }
  while (off < size) {
    cpns_server_state state = cpns_server_session_get_state(s);
    uint8_t ev = data[off++];
    if (state == CPNS_SERVER_DONE || state == CPNS_SERVER_CLOSE) {
      break;
    }
    if (ev == FZ_EVENT_CLOSE) {
      size_t consumed;
      (void)cpns_server_session_read(s, NULL, 0, &consumed, now);
    } else if (ev == FZ_EVENT_TIME) {
      now += off < size ? (uint64_t)data[off++] * 1000 : 1000;
      (void)cpns_server_session_handle_expiry(s, now);
    } else {
      size_t n = size - off < ev ? size - off : ev;
      const uint8_t *chunk = data + off;
      off += n;
      /* A host keeps unconsumed bytes and offers them again later. */
      while (n > 0 && cpns_server_session_get_state(s) == CPNS_SERVER_RECEIVE) {
        size_t consumed = 0;
        int rv = cpns_server_session_read(s, chunk, n, &consumed, now);
        if (consumed > n || (rv != 0 && cpns_server_session_get_state(s) != CPNS_SERVER_CLOSE)) {
          abort();
        }
        chunk += consumed;
        n -= consumed;
        host_steps(s, opts, now);
        if (consumed == 0) {
          break;
        }
      }
    }
    host_steps(s, opts, now);
  }
  cpns_server_session_del(s);
  return 0;
}
