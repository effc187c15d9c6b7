/*
 * Server session internals, shared by its source files and reachable to the
 * tests (which link the static core library).
 */
#ifndef CPNS_EXCHANGE_SERVER_INTERNAL_H
#define CPNS_EXCHANGE_SERVER_INTERNAL_H

#include <cpns/server.h>

#include "crypto/opaque.h"
#include "exchange/framer.h"

/* Everything random one exchange needs, drawn in a single cpns_crypto_random()
 * call when the challenge is built: a system call each costs more than the
 * rest of the randomness. The nonces and keyId are public once sent. */
typedef struct cpnsi_server_fresh {
  uint8_t stored_key[CPNS_STORED_KEY_LEN]; /* fake, replaced by a known user's */
  uint8_t server_key[CPNS_SERVER_KEY_LEN]; /* likewise (§6) */
  uint8_t eukey[CPNS_EUKEY_LEN];
  uint8_t server_nonce[CPNS_NONCE_LEN];
  uint8_t key_id[CPNS_KEY_ID_LEN];
  uint8_t aead_nonce[CPNS_AEAD_NONCE_LEN];
} cpnsi_server_fresh;

/* Secrets of one session in one guarded block: a cpns_secpool slot or a
 * sodium_malloc() block, 16-aligned (cpnsi_secblock_new()). It fits
 * CPNS_SECPOOL_SLOT_DEFAULT (checked in server_session.c). */
typedef struct cpnsi_server_secrets {
  cpnsi_opaque_server opaque; /* suite 2: expected client_mac, session_key */
  uint8_t server_secret[CPNS_SERVER_SECRET_LEN];
  uint8_t client_key[CPNS_CLIENT_KEY_LEN];
  uint8_t wrap_key[CPNS_WRAP_KEY_LEN];
  cpnsi_server_fresh fresh;
  cpns_s2_record fake_record;                   /* suite 2: §5.2 fake, made for every user */
  uint8_t session_key[CPNS_S2_SESSION_KEY_LEN]; /* suite 2, after a valid ke3 */
  uint8_t delivery_key[CPNS_SIGNATURE_LEN];     /* suite 2 DeliveryKey */
} cpnsi_server_secrets;

struct cpns_server_session {
  cpns_mem mem;
  cpns_server_state state;
  cpns_server_state after_send; /* RECEIVE after the challenge, DONE after a delivery */
  int result;                   /* of the KeyDelivery queued or sent, else -1 */
  int error;                    /* why CLOSE, else 0 */
  int have_first;               /* the first KeyRequest arrived */
  int have_challenge;           /* the KeyChallenge is queued or sent */
  int user_known;               /* the host provided a real record for the suite chosen */
  uint32_t version;             /* of every PDU this session sends (§4) */
  int suite;                    /* chosen with the records (§6), else 0 */
  int ke2_sent;                 /* a suite-2 challenge was written: §6 lockout */
  size_t nsuites;
  int suites[CPNS_SERVER_SUITES_MAX]; /* enabled, in preference order */
  const cpns_s2_server_keys *s2_keys; /* the host's, or NULL */
  uint32_t fake_ops_limit;
  uint32_t fake_mem_limit_kib;
  uint64_t pdu_timeout_ms;
  uint64_t pdu_deadline; /* the peer's next PDU is due */
  uint64_t exchange_deadline;
  cpnsi_server_secrets *sec; /* guarded: see cpnsi_secblock_new() */
  cpns_secpool *sec_pool;    /* the pool sec came from, or NULL */
  size_t realm_len;
  uint8_t realm[CPNS_REALM_MAX];
  cpns_key_request first; /* as received */
  size_t entity_id_len;   /* normalized when valid, else as received */
  uint8_t entity_id[CPNS_ENTITY_ID_MAX];
  size_t user_id_len;
  uint8_t user_id[CPNS_USER_ID_MAX];
  int ids_valid;
  cpns_key_challenge chal;
  size_t auth_message_len;
  uint8_t auth_message[CPNS_PDU_MAX_ENCODED];
  size_t out_len;
  uint8_t out[CPNS_PDU_MAX_ENCODED];
  cpnsi_framer framer;
};

/**
 * Applies §3/§4/§8 to a first KeyRequest whose identifiers were normalized
 * (ids_valid says whether both were valid), for a server that enables
 * suites[0..n) (§6). Returns -1 when the request may proceed, else the
 * cpns_result to answer with.
 */
int cpnsi_server_check_first(const cpns_key_request *req, int ids_valid, const int *suites,
                             size_t n);

/**
 * The suite of §6 for req among suites[0..n) (preference order), given
 * which records the user has; *fake = 1 when no allowed suite has a record
 * (answer with a fake record). Returns the suite, or 0 when none is allowed.
 */
int cpnsi_server_choose_suite(const cpns_key_request *req, const int *suites, size_t n,
                              int has_suite1, int has_suite2, int *fake);

/**
 * Nonzero iff second repeats version, entityId, userId, mode, gatewayNonce
 * and offeredSuites of first byte for byte (§4).
 */
int cpnsi_server_repeats_first(const cpns_key_request *first, const cpns_key_request *second);

#endif /* CPNS_EXCHANGE_SERVER_INTERNAL_H */
