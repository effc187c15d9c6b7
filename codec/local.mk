# codec: public codec API around the asn1c output, DER checks, framing.
libcpns_core_la_SOURCES += \
	codec/error.c codec/mem.c codec/init.c codec/pdu.c
