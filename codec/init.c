/* cpns_init: libsodium and the codec's type tables, once per process. */
#include <pthread.h>
#include <stdatomic.h>

#include <sodium.h>

#include "codec/codec_internal.h"
#include "codec/internal.h"

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static atomic_int init_state; /* 0 not yet, 1 ok, -1 failed */

static void init_run(void) {
  cpnsi_codec_once();
  if (sodium_init() < 0) {
    atomic_store(&init_state, -1);
    return;
  }
  atomic_store(&init_state, 1);
}

int cpns_init(void) {
  pthread_once(&init_once, init_run);
  return atomic_load(&init_state) == 1 ? CPNS_OK : CPNS_ERR_CRYPTO_INIT;
}

int cpnsi_initialized(void) { return atomic_load(&init_state) == 1; }
