#!/bin/sh
# bench/backends.sh [BENCH_SERVER_LOAD OPTIONS...]: bench_server_load with a
# second cpns-server on a throwaway PostgreSQL cluster (tests/pg/cluster.sh,
# on this machine, fsync and synchronous_commit on, Unix socket), so that one
# run prints the bare-TCP baseline, the SQLite backend's rate and the
# PostgreSQL backend's rate side by side, with the ratio PostgreSQL / SQLite.
# Run from the top build directory after `make bench` (`make bench-backends`
# does both); needs root and Debian's postgresql (else exits 77).
#
#   bench/backends.sh --clients 64,256 --seconds 5 --idle 0
set -u
: "${BENCH_SERVER_LOAD:=bench/bench_server_load}"
[ -x "$BENCH_SERVER_LOAD" ] || { echo "missing $BENCH_SERVER_LOAD (make bench first)" >&2; exit 99; }
. "$(dirname "$0")/../tests/pg/cluster.sh"
trap 'pg_cluster_remove' EXIT
trap 'exit 99' HUP INT TERM
pg_cluster_start
"$BENCH_SERVER_LOAD" --pg "$PG_URI" --pg-postmaster "$(pg_cluster_pid)" "$@"
