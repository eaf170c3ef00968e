#!/usr/bin/env bash
# Deploys release VERSION of the sturdy demo into its releases folder: checks the services parse (`node --check`),
# builds releases/VERSION in a staging folder and writes VERSION last (a release without it is incomplete, and
# rollback.sh refuses to switch to one), then points `previous` at the release being replaced and `current` at the new
# one, each atomically (a new link renamed over the old one). Idempotent: run again with the same VERSION, it finds the
# release complete and `current` already on it, and changes nothing — `previous` keeps naming the release before, so a
# rollback still has somewhere to go. The releases folder is relative to where it runs (the spec's folder), or
# $RELEASE_DIR, as for rollback.sh; Gauntlet runs it twice in a scratch copy of the repository (deploymentRepeatable).
set -euo pipefail

release_dir="${RELEASE_DIR:-releases}"
version="${1:?usage: deploy.sh VERSION}"
services="$(cd "$(dirname "${BASH_SOURCE[0]}")/../services" && pwd)"

if [[ ! "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "version must look like 1.2.3, got: $version" >&2
  exit 64
fi

for service in inventory api; do
  node --check "$services/$service.mjs"
done

mkdir -p "$release_dir"
cd "$release_dir"

if [[ -f "$version/VERSION" && "$(cat "$version/VERSION")" == "$version" ]]; then
  echo "release $version is already built: keeping it"
else
  # A release folder without VERSION is what a deploy that died half-way leaves: it is built again from scratch.
  rm -rf "$version.staging"
  mkdir -p "$version.staging/services"
  for service in inventory api; do
    cp "$services/$service.mjs" "$version.staging/services/"
    echo "built $service $version"
  done
  echo "$version" >"$version.staging/VERSION"
  rm -rf "$version"
  mv -T "$version.staging" "$version"
fi

from="$(readlink current 2>/dev/null || echo none)"
if [[ "$from" == "$version" ]]; then
  echo "already on $version: nothing to switch"
  exit 0
fi
if [[ "$from" != none ]]; then
  ln -sfn "$from" previous.next
  mv -T previous.next previous
fi
ln -sfn "$version" current.next
mv -T current.next current
echo "deployed $version (previous: $from)"
