# torture: fault and load tests of cpns-server (kill -9 under load, store
# failure, slow and garbage connections), included by Makefile.am. Their
# short forms run in `make check`; `make torture` runs the long ones.
TORTURE_TESTS = tests/torture/kill9.sh tests/torture/store_fail.sh \
	tests/torture/slow_conns.sh
EXTRA_DIST += tests/torture/lib.sh $(TORTURE_TESTS)

if ENABLE_EXAMPLES
check_PROGRAMS += tests/torture/loadgen tests/torture/slowconn
tests_torture_loadgen_SOURCES = tests/torture/loadgen.c examples/common/cli.h \
	examples/common/cli.c
tests_torture_loadgen_CFLAGS = $(OWN_CFLAGS)
tests_torture_loadgen_LDADD = $(CORE_LIBS)
tests_torture_slowconn_SOURCES = tests/torture/slowconn.c
tests_torture_slowconn_CFLAGS = $(AM_CFLAGS) $(OWN_WARN_CFLAGS) -pthread

TESTS += $(TORTURE_TESTS)

# Each long test in turn, its figures on the terminal; 77 is a skip. The
# lockout flood (an e2e test, short in `make check`) runs at full size here.
torture: examples/cpns-server examples/cpns-gateway tests/e2e/rawpeer \
	tests/torture/loadgen tests/torture/slowconn tests/e2e/flood
	@failed=0; for t in $(TORTURE_TESTS) tests/e2e/lockout_flood.sh; do \
	  echo "=== $$t (long)"; rc=0; \
	  TORTURE_LONG=1 $(SHELL) $(srcdir)/$$t || rc=$$?; \
	  if test $$rc = 77; then echo "SKIP: $$t"; \
	  elif test $$rc != 0; then echo "FAIL: $$t (exit $$rc)"; failed=1; \
	  else echo "PASS: $$t"; fi; \
	done; test $$failed = 0
else
torture:
	@echo "torture: configured without the example programs, nothing to run"
endif
.PHONY: torture
