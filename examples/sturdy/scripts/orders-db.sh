#!/usr/bin/env bash
# The shop's order database: a real PostgreSQL, run in the foreground so Gauntlet supervises it (a crash is restarted,
# and crash recovery replays the WAL). The first start creates the cluster with 10,000 orders; later starts (after a
# crash, within one assessment) reuse it. The cluster lives in a private temp folder named in a pointer file under
# .gauntlet/ (git-ignored), because the server runs as the postgres user when we are root and may not reach the repo.
#   orders-db.sh            start (env: ORDERS_DB_PORT, ORDERS_DB_PASSWORD (empty = trust), ORDERS_DB_ARCHIVE=on|off)
#   orders-db.sh --remove   stop it and remove the cluster (the demo and its test call this when they end)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
port="${ORDERS_DB_PORT:-18085}"
state="$here/../../../.gauntlet/demo/orders-db-$port"
pointer="$state/location"

if [ "${1:-}" = --remove ]; then
  if [ -f "$pointer" ]; then
    dir="$(cat "$pointer")"
    if [ -f "$dir/data/postmaster.pid" ]; then kill -9 "$(head -n 1 "$dir/data/postmaster.pid")" 2>/dev/null || true; fi
    case "$dir" in /tmp/gauntlet-demo-orders-db.*) rm -rf "$dir" ;; esac
  fi
  rm -rf "$state"
  exit 0
fi

bin="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)"
if [ -z "$bin" ] || [ ! -x "$bin/postgres" ]; then
  echo "orders-db: PostgreSQL is not installed (apt-get install postgresql)" >&2
  exit 1
fi
as=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || { echo "orders-db: running as root needs a postgres user (apt-get install postgresql creates it)" >&2; exit 1; }
  as=(runuser -u postgres --)
fi

mkdir -p "$state"
dir="$(cat "$pointer" 2>/dev/null || true)"
if [ -z "$dir" ] || [ ! -f "$dir/data/PG_VERSION" ]; then
  dir="$(mktemp -d /tmp/gauntlet-demo-orders-db.XXXXXX)"
  mkdir -p "$dir/wal-archive" "$dir/sock"
  [ ${#as[@]} -eq 0 ] || chown -R postgres "$dir"
  auth=(-A trust)
  if [ -n "${ORDERS_DB_PASSWORD:-}" ]; then
    printf '%s\n' "$ORDERS_DB_PASSWORD" >"$dir/pw"
    [ ${#as[@]} -eq 0 ] || chown postgres "$dir/pw"
    auth=(-A scram-sha-256 --pwfile="$dir/pw")
  fi
  "${as[@]}" "$bin/initdb" -D "$dir/data" -U shop "${auth[@]}" --no-sync >"$dir/initdb.log" 2>&1
  rm -f "$dir/pw"
  "${as[@]}" "$bin/postgres" --single -D "$dir/data" postgres <<<"CREATE DATABASE orders;" >/dev/null
  "${as[@]}" "$bin/postgres" --single -j -D "$dir/data" orders <"$here/orders-seed.sql" >/dev/null
  printf '%s\n' "$dir" >"$pointer"
elif [ -n "${ORDERS_DB_PASSWORD:-}" ] && [ ! -f "$dir/data/postmaster.pid" ]; then
  # A cluster kept from an earlier run: this run's password replaces the old one.
  "${as[@]}" "$bin/postgres" --single -D "$dir/data" orders >/dev/null \
    <<<"ALTER ROLE shop PASSWORD '${ORDERS_DB_PASSWORD//\'/\'\'}';"
fi

archive=()
if [ "${ORDERS_DB_ARCHIVE:-off}" = on ]; then
  # Every WAL segment is copied to the archive, at least once a minute: the data-loss window (RPO) is 60 s.
  archive=(-c archive_mode=on -c "archive_command=test ! -f $dir/wal-archive/%f && cp %p $dir/wal-archive/%f" -c archive_timeout=60s)
fi
if [ "${ORDERS_DB_ARCHIVE:-off}" = on ]; then
  # Once the server is up, close the current WAL segment so the archive holds one from the start: an archive that
  # never archived proves nothing (and the RPO check says so).
  (
    for _ in $(seq 100); do "$bin/pg_isready" -q -h "$dir/sock" -p "$port" && break; sleep 0.1; done
    PGPASSWORD="${ORDERS_DB_PASSWORD:-}" "$bin/psql" -X -q -h "$dir/sock" -p "$port" -U shop -d orders \
      -c "SELECT pg_switch_wal()" >/dev/null 2>&1 || true
  ) &
fi
exec "${as[@]}" "$bin/postgres" -D "$dir/data" -c listen_addresses=127.0.0.1 -p "$port" -k "$dir/sock" \
  -c max_connections=300 "${archive[@]}"
