/*
 * libFuzzer target: the suite-2 OPAQUE-3DH messages a peer sends
 * (crypto/opaque.h). The first 96 octets are a KE1 for the server
 * (cpnsi_opaque_server_ke2, then ServerFinish with the next 64 octets as
 * KE3); the next 320 octets are a KE2 for a gateway that sent a fixed KE1
 * (cpnsi_opaque_client_ke3). Only documented errors may come back and no
 * KE3 or session key is produced on failure.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <cpns/cpns.h>

#include "crypto/opaque.h"
#include "crypto/suite2_prims.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Fuzzing needs speed, not a stretched password: Stretch(msg) = msg. */
static int ksf_identity(uint8_t out[CPNSI_KSF_LEN], const uint8_t in[CPNSI_KSF_LEN],
                        const cpns_kdf_params *kdf) {
  (void)kdf;
  memmove(out, in, CPNSI_KSF_LEN);
  return 0;
}

static const uint8_t user[] = "fuzz@example.org";
static const uint8_t password[] = "fuzz password";
static const uint8_t context[] = "fuzz context";

static cpns_s2_server_keys keys;
static uint8_t record[CPNS_S2_REGISTRATION_RECORD_LEN];

/* Fixed server keys and one registered user, deterministic so that runs replay. */
static void init_once(void) {
  static int done;
  uint8_t seed[32], blind[32], request[32], response[64], nonce[32];

  if (done) {
    return;
  }
  if (cpns_init() != 0) {
    abort();
  }
  memset(keys.oprf_seed, 0x01, sizeof(keys.oprf_seed));
  memset(seed, 0x02, sizeof(seed));
  if (cpnsi_oprf_derive_key_pair(keys.private_key, keys.public_key, seed,
                                 (const uint8_t *)"OPAQUE-DeriveDiffieHellmanKeyPair", 33) != 0) {
    abort();
  }
  memset(blind, 0x03, sizeof(blind));
  memset(nonce, 0x04, sizeof(nonce));
  if (cpnsi_opaque_registration_request(blind, request, password, sizeof(password) - 1, blind) !=
          0 ||
      cpnsi_opaque_registration_response(response, request, keys.public_key, user, sizeof(user) - 1,
                                         keys.oprf_seed) != 0 ||
      cpnsi_opaque_registration_finalize(record, NULL, password, sizeof(password) - 1, blind,
                                         response, NULL, 0, NULL, 0, ksf_identity, NULL,
                                         nonce) != 0) {
    abort();
  }
  done = 1;
}

static void server_side(const uint8_t *ke1, const uint8_t *ke3) {
  cpnsi_opaque_server st;
  uint8_t ke2[CPNS_S2_KE2_LEN], session_key[CPNS_S2_SESSION_KEY_LEN], nonce[32];
  int rv;

  memset(nonce, 0x05, sizeof(nonce));
  rv = cpnsi_opaque_server_ke2(&st, ke2, &keys, record, user, sizeof(user) - 1, ke1, nonce, NULL, 0,
                               NULL, 0, context, sizeof(context) - 1, NULL, NULL);
  if (rv != 0) {
    if (rv != CPNS_ERR_INVALID_ARGUMENT || !sodium_is_zero(ke2, sizeof(ke2))) {
      abort();
    }
    return;
  }
  /* A KE3 from the input cannot match the MAC of a fresh exchange. */
  if (ke3 != NULL && cpnsi_opaque_server_finish(&st, session_key, ke3) != CPNS_ERR_PROOF) {
    abort();
  }
}

static void client_side(const uint8_t *ke2) {
  cpnsi_opaque_client st;
  uint8_t ke1[CPNS_S2_KE1_LEN], ke3[CPNS_S2_KE3_LEN], session_key[CPNS_S2_SESSION_KEY_LEN];
  uint8_t nonce[32], blind[32], seed[32];
  int rv;

  memset(nonce, 0x06, sizeof(nonce));
  memset(blind, 0x07, sizeof(blind));
  memset(seed, 0x08, sizeof(seed));
  if (cpnsi_opaque_client_ke1(&st, ke1, password, sizeof(password) - 1, nonce, blind, seed) != 0) {
    abort();
  }
  rv = cpnsi_opaque_client_ke3(&st, ke3, session_key, NULL, password, sizeof(password) - 1, ke2,
                               NULL, 0, NULL, 0, context, sizeof(context) - 1, ksf_identity, NULL);
  /* Success needs the KE2 of the honest server for this very KE1 (a seed holds one). */
  if (rv == 0) {
    if (sodium_is_zero(ke3, sizeof(ke3)) || sodium_is_zero(session_key, sizeof(session_key))) {
      abort();
    }
  } else if (rv != CPNS_ERR_SIGNATURE || !sodium_is_zero(ke3, sizeof(ke3)) ||
             !sodium_is_zero(session_key, sizeof(session_key))) {
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  init_once();
  if (size >= CPNS_S2_KE1_LEN) {
    server_side(data, size >= CPNS_S2_KE1_LEN + CPNS_S2_KE3_LEN ? data + CPNS_S2_KE1_LEN : NULL);
  }
  if (size >= CPNS_S2_KE1_LEN + CPNS_S2_KE2_LEN) {
    client_side(data + CPNS_S2_KE1_LEN);
  }
  return 0;
}
