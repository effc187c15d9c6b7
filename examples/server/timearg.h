/*
 * cpns-server: the TIME argument of `audit --since`: an RFC 3339 UTC time
 * (2026-11-30T01:00:00Z, optional fraction .f to .fffffffff, 'z' and a
 * space for 'T' accepted) or seconds since the epoch (digits only).
 */
#ifndef CPNS_EXAMPLES_SERVER_TIMEARG_H
#define CPNS_EXAMPLES_SERVER_TIMEARG_H

#include <stdint.h>

/**
 * Parses s into ms since the epoch (1970 to 9999). Returns 0, or -1 for
 * anything else (no offset but Z: other zones would be a guess).
 */
int server_parse_time(const char *s, int64_t *ms);

#endif /* CPNS_EXAMPLES_SERVER_TIMEARG_H */
