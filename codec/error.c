/* cpns_strerror(), cpns_error_name(): one message and one name per cpns_error. */
#include <cpns/common.h>

const char *cpns_strerror(int error) {
  switch (error) {
  case CPNS_OK: return "success";
  case CPNS_ERR_INVALID_ARGUMENT: return "invalid argument";
  case CPNS_ERR_NOMEM: return "out of memory";
  case CPNS_ERR_BUFFER_TOO_SMALL: return "output buffer too small";
  case CPNS_ERR_NOT_INITIALIZED: return "cpns_init() has not been called";
  case CPNS_ERR_INTERNAL: return "internal error";
  case CPNS_ERR_CRYPTO_INIT: return "libsodium failed to initialise";
  case CPNS_ERR_PDU_TOO_LONG: return "PDU longer than the limit";
  case CPNS_ERR_DER_TRUNCATED: return "input ends inside a TLV";
  case CPNS_ERR_DER_INDEFINITE_LENGTH: return "indefinite length is not DER";
  case CPNS_ERR_DER_NON_MINIMAL_LENGTH: return "length not in minimal form";
  case CPNS_ERR_DER_HIGH_TAG_FORM: return "high-tag-number form for a low tag";
  case CPNS_ERR_DER_TOO_DEEP: return "nesting too deep";
  case CPNS_ERR_DER_TRAILING_BYTES: return "trailing bytes after the PDU";
  case CPNS_ERR_DER_CONSTRUCTED_STRING: return "constructed string is not DER";
  case CPNS_ERR_DER_NON_MINIMAL_INTEGER: return "integer not in minimal form";
  case CPNS_ERR_DER_NON_CANONICAL: return "not the canonical DER encoding";
  case CPNS_ERR_DECODE: return "structure does not match the ASN.1 module";
  case CPNS_ERR_WRONG_CHOICE: return "unknown CpnsPdu alternative";
  case CPNS_ERR_CONSTRAINT: return "value violates an ASN.1 constraint";
  case CPNS_ERR_ALLOC_BUDGET: return "decoder allocation budget exceeded";
  case CPNS_ERR_STACK_BUDGET: return "decoder stack budget exceeded";
  case CPNS_ERR_ENCODE: return "value cannot be encoded";
  case CPNS_ERR_EXTENSION_PRESENT: return "extension addition unknown to the module";
  case CPNS_ERR_UNKNOWN_ENUM: return "enumerated value unknown to the module";
  case CPNS_ERR_FRAME_INVALID: return "bytes cannot start a CpnsPdu";
  case CPNS_ERR_V2_FIELD_IN_V1: return "version 1 PDU carries a version 2 field";
  case CPNS_ERR_PRESENCE: return "field present or absent against the presence rules";
  case CPNS_ERR_ID_EMPTY: return "identifier is empty";
  case CPNS_ERR_ID_TOO_LONG: return "identifier too long";
  case CPNS_ERR_ID_SYNTAX: return "identifier syntax error";
  case CPNS_ERR_ID_UTF8: return "malformed UTF-8 in identifier";
  case CPNS_ERR_ID_PCT_ENCODING: return "bad percent-encoding in identifier";
  case CPNS_ERR_ID_NAMESPACE: return "identifier breaks its URN namespace rules";
  case CPNS_ERR_ID_TRUNCATED: return "identifier ends too early";
  case CPNS_ERR_KDF_PARAMS: return "KDF parameters outside the allowed bounds";
  case CPNS_ERR_KDF: return "Argon2id failed (not enough memory?)";
  case CPNS_ERR_PROOF: return "client proof does not verify";
  case CPNS_ERR_SIGNATURE: return "server signature does not verify";
  case CPNS_ERR_DECRYPT: return "authenticated decryption failed";
  case CPNS_ERR_UNSUPPORTED_SUITE: return "unsupported suite";
  case CPNS_ERR_RECORD_FORMAT: return "malformed stored record";
  case CPNS_ERR_IO: return "file operation failed";
  case CPNS_ERR_STORE_TRUNCATED: return "key store file is truncated";
  case CPNS_ERR_STORE_CORRUPT: return "key store file is corrupted";
  case CPNS_ERR_STORE_VERSION: return "key store format version not supported";
  case CPNS_ERR_STORE_WRONG_KEY: return "key store does not open with this device key";
  case CPNS_ERR_STORE_PERMISSIONS: return "file is accessible to other users";
  case CPNS_ERR_DEVICE_KEY: return "device key file is invalid";
  case CPNS_ERR_STATE: return "call not valid in the current state";
  case CPNS_ERR_PROTOCOL: return "peer broke the protocol";
  case CPNS_ERR_TIMEOUT: return "timed out";
  case CPNS_ERR_ECHO_MISMATCH: return "KeyDelivery does not echo our identifiers";
  case CPNS_ERR_SUITE_NOT_OFFERED: return "server chose a suite we did not offer";
  case CPNS_ERR_REFUSED: return "server refused the request";
  case CPNS_ERR_PEER_CLOSED: return "peer closed the connection";
  case CPNS_ERR_AUTH_FAILED: return "authentication failed (wrong password or unknown user)";
  }
  return "unknown error";
}

const char *cpns_error_name(int error) {
  switch (error) {
  case CPNS_OK: return "CPNS_OK";
  case CPNS_ERR_INVALID_ARGUMENT: return "CPNS_ERR_INVALID_ARGUMENT";
  case CPNS_ERR_NOMEM: return "CPNS_ERR_NOMEM";
  case CPNS_ERR_BUFFER_TOO_SMALL: return "CPNS_ERR_BUFFER_TOO_SMALL";
  case CPNS_ERR_NOT_INITIALIZED: return "CPNS_ERR_NOT_INITIALIZED";
  case CPNS_ERR_INTERNAL: return "CPNS_ERR_INTERNAL";
  case CPNS_ERR_CRYPTO_INIT: return "CPNS_ERR_CRYPTO_INIT";
  case CPNS_ERR_PDU_TOO_LONG: return "CPNS_ERR_PDU_TOO_LONG";
  case CPNS_ERR_DER_TRUNCATED: return "CPNS_ERR_DER_TRUNCATED";
  case CPNS_ERR_DER_INDEFINITE_LENGTH: return "CPNS_ERR_DER_INDEFINITE_LENGTH";
  case CPNS_ERR_DER_NON_MINIMAL_LENGTH: return "CPNS_ERR_DER_NON_MINIMAL_LENGTH";
  case CPNS_ERR_DER_HIGH_TAG_FORM: return "CPNS_ERR_DER_HIGH_TAG_FORM";
  case CPNS_ERR_DER_TOO_DEEP: return "CPNS_ERR_DER_TOO_DEEP";
  case CPNS_ERR_DER_TRAILING_BYTES: return "CPNS_ERR_DER_TRAILING_BYTES";
  case CPNS_ERR_DER_CONSTRUCTED_STRING: return "CPNS_ERR_DER_CONSTRUCTED_STRING";
  case CPNS_ERR_DER_NON_MINIMAL_INTEGER: return "CPNS_ERR_DER_NON_MINIMAL_INTEGER";
  case CPNS_ERR_DER_NON_CANONICAL: return "CPNS_ERR_DER_NON_CANONICAL";
  case CPNS_ERR_DECODE: return "CPNS_ERR_DECODE";
  case CPNS_ERR_WRONG_CHOICE: return "CPNS_ERR_WRONG_CHOICE";
  case CPNS_ERR_CONSTRAINT: return "CPNS_ERR_CONSTRAINT";
  case CPNS_ERR_ALLOC_BUDGET: return "CPNS_ERR_ALLOC_BUDGET";
  case CPNS_ERR_STACK_BUDGET: return "CPNS_ERR_STACK_BUDGET";
  case CPNS_ERR_ENCODE: return "CPNS_ERR_ENCODE";
  case CPNS_ERR_EXTENSION_PRESENT: return "CPNS_ERR_EXTENSION_PRESENT";
  case CPNS_ERR_UNKNOWN_ENUM: return "CPNS_ERR_UNKNOWN_ENUM";
  case CPNS_ERR_FRAME_INVALID: return "CPNS_ERR_FRAME_INVALID";
  case CPNS_ERR_V2_FIELD_IN_V1: return "CPNS_ERR_V2_FIELD_IN_V1";
  case CPNS_ERR_PRESENCE: return "CPNS_ERR_PRESENCE";
  case CPNS_ERR_ID_EMPTY: return "CPNS_ERR_ID_EMPTY";
  case CPNS_ERR_ID_TOO_LONG: return "CPNS_ERR_ID_TOO_LONG";
  case CPNS_ERR_ID_SYNTAX: return "CPNS_ERR_ID_SYNTAX";
  case CPNS_ERR_ID_UTF8: return "CPNS_ERR_ID_UTF8";
  case CPNS_ERR_ID_PCT_ENCODING: return "CPNS_ERR_ID_PCT_ENCODING";
  case CPNS_ERR_ID_NAMESPACE: return "CPNS_ERR_ID_NAMESPACE";
  case CPNS_ERR_ID_TRUNCATED: return "CPNS_ERR_ID_TRUNCATED";
  case CPNS_ERR_KDF_PARAMS: return "CPNS_ERR_KDF_PARAMS";
  case CPNS_ERR_KDF: return "CPNS_ERR_KDF";
  case CPNS_ERR_PROOF: return "CPNS_ERR_PROOF";
  case CPNS_ERR_SIGNATURE: return "CPNS_ERR_SIGNATURE";
  case CPNS_ERR_DECRYPT: return "CPNS_ERR_DECRYPT";
  case CPNS_ERR_UNSUPPORTED_SUITE: return "CPNS_ERR_UNSUPPORTED_SUITE";
  case CPNS_ERR_RECORD_FORMAT: return "CPNS_ERR_RECORD_FORMAT";
  case CPNS_ERR_IO: return "CPNS_ERR_IO";
  case CPNS_ERR_STORE_TRUNCATED: return "CPNS_ERR_STORE_TRUNCATED";
  case CPNS_ERR_STORE_CORRUPT: return "CPNS_ERR_STORE_CORRUPT";
  case CPNS_ERR_STORE_VERSION: return "CPNS_ERR_STORE_VERSION";
  case CPNS_ERR_STORE_WRONG_KEY: return "CPNS_ERR_STORE_WRONG_KEY";
  case CPNS_ERR_STORE_PERMISSIONS: return "CPNS_ERR_STORE_PERMISSIONS";
  case CPNS_ERR_DEVICE_KEY: return "CPNS_ERR_DEVICE_KEY";
  case CPNS_ERR_STATE: return "CPNS_ERR_STATE";
  case CPNS_ERR_PROTOCOL: return "CPNS_ERR_PROTOCOL";
  case CPNS_ERR_TIMEOUT: return "CPNS_ERR_TIMEOUT";
  case CPNS_ERR_ECHO_MISMATCH: return "CPNS_ERR_ECHO_MISMATCH";
  case CPNS_ERR_SUITE_NOT_OFFERED: return "CPNS_ERR_SUITE_NOT_OFFERED";
  case CPNS_ERR_REFUSED: return "CPNS_ERR_REFUSED";
  case CPNS_ERR_PEER_CLOSED: return "CPNS_ERR_PEER_CLOSED";
  case CPNS_ERR_AUTH_FAILED: return "CPNS_ERR_AUTH_FAILED";
  }
  return "CPNS_ERR_UNKNOWN";
}
