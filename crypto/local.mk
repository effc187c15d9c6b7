# crypto: suite 1 derivations, credential records, at-rest sealing and the
# gateway key store (PROTOCOL.md §5-§7). Included by Makefile.am.
libcpns_core_la_SOURCES += \
	crypto/internal.h crypto/util.c crypto/kdf_policy.c crypto/suite1.c \
	crypto/credential.c crypto/seal.c crypto/keystore.c crypto/keystore_file.c
