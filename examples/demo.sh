#!/usr/bin/env bash
# Assesses the bundled demo systems (sturdy and fragile) with real checks and signs their certificates.
# Needs only Node: the demo services are plain Node and Gauntlet starts and stops them itself.
# Usage: examples/demo.sh [sturdy|fragile|both]   (npm run demo = both)
set -euo pipefail
cd "$(dirname "$0")/.."

variants=("${1:-both}")
[ "${variants[0]}" = both ] && variants=(sturdy fragile)
gauntlet=(node dist/cli/bin.js)
[ -f dist/cli/bin.js ] || npm run --silent build

# A signing key for the demo certificates (kept under .gauntlet/, which git ignores).
[ -f .gauntlet/keys/gauntlet.key ] || "${gauntlet[@]}" keygen --out .gauntlet/keys

# The sturdy system needs a real API token; a fresh random one each run (it must never show up in any report).
DEMO_API_TOKEN="$(node -e 'process.stdout.write(require("node:crypto").randomBytes(24).toString("base64url"))')"
export DEMO_API_TOKEN

summary=()
for variant in "${variants[@]}"; do
  out="gauntlet-out/$variant"
  echo
  echo "━━ Assessing the $variant demo (examples/$variant/gauntlet.yaml) → $out"
  code=0
  "${gauntlet[@]}" assess "examples/$variant/gauntlet.yaml" --key .gauntlet/keys/gauntlet.key --out "$out" || code=$?
  # 0 certified, 1 conditional, 2 not ready are verdicts; anything else is a failure of the demo itself.
  if [ "$code" -gt 2 ]; then
    echo "demo: gauntlet assess failed with exit code $code" >&2
    exit "$code"
  fi
  echo
  echo "━━ Verifying $out/certificate.dsse.json"
  "${gauntlet[@]}" verify "$out/certificate.dsse.json" --key .gauntlet/keys/gauntlet.pub --spec "examples/$variant/gauntlet.yaml"
  verdict="$(node -e 'const a=require(process.argv[1]); console.log(`${a.verdict.verdict} (overall ${a.scores.overall})`)' "$PWD/$out/report.json")"
  summary+=("$variant: $verdict — $out/report.md")
done

echo
echo "━━ Demo verdicts"
printf '  %s\n' "${summary[@]}"
