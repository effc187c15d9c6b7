/* The default allocator behind the cpns_mem hook, and cpnsi_zero. */
#include <stdlib.h>
#include <string.h>

#include "codec/codec_internal.h"

static void *default_malloc(size_t size, void *user_data) {
  (void)user_data;
  return malloc(size);
}

static void default_free(void *ptr, void *user_data) {
  (void)user_data;
  free(ptr);
}

static void *default_calloc(size_t nmemb, size_t size, void *user_data) {
  (void)user_data;
  return calloc(nmemb, size);
}

static void *default_realloc(void *ptr, size_t size, void *user_data) {
  (void)user_data;
  return realloc(ptr, size);
}

static const cpns_mem default_mem = {NULL, default_malloc, default_free, default_calloc,
                                     default_realloc};

const cpns_mem *cpns_mem_default(void) { return &default_mem; }

/* Out of line on purpose: inlined, a memset of a whole decoded struct (700
 * to 950 constant octets) compiles to `rep stos`, whose start-up cost was a
 * tenth of a small PDU's strict decode; libc's vector memset is not. */
void cpnsi_zero(void *p, size_t n) { memset(p, 0, n); }
