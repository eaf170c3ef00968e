#!/usr/bin/env bash
# Installs the system packages the test suite runs for real: PostgreSQL and Redis (history store, datastore probes,
# canaries), shellcheck (deploy script lint), nginx and wrk (load benchmarks), Prometheus and Alertmanager
# (observability checks), podman and runc (container targets), and the real stack the datastore judgements are tested
# on: PgBouncer, prometheus-redis-exporter and prometheus-postgres-exporter; bandit (Python SAST, merged into
# codeFreeOfDangerousPatterns); testssl.sh (tlsModern's second opinion), memcached and mariadb-server (datastore
# auth probes); git and openssh-client (the secret scan's history and key files), git-secrets (its benchmark's
# peer); docker-compose 1.29 and podman-compose (composeFilesValid's referees: evidence, never the judge).
# Debian/Ubuntu; run as root or with sudo.
# Idempotent: installed packages are left as they are. Nothing is started here: the test run starts what it needs.
set -euo pipefail

packages=(postgresql shellcheck redis-server nginx wrk prometheus prometheus-alertmanager podman runc busybox-static
  prometheus-redis-exporter prometheus-postgres-exporter pgbouncer openssl bandit
  testssl.sh memcached mariadb-server git openssh-client git-secrets docker-compose podman-compose)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "test dependencies already installed: ${packages[*]}"
  exit 0
fi

sudo=()
[ "$(id -u)" = 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "installed: ${missing[*]}"
