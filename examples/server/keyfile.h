/*
 * cpns-server key file: the server secret (fake salts), the master key
 * (EUKeys, and through a derived key the credential records, sealed at
 * rest) and, since version 2, the suite-2 server keys (OPRF seed, AKE key
 * pair, fake record: PROTOCOL.md §5.2), kept apart from the database in a
 * 0600 file created atomically.
 */
#ifndef CPNS_EXAMPLES_SERVER_KEYFILE_H
#define CPNS_EXAMPLES_SERVER_KEYFILE_H

#include <cpns/crypto.h>

/** Version 1: magic, server secret, master key (suite 1 only). */
#define SERVER_KEYFILE_MAGIC_V1 "CPNSSK01"
/** Version 2: magic, server secret, master key, then the suite-2 keys
 * (oprf_seed, private_key, public_key, fake_client_public_key,
 * fake_masking_key, in that order). */
#define SERVER_KEYFILE_MAGIC "CPNSSK02"
#define SERVER_KEYFILE_MAGIC_LEN 8
#define SERVER_KEYFILE_V1_LEN                                                                      \
  (SERVER_KEYFILE_MAGIC_LEN + CPNS_SERVER_SECRET_LEN + CPNS_MASTER_KEY_LEN)
#define SERVER_KEYFILE_S2_LEN                                                                      \
  (CPNS_S2_OPRF_SEED_LEN + CPNS_S2_PRIVATE_KEY_LEN + 2 * CPNS_S2_PUBLIC_KEY_LEN +                  \
   CPNS_S2_MASKING_KEY_LEN)
#define SERVER_KEYFILE_LEN (SERVER_KEYFILE_V1_LEN + SERVER_KEYFILE_S2_LEN)

/** The server's long-term secrets, kept in sodium_malloc() memory. */
typedef struct server_keys {
  uint8_t server_secret[CPNS_SERVER_SECRET_LEN];
  uint8_t master_key[CPNS_MASTER_KEY_LEN];
  /** Derived at load (cpns_crypto_credential_seal_key), not stored: seals credential records. */
  uint8_t record_key[CPNS_CREDENTIAL_SEAL_KEY_LEN];
  /** Suite 2 (key file version 2): OPRF seed, AKE key pair, fake record. */
  cpns_s2_server_keys s2;
} server_keys;

/**
 * Creates a version-2 key file with fresh random keys: written to a
 * temporary file (mode 0600) in the same directory, fsynced, then linked
 * into place so an existing file is never replaced, and the directory
 * fsynced. Returns 0, or -1 with a message on stderr (EEXIST when path
 * exists).
 */
int server_keyfile_create(const char *path);

/**
 * Loads a key file into *keys (sodium_malloc; free with server_keys_free).
 * Refuses a file that group or others may access, that is not a regular
 * file (a symbolic link included), or has the wrong size or magic. A
 * version-1 file is upgraded in place first: its keys are kept, fresh
 * suite-2 keys added, and the version-2 file replaces it atomically (temp
 * file, fsync, rename, fsync of the directory) under an exclusive lock, so
 * that two processes upgrading at once end with one set of suite-2 keys;
 * a line on stderr says so. Returns 0, or -1 with a message.
 */
int server_keyfile_load(const char *path, server_keys **keys);

/** Wipes and frees keys; NULL is allowed. */
void server_keys_free(server_keys *keys);

#endif /* CPNS_EXAMPLES_SERVER_KEYFILE_H */
