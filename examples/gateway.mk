# gateway: the cpns-gateway program, the end-to-end tests of the example
# programs over loopback, and the demo (included by Makefile.am).
EXTRA_DIST += scripts/demo.sh tests/e2e/lib.sh $(GATEWAY_E2E_TESTS) tests/e2e/v1

GATEWAY_E2E_TESTS = tests/e2e/success.sh tests/e2e/auth.sh tests/e2e/replace.sh \
	tests/e2e/lockout.sh tests/e2e/restart.sh tests/e2e/hostile.sh \
	tests/e2e/stall.sh tests/e2e/kdf_bounds.sh tests/e2e/demo.sh tests/e2e/defaults.sh \
	tests/e2e/upgrade.sh \
	tests/e2e/lockout_flood.sh tests/e2e/lockout_restart.sh tests/e2e/source_budget.sh \
	tests/e2e/db_busy.sh tests/e2e/secret_files.sh \
	tests/e2e/suite2.sh tests/e2e/allow_suite1.sh \
	tests/e2e/lifecycle.sh

if ENABLE_EXAMPLES
bin_PROGRAMS += examples/cpns-gateway
dist_man_MANS += doc/cpns-gateway.1
examples_cpns_gateway_SOURCES = examples/gateway/gateway.h examples/gateway/main.c \
	examples/gateway/assign.c examples/gateway/show.c examples/gateway/net.c \
	examples/gateway/derive.c examples/common/cli.h examples/common/cli.c
examples_cpns_gateway_CFLAGS = $(OWN_CFLAGS)
examples_cpns_gateway_LDADD = $(CORE_LIBS)

# A misbehaving peer (garbage, stalls) for the end-to-end tests.
check_PROGRAMS += tests/e2e/rawpeer
tests_e2e_rawpeer_SOURCES = tests/e2e/rawpeer.c
tests_e2e_rawpeer_CFLAGS = $(AM_CFLAGS) $(OWN_WARN_CFLAGS)

# First KeyRequests for random User IDs from many loopback addresses
# (lockout flood and per-source budget tests).
check_PROGRAMS += tests/e2e/flood
tests_e2e_flood_SOURCES = tests/e2e/flood.c
tests_e2e_flood_CFLAGS = $(OWN_CFLAGS)
tests_e2e_flood_LDADD = $(CORE_LIBS)

# Another process holding the server's database locked (db_busy test).
check_PROGRAMS += tests/e2e/dbhold
tests_e2e_dbhold_SOURCES = tests/e2e/dbhold.c
tests_e2e_dbhold_CFLAGS = $(AM_CFLAGS) $(OWN_WARN_CFLAGS) $(SQLITE_CFLAGS)
tests_e2e_dbhold_LDADD = $(SQLITE_LIBS)

# Terminal echo after a signal at the password prompt (a pseudo-terminal).
check_PROGRAMS += tests/e2e/prompt_signal
tests_e2e_prompt_signal_SOURCES = tests/e2e/prompt_signal.c
tests_e2e_prompt_signal_CFLAGS = $(AM_CFLAGS) $(OWN_WARN_CFLAGS)

TESTS += $(GATEWAY_E2E_TESTS) tests/e2e/prompt_signal
else
EXTRA_DIST += doc/cpns-gateway.1
endif
