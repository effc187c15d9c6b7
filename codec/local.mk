# codec: public codec API around the asn1c output, DER checks, framing.
libcpns_core_la_SOURCES += \
	codec/error.c codec/mem.c codec/init.c codec/codec_internal.h \
	codec/asn_mem.c codec/der.c codec/strict.c codec/fields.c \
	codec/descriptors.c codec/pdu.c codec/transcript.c codec/frame.c \
	codec/format.c

check_PROGRAMS += tests/test_codec
TESTS += tests/test_codec
tests_test_codec_SOURCES = tests/test_codec.c
tests_test_codec_CFLAGS = $(TEST_CFLAGS)
tests_test_codec_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/codec/gen
tests_test_codec_LDADD = $(TEST_LIBS)
