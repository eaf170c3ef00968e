#!/bin/bash
# Rolls the fragile demo back: waits until the previous release has been unpacked again (deploy.sh writes READY
# when it is done), then switches to it. The wait has no limit of its own, and nothing here unpacks that release,
# so on a machine where deploy.sh has not just run it polls until whoever runs it gives up.
release_dir="${RELEASE_DIR:-releases}"

until [ -f "$release_dir/previous/READY" ]; do
  echo "waiting for $release_dir/previous to be unpacked..."
  sleep 1
done
ln -sfn "$(readlink "$release_dir/previous")" "$release_dir/current"
echo "rolled back"
