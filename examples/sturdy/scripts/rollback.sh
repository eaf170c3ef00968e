#!/usr/bin/env bash
# Rolls the sturdy demo back to the previous release.
set -euo pipefail

release_dir="${RELEASE_DIR:-/srv/demo/releases}"
previous="$(find "$release_dir" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' 2>/dev/null | sort -V | tail -n 2 | head -n 1)"
echo "rolling back to ${previous:-nothing to roll back to}"
