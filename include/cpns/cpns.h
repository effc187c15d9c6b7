/* libcpns: the whole public API. Each header can also be included alone. */
#ifndef CPNS_CPNS_H
#define CPNS_CPNS_H

#include <cpns/version.h>
#include <cpns/common.h>
#include <cpns/codec.h>
#include <cpns/ident.h>
#include <cpns/crypto.h>
#include <cpns/keystore.h>
#include <cpns/secpool.h>
#include <cpns/gateway.h>
#include <cpns/server.h>

#endif /* CPNS_CPNS_H */
