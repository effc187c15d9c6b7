# codec: public codec API around the asn1c output, DER checks, framing.
libcpns_core_la_SOURCES += \
	codec/error.c codec/mem.c codec/init.c codec/codec_internal.h \
	codec/asn_mem.c codec/der.c codec/strict.c codec/fields.c \
	codec/descriptors.c codec/pdu.c codec/transcript.c codec/frame.c \
	codec/format.c
