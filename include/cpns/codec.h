/*
 * libcpns codec: the PDUs of shared/PROTOCOL.md §3 as plain C structs,
 * DER encoding into caller buffers and strict decoding from hostile bytes.
 * No asn1c type appears here; the generated code is private to the library.
 */
#ifndef CPNS_CODEC_H
#define CPNS_CODEC_H

#include <cpns/common.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CPNS_ENTITY_ID_MAX 255    /**< Octets in an Entity ID (URN). */
#define CPNS_USER_ID_MAX 253      /**< Octets in a User ID (NAI). */
#define CPNS_REALM_MAX 253        /**< Octets in a realm. */
#define CPNS_NONCE_LEN 32         /**< gatewayNonce, serverNonce. */
#define CPNS_SALT_LEN 16          /**< KdfParams.salt. */
#define CPNS_PROOF_LEN 32         /**< AuthResponse.clientProof. */
#define CPNS_KEY_ID_LEN 16        /**< KeyAssignment.keyId. */
#define CPNS_SIGNATURE_LEN 32     /**< KeyAssignment.serverSignature. */
#define CPNS_AEAD_NONCE_LEN 24    /**< KeyAssignment.aeadNonce. */
#define CPNS_WRAPPED_EUKEY_LEN 48 /**< KeyAssignment.wrappedEUKey (32 + tag 16). */
#define CPNS_MAX_OFFERED_SUITES 8 /**< offeredSuites SIZE (1..8). */
/** Content octets of the offeredSuites values outside int32_t, in all (cpns_suite_wide). */
#define CPNS_SUITE_WIDE_OCTETS_MAX 80
#define CPNS_PROTOCOL_VERSION 1 /**< The version this library speaks. */
/** First protocol version with the extension additions of suite 2 (§3). */
#define CPNS_PROTOCOL_VERSION_2 2
#define CPNS_PDU_MAX_DEFAULT 4096 /**< Default limit on one PDU (§3). */
/** Upper bound of any encoded PDU (v1 or v2) or AuthTranscript; the longest,
 * a KeyRequest with every field at its largest and every optional one, is 891. */
#define CPNS_PDU_MAX_ENCODED 1024

/* OPAQUE-3DH message fields of suite 2 (RFC 9807 §6.4.1.1, PROTOCOL.md §5.2). */
#define CPNS_OPAQUE_ELEMENT_LEN 32          /**< Encoded ristretto255 element. */
#define CPNS_OPAQUE_NONCE_LEN 32            /**< maskingNonce. */
#define CPNS_OPAQUE_MAC_LEN 64              /**< serverMac, ke3 (HMAC-SHA-512). */
#define CPNS_OPAQUE_MASKED_RESPONSE_LEN 128 /**< maskedResponse. */

#define CPNS_OPS_LIMIT_MIN 1
#define CPNS_OPS_LIMIT_MAX 4096
#define CPNS_MEM_LIMIT_KIB_MIN 8
#define CPNS_MEM_LIMIT_KIB_MAX 4194304

/** Suite (ENUMERATED, extensible). */
typedef enum cpns_suite {
  CPNS_SUITE_ARGON2ID_HMACSHA256_XCHACHA20POLY1305 = 1, /**< suite 1 (§5.1), v1 and v2 */
  CPNS_SUITE_OPAQUE3DH_RISTRETTO255_SHA512_ARGON2ID = 2 /**< suite 2 (§5.2), v2 only */
} cpns_suite;

/** offered_suites[i] of a value outside int32_t: matches no suite (see cpns_suite_wide). */
#define CPNS_SUITE_WIDE INT32_MIN

/**
 * offeredSuites values that do not fit int32_t (DER contents of 5 or more
 * octets). No suite has such a number, so a receiver ignores them (§3), yet
 * the transcript must carry them as sent: element i is such a value iff
 * len[i] != 0; offered_suites[i] is then CPNS_SUITE_WIDE and the value's
 * minimal two's complement contents are the next len[i] octets of octets,
 * element after element. All zero (the usual case): no such value. In all at
 * most CPNS_SUITE_WIDE_OCTETS_MAX octets, which keeps every PDU and
 * AuthTranscript within CPNS_PDU_MAX_ENCODED; a KeyRequest with more is
 * refused (CPNS_ERR_CONSTRAINT).
 */
typedef struct cpns_suite_wide {
  uint8_t len[CPNS_MAX_OFFERED_SUITES];
  uint8_t octets[CPNS_SUITE_WIDE_OCTETS_MAX];
} cpns_suite_wide;

/** GatewayMode. */
typedef enum cpns_mode { CPNS_MODE_PN_GW = 0, CPNS_MODE_PNE_PLUS_PN_GW = 1 } cpns_mode;

/** Result (§8). */
typedef enum cpns_result {
  CPNS_RESULT_SUCCESS = 0,
  CPNS_RESULT_AUTHENTICATION_FAILED = 1,
  CPNS_RESULT_UNSUPPORTED_VERSION = 2,
  CPNS_RESULT_UNSUPPORTED_SUITE = 3,
  CPNS_RESULT_BAD_REQUEST = 4,
  CPNS_RESULT_ENTITY_CONFLICT = 5,
  CPNS_RESULT_TRY_LATER = 6,
  CPNS_RESULT_SERVER_ERROR = 7
} cpns_result;

/** Returns the module's name of a result ("success", "tryLater", ...) or "unknown". */
CPNS_EXTERN const char *cpns_result_name(int result);

/** KdfParams. */
typedef struct cpns_kdf_params {
  uint8_t salt[CPNS_SALT_LEN];
  uint32_t ops_limit;     /**< 1..4096 */
  uint32_t mem_limit_kib; /**< 8..4194304 */
} cpns_kdf_params;

/** OpaqueKE1 (v2): KE1 of RFC 9807 §6.1 without client_nonce (= gatewayNonce). */
typedef struct cpns_opaque_ke1 {
  uint8_t blinded_message[CPNS_OPAQUE_ELEMENT_LEN];
  uint8_t client_public_keyshare[CPNS_OPAQUE_ELEMENT_LEN];
} cpns_opaque_ke1;

/** OpaqueKE2 (v2): KE2 of RFC 9807 §6.1 without server_nonce (= serverNonce). */
typedef struct cpns_opaque_ke2 {
  uint8_t evaluated_message[CPNS_OPAQUE_ELEMENT_LEN];
  uint8_t masking_nonce[CPNS_OPAQUE_NONCE_LEN];
  uint8_t masked_response[CPNS_OPAQUE_MASKED_RESPONSE_LEN];
  uint8_t server_public_keyshare[CPNS_OPAQUE_ELEMENT_LEN];
  uint8_t server_mac[CPNS_OPAQUE_MAC_LEN];
} cpns_opaque_ke2;

/** KeyRequest. Text fields are UTF-8 octets, not NUL-terminated. */
typedef struct cpns_key_request {
  uint32_t version; /**< 1..255 */
  size_t entity_id_len;
  uint8_t entity_id[CPNS_ENTITY_ID_MAX];
  size_t user_id_len;
  uint8_t user_id[CPNS_USER_ID_MAX];
  cpns_mode mode;
  uint8_t gateway_nonce[CPNS_NONCE_LEN];
  size_t offered_suites_len; /**< 1..8 */
  int32_t
      offered_suites[CPNS_MAX_OFFERED_SUITES]; /**< may hold suites this library does not know */
  cpns_suite_wide offered_suites_wide;         /**< values outside int32_t; zero: none */
  int has_response;                            /**< second KeyRequest: 1 */
  uint8_t server_nonce[CPNS_NONCE_LEN];        /**< valid iff has_response */
  uint8_t client_proof[CPNS_PROOF_LEN];        /**< valid iff has_response */
  int has_ke1;                                 /**< v2, first KeyRequest offering suite 2: 1 */
  cpns_opaque_ke1 ke1;                         /**< valid iff has_ke1 */
  int has_ke3;                                 /**< v2, second KeyRequest of suite 2: 1 */
  uint8_t ke3[CPNS_OPAQUE_MAC_LEN];            /**< client_mac; valid iff has_ke3 */
} cpns_key_request;

/** KeyChallenge. */
typedef struct cpns_key_challenge {
  uint32_t version;
  size_t realm_len;
  uint8_t realm[CPNS_REALM_MAX];
  uint8_t server_nonce[CPNS_NONCE_LEN];
  cpns_suite suite;
  cpns_kdf_params kdf;
  int has_ke2;         /**< v2: 1 iff suite is 2 */
  cpns_opaque_ke2 ke2; /**< valid iff has_ke2 */
} cpns_key_challenge;

/** KeyAssignment. */
typedef struct cpns_key_assignment {
  uint8_t key_id[CPNS_KEY_ID_LEN];
  uint8_t server_signature[CPNS_SIGNATURE_LEN];
  uint8_t aead_nonce[CPNS_AEAD_NONCE_LEN];
  uint8_t wrapped_eukey[CPNS_WRAPPED_EUKEY_LEN];
} cpns_key_assignment;

/** KeyDelivery. */
typedef struct cpns_key_delivery {
  uint32_t version;
  cpns_result result;
  size_t entity_id_len;
  uint8_t entity_id[CPNS_ENTITY_ID_MAX];
  size_t user_id_len;
  uint8_t user_id[CPNS_USER_ID_MAX];
  int has_assignment;             /**< 1 iff result == CPNS_RESULT_SUCCESS */
  cpns_key_assignment assignment; /**< valid iff has_assignment */
} cpns_key_delivery;

/** AuthTranscript (never sent; its DER is AuthMessage, §5). */
typedef struct cpns_auth_transcript {
  uint32_t version;
  size_t offered_suites_len;
  int32_t offered_suites[CPNS_MAX_OFFERED_SUITES];
  cpns_suite_wide offered_suites_wide; /**< as in cpns_key_request */
  cpns_suite suite;
  size_t realm_len;
  uint8_t realm[CPNS_REALM_MAX];
  size_t entity_id_len;
  uint8_t entity_id[CPNS_ENTITY_ID_MAX];
  size_t user_id_len;
  uint8_t user_id[CPNS_USER_ID_MAX];
  cpns_mode mode;
  uint8_t gateway_nonce[CPNS_NONCE_LEN];
  uint8_t server_nonce[CPNS_NONCE_LEN];
  cpns_kdf_params kdf;
} cpns_auth_transcript;

/** Which CpnsPdu alternative a cpns_pdu holds. */
typedef enum cpns_pdu_type {
  CPNS_PDU_KEY_REQUEST = 1,
  CPNS_PDU_KEY_CHALLENGE = 2,
  CPNS_PDU_KEY_DELIVERY = 3
} cpns_pdu_type;

/** CpnsPdu. */
typedef struct cpns_pdu {
  cpns_pdu_type type;
  union {
    cpns_key_request key_request;
    cpns_key_challenge key_challenge;
    cpns_key_delivery key_delivery;
  } u;
} cpns_pdu;

#define CPNS_DECODE_ALLOC_BUDGET_DEFAULT 16384 /**< Bytes one decode may allocate. */
#define CPNS_DECODE_STACK_BUDGET_DEFAULT 32768 /**< Bytes of stack one decode may use. */

/**
 * Limits for one strict decode. Fill them with cpns_decode_limits_default()
 * first: numeric fields are used as they stand (a zero field is refused).
 * Fields are only ever appended; CPNS_DECODE_LIMITS_VERSION grows with them.
 */
typedef struct cpns_decode_limits {
  size_t max_len;      /**< Longest accepted input; default CPNS_PDU_MAX_DEFAULT. */
  size_t alloc_budget; /**< Bytes the decoder may allocate; default
                          CPNS_DECODE_ALLOC_BUDGET_DEFAULT. */
  size_t stack_budget; /**< Bytes of stack the decoder may use; default
                          CPNS_DECODE_STACK_BUDGET_DEFAULT. */
  const cpns_mem *mem; /**< Allocator; default NULL, the C library's (cpns_mem_default()). */
} cpns_decode_limits;

/** Layout versions of cpns_decode_limits. */
#define CPNS_DECODE_LIMITS_V1 1
#define CPNS_DECODE_LIMITS_VERSION CPNS_DECODE_LIMITS_V1

/**
 * Fills every field of the layout limits_version with its default. Call it
 * through cpns_decode_limits_default(). Returns 0, or
 * CPNS_ERR_INVALID_ARGUMENT (limits NULL, unknown version).
 */
CPNS_EXTERN int cpns_decode_limits_default_versioned(int limits_version,
                                                     cpns_decode_limits *limits);
#define cpns_decode_limits_default(LIMITS)                                                         \
  cpns_decode_limits_default_versioned(CPNS_DECODE_LIMITS_VERSION, (LIMITS))

/**
 * Encodes a PDU as DER into out[0..outlen).
 *
 * Returns 0 and sets *written, or:
 * CPNS_ERR_INVALID_ARGUMENT (NULL argument, unknown pdu->type),
 * CPNS_ERR_CONSTRAINT (a field violates the module: size, range, enum),
 * CPNS_ERR_BUFFER_TOO_SMALL, CPNS_ERR_NOMEM, CPNS_ERR_ENCODE.
 */
CPNS_EXTERN int cpns_pdu_encode(const cpns_pdu *pdu, uint8_t *out, size_t outlen, size_t *written);

/**
 * Strictly decodes exactly one DER CpnsPdu occupying in[0..inlen): length
 * limit, structural DER check, bounded asn1c decode, nothing left over,
 * constraints, and re-encoding byte for byte (only canonical DER passes).
 * Unknown suites in offeredSuites are kept; every other unknown ENUMERATED
 * value or extension addition is rejected. The v2 additions (ke1, ke3,
 * ke2, Suite 2) decode whatever the PDU's version: the version rules of §3
 * and the presence rules of §4 are cpns_key_request_validate*() and
 * cpns_key_challenge_validate(), so that a server can still answer
 * badRequest. On failure *pdu is zeroed and nothing is leaked.
 *
 * limits (layout limits_version) may be NULL for the defaults; call it
 * through cpns_pdu_decode(). Returns 0, or:
 * CPNS_ERR_INVALID_ARGUMENT (also: unknown limits_version, a zero limit),
 * CPNS_ERR_PDU_TOO_LONG, CPNS_ERR_DER_TRUNCATED,
 * CPNS_ERR_DER_INDEFINITE_LENGTH, CPNS_ERR_DER_NON_MINIMAL_LENGTH,
 * CPNS_ERR_DER_HIGH_TAG_FORM, CPNS_ERR_DER_TOO_DEEP,
 * CPNS_ERR_DER_TRAILING_BYTES, CPNS_ERR_DER_CONSTRUCTED_STRING,
 * CPNS_ERR_DER_NON_MINIMAL_INTEGER, CPNS_ERR_DER_NON_CANONICAL,
 * CPNS_ERR_DECODE, CPNS_ERR_WRONG_CHOICE, CPNS_ERR_CONSTRAINT,
 * CPNS_ERR_EXTENSION_PRESENT, CPNS_ERR_UNKNOWN_ENUM,
 * CPNS_ERR_ALLOC_BUDGET, CPNS_ERR_STACK_BUDGET, CPNS_ERR_NOMEM.
 */
CPNS_EXTERN int cpns_pdu_decode_versioned(cpns_pdu *pdu, const uint8_t *in, size_t inlen,
                                          int limits_version, const cpns_decode_limits *limits);
#define cpns_pdu_decode(PDU, IN, INLEN, LIMITS)                                                    \
  cpns_pdu_decode_versioned((PDU), (IN), (INLEN), CPNS_DECODE_LIMITS_VERSION, (LIMITS))

/**
 * Encodes an AuthTranscript as DER: this is AuthMessage (§5).
 *
 * Returns 0 and sets *written, or CPNS_ERR_INVALID_ARGUMENT,
 * CPNS_ERR_CONSTRAINT, CPNS_ERR_BUFFER_TOO_SMALL, CPNS_ERR_NOMEM,
 * CPNS_ERR_ENCODE.
 */
CPNS_EXTERN int cpns_auth_transcript_encode(const cpns_auth_transcript *t, uint8_t *out,
                                            size_t outlen, size_t *written);

/**
 * Strictly decodes a DER AuthTranscript (for tools and test vectors), with
 * the same checks and errors as cpns_pdu_decode(); call it through
 * cpns_auth_transcript_decode().
 */
CPNS_EXTERN int cpns_auth_transcript_decode_versioned(cpns_auth_transcript *t, const uint8_t *in,
                                                      size_t inlen, int limits_version,
                                                      const cpns_decode_limits *limits);
#define cpns_auth_transcript_decode(T, IN, INLEN, LIMITS)                                          \
  cpns_auth_transcript_decode_versioned((T), (IN), (INLEN), CPNS_DECODE_LIMITS_VERSION, (LIMITS))

/**
 * Builds the AuthTranscript of an exchange from the KeyRequest the gateway
 * sent and the KeyChallenge the server answered with (§5). Never fails for
 * decoded inputs; returns CPNS_ERR_INVALID_ARGUMENT on NULL.
 */
CPNS_EXTERN int cpns_auth_transcript_from(cpns_auth_transcript *t, const cpns_key_request *req,
                                          const cpns_key_challenge *chal);

/**
 * Framing on a stream (§3): from the first inlen received bytes, tells how
 * long the whole CpnsPdu TLV is, so a reader can refuse it before buffering.
 *
 * Returns 0 and sets *pdu_len to the full TLV length, or to 0 when more
 * bytes are needed to know it (at most 6 are ever needed). Errors:
 * CPNS_ERR_INVALID_ARGUMENT, CPNS_ERR_FRAME_INVALID (not a context-tagged
 * constructed CHOICE alternative), CPNS_ERR_DER_INDEFINITE_LENGTH,
 * CPNS_ERR_DER_NON_MINIMAL_LENGTH, CPNS_ERR_DER_HIGH_TAG_FORM,
 * CPNS_ERR_PDU_TOO_LONG (longer than max_len; 0 = CPNS_PDU_MAX_DEFAULT).
 */
CPNS_EXTERN int cpns_frame_pdu_length(const uint8_t *in, size_t inlen, size_t max_len,
                                      size_t *pdu_len);

/**
 * Semantic validation of a KeyRequest in either role, beyond the module
 * (PROTOCOL.md §2, §3, §4): Entity ID and User ID syntax; a version-1
 * KeyRequest carries no v2 extension addition (ke1, ke3); and no
 * KeyRequest holds fields of both roles (ke1 with response or ke3) or of
 * both suites (response with ke3). cpns_pdu_decode() accepts these PDUs so
 * that a server can answer them with badRequest; engines call this (or
 * the _first/_second variants) on every KeyRequest they receive.
 *
 * Returns 0, or CPNS_ERR_INVALID_ARGUMENT (req NULL), the identifier error
 * (CPNS_ERR_ID_*) of the first bad field, CPNS_ERR_V2_FIELD_IN_V1 or
 * CPNS_ERR_PRESENCE.
 */
CPNS_EXTERN int cpns_key_request_validate(const cpns_key_request *req);

/**
 * cpns_key_request_validate() plus the presence rules of a first KeyRequest
 * (§4): response and ke3 absent; from version 2 on, ke1 present iff
 * offeredSuites contains suite 2 (a version-1 request may list 2 there; it
 * is ignored, §3). Returns 0 or an error of cpns_key_request_validate()
 * (CPNS_ERR_PRESENCE for a broken rule).
 */
CPNS_EXTERN int cpns_key_request_validate_first(const cpns_key_request *req);

/**
 * cpns_key_request_validate() plus the presence rules of a second
 * KeyRequest of an exchange that runs suite (§4): ke1 absent; suite 1:
 * response present, ke3 absent; suite 2: ke3 present, response absent.
 * That it repeats the first request's root fields is the engine's check.
 * Returns 0, an error of cpns_key_request_validate() (CPNS_ERR_PRESENCE
 * for a broken rule), or CPNS_ERR_UNSUPPORTED_SUITE (suite neither 1 nor 2).
 */
CPNS_EXTERN int cpns_key_request_validate_second(const cpns_key_request *req, cpns_suite suite);

/**
 * Semantic validation of a KeyChallenge (§3, §4): a version-1 KeyChallenge
 * neither picks suite 2 nor carries ke2; ke2 is present iff suite is 2.
 * A gateway closes with a protocol error on a failure. Returns 0, or
 * CPNS_ERR_INVALID_ARGUMENT (chal NULL), CPNS_ERR_V2_FIELD_IN_V1,
 * CPNS_ERR_PRESENCE.
 */
CPNS_EXTERN int cpns_key_challenge_validate(const cpns_key_challenge *chal);

/**
 * Semantic validation of a KeyDelivery: Entity ID and User ID syntax,
 * result/assignment consistency. Returns 0 or the identifier error
 * (CPNS_ERR_ID_*) of the first bad field, or CPNS_ERR_PROTOCOL when result
 * and assignment disagree.
 */
CPNS_EXTERN int cpns_key_delivery_validate(const cpns_key_delivery *del);

/**
 * Writes a readable, multi-line description of a PDU (one "field: value"
 * per line, hex for octet strings) into out as a NUL-terminated string.
 * Returns 0, CPNS_ERR_INVALID_ARGUMENT or CPNS_ERR_BUFFER_TOO_SMALL.
 */
CPNS_EXTERN int cpns_pdu_format(const cpns_pdu *pdu, char *out, size_t outlen);

#ifdef __cplusplus
}
#endif

#endif /* CPNS_CODEC_H */
