#!/bin/sh
# Runs tests/test_server_store_pg (the store interface on SQLite and
# PostgreSQL) against a throwaway cluster (tests/pg/cluster.sh), with the
# commands that stop and start it for the reconnection test. Skips (77)
# where no cluster can run.
set -u
top_srcdir=${top_srcdir:-$(dirname "$0")/..}
. "$top_srcdir/tests/pg/cluster.sh"
trap 'pg_cluster_remove' EXIT
trap 'exit 99' HUP INT TERM
pg_cluster_start
cluster_env=". '$top_srcdir/tests/pg/cluster.sh'; PG_DIR='$PG_DIR'; PG_BINDIR='$PG_BINDIR'"
CPNS_TEST_PG_URI=$PG_URI
CPNS_TEST_PG_STOP="$cluster_env; pg_cluster_stop fast"
CPNS_TEST_PG_START="$cluster_env; pg_cluster_resume"
export CPNS_TEST_PG_URI CPNS_TEST_PG_STOP CPNS_TEST_PG_START
rc=0
./tests/test_server_store_pg || rc=$?
exit $rc
