#!/usr/bin/env bash
# Stops the server scripts/postgres/setup.sh started (the same
# RUNWRIGHT_PG_DIR); does nothing when it is not running. Its data stays
# for the next start; `rm -rf target/postgres` removes it.
set -euo pipefail
cd "$(dirname "$0")/../.."

BASE=${RUNWRIGHT_PG_DIR:-$PWD/target/postgres}
DATA=$BASE/data

log() { printf '[postgres] %s\n' "$*" >&2; }

if [ ! -f "$DATA/postmaster.pid" ]; then
  log "not running ($DATA)"
  exit 0
fi

# pg_ctl of the cluster's own version, as the user that owns it.
version=$(cat "$DATA/PG_VERSION")
BIN=${PG_BIN:-/usr/lib/postgresql/$version/bin}
[ -x "$BIN/pg_ctl" ] || BIN=$(dirname "$(readlink -f "$(command -v pg_ctl)")")
owner=$(stat -c %U "$DATA")
if [ "$(id -u)" = 0 ] && [ "$owner" != root ]; then
  runuser -u "$owner" -- "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >&2
else
  "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >&2
fi
log "stopped"
