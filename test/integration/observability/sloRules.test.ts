// `gauntlet slo rules` end to end: its output passes `promtool check rules`, holds the workbook's 14.4× 1h/5m page
// for a 30-day 99.9 % SLO (and the histogram form), and runs in a real Prometheus (1 s scrapes and evaluations)
// scraping a fixture service whose traffic the test dictates (1000 requests/s, 10 % errors, 20 % slower than 0.3 s,
// 10 % slower than 1 s): every recording rule yields the share the traffic implies, no rule has health "err", and
// exactly the alerts whose thresholds those shares cross, with enough traffic over their long window, fire. (A rate
// over a window longer than the history is requests seen / window: the guard counts the requests really seen.)
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { memoryIO } from "../../../src/cli/io.js";
import { main } from "../../../src/cli/main.js";
import { PrometheusClient, type PrometheusRule } from "../../../src/engines/prometheus/client.js";
import { startSliServer } from "../../fixtures/monitoring/sliServer.js";
import { cleanupAfterEach } from "../../support/cleanups.js";
import { pollUntil, startPrometheus } from "../../support/monitoring.js";
import { requireTool } from "../../support/services.js";

const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-slo-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const onCleanup = cleanupAfterEach();

const SPEC = {
  version: 1,
  system: { name: "slo-rules" },
  services: { api: { url: "http://127.0.0.1:1" } },
  operations: { runbooks: "docs/runbooks" },
  slos: [
    {
      name: "api-availability",
      service: "api",
      objective: "99.9%",
      window: "30d",
      sli: {
        errors: 'sum(rate(http_requests_total{job="api",code="500"}[{{window}}]))',
        total: 'sum(rate(http_requests_total{job="api"}[{{window}}]))',
      },
    },
    {
      name: "api-latency",
      service: "api",
      objective: "99%",
      window: "28d",
      sli: { histogram: 'http_request_duration_seconds{job="api"}', threshold: "300ms" },
      labels: { team: "orders" },
      runbook: "https://runbooks.example.internal/api-latency",
    },
    // A whole-second threshold: the bucket is "1" to Prometheus 2 and "1.0" to Prometheus 3.
    {
      name: "api-latency-1s",
      service: "api",
      objective: "99%",
      window: "30d",
      sli: { histogram: 'http_request_duration_seconds{job="api"}', threshold: "1s" },
    },
    // Burning as fast as api-availability, but below its minimum traffic: silent.
    {
      name: "api-guarded",
      service: "api",
      objective: "99.9%",
      window: "30d",
      sli: {
        errors: 'sum(rate(http_requests_total{job="api",code="500"}[{{window}}]))',
        total: 'sum(rate(http_requests_total{job="api"}[{{window}}]))',
      },
      minTraffic: "100000/s",
    },
  ],
};

async function run(args: string[]) {
  const io = memoryIO();
  const code = await main(args, io);
  return { code, stdout: io.stdout.join(""), stderr: io.stderr.join("") };
}

function promtool(file: string): string {
  return execFileSync(requireTool("promtool", "prometheus"), ["check", "rules", file], { encoding: "utf8" });
}

describe("gauntlet slo rules", () => {
  const specFile = path.join(dir, "gauntlet.yaml");
  writeFileSync(specFile, stringify(SPEC));

  it("prints rules that promtool accepts, with the workbook's 14.4× 1h/5m page for a 30-day 99.9 % SLO", async () => {
    const { code, stdout, stderr } = await run(["slo", "rules", specFile]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const file = path.join(dir, "slo.rules.yml");
    writeFileSync(file, stdout);
    expect(promtool(file)).toContain("SUCCESS: 52 rules found");
    expect(stdout).toContain(
      [
        "      - alert: ApiAvailabilityErrorBudgetBurn1h",
        "        expr: |-",
        '          slo:sli_error:ratio_rate1h{slo="api-availability"} > (14.4 * 0.001)',
        "          and",
        '          slo:sli_error:ratio_rate5m{slo="api-availability"} > (14.4 * 0.001)',
      ].join("\n"),
    );
    expect(stdout).toContain("runbook_url: docs/runbooks/ApiAvailabilityErrorBudgetBurn1h.md");
    // The 28-day histogram SLO: 1 − good / total at le="0.3", with 13.44× for the page.
    expect(stdout).toContain('sum(rate(http_request_duration_seconds_bucket{job="api", le="0.3"}[5m]))');
    expect(stdout).toContain('slo:sli_error:ratio_rate1h{slo="api-latency"} > (13.44 * 0.01)');
    expect(stdout).toContain("runbook_url: https://runbooks.example.internal/api-latency");
  });

  it("writes --out, OpenSLO with --format openslo, and reads it back with --openslo", async () => {
    const openslo = path.join(dir, "slos.openslo.yaml");
    const written = await run(["slo", "rules", specFile, "--format", "openslo", "--out", openslo]);
    expect(written).toMatchObject({ code: 0, stdout: "" });
    expect(readFileSync(openslo, "utf8")).toContain("kind: SLO");
    const back = await run([
      "slo",
      "rules",
      "--openslo",
      openslo,
      "--out",
      path.join(dir, "from-openslo.yml"),
    ]);
    expect(back.code).toBe(0);
    expect(promtool(path.join(dir, "from-openslo.yml"))).toContain("SUCCESS: 52 rules found");
  });

  it("names an SLO it cannot turn into rules and says what to write; exit 3 when none can be", async () => {
    const noSli = path.join(dir, "no-sli.yaml");
    writeFileSync(
      noSli,
      stringify({ ...SPEC, slos: [{ name: "bare", service: "api", objective: "99%", window: "30d" }] }),
    );
    const { code, stdout, stderr } = await run(["slo", "rules", noSli]);
    expect(code).toBe(3);
    expect(stdout).toBe("");
    expect(stderr).toContain("no rules for SLO bare");
    expect(stderr).toContain("add sli: { errors:");
    const badFormat = await run(["slo", "rules", specFile, "--format", "yaml"]);
    expect(badFormat.code).toBe(3);
    expect(badFormat.stderr).toContain("--format prometheus or --format openslo");
  });

  it("runs in Prometheus: the records measure the traffic, no rule errs, and the crossed alerts fire", async () => {
    const service = await startSliServer({ rate: 1000, errorShare: 0.1, slowShare: 0.2 });
    onCleanup(() => service.close());
    const { stdout } = await run(["slo", "rules", specFile]);
    const prometheus = await startPrometheus(
      `global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: [slo.rules.yml]
scrape_configs:
  - job_name: api
    static_configs: [{ targets: ["${new URL(service.url).host}"] }]
`,
      { "slo.rules.yml": stdout },
    );
    onCleanup(() => prometheus.stop());
    const client = new PrometheusClient(prometheus.url);
    const value = async (query: string) => {
      const data = await client.query(query);
      return data.resultType === "vector" && data.result[0] ? Number(data.result[0].value[1]) : undefined;
    };
    await pollUntil("the 3d error ratio of every SLO", async () => {
      const count = await value("count(slo:sli_error:ratio_rate3d)");
      return count === 4 ? true : undefined;
    });
    expect(await value('slo:sli_error:ratio_rate5m{slo="api-availability"}')).toBeCloseTo(0.1, 3);
    expect(await value('slo:sli_error:ratio_rate3d{slo="api-latency"}')).toBeCloseTo(0.2, 3);
    expect(await value('slo:sli_error:ratio_rate1h{slo="api-latency-1s"}')).toBeCloseTo(0.1, 3);
    expect(await value('slo:sli_requests:rate5m{slo="api-availability"}')).toBeGreaterThan(0);

    // 10 % errors are above 14.4 × 0.1 %, 6 × and 1 ×; 20 % slow above 13.44 × 1 %; 10 % over 1 s is under
    // 14.4 × 1 % (1h page), above 6 × 1 % and 1 ×. A long window fires once it has seen enough requests.
    const expected = {
      ApiAvailabilityErrorBudgetBurn1h: "firing",
      ApiAvailabilityErrorBudgetBurn6h: "firing",
      ApiAvailabilityErrorBudgetBurn3d: "firing",
      ApiLatencyErrorBudgetBurn1h: "firing",
      ApiLatencyErrorBudgetBurn6h: "firing",
      ApiLatencyErrorBudgetBurn3d: "firing",
      ApiLatency1sErrorBudgetBurn1h: "inactive",
      ApiLatency1sErrorBudgetBurn6h: "firing",
      ApiLatency1sErrorBudgetBurn3d: "firing",
      ApiGuardedErrorBudgetBurn1h: "inactive",
      ApiGuardedErrorBudgetBurn6h: "inactive",
      ApiGuardedErrorBudgetBurn3d: "inactive",
    };
    let states: Record<string, string | undefined> = {};
    let rules: PrometheusRule[] = [];
    await pollUntil(
      "every rule evaluated and the alerts in the expected states",
      async () => {
        rules = (await client.rules()).flatMap((g) => g.rules);
        states = Object.fromEntries(rules.filter((r) => r.type === "alerting").map((r) => [r.name, r.state]));
        const settled = rules.length === 52 && rules.every((r) => r.health !== "unknown");
        const same = Object.entries(expected).every(([name, state]) => states[name] === state);
        return settled && same ? true : undefined;
      },
      20_000,
    ).catch(() => undefined);
    expect(
      rules.filter((r) => r.health !== "ok").map((r) => `${r.name}: ${r.health} ${r.lastError ?? ""}`),
    ).toEqual([]);
    expect(states).toEqual(expected);
  });
});
