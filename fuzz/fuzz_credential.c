/*
 * libFuzzer target: the credential record decoders on hostile bytes.
 * cpns_crypto_credential_decode is a strict inverse of encoding: whatever decodes
 * must encode to the input. cpns_crypto_credential_unseal (under a fixed key, for
 * the first octet's worth of User IDs) and cpns_crypto_credential_sealed_kdf
 * return only their documented errors, agree on the clear header, and a
 * record they accept seals and unseals to itself. The suite-2 sealed
 * record (cpns_crypto_s2_record_unseal / _sealed_kdf) gets the same checks.
 */
#include <stdlib.h>
#include <string.h>

#include <cpns/crypto.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_plain(const uint8_t *data, size_t size) {
  cpns_credential rec;
  uint8_t out[CPNS_CREDENTIAL_ENCODED_MAX];
  size_t n;
  int rv = cpns_crypto_credential_decode(&rec, data, size);
  if (rv != 0) {
    if (rv != CPNS_ERR_RECORD_FORMAT) {
      abort();
    }
    return;
  }
  if (cpns_crypto_credential_encode(out, sizeof(out), &n, &rec) != 0 || n != size ||
      memcmp(out, data, size) != 0) {
    abort();
  }
}

static void check_sealed(const uint8_t *data, size_t size) {
  static const uint8_t user[] = "fuzz@example.org";
  uint8_t mk[CPNS_MASTER_KEY_LEN], key[CPNS_CREDENTIAL_SEAL_KEY_LEN];
  uint8_t sealed[CPNS_SEALED_CREDENTIAL_LEN];
  cpns_credential rec, again;
  cpns_kdf_params kdf;
  memset(mk, 0x5a, sizeof(mk));
  if (cpns_crypto_credential_seal_key(key, mk) != 0) {
    abort();
  }
  int header = cpns_crypto_credential_sealed_kdf(&kdf, data, size);
  if (header != 0 && header != CPNS_ERR_RECORD_FORMAT) {
    abort();
  }
  /* The first octet picks the User ID's length, so bindings vary too. */
  size_t ulen = size > 0 ? 1 + data[0] % (sizeof(user) - 1) : sizeof(user) - 1;
  int rv = cpns_crypto_credential_unseal(&rec, data, size, key, user, ulen);
  if (rv != 0) {
    /* A header that fails the format check fails the unseal the same way. */
    if ((rv != CPNS_ERR_RECORD_FORMAT && rv != CPNS_ERR_DECRYPT) ||
        (header != 0) != (rv == CPNS_ERR_RECORD_FORMAT)) {
      abort();
    }
    return;
  }
  if (header != 0 || memcmp(&kdf, &rec.kdf, sizeof(kdf)) != 0 ||
      cpns_crypto_credential_seal(sealed, &rec, key, user, ulen) != 0 ||
      cpns_crypto_credential_unseal(&again, sealed, sizeof(sealed), key, user, ulen) != 0 ||
      memcmp(&again, &rec, sizeof(rec)) != 0) {
    abort();
  }
}

static void check_sealed_s2(const uint8_t *data, size_t size) {
  static const uint8_t user[] = "fuzz@example.org";
  uint8_t mk[CPNS_MASTER_KEY_LEN], key[CPNS_CREDENTIAL_SEAL_KEY_LEN];
  uint8_t sealed[CPNS_S2_SEALED_RECORD_LEN];
  cpns_s2_record rec, again;
  cpns_kdf_params kdf;
  memset(mk, 0x5a, sizeof(mk));
  if (cpns_crypto_credential_seal_key(key, mk) != 0) {
    abort();
  }
  int header = cpns_crypto_s2_record_sealed_kdf(&kdf, data, size);
  if (header != 0 && header != CPNS_ERR_RECORD_FORMAT) {
    abort();
  }
  size_t ulen = size > 0 ? 1 + data[0] % (sizeof(user) - 1) : sizeof(user) - 1;
  int rv = cpns_crypto_s2_record_unseal(&rec, data, size, user, ulen, key);
  if (rv != 0) {
    if ((rv != CPNS_ERR_RECORD_FORMAT && rv != CPNS_ERR_DECRYPT) ||
        (header != 0) != (rv == CPNS_ERR_RECORD_FORMAT)) {
      abort();
    }
    return;
  }
  if (header != 0 || memcmp(&kdf, &rec.kdf, sizeof(kdf)) != 0 ||
      cpns_crypto_s2_record_seal(sealed, &rec, user, ulen, key) != 0 ||
      cpns_crypto_s2_record_unseal(&again, sealed, sizeof(sealed), user, ulen, key) != 0 ||
      memcmp(&again, &rec, sizeof(rec)) != 0) {
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  check_plain(data, size);
  check_sealed(data, size);
  check_sealed_s2(data, size);
  return 0;
}
