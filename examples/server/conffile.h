/*
 * cpns-server serve --config FILE: reads an INI file (libinih) of one
 * [serve] section whose keys are the long options of serve. This file
 * only reads and checks the file; what each key means is main.c's option
 * table, the same as for the command line.
 */
#ifndef CPNS_EXAMPLES_SERVER_CONFFILE_H
#define CPNS_EXAMPLES_SERVER_CONFFILE_H

#include <stddef.h>

/** Largest configuration file read, in octets. */
#define SERVER_CONFIG_FILE_MAX (64 * 1024)
/** Longest line, in characters without its newline (inih's buffer is 200). */
#define SERVER_CONFIG_LINE_MAX 180

/**
 * Handles one "key = value" of the [serve] section found at where
 * ("FILE:LINE"). Returns 0, or -1 after printing a message on stderr that
 * begins with where.
 */
typedef int (*server_config_key_fn)(void *arg, const char *where, const char *key,
                                    const char *value);

/**
 * Reads the configuration file path and calls fn for each key of its
 * [serve] section, in file order. Refused with a message on stderr naming
 * the file (and the line where one is at fault): a file that is not a
 * regular file, that others may write (mode o+w), larger than
 * SERVER_CONFIG_FILE_MAX, holding a NUL octet or a line longer than
 * SERVER_CONFIG_LINE_MAX, a syntax error, another section than [serve], a
 * key outside a section; fn's own refusals (unknown or duplicate keys, bad
 * values) too. Every key refused is reported, and the first syntax error.
 * Returns 0, or -1.
 */
int server_config_read(const char *path, server_config_key_fn fn, void *arg);

/**
 * The checks and parse of server_config_read() over len octets at buf (no
 * NUL needed), named path in messages: the file's contents already read.
 * Returns 0, or -1.
 */
int server_config_parse(const char *path, const char *buf, size_t len, server_config_key_fn fn,
                        void *arg);

#endif /* CPNS_EXAMPLES_SERVER_CONFFILE_H */
