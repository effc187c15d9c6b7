/*
 * libcpns gateway key store (PROTOCOL.md §7): the EUKey and what it belongs
 * to, sealed with XChaCha20-Poly1305 under a device key kept in a separate
 * file, versioned, written atomically with mode 0600. Files are touched only
 * by the save, load and generate calls, at the caller's request.
 */
#ifndef CPNS_KEYSTORE_H
#define CPNS_KEYSTORE_H

#include <cpns/crypto.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CPNS_DEVICE_KEY_LEN 32
/** Largest sealed key store image. */
#define CPNS_KEYSTORE_MAX 1024

/** What the gateway keeps. Holds the EUKey: keep it in sodium_malloc() memory. */
typedef struct cpns_keystore_entry {
  uint8_t eukey[CPNS_EUKEY_LEN];
  uint8_t key_id[CPNS_KEY_ID_LEN];
  size_t entity_id_len;
  uint8_t entity_id[CPNS_ENTITY_ID_MAX];
  size_t user_id_len;
  uint8_t user_id[CPNS_USER_ID_MAX];
  size_t realm_len;
  uint8_t realm[CPNS_REALM_MAX];
  cpns_mode mode;
  uint64_t assigned_at; /**< Unix time in seconds, supplied by the caller. */
} cpns_keystore_entry;

/**
 * Seals an entry into out (in memory; no file). Returns 0 and sets *written,
 * or CPNS_ERR_INVALID_ARGUMENT, CPNS_ERR_BUFFER_TOO_SMALL.
 */
CPNS_EXTERN int cpns_keystore_seal(uint8_t *out, size_t outlen, size_t *written,
                                   const cpns_keystore_entry *entry,
                                   const uint8_t device_key[CPNS_DEVICE_KEY_LEN]);

/**
 * Opens a sealed image (hostile input). entry is zeroed on failure.
 * Returns 0, CPNS_ERR_INVALID_ARGUMENT, CPNS_ERR_STORE_TRUNCATED,
 * CPNS_ERR_STORE_CORRUPT, CPNS_ERR_STORE_VERSION, CPNS_ERR_STORE_WRONG_KEY.
 */
CPNS_EXTERN CPNS_WARN_UNUSED int cpns_keystore_open(cpns_keystore_entry *entry, const uint8_t *in,
                                                    size_t inlen,
                                                    const uint8_t device_key[CPNS_DEVICE_KEY_LEN]);

/**
 * Seals and writes the key store to path atomically: temporary file in the
 * same directory, mode 0600, fsync, rename, fsync of the directory.
 * Returns 0, CPNS_ERR_INVALID_ARGUMENT, CPNS_ERR_IO.
 */
CPNS_EXTERN int cpns_keystore_save(const char *path, const cpns_keystore_entry *entry,
                                   const uint8_t device_key[CPNS_DEVICE_KEY_LEN]);

/**
 * Reads and opens the key store at path (not through a symbolic link:
 * O_NOFOLLOW). Returns 0, or the errors of cpns_keystore_open(),
 * CPNS_ERR_IO (missing, unreadable or a symbolic link; errno tells),
 * CPNS_ERR_STORE_PERMISSIONS (readable or writable by group or others).
 */
CPNS_EXTERN CPNS_WARN_UNUSED int cpns_keystore_load(cpns_keystore_entry *entry, const char *path,
                                                    const uint8_t device_key[CPNS_DEVICE_KEY_LEN]);

/**
 * Creates a new random device key file at path (mode 0600, atomically);
 * fails with CPNS_ERR_IO if it already exists.
 * Returns 0, CPNS_ERR_INVALID_ARGUMENT, CPNS_ERR_IO.
 */
CPNS_EXTERN int cpns_device_key_generate(const char *path);

/**
 * Reads a device key file (not through a symbolic link: O_NOFOLLOW).
 * Returns 0, CPNS_ERR_INVALID_ARGUMENT, CPNS_ERR_IO (errno tells; ELOOP
 * for a symbolic link), CPNS_ERR_DEVICE_KEY (wrong size),
 * CPNS_ERR_STORE_PERMISSIONS (readable or writable by group or others).
 */
CPNS_EXTERN CPNS_WARN_UNUSED int cpns_device_key_load(uint8_t key[CPNS_DEVICE_KEY_LEN],
                                                      const char *path);

#ifdef __cplusplus
}
#endif

#endif /* CPNS_KEYSTORE_H */
