/*
 * Small helpers shared by the example programs (not part of libcpns):
 * passwords from a file or a no-echo prompt, hex, HOST:PORT, option
 * numbers, identifier errors.
 */
#ifndef CPNS_EXAMPLES_COMMON_CLI_H
#define CPNS_EXAMPLES_COMMON_CLI_H

#include <stddef.h>
#include <stdint.h>

#include <cpns/ident.h>

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

/**
 * Strict decimal value of option opt (e.g. "--ops") in [min, max]: digits
 * only, no sign, space or suffix. Returns 0, or -1 with
 * "OPT: expected a number from MIN to MAX, got "ARG"" on stderr.
 */
int cli_parse_u64(const char *opt, const char *arg, uint64_t min, uint64_t max, uint64_t *out);

/**
 * Prints on one stderr line why an identifier was refused, from the error
 * rc and err of cpns_entity_id_normalize() / cpns_user_id_normalize():
 * "WHO: invalid WHAT at byte offset N (FOUND): TEXT [NAME]; expected E".
 * in/inlen is the refused input; FOUND is its octet at the offset.
 */
void cli_print_ident_error(const char *who, const char *what, const uint8_t *in, size_t inlen,
                           int rc, const cpns_ident_error *err);

/**
 * Checks free text of option opt (e.g. "--reason") before it is stored:
 * at most max octets of valid UTF-8 (shortest forms, no surrogates) without
 * control characters (U+0000-U+001F, U+007F-U+009F), so that it can be
 * shown on a terminal and written as JSON. Returns 0, or -1 with
 * "OPT: ..." on stderr naming the octet offset.
 */
int cli_check_text(const char *opt, const char *arg, size_t max);

/** Monotonic time in milliseconds (CLOCK_MONOTONIC), the engines' clock. */
uint64_t cli_now_ms(void);

#endif /* CPNS_EXAMPLES_COMMON_CLI_H */
