# codec: public codec API around the asn1c output, DER checks, framing.
libcpns_core_la_SOURCES += \
	codec/error.c codec/version.c codec/mem.c codec/init.c codec/internal.h codec/codec_internal.h \
	codec/asn_mem.c codec/der.c codec/der_writer.h codec/der_writer.c \
	codec/strict.c codec/fields.c \
	codec/descriptors.c codec/pdu.c codec/transcript.c codec/frame.c \
	codec/format.c

check_PROGRAMS += tests/test_codec
TESTS += tests/test_codec
tests_test_codec_SOURCES = tests/test_codec.c
tests_test_codec_CFLAGS = $(TEST_CFLAGS)
tests_test_codec_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/codec/gen
tests_test_codec_LDADD = $(TEST_LIBS)

# Fuzzing the strict decoder; seeds from `make pdu-corpus` (deterministic).
FUZZ_TARGETS += fuzz/fuzz_pdu
fuzz_fuzz_pdu_SOURCES = fuzz/fuzz_pdu.c
fuzz_fuzz_pdu_CFLAGS = $(FUZZER_CC_FLAGS)
fuzz_fuzz_pdu_LDFLAGS = $(FUZZER_LINK_FLAGS)
fuzz_fuzz_pdu_LDADD = $(CORE_LIBS)
EXTRA_DIST += fuzz/corpus/pdu

check_PROGRAMS += fuzz/gen_pdu_corpus
fuzz_gen_pdu_corpus_SOURCES = fuzz/gen_pdu_corpus.c
fuzz_gen_pdu_corpus_CFLAGS = $(TEST_CFLAGS)
fuzz_gen_pdu_corpus_LDADD = $(CORE_LIBS)
pdu-corpus: fuzz/gen_pdu_corpus$(EXEEXT)
	$(MKDIR_P) $(top_srcdir)/fuzz/corpus/pdu
	./fuzz/gen_pdu_corpus$(EXEEXT) $(top_srcdir)/fuzz/corpus/pdu
.PHONY: pdu-corpus

BENCH_TARGETS += bench/bench_codec
bench_bench_codec_SOURCES = bench/bench_codec.c
bench_bench_codec_CFLAGS = $(OWN_CFLAGS)
bench_bench_codec_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/codec/gen
bench_bench_codec_LDADD = bench/stock_asn1c.o $(CORE_LIBS)
EXTRA_bench_bench_codec_DEPENDENCIES = bench/stock_asn1c.o
# Its "stock asn1c" column: asn1/ through Debian's asn1c 0.9.28 with the
# unpatched runtime, built here (needs asn1c), all but one symbol local.
bench/stock_asn1c.o: $(top_srcdir)/bench/stock-asn1c.sh $(top_srcdir)/bench/stock_asn1c.c \
		$(top_srcdir)/bench/stock_asn1c.h $(top_srcdir)/asn1/CPNS-EUKey.asn1
	$(AM_V_GEN)$(MKDIR_P) bench && ASN1C="$(ASN1C)" CC="$(CC)" \
	  CFLAGS="$(AM_CFLAGS) $(CFLAGS)" LD="$(LD)" OBJCOPY="$(OBJCOPY)" \
	  $(SHELL) $(top_srcdir)/bench/stock-asn1c.sh $(top_srcdir) $@
CLEANFILES += bench/stock_asn1c.o
EXTRA_DIST += bench/stock-asn1c.sh bench/stock_asn1c.c bench/stock_asn1c.h \
	bench/codec-ratios.sh
