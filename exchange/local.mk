# exchange: the sans-I/O gateway and server session engines (PROTOCOL.md
# §4, §6-§8), their tests and fuzz targets (included by Makefile.am).
libcpns_core_la_SOURCES += \
	exchange/util.h exchange/framer.h exchange/framer.c \
	exchange/gateway_internal.h exchange/gateway_check.c exchange/gateway.c \
	exchange/server_internal.h exchange/server_rules.c exchange/server_session.c

# Engine-level suites: a gateway engine against a server session in memory
# (tests/exchange_harness.c) plus hand-built hostile PDUs.
EXCHANGE_TEST_SOURCES = tests/exchange_harness.c tests/exchange_harness.h

check_PROGRAMS += tests/test_server_session
TESTS += tests/test_server_session
tests_test_server_session_SOURCES = tests/test_server_session.c $(EXCHANGE_TEST_SOURCES)
tests_test_server_session_CFLAGS = $(TEST_CFLAGS)
tests_test_server_session_LDADD = $(TEST_LIBS)

check_PROGRAMS += tests/test_gateway
TESTS += tests/test_gateway
tests_test_gateway_SOURCES = tests/test_gateway.c $(EXCHANGE_TEST_SOURCES)
tests_test_gateway_CFLAGS = $(TEST_CFLAGS)
tests_test_gateway_LDADD = $(TEST_LIBS)
