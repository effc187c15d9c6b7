# msg: the cpns-msg inspection tool (decode: codec; id: ident), its man page
# and its smoke test (included by Makefile.am).
if ENABLE_EXAMPLES
bin_PROGRAMS += examples/cpns-msg
dist_man_MANS += doc/cpns-msg.1
examples_cpns_msg_SOURCES = examples/msg/main.c examples/msg/msg.h \
	examples/msg/decode.c examples/msg/id.c examples/common/cli.h examples/common/cli.c
examples_cpns_msg_CFLAGS = $(OWN_CFLAGS)
examples_cpns_msg_LDADD = $(CORE_LIBS)

TESTS += tests/cpns_msg.sh
else
EXTRA_DIST += doc/cpns-msg.1
endif
EXTRA_DIST += tests/cpns_msg.sh
