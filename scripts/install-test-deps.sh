#!/usr/bin/env bash
# Installs the system packages the test suite runs for real: PostgreSQL (history store), shellcheck (deploy script
# lint), bash. Debian/Ubuntu; run as root or with sudo. Idempotent: installed packages are left as they are.
set -euo pipefail

packages=(postgresql shellcheck)
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
