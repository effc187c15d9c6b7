# ident: Entity ID / User ID parsers (Ragel), PDU semantic validation, and
# their tests, fuzz target and benchmark (included by Makefile.am).
libcpns_core_la_SOURCES += \
	codec/ident_internal.h codec/ident_expected.c \
	codec/entity_id.c codec/user_id.c codec/validate.c \
	codec/ragel/entity_id_rl.c codec/ragel/user_id_rl.c
EXTRA_DIST += codec/entity_id.rl codec/user_id.rl codec/ragel-regen.sh

# `make regen`: the Ragel output is committed; CI regenerates it into a
# temporary directory with codec/ragel-regen.sh and diffs.
REGEN_TARGETS += regen-ragel
regen-ragel:
	RAGEL="$(RAGEL)" $(SHELL) $(top_srcdir)/codec/ragel-regen.sh $(top_srcdir)/codec/ragel
.PHONY: regen-ragel

check_PROGRAMS += tests/test_ident
TESTS += tests/test_ident
tests_test_ident_SOURCES = tests/test_ident.c
tests_test_ident_CFLAGS = $(TEST_CFLAGS)
tests_test_ident_LDADD = $(TEST_LIBS)

FUZZ_TARGETS += fuzz/fuzz_ident
fuzz_fuzz_ident_SOURCES = fuzz/fuzz_ident.c
fuzz_fuzz_ident_CFLAGS = $(FUZZER_CC_FLAGS)
fuzz_fuzz_ident_LDFLAGS = $(FUZZER_LINK_FLAGS)
fuzz_fuzz_ident_LDADD = $(CORE_LIBS)
EXTRA_DIST += fuzz/corpus/ident

BENCH_TARGETS += bench/bench_ident
bench_bench_ident_SOURCES = bench/bench_ident.c
bench_bench_ident_CFLAGS = $(OWN_CFLAGS)
bench_bench_ident_LDADD = $(CORE_LIBS)
