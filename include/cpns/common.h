/*
 * libcpns: common declarations shared by every module: the export macro,
 * the one error enum, the allocator hook and library initialisation.
 *
 * Conventions of the whole API (every header follows them):
 *
 * - Returns. A function returning int returns 0 on success or a negative
 *   CPNS_ERR_* code, never anything else; its doc comment lists the codes
 *   it can return. cpns_strerror() describes a code, cpns_error_name()
 *   names it. Results travel through out-parameters
 *   (cpns_gateway_get_result(gw, &result)), never as a sentinel value
 *   folded into the return. The few functions that cannot fail return
 *   their value directly (states, expiries, names) or void.
 * - No hidden state. Beyond cpns_init()'s one-time setup, no call leaves
 *   state behind that a later call reads (the decoder's per-thread scratch
 *   arena lives only during one call); everything a call reports comes
 *   back through its own arguments (e.g. cpns_ident_error for identifier
 *   errors). Distinct objects are independent; one object is not
 *   thread-safe unless its header says so.
 * - Names. cpns_<module>_<verb>: cpns_gateway_*, cpns_server_session_*,
 *   cpns_secpool_*, cpns_keystore_*, cpns_pdu_*; every cryptographic
 *   primitive is cpns_crypto_*. Objects are opaque, made by
 *   cpns_x_new(&x, ...) and freed by cpns_x_del(x) (NULL allowed).
 * - Argument order. Objects first: cpns_x_verb(x, outputs, inputs).
 *   Codec calls put the value they encode or decode first
 *   (cpns_pdu_encode(pdu, out, ...), cpns_pdu_decode(pdu, in, ...)).
 *   Flat crypto and key store calls follow libsodium: outputs first, then
 *   inputs, keys after the data they protect. A buffer travels with its
 *   length: an output as (out, outlen, &written), an input as (in, inlen),
 *   taken whole; an allocator (cpns_mem *) comes after the settings; the
 *   current time now_ms is always the last argument.
 * - Settings. Caller-filled structs are versioned: fill them with
 *   cpns_x_settings_default(&s) (every field gets its real default; 0 is
 *   not a default), change what you need, and pass them to cpns_x_new(),
 *   which tells the library the layout version you compiled against
 *   (doc/abi.md).
 * - Memory. Output goes into caller-owned buffers; secrets live in
 *   guarded memory (sodium_malloc()) and are wiped by the library when it
 *   owns them. Every input is validated and bounded.
 */
#ifndef CPNS_COMMON_H
#define CPNS_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Marks a declaration as part of the exported API. */
#if defined(BUILDING_LIBCPNS) && defined(__GNUC__)
#define CPNS_EXTERN __attribute__((visibility("default")))
#else
#define CPNS_EXTERN
#endif

/** The result of a call whose failure must not be ignored (verify, unwrap, decrypt). */
#if defined(__GNUC__)
#define CPNS_WARN_UNUSED __attribute__((warn_unused_result))
#else
#define CPNS_WARN_UNUSED
#endif

/**
 * Error codes. Every function returning int returns 0 (CPNS_OK) or one of
 * these negative values; the doc comment of each function lists which.
 * Values are stable: new codes are only ever added.
 */
typedef enum cpns_error {
  CPNS_OK = 0,

  /* General (-1 .. -99) */
  CPNS_ERR_INVALID_ARGUMENT = -1, /**< NULL or out-of-range argument. */
  CPNS_ERR_NOMEM = -2,            /**< An allocation failed. */
  CPNS_ERR_BUFFER_TOO_SMALL = -3, /**< Caller buffer cannot hold the output. */
  CPNS_ERR_NOT_INITIALIZED = -4,  /**< cpns_init() has not succeeded yet. */
  CPNS_ERR_INTERNAL = -5,         /**< A broken invariant inside libcpns. */
  CPNS_ERR_CRYPTO_INIT = -6,      /**< sodium_init() failed. */

  /* Codec (-100 .. -199) */
  CPNS_ERR_PDU_TOO_LONG = -100,           /**< Length above the limit (checked first). */
  CPNS_ERR_DER_TRUNCATED = -101,          /**< Input ends inside a TLV. */
  CPNS_ERR_DER_INDEFINITE_LENGTH = -102,  /**< Indefinite-length form (BER only). */
  CPNS_ERR_DER_NON_MINIMAL_LENGTH = -103, /**< Length not in its shortest form. */
  CPNS_ERR_DER_HIGH_TAG_FORM =
      -104,                     /**< High-tag-number form for a tag below 31, or a tag too large. */
  CPNS_ERR_DER_TOO_DEEP = -105, /**< Nesting deeper than any valid PDU. */
  CPNS_ERR_DER_TRAILING_BYTES = -106,     /**< Bytes after the outermost TLV. */
  CPNS_ERR_DER_CONSTRUCTED_STRING = -107, /**< Constructed form of a string type. */
  CPNS_ERR_DER_NON_MINIMAL_INTEGER =
      -108,                          /**< INTEGER/ENUMERATED not in minimal two's complement. */
  CPNS_ERR_DER_NON_CANONICAL = -109, /**< Decodes, but is not the DER encoding of its value. */
  CPNS_ERR_DECODE = -110, /**< Structure does not match the module (wrong tag, missing field). */
  CPNS_ERR_WRONG_CHOICE = -111,      /**< CpnsPdu alternative unknown to v1. */
  CPNS_ERR_CONSTRAINT = -112,        /**< A size, range or enumeration constraint is violated. */
  CPNS_ERR_ALLOC_BUDGET = -113,      /**< Decoding needed more memory than its budget. */
  CPNS_ERR_STACK_BUDGET = -114,      /**< Decoding needed more stack than its budget. */
  CPNS_ERR_ENCODE = -115,            /**< The value cannot be encoded (violates the module). */
  CPNS_ERR_EXTENSION_PRESENT = -116, /**< A SEQUENCE carries an addition the module lacks. */
  CPNS_ERR_UNKNOWN_ENUM = -117,      /**< ENUMERATED value not listed in the module. */
  CPNS_ERR_FRAME_INVALID = -118,     /**< First bytes cannot start a CpnsPdu TLV. */
  CPNS_ERR_V2_FIELD_IN_V1 = -119,    /**< A version-1 PDU carries a v2 field or suite 2 (§3). */
  CPNS_ERR_PRESENCE = -120, /**< A v2 field present or absent against the §4 presence rules. */

  /* Identifiers (-200 .. -299) */
  CPNS_ERR_ID_EMPTY = -200,    /**< Identifier is empty. */
  CPNS_ERR_ID_TOO_LONG = -201, /**< Longer than 255 (Entity ID) / 253 (User ID) octets. */
  CPNS_ERR_ID_SYNTAX = -202,   /**< Octet not allowed by the grammar at this point. */
  CPNS_ERR_ID_UTF8 = -203,     /**< Malformed UTF-8 (overlong, surrogate, > U+10FFFF, truncated). */
  CPNS_ERR_ID_PCT_ENCODING = -204, /**< "%" not followed by two hex digits. */
  CPNS_ERR_ID_NAMESPACE = -205,    /**< Breaks the urn:uuid: or urn:dev:mac: namespace rules. */
  CPNS_ERR_ID_TRUNCATED = -206,    /**< Input ends where the grammar needs more. */

  /* Crypto and stores (-300 .. -399) */
  CPNS_ERR_KDF_PARAMS = -300,        /**< KDF parameters outside the policy bounds. */
  CPNS_ERR_KDF = -301,               /**< Argon2id failed (usually: not enough memory). */
  CPNS_ERR_PROOF = -302,             /**< ClientProof does not verify. */
  CPNS_ERR_SIGNATURE = -303,         /**< ServerSignature does not verify. */
  CPNS_ERR_DECRYPT = -304,           /**< AEAD authentication failed. */
  CPNS_ERR_UNSUPPORTED_SUITE = -305, /**< Suite unknown to this library. */
  CPNS_ERR_RECORD_FORMAT = -306,     /**< Stored credential or assignment record is malformed. */
  CPNS_ERR_IO = -310, /**< A file operation failed (errno kept by the caller's libc). */
  CPNS_ERR_STORE_TRUNCATED = -311, /**< Key store file is shorter than its header says. */
  CPNS_ERR_STORE_CORRUPT = -312,   /**< Key store file is not a libcpns key store or is damaged. */
  CPNS_ERR_STORE_VERSION = -313,   /**< Key store format version not supported. */
  CPNS_ERR_STORE_WRONG_KEY = -314, /**< Key store does not open under this device key. */
  CPNS_ERR_STORE_PERMISSIONS = -315, /**< Key file readable or writable by others. */
  CPNS_ERR_DEVICE_KEY = -316,        /**< Device key file missing, wrong size or unreadable. */

  /* Exchange (-400 .. -499) */
  CPNS_ERR_STATE = -400,             /**< Call not valid in the engine's current state. */
  CPNS_ERR_PROTOCOL = -401,          /**< Peer sent a valid PDU that breaks the exchange rules. */
  CPNS_ERR_TIMEOUT = -402,           /**< A deadline passed. */
  CPNS_ERR_ECHO_MISMATCH = -403,     /**< KeyDelivery does not echo our Entity ID / User ID. */
  CPNS_ERR_SUITE_NOT_OFFERED = -404, /**< KeyChallenge picks a suite we did not offer. */
  CPNS_ERR_REFUSED = -405,           /**< Server answered with a result other than success. */
  CPNS_ERR_PEER_CLOSED = -406,       /**< Peer ended the stream before the exchange finished. */
  CPNS_ERR_AUTH_FAILED = -407 /**< Suite 2: KE2 does not authenticate (wrong password, unknown
                                   User ID, forged KE2); no ke3 was sent. */
} cpns_error;

/**
 * Returns a static, human-readable English description of an error code
 * (never NULL; unknown codes give "unknown error").
 */
CPNS_EXTERN const char *cpns_strerror(int error);

/**
 * Returns the symbolic name of an error code ("CPNS_ERR_NOMEM", "CPNS_OK"),
 * static, never NULL; unknown codes give "CPNS_ERR_UNKNOWN".
 */
CPNS_EXTERN const char *cpns_error_name(int error);

/** Layout version of cpns_info; fields are only ever appended. */
#define CPNS_INFO_AGE 1

/** What cpns_version() tells about the library actually loaded. */
typedef struct cpns_info {
  int age;                 /**< CPNS_INFO_AGE of the library: which fields exist. */
  int version_num;         /**< Its CPNS_VERSION_NUM (0xMMmmpp). */
  const char *version_str; /**< Its CPNS_VERSION ("MAJOR.MINOR.PATCH"). */
} cpns_info;

/**
 * Returns the run-time library's version, or NULL if it is older than
 * least_version (a CPNS_VERSION_NUM value; 0 accepts any). Compare with the
 * CPNS_VERSION_NUM of the headers the caller compiled against.
 */
CPNS_EXTERN const cpns_info *cpns_version(int least_version);

/** Allocator hook, as in nghttp2: all four functions or none. */
typedef struct cpns_mem {
  void *user_data;
  void *(*malloc)(size_t size, void *user_data);
  void (*free)(void *ptr, void *user_data);
  void *(*calloc)(size_t nmemb, size_t size, void *user_data);
  void *(*realloc)(void *ptr, size_t size, void *user_data);
} cpns_mem;

/** Returns the default allocator (the C library's). */
CPNS_EXTERN const cpns_mem *cpns_mem_default(void);

/**
 * One-time library initialisation: initialises libsodium and resolves the
 * codec's type tables so that every later call is thread-safe. Safe to call
 * more than once and from several threads.
 *
 * Returns 0, or CPNS_ERR_CRYPTO_INIT if libsodium cannot initialise.
 */
CPNS_EXTERN int cpns_init(void);

#ifdef __cplusplus
}
#endif

#endif /* CPNS_COMMON_H */
