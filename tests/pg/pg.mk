# pg: the end-to-end suite on the PostgreSQL backend and the tests that only
# PostgreSQL has (two servers on one database, an immediate stop of the
# database under load), included by Makefile.am. Each test starts its own
# throwaway cluster (tests/pg/cluster.sh: initdb and pg_ctl as the postgres
# user, Unix socket only) and removes it; without root, runuser, the postgres
# user or Debian's postgresql binaries they are skipped (77).
#
# tests/e2e/pg/NAME.sh runs tests/e2e/NAME.sh with CPNS_E2E_BACKEND=pg. Not
# wrapped, SQLite only (they say why): upgrade.sh, db_busy.sh, demo.sh.
PG_E2E_TESTS = tests/e2e/pg/config_file.sh tests/e2e/pg/notify_ready.sh tests/e2e/pg/reload.sh \
	tests/e2e/pg/success.sh tests/e2e/pg/auth.sh tests/e2e/pg/replace.sh \
	tests/e2e/pg/lockout.sh tests/e2e/pg/restart.sh tests/e2e/pg/hostile.sh \
	tests/e2e/pg/stall.sh tests/e2e/pg/kdf_bounds.sh tests/e2e/pg/defaults.sh \
	tests/e2e/pg/lockout_flood.sh tests/e2e/pg/lockout_restart.sh \
	tests/e2e/pg/source_budget.sh tests/e2e/pg/secret_files.sh \
	tests/e2e/pg/sealed_at_rest.sh tests/e2e/pg/suite2.sh tests/e2e/pg/allow_suite1.sh \
	tests/e2e/pg/lifecycle.sh tests/e2e/pg/json.sh
PG_E2E_TESTS += tests/e2e/pg/metrics.sh
PG_ONLY_TESTS = tests/e2e/pg_two_servers.sh tests/e2e/pg_immediate_stop.sh
EXTRA_DIST += tests/pg/cluster.sh tests/pg/with-cluster.sh tests/e2e/sealed_at_rest.sh \
	tests/e2e/pg_lib.sh $(PG_E2E_TESTS) $(PG_ONLY_TESTS) bench/backends.sh doc/deploy.md

if ENABLE_EXAMPLES
TESTS += tests/e2e/sealed_at_rest.sh $(PG_E2E_TESTS) $(PG_ONLY_TESTS)
endif

# The bare-TCP baseline, the SQLite backend and the PostgreSQL backend (a
# throwaway cluster) in one bench_server_load run, side by side:
#   make bench-backends [BENCH_BACKENDS_ARGS="--clients 64 --seconds 3 --idle 0"]
BENCH_BACKENDS_ARGS = --clients 64,256 --seconds 5 --idle 0
bench-backends: bench/bench_server_load examples/cpns-server
	$(SHELL) $(srcdir)/bench/backends.sh $(BENCH_BACKENDS_ARGS)
.PHONY: bench-backends
