/*
 * libcpns server session engine (PROTOCOL.md §4, §6, §8): one engine per
 * connection, sans-I/O. Storage is the host's: the engine stops in
 * NEED_CREDENTIAL and NEED_STORE and waits until the host answers, so a host
 * can batch its store writes (group commit). Time is passed in ms on any
 * monotonic clock. Not thread-safe per engine.
 *
 * Life cycle: RECEIVE -> NEED_CREDENTIAL -> SEND (KeyChallenge) -> RECEIVE
 * -> NEED_STORE -> SEND (KeyDelivery) -> DONE. A KeyDelivery with an error
 * result may be sent at any point (SEND then DONE). Bytes that are not DER
 * move to CLOSE: the host closes without answering.
 *
 * Versions 1 and 2 (§3): a version-1 request runs suite 1; a version-2
 * request runs the suite chosen by §6 among those offered, enabled here
 * (settings suites) and, for suite 2, with s2_keys set. The host answers
 * NEED_CREDENTIAL with cpns_server_session_provide_records() (both of the
 * user's records) or cpns_server_session_provide_credential() (suite 1's).
 *
 * Lockout (§6): count every exchange answered with a challenge (throttled 0)
 * that does not reach NEED_STORE as a failed attempt. In suite 2 the gateway
 * learns from KE2 alone whether its password guess was right, so a close or
 * a timeout after KE2 counts too: cpns_server_session_get_result() then gives
 * authenticationFailed although no KeyDelivery was sent.
 */
#ifndef CPNS_SERVER_H
#define CPNS_SERVER_H

#include <cpns/crypto.h>
#include <cpns/secpool.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cpns_server_session cpns_server_session;

/** What the session waits for. */
typedef enum cpns_server_state {
  CPNS_SERVER_RECEIVE = 1, /**< Wants bytes through cpns_server_session_read(). */
  CPNS_SERVER_NEED_CREDENTIAL =
      2,                /**< Host answers with cpns_server_session_provide_credential(). */
  CPNS_SERVER_SEND = 3, /**< Has a PDU for cpns_server_session_write(). */
  CPNS_SERVER_NEED_STORE =
      4,                /**< Host stores the assignment, then cpns_server_session_store_done(). */
  CPNS_SERVER_DONE = 5, /**< KeyDelivery written; host closes. */
  CPNS_SERVER_CLOSE = 6 /**< Close without answering (non-DER, timeout). */
} cpns_server_state;

/** Peer's time to deliver each PDU (ms), and to finish the whole exchange. */
#define CPNS_SERVER_PDU_TIMEOUT_DEFAULT_MS 10000
#define CPNS_SERVER_EXCHANGE_TIMEOUT_DEFAULT_MS 120000

/**
 * Settings shared by all sessions of a server. Fill them with
 * cpns_server_settings_default() first, then set realm and server_secret:
 * every numeric field is used as it stands (a zero limit or timeout is
 * refused). Fields are only ever appended; CPNS_SERVER_SETTINGS_VERSION
 * grows with them.
 */
typedef struct cpns_server_settings {
  const uint8_t *realm; /**< Sent in every KeyChallenge. Default NULL (must be set). */
  size_t realm_len;
  const uint8_t *
      server_secret; /**< CPNS_SERVER_SECRET_LEN octets (fake salts). Default NULL (must be set). */
  uint32_t fake_ops_limit;     /**< Unknown users' params; default CPNS_KDF_OPS_DEFAULT */
  uint32_t fake_mem_limit_kib; /**< Default CPNS_KDF_MEM_KIB_DEFAULT */
  size_t max_pdu_len; /**< Default CPNS_PDU_MAX_DEFAULT; above CPNS_PDU_MAX_ENCODED acts as it (no
                         valid v1 PDU is longer) */
  uint64_t pdu_timeout_ms;      /**< Default CPNS_SERVER_PDU_TIMEOUT_DEFAULT_MS */
  uint64_t exchange_timeout_ms; /**< Default CPNS_SERVER_EXCHANGE_TIMEOUT_DEFAULT_MS */
  cpns_secpool *secpool;        /**< Optional: sessions borrow their secret block here
                                     (cpns/secpool.h); NULL (default) = one sodium_malloc() each.
                                     Must outlive every session made with it. */
  /* Layout V2 */
  const cpns_s2_server_keys *s2_keys; /**< Suite-2 secrets (guarded memory); NULL (default) =
                                           suite 2 disabled. Not copied: must outlive every
                                           session made with it. */
  const int *suites; /**< Enabled suites in preference order (§6), each 1 or 2, no repeats;
                          NULL (default) = {2, 1} with s2_keys, else {1}. Copied. */
  size_t suites_len; /**< 0 with suites NULL; 1..CPNS_SERVER_SUITES_MAX otherwise. */
} cpns_server_settings;

/** Suites a server can enable (settings suites_len at most). */
#define CPNS_SERVER_SUITES_MAX 2

/** Layout versions of cpns_server_settings. */
#define CPNS_SERVER_SETTINGS_V1 1
#define CPNS_SERVER_SETTINGS_V2 2 /**< adds s2_keys, suites, suites_len */
#define CPNS_SERVER_SETTINGS_VERSION CPNS_SERVER_SETTINGS_V2

/**
 * Fills every field of the settings layout settings_version with its
 * default. Call it through cpns_server_settings_default().
 * Returns 0, or CPNS_ERR_INVALID_ARGUMENT (settings NULL, unknown version).
 */
CPNS_EXTERN int cpns_server_settings_default_versioned(int settings_version,
                                                       cpns_server_settings *settings);
#define cpns_server_settings_default(SETTINGS)                                                     \
  cpns_server_settings_default_versioned(CPNS_SERVER_SETTINGS_VERSION, (SETTINGS))

/** Host's answer to NEED_STORE. */
typedef enum cpns_store_status {
  CPNS_STORE_OK = 0,       /**< Durable: success is sent. */
  CPNS_STORE_CONFLICT = 1, /**< Entity bound to another user: entityConflict. */
  CPNS_STORE_FAILED = 2    /**< Could not store: serverError, no key. */
} cpns_store_status;

/** The assignment to store durably, valid until the session moves on. */
typedef struct cpns_server_assignment {
  const uint8_t *entity_id_norm;
  size_t entity_id_norm_len;
  const uint8_t *user_id_norm;
  size_t user_id_norm_len;
  cpns_mode mode;
  const uint8_t *key_id; /**< CPNS_KEY_ID_LEN octets */
  const uint8_t *eukey;  /**< CPNS_EUKEY_LEN octets in guarded memory; seal it before storing */
} cpns_server_assignment;

/**
 * Creates a session in state RECEIVE; settings is read as the layout
 * settings_version. Call it through cpns_server_session_new(). The
 * settings' pointers are copied (secret into guarded memory). mem may be NULL.
 * Returns 0, CPNS_ERR_INVALID_ARGUMENT (NULL, unknown settings_version,
 * bad realm, zero limit or timeout, fake KDF parameters below the
 * enrollment policy, partial mem, a suite list that is empty with suites
 * set, too long, repeats a suite, names one other than 1 and 2, or names 2
 * without s2_keys), CPNS_ERR_NOMEM, CPNS_ERR_NOT_INITIALIZED.
 */
CPNS_EXTERN int cpns_server_session_new_versioned(cpns_server_session **ps, int settings_version,
                                                  const cpns_server_settings *settings,
                                                  const cpns_mem *mem, uint64_t now_ms);
#define cpns_server_session_new(PS, SETTINGS, MEM, NOW_MS)                                         \
  cpns_server_session_new_versioned((PS), CPNS_SERVER_SETTINGS_VERSION, (SETTINGS), (MEM), (NOW_MS))

/** Wipes every secret and frees the session. NULL is allowed. */
CPNS_EXTERN void cpns_server_session_del(cpns_server_session *s);

/** Returns the current state. */
CPNS_EXTERN cpns_server_state cpns_server_session_get_state(const cpns_server_session *s);

/**
 * In state RECEIVE, takes all inlen bytes (nghttp2's mem_recv contract: the
 * host keeps no leftovers). inlen == 0 means the peer closed. Octets after a
 * complete first KeyRequest (a gateway ahead of its turn) are kept, at most
 * one PDU of max_pdu_len octets, and handled when
 * cpns_server_session_write() returns the session to RECEIVE: a whole PDU
 * kept then moves the state on at once, so a host that sees RECEIVE may
 * always wait for bytes. Octets after a PDU that ends the exchange (a
 * KeyDelivery is due) are dropped unread (§3: one exchange per connection).
 * Returns 0 (a complete well-formed PDU moves the state on; a PDU that
 * breaks a rule queues a KeyDelivery with the matching result), or, moving
 * to CLOSE: CPNS_ERR_PDU_TOO_LONG, the framing errors of
 * cpns_frame_pdu_length(), the decode errors of cpns_pdu_decode(),
 * CPNS_ERR_PROTOCOL (first PDU is no KeyRequest: no identifiers to echo; or
 * more than max_pdu_len octets after the first KeyRequest), CPNS_ERR_NOMEM
 * (keeping those octets), CPNS_ERR_PEER_CLOSED. CPNS_ERR_STATE in other states.
 */
CPNS_EXTERN int cpns_server_session_read(cpns_server_session *s, const uint8_t *in, size_t inlen,
                                         uint64_t now_ms);

/**
 * In state NEED_CREDENTIAL: the normalized User ID to look up.
 * Returns 0 or CPNS_ERR_STATE.
 */
CPNS_EXTERN int cpns_server_session_get_user_id(const cpns_server_session *s,
                                                const uint8_t **user_id_norm, size_t *len);

/**
 * Answers NEED_CREDENTIAL with the user's suite-1 record only: the same as
 * cpns_server_session_provide_records(s, cred, NULL, throttled, now_ms).
 */
CPNS_EXTERN int cpns_server_session_provide_credential(cpns_server_session *s,
                                                       const cpns_credential *cred, int throttled,
                                                       uint64_t now_ms);

/**
 * Answers NEED_CREDENTIAL with the user's records, each NULL when the user
 * has none for that suite (both NULL: unknown user); throttled != 0 answers
 * tryLater. The engine picks the suite (§6): the first in the settings'
 * preference order that the request offered, that its version allows
 * (version 1: suite 1 only) and for which the user has a record; else the
 * first offered allowed one, answered with a fake record (§5.2, §6) and
 * failing with authenticationFailed. Suite 2 runs GenerateKE2 here (on the
 * calling thread). The records are read during the call only.
 * Returns 0 (state SEND: a KeyChallenge, or a KeyDelivery tryLater,
 * badRequest for an invalid ke1 element, serverError) or
 * CPNS_ERR_INVALID_ARGUMENT (s NULL, a record's KDF parameters outside the
 * enrollment policy), CPNS_ERR_STATE.
 */
CPNS_EXTERN int cpns_server_session_provide_records(cpns_server_session *s,
                                                    const cpns_credential *suite1,
                                                    const cpns_s2_record *suite2, int throttled,
                                                    uint64_t now_ms);

/**
 * The suite of the exchange, in *suite, once the KeyChallenge is queued.
 * Returns 0, CPNS_ERR_INVALID_ARGUMENT or CPNS_ERR_STATE (no challenge yet).
 */
CPNS_EXTERN int cpns_server_session_get_suite(const cpns_server_session *s, int *suite);

/**
 * In state SEND, copies the PDU to out (CPNS_PDU_MAX_ENCODED suffices) and
 * moves to RECEIVE or DONE; from RECEIVE on at once when
 * cpns_server_session_read() kept a whole PDU (check the state). Returns 0,
 * CPNS_ERR_STATE or CPNS_ERR_BUFFER_TOO_SMALL.
 */
CPNS_EXTERN int cpns_server_session_write(cpns_server_session *s, uint8_t *out, size_t outlen,
                                          size_t *written, uint64_t now_ms);

/**
 * In state SEND with a KeyChallenge queued (cpns_server_session_get_result()
 * gives CPNS_ERR_STATE), replaces it by a KeyDelivery with result
 * CPNS_RESULT_TRY_LATER or CPNS_RESULT_SERVER_ERROR (then DONE after the
 * write), for a host that cannot send the challenge: for suite 2 a host
 * counts the attempt as a lockout failure before KE2 leaves (§6), and a
 * failure it cannot store must not let KE2 go. The exchange's secrets are
 * wiped. Returns 0, CPNS_ERR_INVALID_ARGUMENT (s NULL, another result) or
 * CPNS_ERR_STATE (no challenge queued).
 */
CPNS_EXTERN int cpns_server_session_withdraw_challenge(cpns_server_session *s, cpns_result result,
                                                       uint64_t now_ms);

/** In state NEED_STORE, describes the assignment. Returns 0 or CPNS_ERR_STATE. */
CPNS_EXTERN int cpns_server_session_get_assignment(const cpns_server_session *s,
                                                   cpns_server_assignment *a);

/**
 * Answers NEED_STORE; the EUKey is wiped from the session either way.
 * Returns 0, CPNS_ERR_STATE or CPNS_ERR_INVALID_ARGUMENT.
 */
CPNS_EXTERN int cpns_server_session_store_done(cpns_server_session *s, cpns_store_status status,
                                               uint64_t now_ms);

/** Deadline in ms, or UINT64_MAX while the host owes an answer. */
CPNS_EXTERN uint64_t cpns_server_session_get_expiry(const cpns_server_session *s);

/** Call at the expiry. Returns 0, or CPNS_ERR_TIMEOUT (state CLOSE). */
CPNS_EXTERN int cpns_server_session_handle_expiry(cpns_server_session *s, uint64_t now_ms);

/**
 * Result of the KeyDelivery queued or sent, in *result (for logs and lockout);
 * authenticationFailed also for a suite-2 exchange that closed (state CLOSE:
 * timeout, peer closed, bytes not DER) after its KE2 was written and before
 * a valid ke3 (§6: a lockout failure although nothing was sent).
 * Returns 0, CPNS_ERR_INVALID_ARGUMENT, or CPNS_ERR_STATE (none queued yet;
 * *result is left alone).
 */
CPNS_EXTERN int cpns_server_session_get_result(const cpns_server_session *s, cpns_result *result);

/**
 * Entity ID (normalized when valid, else as received) and normalized User ID
 * of the exchange for the log line; lengths 0 when not known yet.
 */
CPNS_EXTERN void cpns_server_session_get_ids(const cpns_server_session *s,
                                             const uint8_t **entity_id, size_t *entity_id_len,
                                             const uint8_t **user_id, size_t *user_id_len);

#ifdef __cplusplus
}
#endif

#endif /* CPNS_SERVER_H */
