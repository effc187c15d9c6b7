/*
 * cpns-gateway internals (not part of libcpns): the subcommands, the TCP
 * transport that drives the sans-I/O engine, and Argon2id with progress.
 */
#ifndef CPNS_EXAMPLES_GATEWAY_GATEWAY_H
#define CPNS_EXAMPLES_GATEWAY_GATEWAY_H

#include <stdint.h>
#include <stdio.h>

#include <cpns/cpns.h>

/* Exit codes: documented in --help and cpns-gateway(1); scripts rely on them. */
enum gateway_exit {
  GW_EXIT_OK = 0,
  GW_EXIT_USAGE = 2,    /* bad command line or identifier */
  GW_EXIT_AUTH = 3,     /* authenticationFailed: unknown user or wrong password */
  GW_EXIT_REFUSED = 4,  /* any other result: tryLater, entityConflict, ... */
  GW_EXIT_NETWORK = 5,  /* cannot connect, connection lost, no answer in time */
  GW_EXIT_PROTOCOL = 6, /* the server's messages are invalid or unacceptable */
  GW_EXIT_LOCAL = 7     /* key store, device key, password file, memory */
};

/* `cpns-gateway assign ...` (assign.c); argv[0] is "assign". */
int gateway_assign_main(int argc, char **argv);
/* `cpns-gateway show ...` (show.c); argv[0] is "show". */
int gateway_show_main(int argc, char **argv);
/* The full --help text (main.c). */
void gateway_usage(FILE *out);

/* "pn-gw" / "pne-pn-gw" <-> cpns_mode. parse returns 0 or -1. */
int gateway_mode_parse(const char *name, cpns_mode *mode);
const char *gateway_mode_name(cpns_mode mode);

/*
 * Connects to host:port over TCP within timeout_ms; returns a non-blocking
 * socket or -1 with a one-line message on stderr (net.c).
 */
int gateway_connect(const char *host, const char *port, uint64_t timeout_ms);

/*
 * Moves bytes between the engine and fd until it is DONE or FAILED, running
 * the derive step with gateway_derive(). Returns 0 when the engine decided
 * (check its state), or GW_EXIT_NETWORK after a socket error (message on
 * stderr). io_timeout_ms bounds each send.
 */
int gateway_exchange(cpns_gateway *gw, int fd, uint64_t io_timeout_ms);

/*
 * Runs cpns_gateway_derive() on a worker thread, showing progress on stderr
 * (derive.c). Returns what cpns_gateway_derive() returned.
 */
int gateway_derive(cpns_gateway *gw);

#endif /* CPNS_EXAMPLES_GATEWAY_GATEWAY_H */
