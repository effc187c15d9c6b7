/*
 * Small helpers shared by the example programs (not part of libcpns):
 * passwords from a file or a no-echo prompt, hex, HOST:PORT, errors.
 */
#ifndef CPNS_EXAMPLES_CLI_UTIL_H
#define CPNS_EXAMPLES_CLI_UTIL_H

#include <stddef.h>
#include <stdint.h>

/** Longest password accepted from a file or prompt, in octets. */
#define CLI_PASSWORD_MAX 1024

/**
 * Reads a password file: its octets, one trailing "\n" (or "\r\n")
 * stripped; "-" reads standard input. A file is refused when it is a
 * symbolic link (opened with O_NOFOLLOW) or when group or others may read
 * or write it. *pw is sodium_malloc() memory the caller frees with
 * sodium_free(). Returns 0, or -1 with a message on stderr naming the file.
 */
int cli_password_from_file(const char *path, uint8_t **pw, size_t *pw_len);

/**
 * Prompts on /dev/tty without echo (twice and compared when confirm != 0).
 * Same ownership and return as cli_password_from_file().
 */
int cli_password_prompt(const char *prompt, int confirm, uint8_t **pw, size_t *pw_len);

/** Writes len octets as lowercase hex plus "\0" into out (2*len+1 octets). */
void cli_hex(char *out, const uint8_t *in, size_t len);

/**
 * Splits "HOST:PORT" or "[V6]:PORT" into host (NUL-terminated, hostlen
 * octets at most) and port string. Returns 0 or -1.
 */
int cli_split_host_port(const char *arg, char *host, size_t hostlen, char *port, size_t portlen);

/** Monotonic time in milliseconds (CLOCK_MONOTONIC), the engines' clock. */
uint64_t cli_now_ms(void);

#endif /* CPNS_EXAMPLES_CLI_UTIL_H */
