// The demo's bundled monitoring (examples/*/monitoring) end to end: the real sturdy api and inventory, Prometheus and
// Alertmanager started from the bundled configs (ports moved to free ones), and every observability check run against
// the demo's rule files and runbooks. Sturdy must pass; fragile must fail for the documented reasons.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import alertRulesCoverGoldenSignals from "../../../src/checks/observability/alertRulesCoverGoldenSignals.js";
import alertRulesLoaded from "../../../src/checks/observability/alertRulesLoaded.js";
import alertRulesValid from "../../../src/checks/observability/alertRulesValid.js";
import alertsDelivered from "../../../src/checks/observability/alertsDelivered.js";
import metricsExposed from "../../../src/checks/observability/metricsExposed.js";
import metricsScraped from "../../../src/checks/observability/metricsScraped.js";
import type { Check, FindingInput } from "../../../src/core/types.js";
import { PrometheusClient } from "../../../src/engines/prometheus/client.js";
import { makeCheckContext } from "../../support/checkContext.js";
import {
  freePort,
  type MonitoringProcess,
  pollUntil,
  startAlertmanager,
  startPrometheus,
  verdictsWithoutEvidence,
} from "../../support/monitoring.js";

const examples = path.resolve(import.meta.dirname, "../../../examples");
const sturdy = path.join(examples, "sturdy");
const fragile = path.join(examples, "fragile");
const read = (file: string) => readFileSync(path.join(sturdy, "monitoring", file), "utf8");

let prometheus: MonitoringProcess;
let alertmanager: MonitoringProcess;
const children: ChildProcess[] = [];
let apiPort: number;
let metricsPort: number;
let webhookPort: number;

function startNode(script: string, env: Record<string, string>): void {
  const child = spawn(process.execPath, [script], {
    cwd: sturdy,
    env: { ...process.env, ...env },
    stdio: "ignore",
  });
  children.push(child);
}

/** Stops a demo service and waits until it is gone, so no process outlives the file. */
async function stopNode(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}

beforeAll(async () => {
  apiPort = await freePort();
  metricsPort = await freePort();
  const inventoryPort = await freePort();
  webhookPort = await freePort();
  startNode("services/inventory.mjs", { PORT: String(inventoryPort) });
  startNode("services/api.mjs", {
    PORT: String(apiPort),
    METRICS_PORT: String(metricsPort),
    INVENTORY_URL: `http://127.0.0.1:${inventoryPort}`,
    API_TOKEN: "demo-test-token",
  });
  alertmanager = await startAlertmanager(
    read("alertmanager.yml").replaceAll("127.0.0.1:19095", `127.0.0.1:${webhookPort}`),
  );
  const config = read("prometheus.yml")
    .replaceAll("127.0.0.1:18090", `127.0.0.1:${metricsPort}`)
    .replaceAll("127.0.0.1:19093", `127.0.0.1:${alertmanager.port}`)
    .replace(/scrape_interval: 5s/, "scrape_interval: 1s")
    .replace(/scrape_timeout: 4s/, "scrape_timeout: 900ms")
    .replace(/evaluation_interval: 5s/, "evaluation_interval: 1s");
  prometheus = await startPrometheus(config, {
    "alerts/shop.yml": read("alerts/shop.yml"),
    "alerts/slo.yml": read("alerts/slo.yml"),
  });
  const client = new PrometheusClient(prometheus.url);
  await pollUntil("the demo api to be scraped and the rules evaluated", async () => {
    const up = (await client.targets()).some((t) => t.labels.job === "api" && t.health === "up");
    const evaluated = (await client.rules()).every((g) => g.rules.every((r) => r.health === "ok"));
    return up && evaluated ? true : undefined;
  });
}, 60_000);

afterAll(async () => {
  await Promise.all([...children.map(stopNode), prometheus?.stop(), alertmanager?.stop()]);
});

async function assess(specDir: string, variant: "sturdy" | "fragile", checks: Check[]) {
  const { ctx, rollbacks } = makeCheckContext(
    {
      services: {
        api: {
          url: `http://127.0.0.1:${apiPort}`,
          health: "/healthz",
          // The sturdy api serves its metrics on a loopback port of its own; the fragile one has none.
          metrics: variant === "sturdy" ? `http://127.0.0.1:${metricsPort}/metrics` : "/metrics",
        },
        inventory: { url: "http://127.0.0.1:9" },
      },
      monitoring: {
        prometheus: prometheus.url,
        alertmanager: alertmanager.url,
        rules: ["monitoring/alerts/*.yml"],
      },
      // The sturdy shop's SLOs, as its spec declares them: their burn-rate alerts are in alerts/slo.yml.
      ...(variant === "sturdy"
        ? {
            operations: { runbooks: "monitoring/runbooks" },
            slos: parse(readFileSync(path.join(sturdy, "gauntlet.yaml"), "utf8")).slos,
          }
        : {}),
    },
    { specDir },
  );
  (ctx.spec.monitoring as Record<string, unknown>).alertReceiver =
    variant === "sturdy"
      ? { url: `http://127.0.0.1:${webhookPort}/alerts`, labels: { gauntlet: "delivery-check" } }
      : { url: `http://127.0.0.1:${webhookPort}/alerts`, labels: { team: "shop-fragile" }, timeout: "4s" };
  const results: Record<string, FindingInput[]> = {};
  try {
    for (const check of checks) results[check.meta.id] = await check.run(ctx);
  } finally {
    // The alert webhook and the synthetic alert are undone even when a check throws.
    expect(await rollbacks.runAll()).toEqual([]);
  }
  expect(verdictsWithoutEvidence(Object.values(results).flat())).toEqual([]);
  return results;
}

const verdicts = (findings: FindingInput[] | undefined) =>
  (findings ?? []).map((f) => [f.subject ?? null, f.status, f.messageId]);

describe("the demo's bundled monitoring", () => {
  it("sturdy: every observability check passes against real Prometheus and Alertmanager", async () => {
    const results = await assess(sturdy, "sturdy", [
      metricsExposed,
      metricsScraped,
      alertRulesValid,
      alertRulesCoverGoldenSignals,
      alertRulesLoaded,
      alertsDelivered,
    ]);
    const statuses = Object.fromEntries(
      Object.entries(results).map(([id, f]) => [id, f.map((x) => x.status)]),
    );
    expect(statuses).toEqual({
      metricsExposed: ["PASS"],
      metricsScraped: ["PASS"],
      alertRulesValid: ["PASS", "PASS"],
      alertRulesCoverGoldenSignals: ["PASS"],
      alertRulesLoaded: ["PASS", "PASS"],
      alertsDelivered: ["PASS"],
    });
    expect(verdicts(results.metricsScraped)).toEqual([["api", "PASS", "scraped"]]);
    expect(verdicts(results.alertRulesLoaded)).toEqual([
      ["monitoring/alerts/shop.yml", "PASS", "loaded"],
      ["monitoring/alerts/slo.yml", "PASS", "loaded"],
    ]);
    expect(verdicts(results.alertsDelivered)).toEqual([["alertmanager", "PASS", "delivered"]]);
  });

  it("fragile: the broken expression, the missing coverage (the broken alert counts for nothing), rules not loaded and a dropped alert", async () => {
    const results = await assess(fragile, "fragile", [
      alertRulesValid,
      alertRulesCoverGoldenSignals,
      alertRulesLoaded,
      alertsDelivered,
    ]);
    expect(results.alertRulesValid).toMatchObject([
      { status: "FAIL", location: { path: "monitoring/alerts/shop.yml", line: 13 } },
    ]);
    expect(results.alertRulesCoverGoldenSignals![0]).toMatchObject({
      status: "FAIL",
      subject: "api",
      data: { missingSignals: ["errors", "latency", "saturation"] },
    });
    // ApiDown has the sturdy shop's name but another expression; ApiErrors was never loaded.
    expect(verdicts(results.alertRulesLoaded)).toEqual([
      ["monitoring/alerts/shop.yml", "FAIL", "staleExpression"],
      ["monitoring/alerts/shop.yml", "FAIL", "notLoaded"],
    ]);
    expect(results.alertRulesLoaded!.map((f) => f.data?.rule ?? f.data?.missing)).toEqual([
      "ApiDown",
      [{ group: "shop-api", rule: "ApiErrors" }],
    ]);
    expect(verdicts(results.alertsDelivered)).toEqual([["alertmanager", "FAIL", "notDelivered"]]);
    expect(String(results.alertsDelivered![0]!.data!.explanation)).toContain('receiver "fragile-team"');
  });
});
