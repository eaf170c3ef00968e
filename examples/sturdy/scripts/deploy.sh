#!/usr/bin/env bash
# Deploys the sturdy demo: validates inputs, then rolls the services one at a time.
set -euo pipefail

release_dir="${RELEASE_DIR:-/srv/demo/releases}"
version="${1:?usage: deploy.sh VERSION}"

if [[ ! "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "version must look like 1.2.3, got: $version" >&2
  exit 64
fi

for service in inventory api; do
  echo "deploying $service $version to $release_dir/$version"
done
