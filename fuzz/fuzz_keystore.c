/*
 * libFuzzer target: cpns_keystore_open on hostile images under a fixed
 * device key (seeds in fuzz/corpus/keystore/ are sealed under the same key).
 * Whatever opens must seal and open again to the same entry.
 */
#include <stdlib.h>
#include <string.h>

#include <cpns/keystore.h>

/* 0x00, 0x01, ... 0x1f: the key the seeds were sealed with. */
static void device_key(uint8_t k[CPNS_DEVICE_KEY_LEN]) {
  for (size_t i = 0; i < CPNS_DEVICE_KEY_LEN; i++) {
    k[i] = (uint8_t)i;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static cpns_keystore_entry e, again;
  uint8_t key[CPNS_DEVICE_KEY_LEN];
  uint8_t image[CPNS_KEYSTORE_MAX];
  size_t n;
  int rv;

  if (cpns_init() != 0) {
    abort();
  }
  device_key(key);
  rv = cpns_keystore_open(&e, data, size, key);
  if (rv != 0) {
    static const cpns_keystore_entry zero;
    if (rv != CPNS_ERR_STORE_TRUNCATED && rv != CPNS_ERR_STORE_CORRUPT &&
        rv != CPNS_ERR_STORE_VERSION && rv != CPNS_ERR_STORE_WRONG_KEY) {
      abort();
    }
    if (memcmp(&e, &zero, sizeof(e)) != 0) {
      abort(); /* a failed open must leave nothing behind */
    }
    return 0;
  }
  if (cpns_keystore_seal(image, sizeof(image), &n, &e, key) != 0 ||
      cpns_keystore_open(&again, image, n, key) != 0 || memcmp(&e, &again, sizeof(e)) != 0) {
    abort();
  }
  return 0;
}
