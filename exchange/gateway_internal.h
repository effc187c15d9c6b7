/*
 * Gateway engine internals, shared by its source files and reachable to the
 * tests (which link the static core library).
 */
#ifndef CPNS_EXCHANGE_GATEWAY_INTERNAL_H
#define CPNS_EXCHANGE_GATEWAY_INTERNAL_H

#include <cpns/gateway.h>

#include "crypto/opaque.h"
#include "exchange/framer.h"

/* Secrets of one exchange, in one guarded block (pool slot or sodium_malloc(),
 * 16-aligned: cpnsi_secblock_new()); the password follows this struct inside
 * the same block. */
typedef struct cpnsi_gateway_secrets {
  cpnsi_opaque_client opaque; /* suite 2: blind, keyshare secret, KE1 */
  uint8_t salted_password[CPNS_SALTED_PASSWORD_LEN];
  uint8_t stored_key[CPNS_STORED_KEY_LEN];
  uint8_t client_key[CPNS_CLIENT_KEY_LEN];
  uint8_t server_key[CPNS_SERVER_KEY_LEN];
  uint8_t wrap_key[CPNS_WRAP_KEY_LEN];
  uint8_t session_key[CPNS_S2_SESSION_KEY_LEN]; /* suite 2 */
  uint8_t export_key[CPNSI_EXPORT_KEY_LEN];     /* suite 2, unused (§5.2) but wiped */
  uint8_t delivery_key[CPNS_SIGNATURE_LEN];     /* suite 2 DeliveryKey */
  uint8_t eukey[CPNS_EUKEY_LEN];
} cpnsi_gateway_secrets;

/* The KDF parameters this gateway will run (§7), defaults resolved at _new(). */
typedef struct cpnsi_kdf_bounds {
  uint32_t min_ops;
  uint32_t min_mem_kib;
  uint32_t max_ops;
  uint32_t max_mem_kib;
} cpnsi_kdf_bounds;

struct cpns_gateway {
  cpns_mem mem;
  cpns_gateway_state state;
  int error;         /* why FAILED, else 0 */
  int result;        /* result of the KeyDelivery, -1 before one */
  int has_challenge; /* a KeyChallenge was accepted: proofs and keys refer to it */
  int allow_suite1;  /* settings V2: offer suite 1 too, fall back to version 1 */
  int chal_received; /* chal holds the KeyChallenge received, accepted or not */
  cpnsi_kdf_bounds kdf_bounds;
  uint64_t reply_timeout_ms;
  uint64_t expiry;            /* UINT64_MAX when no deadline runs */
  size_t password_len;        /* 0 once wiped */
  cpnsi_gateway_secrets *sec; /* guarded (cpnsi_secblock_new()); password at sec + 1 */
  size_t sec_size;
  cpns_secpool *sec_pool; /* the pool sec came from, or NULL */
  cpns_key_request req;   /* as sent; the second one adds the response */
  cpns_key_challenge chal;
  size_t auth_message_len;
  uint8_t auth_message[CPNS_PDU_MAX_ENCODED];
  size_t out_len;
  uint8_t out[CPNS_PDU_MAX_ENCODED];
  uint8_t key_id[CPNS_KEY_ID_LEN];
  cpnsi_framer framer;
};

/**
 * Checks a KeyChallenge against the request it answers and the local KDF
 * bounds (§7: maximums for both suites, minimums for suite 1 only).
 * Returns 0, CPNS_ERR_PROTOCOL (version, or the §3/§4 rules on suite 2 and
 * ke2), CPNS_ERR_SUITE_NOT_OFFERED, CPNS_ERR_UNSUPPORTED_SUITE (offered yet
 * unknown here) or CPNS_ERR_KDF_PARAMS.
 */
int cpnsi_gateway_check_challenge(const cpns_key_request *req, const cpns_key_challenge *chal,
                                  const cpnsi_kdf_bounds *bounds);

/**
 * Checks what any KeyDelivery must satisfy before its result is believed:
 * the request's version (any version with unsupportedVersion, which carries
 * the server's highest, §3), entityId/userId echo the request byte for
 * byte, and result and assignment agree. Returns 0, CPNS_ERR_PROTOCOL or
 * CPNS_ERR_ECHO_MISMATCH.
 */
int cpnsi_gateway_check_delivery(const cpns_key_request *req, const cpns_key_delivery *del);

#endif /* CPNS_EXCHANGE_GATEWAY_INTERNAL_H */
