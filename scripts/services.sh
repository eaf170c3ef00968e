#!/usr/bin/env bash
# Starts and stops the real servers the integration tests use, bound to loopback, with state under one folder.
#   scripts/services.sh start   → prints KEY=VALUE lines (also written to $GAUNTLET_SERVICES_DIR/env);
#                                 GAUNTLET_STARTED_<NAME>=1 says this call started it (it was not running before)
#   scripts/services.sh stop
# A server whose binary is missing is reported and skipped; the tests that need it then fail with that reason.
set -euo pipefail

dir="${GAUNTLET_SERVICES_DIR:-/tmp/gauntlet-test-services}"
pg_port="${GAUNTLET_TEST_PG_PORT:-55432}"
pg_bin="${PG_BIN:-$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)}"
redis_port="${GAUNTLET_TEST_REDIS_PORT:-56379}"

start_postgres() {
  if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ]; then
    echo "# postgresql: not installed (apt-get install postgresql)" >&2
    return 0
  fi
  local data="$dir/pg/data" sock="$dir/pg/sock" run=()
  mkdir -p "$dir/pg" "$sock"
  # PostgreSQL refuses to run as root: hand the folder to the postgres user when we are root.
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home "$dir/pg" postgres
    chown -R postgres "$dir/pg"
    chmod 755 "$dir"
    run=(runuser -u postgres --)
  fi
  if [ ! -f "$data/PG_VERSION" ]; then
    "${run[@]}" "$pg_bin/initdb" -D "$data" -A trust -U postgres >"$dir/pg/initdb.log" 2>&1
  fi
  if ! "${run[@]}" "$pg_bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    "${run[@]}" "$pg_bin/pg_ctl" -D "$data" -w -t 60 -l "$dir/pg/server.log" start \
      -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $sock -c fsync=off" >/dev/null
    echo "GAUNTLET_STARTED_POSTGRES=1"
  fi
  echo "GAUNTLET_TEST_PG_URL=postgres://postgres@127.0.0.1:$pg_port/postgres"
}

stop_postgres() {
  [ -f "$dir/pg/data/postmaster.pid" ] || return 0
  local run=()
  [ "$(id -u)" = 0 ] && run=(runuser -u postgres --)
  "${run[@]}" "$pg_bin/pg_ctl" -D "$dir/pg/data" -w -m fast stop >/dev/null 2>&1 || true
}

start_redis() {
  if ! command -v redis-server >/dev/null; then
    echo "# redis: not installed (apt-get install redis-server)" >&2
    return 0
  fi
  mkdir -p "$dir/redis"
  if ! redis-cli -h 127.0.0.1 -p "$redis_port" ping >/dev/null 2>&1; then
    redis-server --bind 127.0.0.1 --port "$redis_port" --daemonize yes --dir "$dir/redis" \
      --pidfile "$dir/redis/redis.pid" --logfile "$dir/redis/redis.log" --save "" --appendonly no
    for _ in $(seq 50); do redis-cli -h 127.0.0.1 -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
    echo "GAUNTLET_STARTED_REDIS=1"
  fi
  echo "GAUNTLET_TEST_REDIS_URL=redis://127.0.0.1:$redis_port"
}

stop_redis() {
  [ -f "$dir/redis/redis.pid" ] || return 0
  redis-cli -h 127.0.0.1 -p "$redis_port" shutdown nosave >/dev/null 2>&1 || kill "$(cat "$dir/redis/redis.pid")" 2>/dev/null || true
  rm -f "$dir/redis/redis.pid"
}

case "${1:-}" in
  start)
    mkdir -p "$dir"
    { start_postgres; start_redis; } | tee "$dir/env"
    ;;
  stop)
    stop_postgres
    stop_redis
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 64
    ;;
esac
