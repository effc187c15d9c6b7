/*
 * cpns-server per-address connection limit: counts open connections per
 * peer IPv4 address or IPv6 /64 (IPv4 and IPv4-mapped IPv6 both kept as
 * IPv4-mapped IPv6) in a bounded table.
 */
#ifndef CPNS_EXAMPLES_SERVER_ADDRLIMIT_H
#define CPNS_EXAMPLES_SERVER_ADDRLIMIT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct server_addrlimit server_addrlimit;

/** A peer address as the limits key it: IPv4-mapped, or an IPv6 /64 (low 8 octets zero). */
typedef struct server_addr_key {
  uint8_t octets[16];
} server_addr_key;

/**
 * Creates a table for at most max_addrs distinct addresses (the total
 * connection limit) with max_per_addr connections each. Returns 0 or -1.
 */
int server_addrlimit_new(server_addrlimit **al, size_t max_addrs, size_t max_per_addr);

/** Frees the table; NULL is allowed. */
void server_addrlimit_del(server_addrlimit *al);

/**
 * Changes the connections allowed per address: open ones stay, new ones
 * are refused until an address is below the new limit (>= 1).
 */
void server_addrlimit_set_max_per_addr(server_addrlimit *al, size_t max_per_addr);

/** Fills *key from an AF_INET or AF_INET6 address (see server_addr_key). Returns 0 or -1. */
int server_addr_key_from(server_addr_key *key, const struct sockaddr *sa, socklen_t len);

/** Counts a new connection. Returns 0, 1 when the address is at its limit or the table full. */
int server_addrlimit_acquire(server_addrlimit *al, const server_addr_key *key);

/** Uncounts a connection counted by server_addrlimit_acquire(). */
void server_addrlimit_release(server_addrlimit *al, const server_addr_key *key);

#endif /* CPNS_EXAMPLES_SERVER_ADDRLIMIT_H */
