/*
 * The canary library reuses codec/gen's runtime files, whose libcpns patches
 * route allocation through cpnsi_asn_* hooks; the canary supplies its own,
 * one more name libcpns must keep to itself.
 */
#include <stdlib.h>

void *cpnsi_asn_malloc(size_t size);
void *cpnsi_asn_calloc(size_t nmemb, size_t size);
void *cpnsi_asn_realloc(void *ptr, size_t size);
void cpnsi_asn_free(void *ptr);
void cpnsi_asn_stack_exceeded(void);

void *cpnsi_asn_malloc(size_t size) { return malloc(size); }
void *cpnsi_asn_calloc(size_t nmemb, size_t size) { return calloc(nmemb, size); }
void *cpnsi_asn_realloc(void *ptr, size_t size) { return realloc(ptr, size); }
void cpnsi_asn_free(void *ptr) { free(ptr); }
void cpnsi_asn_stack_exceeded(void) {}
