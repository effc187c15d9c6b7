/*
 * cpns-server key file: the server secret (fake salts) and the master key
 * (EUKeys, and through a derived key the credential records, sealed at
 * rest), kept apart from the database in a 0600 file created atomically.
 */
#ifndef CPNS_EXAMPLES_SERVER_KEYFILE_H
#define CPNS_EXAMPLES_SERVER_KEYFILE_H

#include <cpns/crypto.h>

/** Octets in a key file: magic, server secret, master key. */
#define SERVER_KEYFILE_MAGIC "CPNSSK01"
#define SERVER_KEYFILE_MAGIC_LEN 8
#define SERVER_KEYFILE_LEN (SERVER_KEYFILE_MAGIC_LEN + CPNS_SERVER_SECRET_LEN + CPNS_MASTER_KEY_LEN)

/** The server's long-term secrets, kept in sodium_malloc() memory. */
typedef struct server_keys {
  uint8_t server_secret[CPNS_SERVER_SECRET_LEN];
  uint8_t master_key[CPNS_MASTER_KEY_LEN];
  /** Derived at load (cpns_crypto_credential_seal_key), not stored: seals credential records. */
  uint8_t record_key[CPNS_CREDENTIAL_SEAL_KEY_LEN];
} server_keys;

/**
 * Creates a key file with fresh random keys: written to a temporary file
 * (mode 0600) in the same directory, fsynced, then linked into place so an
 * existing file is never replaced, and the directory fsynced.
 * Returns 0, or -1 with a message on stderr (EEXIST when path exists).
 */
int server_keyfile_create(const char *path);

/**
 * Loads a key file into *keys (sodium_malloc; free with server_keys_free).
 * Refuses a file that group or others may access, that is not a regular
 * file, or has the wrong size or magic. Returns 0, or -1 with a message.
 */
int server_keyfile_load(const char *path, server_keys **keys);

/** Wipes and frees keys; NULL is allowed. */
void server_keys_free(server_keys *keys);

#endif /* CPNS_EXAMPLES_SERVER_KEYFILE_H */
