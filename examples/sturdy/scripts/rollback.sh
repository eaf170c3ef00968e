#!/usr/bin/env bash
# Rolls the sturdy demo back to its previous release: points the `current` link of the releases folder at the release
# `previous` names, atomically (a new link renamed over the old one), after checking that release is complete.
# Idempotent: run again, it finds `current` already there and changes nothing. The releases folder is relative to
# where it runs (the spec's folder), or $RELEASE_DIR; Gauntlet drills it in a scratch copy of the repository.
set -euo pipefail

release_dir="${RELEASE_DIR:-releases}"
cd "$release_dir"

if [[ ! -L previous ]]; then
  echo "no previous release recorded in $release_dir (the link 'previous' is missing): nothing to roll back to" >&2
  exit 1
fi
target="$(readlink previous)"
if [[ ! -f "$target/VERSION" ]]; then
  echo "the previous release $target is incomplete (no $target/VERSION): refusing to switch to it" >&2
  exit 1
fi

from="$(readlink current 2>/dev/null || echo none)"
if [[ "$from" == "$target" ]]; then
  echo "already on the previous release $(cat "$target/VERSION"): nothing to do"
  exit 0
fi

ln -sfn "$target" current.next
mv -T current.next current
echo "rolled back from $from to $(cat current/VERSION)"
