/*
 * Library-internal declarations shared between modules. Internal symbols
 * that cross files use the cpnsi_ prefix: hidden in the shared library and
 * localized in the static archive (only cpns_* is public).
 */
#ifndef CPNS_CODEC_INTERNAL_H
#define CPNS_CODEC_INTERNAL_H

#include <cpns/common.h>

/** Nonzero once cpns_init() has succeeded. */
int cpnsi_initialized(void);

#endif /* CPNS_CODEC_INTERNAL_H */
