#!/usr/bin/env bash
# Writes the sturdy shop's coverage report, coverage/lcov.info (git-ignored), by really running its tests: both
# services, run for real as child processes, asked every route (services/services.test.mjs).
# Node's own test runner measures it (V8 coverage, child processes included) and writes lcov; the test files
# themselves are then left out of the report, as `lcov --remove` would. Needs Node 20.11 or newer.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p coverage
node --test --experimental-test-coverage \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=lcov --test-reporter-destination=coverage/lcov.all.info \
  services/services.test.mjs
# One record per source file, SF: … end_of_record; drop the records of *.test.mjs files.
awk '/^SF:/ { keep = ($0 !~ /\.test\.mjs$/) } keep { print } /^end_of_record$/ { keep = 1 }' \
  coverage/lcov.all.info >coverage/lcov.info
rm -f coverage/lcov.all.info
echo "wrote examples/sturdy/coverage/lcov.info"
