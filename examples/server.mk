# server: the cpns-server program, its unit tests and its load benchmark
# (included by Makefile.am).

# Units shared by the program and tests/test_server_store (no libevent).
SERVER_UNIT_SOURCES = examples/server/store.h examples/server/store.c \
	examples/server/store_backend.h examples/server/store_sqlite.c examples/server/store_pg.c \
	examples/server/keyfile.h examples/server/keyfile.c \
	examples/server/lockout.h examples/server/lockout.c \
	examples/server/store_thread.h examples/server/store_thread.c \
	examples/server/addrlimit.h examples/server/addrlimit.c \
	examples/server/ratelimit.h examples/server/ratelimit.c \
	examples/server/log.h examples/server/log.c \
	examples/server/timearg.h examples/server/timearg.c \
	examples/common/cli.h examples/common/cli.c

if ENABLE_EXAMPLES
bin_PROGRAMS += examples/cpns-server
dist_man_MANS += doc/cpns-server.1
examples_cpns_server_SOURCES = examples/server/main.c \
	examples/server/conffile.h examples/server/conffile.c \
	examples/server/notify.h examples/server/notify.c \
	examples/server/loop.h examples/server/loop.c \
	examples/server/conn.h examples/server/conn.c \
	examples/server/metrics.h examples/server/metrics.c $(SERVER_UNIT_SOURCES) \
	examples/server/json_out.h examples/server/json_out.c \
	examples/common/json.h examples/common/json.c
examples_cpns_server_CFLAGS = $(OWN_CFLAGS) $(LIBEVENT_CFLAGS) $(SQLITE_CFLAGS) $(LIBPQ_CFLAGS) \
	$(JANSSON_CFLAGS) $(INIH_CFLAGS) $(LIBSYSTEMD_CFLAGS)
examples_cpns_server_LDFLAGS = $(AM_LDFLAGS) -pthread
examples_cpns_server_LDADD = $(CORE_LIBS) $(LIBEVENT_LIBS) $(SQLITE_LIBS) $(LIBPQ_LIBS) \
	$(JANSSON_LIBS) $(INIH_LIBS) $(LIBSYSTEMD_LIBS)

# Running it as a service: the example configuration, the systemd unit and
# its sysusers.d/tmpfiles.d snippets (configure --with-systemdsystemunitdir,
# --with-sysusersdir, --with-tmpfilesdir; "no" skips the unit and snippets).
dist_doc_DATA = doc/cpns-server.conf.example
if INSTALL_SYSTEMD_UNIT
dist_systemdsystemunit_DATA = examples/server/cpns-server.service
install-data-local: install-cpns-server-snippets
uninstall-local: uninstall-cpns-server-snippets
endif

# Readiness and reload through NOTIFY_SOCKET (tests/e2e/notify_listen).
SERVER_SERVICE_E2E_TESTS = tests/e2e/config_file.sh tests/e2e/notify_ready.sh \
	tests/e2e/reload.sh
TESTS += $(SERVER_SERVICE_E2E_TESTS)
check_PROGRAMS += tests/e2e/notify_listen
tests_e2e_notify_listen_SOURCES = tests/e2e/notify_listen.c
tests_e2e_notify_listen_CFLAGS = $(AM_CFLAGS) $(OWN_WARN_CFLAGS)
AM_TESTS_ENVIRONMENT += CPNS_SD_NOTIFY='$(have_libsystemd)'; export CPNS_SD_NOTIFY;

# The configuration file reader: any octets through its checks and libinih.
FUZZ_TARGETS += fuzz/fuzz_server_config
fuzz_fuzz_server_config_SOURCES = fuzz/fuzz_server_config.c examples/server/conffile.h \
	examples/server/conffile.c
fuzz_fuzz_server_config_CFLAGS = $(FUZZER_CC_FLAGS) $(INIH_CFLAGS)
fuzz_fuzz_server_config_LDFLAGS = $(FUZZER_LINK_FLAGS)
fuzz_fuzz_server_config_LDADD = $(INIH_LIBS)

check_PROGRAMS += tests/test_server_store
TESTS += tests/test_server_store
tests_test_server_store_SOURCES = tests/test_server_store.c $(SERVER_UNIT_SOURCES)
tests_test_server_store_CFLAGS = $(TEST_CFLAGS) $(SQLITE_CFLAGS) $(LIBPQ_CFLAGS)
tests_test_server_store_LDFLAGS = $(AM_LDFLAGS) -pthread
tests_test_server_store_LDADD = $(CORE_LIBS) $(CHECK_LIBS) $(SQLITE_LIBS) $(LIBPQ_LIBS)

# The store interface on both backends; PostgreSQL through a throwaway
# cluster that the wrapper starts (skipped where none can run).
check_PROGRAMS += tests/test_server_store_pg
TESTS += tests/server_store_pg.sh
tests_test_server_store_pg_SOURCES = tests/test_server_store_pg.c $(SERVER_UNIT_SOURCES)
tests_test_server_store_pg_CFLAGS = $(TEST_CFLAGS) $(SQLITE_CFLAGS) $(LIBPQ_CFLAGS)
tests_test_server_store_pg_LDFLAGS = $(AM_LDFLAGS) -pthread
tests_test_server_store_pg_LDADD = $(CORE_LIBS) $(CHECK_LIBS) $(SQLITE_LIBS) $(LIBPQ_LIBS)

# Load generator against a cpns-server it starts itself (make bench).
BENCH_TARGETS += bench/bench_server_load
bench_bench_server_load_SOURCES = bench/bench_server_load.c bench/latency_hist.c \
	bench/latency_hist.h
bench_bench_server_load_CFLAGS = $(OWN_CFLAGS) $(LIBEVENT_CFLAGS)
bench_bench_server_load_LDFLAGS = $(AM_LDFLAGS) -pthread
bench_bench_server_load_LDADD = $(CORE_LIBS) $(LIBEVENT_LIBS)

check_PROGRAMS += tests/test_server_metrics
TESTS += tests/test_server_metrics
tests_test_server_metrics_SOURCES = tests/test_server_metrics.c examples/server/metrics.h \
	examples/server/metrics.c examples/common/cli.h examples/common/cli.c
tests_test_server_metrics_CFLAGS = $(TEST_CFLAGS) $(LIBEVENT_CFLAGS)
tests_test_server_metrics_LDADD = $(TEST_LIBS) $(LIBEVENT_LIBS)

# serve's metrics endpoint and log lines (metrics.sh also on PostgreSQL:
# tests/pg/pg.mk); syslog.sh gives the server a /dev/log of its own.
SERVER_OPS_E2E_TESTS = tests/e2e/metrics.sh tests/e2e/syslog.sh
TESTS += $(SERVER_OPS_E2E_TESTS)
check_PROGRAMS += tests/e2e/syslogcap
tests_e2e_syslogcap_SOURCES = tests/e2e/syslogcap.c
tests_e2e_syslogcap_CFLAGS = $(AM_CFLAGS) $(OWN_WARN_CFLAGS)
else
EXTRA_DIST += doc/cpns-server.1
endif
EXTRA_DIST += tests/e2e/metrics.sh tests/e2e/syslog.sh
EXTRA_DIST += tests/server_store_pg.sh tests/e2e/v2 tests/e2e/v3 doc/json.md

# The TIME argument of `audit --since` (hostile input from the command line).
FUZZ_TARGETS += fuzz/fuzz_timearg
fuzz_fuzz_timearg_SOURCES = fuzz/fuzz_timearg.c examples/server/timearg.h \
	examples/server/timearg.c
fuzz_fuzz_timearg_CFLAGS = $(FUZZER_CC_FLAGS)
fuzz_fuzz_timearg_LDFLAGS = $(FUZZER_LINK_FLAGS)
fuzz_fuzz_timearg_LDADD = $(CORE_LIBS)
EXTRA_DIST += fuzz/corpus/timearg

# The text --json writes and cli_check_text() accepts (jansson: with the examples).
if ENABLE_EXAMPLES
FUZZ_TARGETS += fuzz/fuzz_json_text
fuzz_fuzz_json_text_SOURCES = fuzz/fuzz_json_text.c examples/common/json.h \
	examples/common/json.c examples/common/cli.h examples/common/cli.c
fuzz_fuzz_json_text_CFLAGS = $(FUZZER_CC_FLAGS) $(JANSSON_CFLAGS)
fuzz_fuzz_json_text_LDFLAGS = $(FUZZER_LINK_FLAGS)
fuzz_fuzz_json_text_LDADD = $(CORE_LIBS) $(JANSSON_LIBS)
endif
EXTRA_DIST += fuzz/corpus/json_text
EXTRA_DIST += examples/server/cpns-server.service \
	examples/server/cpns-server.sysusers examples/server/cpns-server.tmpfiles \
	tests/e2e/config_file.sh tests/e2e/notify_ready.sh tests/e2e/reload.sh \
	tests/e2e/notify_lib.sh fuzz/fuzz_server_config.c fuzz/fuzz_server_config.dict \
	fuzz/fuzz_server_config.options fuzz/corpus/server_config

# The sysusers.d/tmpfiles.d snippets, installed as cpns-server.conf (the
# name the tools look for) when the unit is (see above).
install-cpns-server-snippets:
	$(MKDIR_P) '$(DESTDIR)$(sysusersdir)' '$(DESTDIR)$(tmpfilesdir)'
	$(INSTALL_DATA) $(srcdir)/examples/server/cpns-server.sysusers \
		'$(DESTDIR)$(sysusersdir)/cpns-server.conf'
	$(INSTALL_DATA) $(srcdir)/examples/server/cpns-server.tmpfiles \
		'$(DESTDIR)$(tmpfilesdir)/cpns-server.conf'
uninstall-cpns-server-snippets:
	rm -f '$(DESTDIR)$(sysusersdir)/cpns-server.conf' '$(DESTDIR)$(tmpfilesdir)/cpns-server.conf'
.PHONY: install-cpns-server-snippets uninstall-cpns-server-snippets
