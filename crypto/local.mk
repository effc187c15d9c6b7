# crypto: suite 1 derivations, credential records, at-rest sealing and the
# gateway key store (PROTOCOL.md §5-§7). Included by Makefile.am.
libcpns_core_la_SOURCES += \
	crypto/internal.h crypto/util.c crypto/kdf_policy.c crypto/suite1.c \
	crypto/credential.c crypto/credential_seal.c crypto/seal.c crypto/keystore.c \
	crypto/keystore_file.c \
	crypto/suite2_prims.h crypto/suite2_h2c.c crypto/suite2_hkdf.c crypto/suite2_oprf.c \
	crypto/opaque.h crypto/opaque.c crypto/suite2.c

# TEST_LIBS carries -pthread, which automake refuses in LDADD: split it.
CRYPTO_TEST_LINKADD = $(CORE_LIBS) $(CHECK_LIBS)
CRYPTO_TEST_LINKFLAGS = $(AM_LDFLAGS) -pthread

check_PROGRAMS += tests/test_crypto
TESTS += tests/test_crypto
tests_test_crypto_SOURCES = tests/test_crypto.c
tests_test_crypto_CFLAGS = $(TEST_CFLAGS)
tests_test_crypto_LDFLAGS = $(CRYPTO_TEST_LINKFLAGS)
tests_test_crypto_LDADD = $(CRYPTO_TEST_LINKADD)

# Suite 2 primitives (internal, crypto/suite2_prims.h) against their RFC vectors.
check_PROGRAMS += tests/test_suite2
TESTS += tests/test_suite2
tests_test_suite2_SOURCES = tests/test_suite2.c tests/ksf_identity.c tests/ksf_identity.h
tests_test_suite2_CFLAGS = $(TEST_CFLAGS)
tests_test_suite2_LDFLAGS = $(CRYPTO_TEST_LINKFLAGS)
tests_test_suite2_LDADD = $(CRYPTO_TEST_LINKADD)

check_PROGRAMS += tests/test_keystore
TESTS += tests/test_keystore
tests_test_keystore_SOURCES = tests/test_keystore.c
tests_test_keystore_CFLAGS = $(TEST_CFLAGS)
tests_test_keystore_LDFLAGS = $(CRYPTO_TEST_LINKFLAGS)
tests_test_keystore_LDADD = $(CRYPTO_TEST_LINKADD)

# Suite 1 test vectors: tests/gen_vectors writes them (`make vectors`),
# tests/test_vectors recomputes them; tests/test_vectors_argon2_cli (same
# source) checks them against the Argon2 reference CLI, SKIP without it.
check_PROGRAMS += tests/gen_vectors tests/test_vectors tests/test_vectors_argon2_cli
TESTS += tests/test_vectors tests/test_vectors_argon2_cli
tests_gen_vectors_SOURCES = tests/gen_vectors.c
tests_gen_vectors_CFLAGS = $(OWN_CFLAGS)
tests_gen_vectors_LDADD = $(CORE_LIBS)
tests_test_vectors_SOURCES = tests/test_vectors.c tests/vectors_json.c tests/vectors_json.h
tests_test_vectors_CFLAGS = $(TEST_CFLAGS)
tests_test_vectors_CPPFLAGS = $(AM_CPPFLAGS) \
	-DCPNS_VECTORS_JSON='"$(abs_top_srcdir)/tests/vectors/suite1.json"' \
	-DCPNS_ARGON2_CLI='"$(ARGON2_CLI)"'
tests_test_vectors_LDFLAGS = $(CRYPTO_TEST_LINKFLAGS)
tests_test_vectors_LDADD = $(CRYPTO_TEST_LINKADD)
tests_test_vectors_argon2_cli_SOURCES = tests/test_vectors.c tests/vectors_json.c tests/vectors_json.h
tests_test_vectors_argon2_cli_CFLAGS = $(TEST_CFLAGS)
tests_test_vectors_argon2_cli_CPPFLAGS = $(tests_test_vectors_CPPFLAGS) \
	-DCPNS_VECTORS_ARGON2_CLI_ONLY
tests_test_vectors_argon2_cli_LDFLAGS = $(CRYPTO_TEST_LINKFLAGS)
tests_test_vectors_argon2_cli_LDADD = $(CRYPTO_TEST_LINKADD)
EXTRA_DIST += tests/vectors/suite1.json tests/vectors/README.md doc/formats.md

# Suite 2 (PROTOCOL.md §10): tests/gen_vectors_suite2 writes suite2.json,
# tests/test_vectors_suite2 recomputes every output from its inputs.
check_PROGRAMS += tests/gen_vectors_suite2 tests/test_vectors_suite2
TESTS += tests/test_vectors_suite2
tests_gen_vectors_suite2_SOURCES = tests/gen_vectors_suite2.c
tests_gen_vectors_suite2_CFLAGS = $(OWN_CFLAGS)
tests_gen_vectors_suite2_LDADD = $(CORE_LIBS)
tests_test_vectors_suite2_SOURCES = tests/test_vectors_suite2.c tests/vectors_json.c \
	tests/vectors_json.h
tests_test_vectors_suite2_CFLAGS = $(TEST_CFLAGS)
tests_test_vectors_suite2_CPPFLAGS = $(AM_CPPFLAGS) \
	-DCPNS_VECTORS_JSON='"$(abs_top_srcdir)/tests/vectors/suite2.json"'
tests_test_vectors_suite2_LDFLAGS = $(CRYPTO_TEST_LINKFLAGS)
tests_test_vectors_suite2_LDADD = $(CRYPTO_TEST_LINKADD)
EXTRA_DIST += tests/vectors/suite2.json

vectors: tests/gen_vectors$(EXEEXT) tests/gen_vectors_suite2$(EXEEXT)
	$(AM_V_GEN)./tests/gen_vectors$(EXEEXT) > $(srcdir)/tests/vectors/suite1.json.tmp && \
	mv $(srcdir)/tests/vectors/suite1.json.tmp $(srcdir)/tests/vectors/suite1.json && \
	./tests/gen_vectors_suite2$(EXEEXT) > $(srcdir)/tests/vectors/suite2.json.tmp && \
	mv $(srcdir)/tests/vectors/suite2.json.tmp $(srcdir)/tests/vectors/suite2.json
.PHONY: vectors
REGEN_TARGETS += vectors

BENCH_TARGETS += bench/bench_crypto
bench_bench_crypto_SOURCES = bench/bench_crypto.c
bench_bench_crypto_CFLAGS = $(OWN_CFLAGS)
bench_bench_crypto_LDADD = $(CORE_LIBS)

EXTRA_DIST += fuzz/fuzz_keystore.c fuzz/fuzz_credential.c fuzz/fuzz_opaque.c \
	fuzz/corpus/keystore fuzz/corpus/credential fuzz/corpus/opaque
# Unconditional: without --enable-fuzzing `make check` replays the corpora.
FUZZ_TARGETS += fuzz/fuzz_keystore fuzz/fuzz_credential fuzz/fuzz_opaque
fuzz_fuzz_keystore_SOURCES = fuzz/fuzz_keystore.c
fuzz_fuzz_keystore_CFLAGS = $(FUZZER_CC_FLAGS)
fuzz_fuzz_keystore_LDFLAGS = $(FUZZER_LINK_FLAGS)
fuzz_fuzz_keystore_LDADD = $(CORE_LIBS)
fuzz_fuzz_credential_SOURCES = fuzz/fuzz_credential.c
fuzz_fuzz_credential_CFLAGS = $(FUZZER_CC_FLAGS)
fuzz_fuzz_credential_LDFLAGS = $(FUZZER_LINK_FLAGS)
fuzz_fuzz_credential_LDADD = $(CORE_LIBS)
# Suite-2 OPAQUE messages from a peer (KE1 at the server, KE2 at the gateway).
fuzz_fuzz_opaque_SOURCES = fuzz/fuzz_opaque.c
fuzz_fuzz_opaque_CFLAGS = $(FUZZER_CC_FLAGS)
fuzz_fuzz_opaque_LDFLAGS = $(FUZZER_LINK_FLAGS)
fuzz_fuzz_opaque_LDADD = $(CORE_LIBS)
