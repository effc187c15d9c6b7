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
