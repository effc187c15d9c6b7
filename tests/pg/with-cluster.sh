#!/bin/sh
# with-cluster.sh CMD [ARGS...]: runs CMD with a throwaway PostgreSQL
# cluster (tests/pg/cluster.sh) whose URI is in CPNS_TEST_PG_URI, then
# stops and removes the cluster. Exits with CMD's status, or 77 when no
# cluster can run here (not root, no postgres user or binaries).
#
#   tests/pg/with-cluster.sh tests/test_server_store
#   tests/pg/with-cluster.sh sh -c 'cpns-server init --db "$CPNS_TEST_PG_URI" ...'
set -u
[ $# -ge 1 ] || { echo "usage: with-cluster.sh CMD [ARGS...]" >&2; exit 2; }
. "$(dirname "$0")/cluster.sh"
trap 'pg_cluster_remove' EXIT
trap 'exit 99' HUP INT TERM
pg_cluster_start
CPNS_TEST_PG_URI=$PG_URI
export CPNS_TEST_PG_URI
rc=0
"$@" || rc=$?
exit $rc
