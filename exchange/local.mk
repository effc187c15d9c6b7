# exchange: the sans-I/O gateway and server session engines (PROTOCOL.md
# §4, §6-§8), their tests and fuzz targets (included by Makefile.am).
libcpns_core_la_SOURCES += \
	exchange/util.h exchange/framer.h exchange/framer.c \
	exchange/secpool_internal.h exchange/secpool.c \
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

check_PROGRAMS += tests/test_secpool
TESTS += tests/test_secpool
tests_test_secpool_SOURCES = tests/test_secpool.c $(EXCHANGE_TEST_SOURCES)
tests_test_secpool_CFLAGS = $(TEST_CFLAGS)
tests_test_secpool_LDADD = $(TEST_LIBS)

# Every allocation of whole exchanges made to fail in turn; its own program,
# as it interposes sodium_malloc() (tests/test_failmalloc.c says why).
check_PROGRAMS += tests/test_failmalloc
TESTS += tests/test_failmalloc
tests_test_failmalloc_SOURCES = tests/test_failmalloc.c $(EXCHANGE_TEST_SOURCES)
tests_test_failmalloc_CFLAGS = $(TEST_CFLAGS)
tests_test_failmalloc_LDADD = $(TEST_LIBS)

# Fuzz targets: arbitrary byte streams, split where the input says, into
# each engine (fuzz/fuzz_session_util.h describes the input format).
FUZZ_TARGETS += fuzz/fuzz_server_session fuzz/fuzz_gateway_session
fuzz_fuzz_server_session_SOURCES = fuzz/fuzz_server_session.c fuzz/fuzz_session_util.h
fuzz_fuzz_server_session_CFLAGS = $(FUZZER_CC_FLAGS)
fuzz_fuzz_server_session_LDFLAGS = $(FUZZER_LINK_FLAGS)
fuzz_fuzz_server_session_LDADD = $(CORE_LIBS)
fuzz_fuzz_gateway_session_SOURCES = fuzz/fuzz_gateway_session.c fuzz/fuzz_session_util.h
fuzz_fuzz_gateway_session_CFLAGS = $(FUZZER_CC_FLAGS)
fuzz_fuzz_gateway_session_LDFLAGS = $(FUZZER_LINK_FLAGS)
fuzz_fuzz_gateway_session_LDADD = $(CORE_LIBS)
EXTRA_DIST += fuzz/corpus/server_session fuzz/corpus/gateway_session

# Seeds are real exchanges recorded under the targets' deterministic CSPRNG:
# `make session-corpus` rewrites them (deterministically) in the source tree.
check_PROGRAMS += fuzz/gen_session_corpus
fuzz_gen_session_corpus_SOURCES = fuzz/gen_session_corpus.c fuzz/fuzz_session_util.h
fuzz_gen_session_corpus_CFLAGS = $(TEST_CFLAGS)
fuzz_gen_session_corpus_LDADD = $(CORE_LIBS)
session-corpus: fuzz/gen_session_corpus$(EXEEXT)
	$(MKDIR_P) $(top_srcdir)/fuzz/corpus/server_session $(top_srcdir)/fuzz/corpus/gateway_session
	./fuzz/gen_session_corpus$(EXEEXT) $(top_srcdir)/fuzz/corpus
.PHONY: session-corpus
