// metricsScraped and alertRulesLoaded against one real Prometheus 2.x (1 s scrape and evaluation) scraping a real
// node:http service; stopping that service must turn metricsScraped into FAIL (target down) on the next assessment.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import alertRulesLoaded from "../../../src/checks/observability/alertRulesLoaded.js";
import metricsScraped from "../../../src/checks/observability/metricsScraped.js";
import type { FindingInput } from "../../../src/core/types.js";
import { PrometheusClient } from "../../../src/engines/prometheus/client.js";
import { makeCheckContext } from "../../support/checkContext.js";
import { freePort, type MonitoringProcess, pollUntil, startPrometheus } from "../../support/monitoring.js";

const RED_METRICS = [
  "# TYPE http_requests_total counter",
  'http_requests_total{code="200"} 7',
  "# TYPE http_request_duration_seconds histogram",
  'http_request_duration_seconds_bucket{le="0.1"} 7',
  'http_request_duration_seconds_bucket{le="+Inf"} 7',
  "http_request_duration_seconds_sum 0.2",
  "http_request_duration_seconds_count 7",
  "",
].join("\n");

const LOADED_RULES = `groups:
  - name: api
    rules:
      - alert: ApiDown
        expr: up{job="api"} == 0
        for: 1m
        labels: { severity: critical }
      - alert: BrokenAtEvaluation
        expr: up * on() up > 5
`;
const NOT_LOADED_RULES = `groups:
  - name: forgotten
    rules:
      - alert: NeverLoaded
        expr: vector(1)
`;

let prometheus: MonitoringProcess;
let api: http.Server;
let apiUrl: string;
let ghostUrl: string;

async function listen(server: http.Server, port = 0): Promise<string> {
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  api = http.createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
    res.end(RED_METRICS);
  });
  apiUrl = await listen(api);
  ghostUrl = `http://127.0.0.1:${await freePort()}`;
  prometheus = await startPrometheus(
    `global: { scrape_interval: 1s, evaluation_interval: 1s, scrape_timeout: 800ms }
rule_files: [loaded.yml]
scrape_configs:
  - job_name: api
    static_configs: [{ targets: ["${apiUrl.replace("http://", "")}"] }]
  - job_name: ghost
    static_configs: [{ targets: ["${ghostUrl.replace("http://", "")}"] }]
`,
    { "loaded.yml": LOADED_RULES, "not-loaded.yml": NOT_LOADED_RULES },
  );
  const client = new PrometheusClient(prometheus.url);
  await pollUntil("the api target to be up", async () => {
    const targets = await client.targets();
    return targets.some((t) => t.labels.job === "api" && t.health === "up") &&
      targets.some((t) => t.labels.job === "ghost" && t.health === "down")
      ? true
      : undefined;
  });
}, 60_000);

afterAll(async () => {
  await prometheus?.stop();
  if (api?.listening) {
    api.closeAllConnections();
    await new Promise((r) => api.close(r));
  }
});

const verdicts = (findings: FindingInput[]) => findings.map((f) => [f.subject, f.status, f.messageId]);

function scrapedContext() {
  return makeCheckContext({
    services: {
      api: { url: apiUrl, metrics: "/metrics" },
      ghost: { url: ghostUrl, metrics: "/metrics" },
      stranger: { url: "http://127.0.0.1:9", metrics: "/metrics" },
      noMetrics: { url: "http://127.0.0.1:10" },
    },
    monitoring: { prometheus: prometheus.url },
  });
}

describe("metricsScraped (real Prometheus)", () => {
  it("passes a scraped service with a fresh sample and fails a down target and a service that is no target", async () => {
    const { ctx } = scrapedContext();
    const findings = await metricsScraped.run(ctx);
    expect(verdicts(findings)).toEqual([
      ["api", "PASS", "scraped"],
      ["ghost", "FAIL", "targetDown"],
      ["stranger", "FAIL", "notATarget"],
    ]);
    const age = findings[0]!.measurements!.find((m) => m.name === "newest sample age")!;
    expect(age.unit).toBe("s");
    expect(age.value).toBeLessThan(10);
    expect(findings[1]!.data).toMatchObject({ health: "down", job: "ghost" });
  });

  it("does not take a same-host target on another port for the service, even with the same job name", async () => {
    const { ctx } = makeCheckContext({
      services: { api: { url: "http://127.0.0.1:9", metrics: "/metrics" } },
      monitoring: { prometheus: prometheus.url },
    });
    const findings = await metricsScraped.run(ctx);
    expect(verdicts(findings)).toEqual([["api", "FAIL", "notATarget"]]);
    expect(findings[0]!.message).toContain(`job="api" ${apiUrl}/metrics`);
  });

  it("finds a service scraped under another job name by services.<name>.job when the host is spelled differently", async () => {
    // The spec names the host as clients see it; Prometheus scrapes the same process by IP, under job "api".
    const metrics = `${apiUrl.replace("127.0.0.1", "shop.gauntlet.test")}/metrics`;
    const { ctx } = makeCheckContext({
      services: { shop: { url: "http://shop.gauntlet.test", metrics, job: "api" }, unnamed: { metrics } },
      monitoring: { prometheus: prometheus.url },
    });
    const findings = await metricsScraped.run(ctx);
    expect(verdicts(findings)).toEqual([
      ["shop", "PASS", "scraped"],
      ["unnamed", "FAIL", "notATarget"],
    ]);
    expect(findings[0]!.data).toMatchObject({ job: "api", targetJob: "api", health: "up" });
    expect(findings[1]!.message).toContain('job="unnamed"');
  });

  it("fails with target down once the service stops", async () => {
    await new Promise((r) => {
      api.closeAllConnections();
      api.close(r);
    });
    const client = new PrometheusClient(prometheus.url);
    await pollUntil("Prometheus to see the api target down", async () =>
      (await client.targets()).some((t) => t.labels.job === "api" && t.health === "down") ? true : undefined,
    );
    const { ctx } = scrapedContext();
    const findings = await metricsScraped.run(ctx);
    expect(verdicts(findings)[0]).toEqual(["api", "FAIL", "targetDown"]);
    expect(findings[0]!.data).toMatchObject({ health: "down" });
  });
});

describe("alertRulesLoaded (real Prometheus)", () => {
  it("passes loaded rules, fails a rule that errors at evaluation and a file Prometheus never loaded", async () => {
    const { ctx } = makeCheckContext(
      { monitoring: { prometheus: prometheus.url, rules: ["loaded.yml", "not-loaded.yml"] } },
      { specDir: prometheus.dir },
    );
    const findings = await alertRulesLoaded.run(ctx);
    expect(findings.map((f) => [f.subject, f.status, f.messageId, f.location?.line, f.data?.rule])).toEqual([
      ["loaded.yml", "FAIL", "evaluationFails", 8, "BrokenAtEvaluation"],
      ["not-loaded.yml", "FAIL", "notLoaded", 4, undefined],
    ]);
    expect(findings[0]!.message).toMatch(/many-to-many|matching/);
    expect(findings[1]!.data!.missing).toEqual([{ group: "forgotten", rule: "NeverLoaded" }]);
  });
});
