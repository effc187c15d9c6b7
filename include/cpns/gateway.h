/*
 * libcpns gateway engine (PROTOCOL.md §4, §7): sans-I/O. The host moves
 * bytes between the engine and its socket and passes the current time in
 * milliseconds on any monotonic clock; the engine does no I/O and keeps no
 * global state. Not thread-safe per engine; distinct engines are independent.
 *
 * Life cycle: SEND (first KeyRequest) -> RECEIVE (KeyChallenge) -> DERIVE
 * (host calls cpns_gateway_derive(), possibly on a worker thread) -> SEND
 * (second KeyRequest) -> RECEIVE (KeyDelivery) -> DONE or FAILED.
 *
 * Protocol version 2 (§3, §7): by default the first KeyRequest has version 2,
 * offers suite 2 only and carries ke1. Suite 2 (OPAQUE-3DH) finds a wrong
 * password or an unknown User ID itself in DERIVE: the engine moves to FAILED
 * with CPNS_ERR_AUTH_FAILED and result authenticationFailed, and sends no ke3
 * (close the connection). With allow_suite1 the request also offers suite 1,
 * and a server that does not speak version 2 (it answers unsupportedVersion,
 * or closes without answering the first request) moves the engine to
 * RECONNECT: close the connection, open a new one and call
 * cpns_gateway_restart_v1(), which starts over with a version-1 request
 * offering suite 1 (this gives up suite 2's protection, §9).
 */
#ifndef CPNS_GATEWAY_H
#define CPNS_GATEWAY_H

#include <cpns/crypto.h>
#include <cpns/secpool.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cpns_gateway cpns_gateway;

/** What the engine waits for. */
typedef enum cpns_gateway_state {
  CPNS_GATEWAY_SEND = 1,    /**< Has a PDU for cpns_gateway_write(). */
  CPNS_GATEWAY_RECEIVE = 2, /**< Wants bytes through cpns_gateway_read(). */
  CPNS_GATEWAY_DERIVE = 3,  /**< Wants cpns_gateway_derive() (Argon2id). */
  CPNS_GATEWAY_DONE = 4,    /**< EUKey received and verified. */
  CPNS_GATEWAY_FAILED = 5,  /**< See cpns_gateway_get_error()/get_result(). */
  CPNS_GATEWAY_RECONNECT =
      6 /**< Server lacks version 2 (allow_suite1 only): reconnect, cpns_gateway_restart_v1(). */
} cpns_gateway_state;

/** Gateway's deadline for each answer of the server (ms). */
#define CPNS_GATEWAY_REPLY_TIMEOUT_DEFAULT_MS 30000

/**
 * Engine settings. Fill them with cpns_gateway_settings_default() first,
 * then set the identifiers, mode and password: every numeric field is used
 * as it stands (0 is no default; a zero limit or timeout is refused).
 * Fields are only ever appended; CPNS_GATEWAY_SETTINGS_VERSION grows with
 * them, so a library can tell which fields a caller compiled against.
 */
typedef struct cpns_gateway_settings {
  const uint8_t *entity_id; /**< As sent on the wire; validated. Default NULL. */
  size_t entity_id_len;
  const uint8_t *user_id; /**< As sent on the wire; validated. Default NULL. */
  size_t user_id_len;
  cpns_mode mode;          /**< Default CPNS_MODE_PN_GW. */
  const uint8_t *password; /**< Copied into guarded memory at _new(). Default NULL. */
  size_t password_len;
  uint32_t max_ops_limit;     /**< Default CPNS_GATEWAY_MAX_OPS_DEFAULT */
  uint32_t max_mem_limit_kib; /**< Default CPNS_GATEWAY_MAX_MEM_KIB_DEFAULT */
  uint32_t min_ops_limit;     /**< Default CPNS_GATEWAY_MIN_OPS_DEFAULT (suite 1 floor, §7) */
  uint32_t min_mem_limit_kib; /**< Default CPNS_GATEWAY_MIN_MEM_KIB_DEFAULT (suite 1 floor, §7) */
  size_t max_pdu_len; /**< Default CPNS_PDU_MAX_DEFAULT; above CPNS_PDU_MAX_ENCODED acts as it (no
                         valid v1 PDU is longer) */
  uint64_t reply_timeout_ms; /**< Server's time to answer a PDU; default
                                CPNS_GATEWAY_REPLY_TIMEOUT_DEFAULT_MS */
  cpns_secpool *secpool;     /**< Optional: the engine borrows its secret block here
                                  (cpns/secpool.h); NULL (default) = its own sodium_malloc().
                                  Must outlive the engine. */
  /* Layout V2 */
  int allow_suite1; /**< Default 0: version 2, offeredSuites {2}. Nonzero: offeredSuites {2, 1}
                         and the fall back to a version-1 request (state RECONNECT), exposed to
                         the suite-1 impostor attack (§7, §9). A V1 layout reads as 0. */
} cpns_gateway_settings;

/** Layout versions of cpns_gateway_settings; the current one is what callers compile against. */
#define CPNS_GATEWAY_SETTINGS_V1 1
#define CPNS_GATEWAY_SETTINGS_V2 2 /**< adds allow_suite1 */
#define CPNS_GATEWAY_SETTINGS_VERSION CPNS_GATEWAY_SETTINGS_V2

/**
 * Fills every field of the settings layout settings_version with its
 * default (see each field). Call it through cpns_gateway_settings_default().
 * Returns 0, or CPNS_ERR_INVALID_ARGUMENT (settings NULL, or a version this
 * library does not know).
 */
CPNS_EXTERN int cpns_gateway_settings_default_versioned(int settings_version,
                                                        cpns_gateway_settings *settings);
#define cpns_gateway_settings_default(SETTINGS)                                                    \
  cpns_gateway_settings_default_versioned(CPNS_GATEWAY_SETTINGS_VERSION, (SETTINGS))

/**
 * Creates an engine in state SEND; settings is read as the layout
 * settings_version. Call it through cpns_gateway_new(). mem may be NULL.
 * Returns 0, CPNS_ERR_INVALID_ARGUMENT (pgw or settings NULL, unknown
 * settings_version, a zero limit, timeout or max_pdu_len, a KDF minimum
 * above its maximum, a partial mem), CPNS_ERR_NOMEM, CPNS_ERR_ID_* (bad
 * Entity ID or User ID), CPNS_ERR_NOT_INITIALIZED.
 */
CPNS_EXTERN int cpns_gateway_new_versioned(cpns_gateway **pgw, int settings_version,
                                           const cpns_gateway_settings *settings,
                                           const cpns_mem *mem, uint64_t now_ms);
#define cpns_gateway_new(PGW, SETTINGS, MEM, NOW_MS)                                               \
  cpns_gateway_new_versioned((PGW), CPNS_GATEWAY_SETTINGS_VERSION, (SETTINGS), (MEM), (NOW_MS))

/** Wipes every secret and frees the engine. NULL is allowed. */
CPNS_EXTERN void cpns_gateway_del(cpns_gateway *gw);

/** Returns the current state. */
CPNS_EXTERN cpns_gateway_state cpns_gateway_get_state(const cpns_gateway *gw);

/**
 * In state SEND, copies the next PDU to out and moves to RECEIVE, or on at
 * once when cpns_gateway_read() kept a whole PDU (check the state). Returns 0
 * and sets *written, or CPNS_ERR_STATE, CPNS_ERR_BUFFER_TOO_SMALL
 * (CPNS_PDU_MAX_ENCODED always suffices).
 */
CPNS_EXTERN int cpns_gateway_write(cpns_gateway *gw, uint8_t *out, size_t outlen, size_t *written,
                                   uint64_t now_ms);

/**
 * In state RECEIVE, takes all inlen bytes (nghttp2's mem_recv contract: the
 * host keeps no leftovers). A complete KeyChallenge moves to DERIVE, a
 * complete KeyDelivery to DONE or FAILED. Octets after a complete
 * KeyChallenge (a server ahead of its turn) are kept, at most one PDU of
 * max_pdu_len octets, and handled when cpns_gateway_write() returns the
 * engine to RECEIVE: a whole PDU kept then moves the state on at once, so a
 * host that sees RECEIVE may always wait for bytes. Octets after the
 * KeyDelivery are dropped unread (§3: nothing follows it). inlen == 0 means
 * the peer closed the stream.
 * Returns 0, CPNS_ERR_STATE, or, moving to FAILED: the framing and decode
 * errors of cpns_frame_pdu_length()/cpns_pdu_decode(), CPNS_ERR_PROTOCOL
 * (wrong PDU, bad version, or more than max_pdu_len octets after the
 * KeyChallenge), CPNS_ERR_NOMEM (keeping those octets), CPNS_ERR_SUITE_NOT_OFFERED,
 * CPNS_ERR_KDF_PARAMS (outside the local bounds [min, max]: refused before
 * any Argon2id runs and before any proof is sent; cpns_gateway_get_challenge()
 * still tells the server's parameters), CPNS_ERR_ECHO_MISMATCH,
 * CPNS_ERR_SIGNATURE, CPNS_ERR_DECRYPT, CPNS_ERR_REFUSED (server result
 * not success; see cpns_gateway_get_result()), CPNS_ERR_PEER_CLOSED.
 * A KeyChallenge that breaks the §3/§4 rules of its version (suite 2 or ke2
 * under version 1, ke2 present iff suite 2) is CPNS_ERR_PROTOCOL; the suite-1
 * KDF minimums do not apply to suite 2, the maximums do (§7). With
 * allow_suite1, an unsupportedVersion answer or a close before any answer to
 * a version-2 first request moves to RECONNECT instead and returns 0.
 */
CPNS_EXTERN int cpns_gateway_read(cpns_gateway *gw, const uint8_t *in, size_t inlen,
                                  uint64_t now_ms);

/**
 * In state DERIVE, runs the expensive step and builds the second KeyRequest;
 * the password is wiped afterwards. Suite 1: Argon2id on the password and
 * the proof. Suite 2: OPRF finalize, Argon2id as KSF, envelope recovery and
 * the server MAC check of KE2 (RFC 9807 GenerateKE3), then ke3. Takes as
 * long as the KDF parameters say; may run on another thread than the other
 * calls, never concurrently.
 * Returns 0 (state SEND), CPNS_ERR_STATE, or (state FAILED) CPNS_ERR_KDF,
 * CPNS_ERR_KDF_PARAMS, CPNS_ERR_NOMEM, CPNS_ERR_AUTH_FAILED (suite 2: wrong
 * password, unknown User ID or a forged KE2; cpns_gateway_get_result() then
 * gives authenticationFailed; send nothing more and close).
 */
CPNS_EXTERN int cpns_gateway_derive(cpns_gateway *gw, uint64_t now_ms);

/**
 * KDF parameters and realm of the received KeyChallenge (state DERIVE or
 * later, and in state FAILED when the KeyChallenge itself was refused, e.g.
 * CPNS_ERR_KDF_PARAMS). Returns 0, CPNS_ERR_INVALID_ARGUMENT or
 * CPNS_ERR_STATE (no KeyChallenge received).
 */
CPNS_EXTERN int cpns_gateway_get_challenge(const cpns_gateway *gw, cpns_kdf_params *kdf,
                                           uint8_t realm[CPNS_REALM_MAX], size_t *realm_len);

/** Deadline in ms (same clock as now_ms), or UINT64_MAX when none runs. */
CPNS_EXTERN uint64_t cpns_gateway_get_expiry(const cpns_gateway *gw);

/**
 * Call when now_ms >= the expiry. Returns 0 if nothing expired, or
 * CPNS_ERR_TIMEOUT (state FAILED).
 */
CPNS_EXTERN int cpns_gateway_handle_expiry(cpns_gateway *gw, uint64_t now_ms);

/** The error that moved the engine to FAILED or RECONNECT, or 0. */
CPNS_EXTERN int cpns_gateway_get_error(const cpns_gateway *gw);

/**
 * The result field of the received KeyDelivery, in *result, or
 * authenticationFailed when the engine itself found suite 2's KE2 not to
 * authenticate (CPNS_ERR_AUTH_FAILED). Returns 0, CPNS_ERR_INVALID_ARGUMENT,
 * or CPNS_ERR_STATE (no KeyDelivery received yet; *result is left alone).
 */
CPNS_EXTERN int cpns_gateway_get_result(const cpns_gateway *gw, cpns_result *result);

/**
 * In state DONE, copies the EUKey and keyId out (eukey should be
 * sodium_malloc() memory). Returns 0, CPNS_ERR_STATE or
 * CPNS_ERR_INVALID_ARGUMENT.
 */
CPNS_EXTERN int cpns_gateway_get_eukey(const cpns_gateway *gw, uint8_t eukey[CPNS_EUKEY_LEN],
                                       uint8_t key_id[CPNS_KEY_ID_LEN]);

/**
 * The suite the server chose in the KeyChallenge (state DERIVE or later, and
 * in FAILED after a KeyChallenge was accepted), in *suite. Returns 0,
 * CPNS_ERR_INVALID_ARGUMENT or CPNS_ERR_STATE (no KeyChallenge accepted).
 */
CPNS_EXTERN int cpns_gateway_get_suite(const cpns_gateway *gw, int *suite);

/**
 * In state RECONNECT (the server does not speak version 2; the host has
 * closed that connection and opened a new one): starts the exchange over
 * with a version-1 KeyRequest offering suite 1 and a fresh gatewayNonce
 * (§7 fall back), state SEND; no deadline runs until it is written.
 * Returns 0, CPNS_ERR_INVALID_ARGUMENT, CPNS_ERR_STATE (not RECONNECT), or
 * an encode error (state FAILED).
 */
CPNS_EXTERN int cpns_gateway_restart_v1(cpns_gateway *gw, uint64_t now_ms);

#ifdef __cplusplus
}
#endif

#endif /* CPNS_GATEWAY_H */
