# exchange: the sans-I/O gateway and server session engines (PROTOCOL.md
# §4, §6-§8), their tests and fuzz targets (included by Makefile.am).
libcpns_core_la_SOURCES += \
	exchange/util.h exchange/framer.h exchange/framer.c \
	exchange/gateway_internal.h exchange/gateway_check.c exchange/gateway.c \
	exchange/server_internal.h exchange/server_rules.c exchange/server_session.c
