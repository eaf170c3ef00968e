#!/usr/bin/env bash
# Sets up podman for the container tests, isolated under one folder: runc with explicit ulimits (what works in this
# sandbox), a local busybox image (nothing is pulled: a busybox-static rootfs is imported), and the Docker-compatible
# API socket that dockerode drives.
#   scripts/podman.sh start   → prints GAUNTLET_PODMAN_SOCKET=… GAUNTLET_PODMAN_IMAGE=… CONTAINERS_CONF=… lines
#   scripts/podman.sh stop    → stops the API service (containers the tests made are removed by the tests)
set -euo pipefail

dir="${GAUNTLET_PODMAN_DIR:-/tmp/gauntlet-podman}"
image="localhost/gauntlet-busybox:latest"
conf="$dir/containers.conf"
sock="$dir/podman.sock"

start() {
  command -v podman >/dev/null || { echo "# podman: not installed (apt-get install podman runc)" >&2; exit 1; }
  mkdir -p "$dir"
  cat >"$conf" <<'CONF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
CONF
  export CONTAINERS_CONF="$conf"
  if ! podman image exists "$image"; then
    local busybox rootfs
    busybox="$(command -v busybox)"
    rootfs="$(mktemp -d)"
    mkdir -p "$rootfs/bin" "$rootfs/tmp" "$rootfs/www"
    cp "$busybox" "$rootfs/bin/busybox"
    for applet in sh sleep httpd echo cat kill ls; do ln -sf busybox "$rootfs/bin/$applet"; done
    echo ok >"$rootfs/www/healthz"
    tar -C "$rootfs" -cf "$dir/rootfs.tar" .
    rm -rf "$rootfs"
    podman import --change 'CMD ["/bin/sh"]' "$dir/rootfs.tar" "$image" >/dev/null
  fi
  # Running already when its recorded process is alive and its socket exists (no curl needed on a fresh machine).
  if [ ! -S "$sock" ] || [ ! -f "$dir/service.pid" ] || ! kill -0 "$(cat "$dir/service.pid")" 2>/dev/null; then
    rm -f "$sock"
    nohup podman system service --time=0 "unix://$sock" >"$dir/service.log" 2>&1 &
    echo $! >"$dir/service.pid"
    for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
  fi
  echo "CONTAINERS_CONF=$conf"
  echo "GAUNTLET_PODMAN_SOCKET=$sock"
  echo "GAUNTLET_PODMAN_IMAGE=$image"
}

stop() {
  if [ -f "$dir/service.pid" ]; then
    kill "$(cat "$dir/service.pid")" 2>/dev/null || true
    rm -f "$dir/service.pid" "$sock"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 3 ;;
esac
