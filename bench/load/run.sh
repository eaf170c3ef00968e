#!/usr/bin/env bash
# Benchmark of `gauntlet load` against autocannon and wrk on the same nginx, each generator pinned to one core.
# Usage: bash bench/load/run.sh            (defaults: 50 connections, 10 s per tool, 30 s RSS run)
#        DURATION=5 LONG_RUN=20 bash bench/load/run.sh
# Needs: node 20, npm ci done, nginx, wrk, taskset. Writes bench/load/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
for tool in nginx wrk taskset; do
  command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || { echo "bench: $tool is not installed" >&2; exit 3; }
done
[ -d node_modules ] || { echo "bench: run npm ci first" >&2; exit 3; }
npm run build --silent
exec node bench/load/bench.mjs "$@"
