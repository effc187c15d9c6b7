# A throwaway PostgreSQL cluster for the tests: sourced (POSIX sh) by
# tests/e2e/lib.sh (CPNS_E2E_BACKEND=pg), tests/pg/with-cluster.sh and the
# PostgreSQL-only tests. Debian's postgresql binaries (pg_config --bindir,
# else /usr/lib/postgresql/*/bin; never /usr/local/bin), run as the
# `postgres` user through runuser. Everything lives in a fresh temporary
# directory owned by postgres: the data directory and the Unix socket
# directory (mode 0700, so that only postgres and root can connect: the
# cluster trusts local connections). No TCP listener (listen_addresses='').
# fsync and synchronous_commit stay on: the durability of production.
#
#   pg_cluster_start   initdb, start (pg_ctl -w waits, no sleep), role and
#                      database "cpns"; sets PG_URI, PG_DIR, PG_SOCKDIR,
#                      PG_PORT, PG_BINDIR. Exits 77 (skip) with the reason
#                      when the machine cannot run one (not root, no
#                      runuser, no postgres user, no binaries).
#   pg_cluster_stop [MODE]     pg_ctl stop -m MODE (default fast), waits
#   pg_cluster_resume          pg_ctl start -w on the same data directory
#   pg_cluster_pid             the postmaster's pid (from postmaster.pid)
#   pg_cluster_remove          stops it at once (-m immediate), removes all
#   pg_psql SQL                runs SQL as the cluster's superuser
#
# The caller removes the cluster on exit (pg_cluster_remove in its trap).

PG_DIR=
PG_SOCKDIR=
PG_PORT=5432
PG_URI=
PG_BINDIR=
PG_DB=cpns
PG_ROLE=cpns

# pg_skip REASON: the PostgreSQL tests cannot run here.
pg_skip() {
  echo "SKIP: PostgreSQL tests: $*"
  exit 77
}

# pg_find_bindir: Debian's server binaries, or nothing.
pg_find_bindir() {
  if command -v pg_config >/dev/null 2>&1; then
    dir=$(pg_config --bindir 2>/dev/null)
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
      echo "$dir"
      return 0
    fi
  fi
  for dir in /usr/lib/postgresql/*/bin; do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
      echo "$dir"
    fi
  done | sort -V | tail -n 1
}

# pg_as_postgres CMD...: CMD as the postgres user, from a directory it can
# read (the tools complain about an unreadable working directory).
pg_as_postgres() {
  (cd "$PG_DIR" && runuser -u postgres -- "$@")
}

pg_cluster_start() {
  [ "$(id -u)" = 0 ] || pg_skip "not root (initdb and pg_ctl run as postgres through runuser)"
  command -v runuser >/dev/null 2>&1 || pg_skip "no runuser (util-linux)"
  id -u postgres >/dev/null 2>&1 || pg_skip "no postgres user (apt-get install postgresql)"
  PG_BINDIR=$(pg_find_bindir)
  [ -n "$PG_BINDIR" ] || pg_skip "no initdb/pg_ctl (apt-get install postgresql)"
  PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/cpns-pg.XXXXXX") || pg_skip "mktemp failed"
  PG_SOCKDIR=$PG_DIR/sock
  mkdir -m 0700 "$PG_SOCKDIR" && chown -R postgres: "$PG_DIR" && chmod 0700 "$PG_DIR" ||
    { echo "cannot prepare $PG_DIR for postgres" >&2; exit 99; }
  # --no-sync: only initdb's own final flush of the template files is
  # skipped (nothing can lose them short of a machine crash during the
  # test); the running cluster fsyncs as production does.
  pg_as_postgres "$PG_BINDIR/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 \
    --locale=C --no-sync >"$PG_DIR/initdb.log" 2>&1 ||
    { cat "$PG_DIR/initdb.log" >&2; echo "initdb failed" >&2; exit 99; }
  cat >>"$PG_DIR/data/postgresql.conf" <<EOF
# tests/pg/cluster.sh: Unix socket only, production durability.
listen_addresses = ''
unix_socket_directories = '$PG_SOCKDIR'
unix_socket_permissions = 0700
port = $PG_PORT
fsync = on
synchronous_commit = on
full_page_writes = on
EOF
  pg_cluster_resume || exit 99
  pg_as_postgres "$PG_BINDIR/createuser" -h "$PG_SOCKDIR" -p "$PG_PORT" "$PG_ROLE" &&
    pg_as_postgres "$PG_BINDIR/createdb" -h "$PG_SOCKDIR" -p "$PG_PORT" -O "$PG_ROLE" "$PG_DB" ||
    { echo "cannot create role and database $PG_DB" >&2; exit 99; }
  PG_URI="postgresql:///$PG_DB?host=$PG_SOCKDIR&port=$PG_PORT&user=$PG_ROLE"
  echo "PostgreSQL $("$PG_BINDIR/postgres" -V | sed -n "s/^postgres (PostgreSQL) \([^ ]*\).*/\1/p") cluster: $PG_URI"
}

pg_cluster_resume() {
  pg_as_postgres "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
    start >"$PG_DIR/pg_ctl.out" 2>&1 || {
    echo "pg_ctl start failed: $(cat "$PG_DIR/pg_ctl.out")" >&2
    tail -n 20 "$PG_DIR/server.log" >&2
    return 1
  }
}

pg_cluster_stop() {
  pg_as_postgres "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -m "${1:-fast}" -w -t 60 stop \
    >"$PG_DIR/pg_ctl.out" 2>&1 || {
    echo "pg_ctl stop failed: $(cat "$PG_DIR/pg_ctl.out")" >&2
    return 1
  }
}

pg_cluster_pid() {
  head -n 1 "$PG_DIR/data/postmaster.pid" 2>/dev/null
}

pg_cluster_remove() {
  [ -n "$PG_DIR" ] || return 0
  if [ -e "$PG_DIR/data/postmaster.pid" ]; then
    pg_cluster_stop immediate || echo "warning: could not stop the cluster in $PG_DIR" >&2
  fi
  rm -rf "$PG_DIR"
  PG_DIR=
}

pg_psql() {
  pg_as_postgres "$PG_BINDIR/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$PG_SOCKDIR" \
    -p "$PG_PORT" -U postgres -d "$PG_DB" -c "$1"
}
