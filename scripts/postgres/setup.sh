#!/usr/bin/env bash
# A throwaway PostgreSQL server for the PostgresSaver tests
# (runtime/src/graph/checkpoint/postgres.rs), from Debian's packages only.
#
#   export "$(bash scripts/postgres/setup.sh)"      # DATABASE_URL=postgres://...
#   cargo test -p runwright --features postgres --lib checkpoint::postgres
#   bash scripts/postgres/stop.sh
#
# With RUNWRIGHT_REQUIRE_POSTGRES=1 (CI) those tests fail, not skip, when
# DATABASE_URL is missing.
#
# Installs Debian's `postgresql` when no initdb/pg_ctl/postgres are found,
# makes a cluster in $RUNWRIGHT_PG_DIR (default: target/postgres of this
# repository), starts it on 127.0.0.1 only (TCP, no Unix socket) on
# $RUNWRIGHT_PG_PORT (default 54329, or the next free port), creates the
# user and database `runwright` (password `runwright`, SCRAM), and prints
# `DATABASE_URL=...` on stdout, the only line it prints there. Run again,
# it finds the server running and prints the same line.
#
# As root (CI), the server runs as the `postgres` user the package creates
# (or a `runwright-pg` user made here), since PostgreSQL refuses to run as
# root. The cluster trades durability for speed (fsync off): it is for tests.
#
# Env: RUNWRIGHT_PG_DIR   where the cluster lives (data/, log, port)
#      RUNWRIGHT_PG_PORT  the port to try first (default 54329)
#      PG_BIN             a folder with initdb, pg_ctl, postgres, psql
set -euo pipefail
cd "$(dirname "$0")/../.."

BASE=${RUNWRIGHT_PG_DIR:-$PWD/target/postgres}
DATA=$BASE/data
LOG=$BASE/postgres.log
FIRST_PORT=${RUNWRIGHT_PG_PORT:-54329}
DB_USER=runwright
DB_PASSWORD=runwright
DB_NAME=runwright

log() { printf '[postgres] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# A folder holding the server's own programs (not Debian's pg_wrapper
# links in /usr/bin, which pick a cluster of their own).
has_server() { [ -x "$1/initdb" ] && [ -x "$1/pg_ctl" ] && [ -x "$1/postgres" ] && [ -x "$1/psql" ]; }

find_bin() {
  if [ -n "${PG_BIN:-}" ]; then
    has_server "$PG_BIN" && { echo "$PG_BIN"; return; }
    die "PG_BIN=$PG_BIN has no initdb, pg_ctl, postgres and psql"
  fi
  local dir
  # Debian: /usr/lib/postgresql/<version>/bin, the newest version.
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    has_server "$dir" && { echo "$dir"; return; }
  done
  # Elsewhere: where the pg_ctl on PATH really is (it may be a link).
  if command -v pg_ctl >/dev/null; then
    dir=$(dirname "$(readlink -f "$(command -v pg_ctl)")")
    has_server "$dir" && { echo "$dir"; return; }
  fi
  return 1
}

if ! BIN=$(find_bin); then
  [ "$(id -u)" = 0 ] || die "PostgreSQL is not installed; as root: apt-get install -y postgresql"
  log "installing Debian's postgresql (apt)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2
  apt-get install -y -q postgresql >&2
  BIN=$(find_bin) || die "postgresql installed, but no initdb/pg_ctl found in /usr/lib/postgresql/*/bin"
fi
log "server programs: $BIN"

# Who runs the server: the current user, or, as root, a system user.
if [ "$(id -u)" = 0 ]; then
  if id -u postgres >/dev/null 2>&1; then
    PG_USER=postgres
  else
    PG_USER=runwright-pg
    id -u "$PG_USER" >/dev/null 2>&1 ||
      useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$PG_USER"
  fi
  as_pg() { runuser -u "$PG_USER" -- "$@"; }
else
  PG_USER=$(id -un)
  as_pg() { "$@"; }
fi

mkdir -p "$BASE"
touch "$LOG"
[ "$(id -u)" = 0 ] && chown "$PG_USER" "$BASE" "$LOG"
as_pg test -w "$BASE" ||
  die "user $PG_USER cannot write $BASE (a parent folder is closed to it); set RUNWRIGHT_PG_DIR to another folder"

pg() { as_pg "$BIN/pg_ctl" -D "$DATA" "$@"; }
psql_as() { PGPASSWORD=$DB_PASSWORD "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U "$DB_USER" -v ON_ERROR_STOP=1 -qtA "$@"; }
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if [ ! -f "$DATA/PG_VERSION" ]; then
  log "initializing a cluster in $DATA"
  rm -rf "$DATA"
  pwfile=$BASE/pwfile
  printf '%s\n' "$DB_PASSWORD" >"$pwfile"
  [ "$(id -u)" = 0 ] && chown "$PG_USER" "$pwfile"
  as_pg "$BIN/initdb" -D "$DATA" -U "$DB_USER" --pwfile="$pwfile" \
    --auth-host=scram-sha-256 --auth-local=trust -E UTF8 --no-locale >>"$LOG" 2>&1 ||
    die "initdb failed; see $LOG"
  rm -f "$pwfile"
fi

if pg status >/dev/null 2>&1; then
  # postmaster.pid's fourth line is the port.
  PORT=$(sed -n 4p "$DATA/postmaster.pid")
  log "already running on 127.0.0.1:$PORT"
else
  PORT=$FIRST_PORT
  while port_busy "$PORT"; do
    PORT=$((PORT + 1))
    [ "$PORT" -lt $((FIRST_PORT + 20)) ] || die "no free port in $FIRST_PORT..$PORT"
  done
  # On the command line, so a later start may take another port. No Unix
  # socket: its default folder may not exist or not be ours.
  # fsync and synchronous_commit off: a test server, faster, and whatever
  # a crash loses is thrown away anyway.
  log "starting on 127.0.0.1:$PORT (log: $LOG)"
  pg start -w -t 60 -l "$LOG" \
    -o "-p $PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    >/dev/null || { tail -n 20 "$LOG" >&2; die "the server did not start"; }
fi

if [ -z "$(psql_as -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" ]; then
  log "creating database $DB_NAME"
  psql_as -d postgres -c "CREATE DATABASE $DB_NAME"
fi

echo "DATABASE_URL=postgres://$DB_USER:$DB_PASSWORD@127.0.0.1:$PORT/$DB_NAME"
