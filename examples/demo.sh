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

# The observability checks need a real Prometheus and Alertmanager. When they are installed the demo starts the
# bundled ones (examples/sturdy/monitoring) on loopback and stops them at the end; otherwise those checks are
# honestly UNVERIFIED and the sturdy shop cannot be CERTIFIED (docs/monitoring-demo.md).
monitoring_pids=()
stop_monitoring() {
  [ ${#monitoring_pids[@]} -eq 0 ] || kill "${monitoring_pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf .gauntlet/monitoring
}
planted=examples/fragile/config/notifications.yaml
remove_planted() { rm -f "$planted"; rmdir examples/fragile/config 2>/dev/null || true; }
# The sturdy shop's order database keeps its cluster in a temp folder between restarts: removed when the demo ends.
remove_orders_db() {
  bash examples/sturdy/scripts/orders-db.sh --remove
  ORDERS_DB_PORT=18185 bash examples/sturdy/scripts/orders-db.sh --remove
}
trap 'stop_monitoring; remove_planted; remove_orders_db' EXIT
if command -v prometheus >/dev/null && command -v prometheus-alertmanager >/dev/null; then
  mkdir -p .gauntlet/monitoring
  prometheus --config.file=examples/sturdy/monitoring/prometheus.yml \
    --storage.tsdb.path=.gauntlet/monitoring/prometheus --web.listen-address=127.0.0.1:19090 \
    --rules.alert.resend-delay=5s >.gauntlet/monitoring/prometheus.log 2>&1 &
  monitoring_pids+=($!)
  prometheus-alertmanager --config.file=examples/sturdy/monitoring/alertmanager.yml \
    --storage.path=.gauntlet/monitoring/alertmanager --web.listen-address=127.0.0.1:19093 \
    --cluster.listen-address= >.gauntlet/monitoring/alertmanager.log 2>&1 &
  monitoring_pids+=($!)
  # shellcheck disable=SC2016 # the single-quoted text is JavaScript, not shell
  node -e '
    const urls = ["http://127.0.0.1:19090/-/ready", "http://127.0.0.1:19093/-/ready"];
    const deadline = Date.now() + 30_000;
    (async () => {
      for (const url of urls) {
        while (!(await fetch(url).then((r) => r.ok, () => false))) {
          if (Date.now() > deadline) { console.error(`not ready: ${url}`); process.exit(1); }
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    })();'
  echo "Started the bundled Prometheus (127.0.0.1:19090) and Alertmanager (127.0.0.1:19093)."
else
  echo "Prometheus/Alertmanager are not installed: metricsScraped, alertRulesLoaded and alertsDelivered will be"
  echo "UNVERIFIED (apt-get install prometheus prometheus-alertmanager to verify them)."
fi

# The sturdy system needs a real API token; a fresh random one each run (it must never show up in any report).
DEMO_API_TOKEN="$(node -e 'process.stdout.write(require("node:crypto").randomBytes(24).toString("base64url"))')"
export DEMO_API_TOKEN
# The demos' fault proxies (inventory-proxy) require a control API token: also fresh each run.
DEMO_PROXY_TOKEN="$(node -e 'process.stdout.write(require("node:crypto").randomBytes(32).toString("base64url"))')"
export DEMO_PROXY_TOKEN
# The sturdy shop's session cache demands a password: fresh each run too.
DEMO_REDIS_PASSWORD="$(node -e 'process.stdout.write(require("node:crypto").randomBytes(24).toString("hex"))')"
export DEMO_REDIS_PASSWORD
# And its order database (PostgreSQL) another.
DEMO_PG_PASSWORD="$(node -e 'process.stdout.write(require("node:crypto").randomBytes(24).toString("hex"))')"
export DEMO_PG_PASSWORD
[ -n "$(find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -name initdb 2>/dev/null)" ] ||
  echo "PostgreSQL is not installed: the sturdy shop's order database cannot start, and its backup and restore drill will say so (apt-get install postgresql)."
command -v redis-server >/dev/null ||
  echo "redis-server is not installed: the demos' session caches cannot start and their checks will say so (apt-get install redis-server prometheus-redis-exporter)."

# The fragile shop "committed" a live-looking Slack bot token to its config. It is generated here, at run time, so
# no such value is ever in git; the file is removed when the demo ends.
if [[ " ${variants[*]} " == *" fragile "* ]]; then
  mkdir -p examples/fragile/config
  # shellcheck disable=SC2016 # the single-quoted text is JavaScript, not shell
  node -e '
    const { randomInt } = require("node:crypto");
    const digits = (n) => Array.from({ length: n }, () => randomInt(10)).join("");
    const alnum = (n) => Array.from({ length: n }, () => "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[randomInt(62)]).join("");
    process.stdout.write(["# Where the shop posts order alerts.", "slack:", "  channel: \"#orders\"",
      `  botToken: xoxb-${digits(12)}-${digits(13)}-${alnum(24)}`, ""].join("\n"));' >"$planted"
fi

summary=()
for variant in "${variants[@]}"; do
  out="gauntlet-out/$variant"
  echo
  # The coverage report is made by really running the shop's tests, as a CI job would before the assessment.
  bash "examples/$variant/scripts/coverage.sh" >/dev/null
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
  # shellcheck disable=SC2016 # the single-quoted text is JavaScript, not shell
  verdict="$(node -e 'const a=require(process.argv[1]); console.log(`${a.verdict.verdict} (overall ${a.scores.overall})`)' "$PWD/$out/report.json")"
  summary+=("$variant: $verdict — $out/report.md")
done

echo
echo "━━ Demo verdicts"
printf '  %s\n' "${summary[@]}"
