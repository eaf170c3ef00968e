// errorBudgetRemaining against a real Prometheus (1 s scrapes) scraping two fixture services whose traffic the test
// dictates: a healthy one (0.05 % errors, 0.4 % slower than 300 ms) and a failing one (2 % errors, 5 % slow). The
// budgets follow from those shares, so the test knows what each SLO must have left; Prometheus holds only the few
// seconds since it started of the 30-day windows, and the findings must say so.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import check, { type ErrorBudgetObservation } from "../../../src/checks/performance/errorBudgetRemaining.js";
import type { FindingInput } from "../../../src/core/types.js";
import { PrometheusClient } from "../../../src/engines/prometheus/client.js";
import type { SpecInput } from "../../../src/spec/schema.js";
import { type SliServer, startSliServer } from "../../fixtures/monitoring/sliServer.js";
import { makeCheckContext } from "../../support/checkContext.js";
import { recordObservation } from "../../support/judgeFixtures.js";
import { type MonitoringProcess, pollUntil, startPrometheus } from "../../support/monitoring.js";

const ratio = (job: string, errorCode = '"500"', metric = "http_requests_total") => ({
  errors: `sum(rate(${metric}{job="${job}",code=${errorCode}}[{{window}}]))`,
  total: `sum(rate(${metric}{job="${job}"}[{{window}}]))`,
});
const histogram = (job: string, threshold = "300ms") => ({
  histogram: `http_request_duration_seconds{job="${job}"}`,
  threshold,
});

const SLOS = [
  // 0.05 % bad of 0.1 % allowed: half the budget left.
  {
    name: "healthy-availability",
    service: "healthy",
    objective: "99.9%",
    window: "30d",
    sli: ratio("healthy"),
  },
  // 0.4 % slow of 1 % allowed: 60 % left.
  { name: "healthy-latency", service: "healthy", objective: "99%", window: "30d", sli: histogram("healthy") },
  // 0.05 % of 0.06 %: a sixth left, under a quarter.
  { name: "healthy-tight", service: "healthy", objective: "99.94%", window: "30d", sli: ratio("healthy") },
  // No 503 series exists: no such error in the window, the whole budget left.
  {
    name: "healthy-no-503",
    service: "healthy",
    objective: "99.9%",
    window: "30d",
    sli: ratio("healthy", '"503"'),
  },
  // 2 % bad of 0.1 %, and 5 % slow of 1 %: spent twenty and five times over.
  {
    name: "failing-availability",
    service: "failing",
    objective: "99.9%",
    window: "30d",
    sli: ratio("failing"),
  },
  { name: "failing-latency", service: "failing", objective: "99%", window: "30d", sli: histogram("failing") },
  // No bucket at 250 ms; a misspelt metric.
  {
    name: "healthy-250ms",
    service: "healthy",
    objective: "99%",
    window: "30d",
    sli: histogram("healthy", "250ms"),
  },
  {
    name: "healthy-misspelt",
    service: "healthy",
    objective: "99.9%",
    window: "30d",
    sli: ratio("healthy", '"500"', "http_request_total"),
  },
] satisfies SpecInput["slos"];

let prometheus: MonitoringProcess;
let healthy: SliServer;
let failing: SliServer;
let startedAt: number;

beforeAll(async () => {
  healthy = await startSliServer({ rate: 100, errorShare: 0.0005, slowShare: 0.004 });
  failing = await startSliServer({ rate: 100, errorShare: 0.02, slowShare: 0.05 });
  const target = (url: string) => new URL(url).host;
  startedAt = Date.now();
  prometheus = await startPrometheus(`global: { scrape_interval: 1s, scrape_timeout: 800ms }
scrape_configs:
  - job_name: healthy
    static_configs: [{ targets: ["${target(healthy.url)}"] }]
  - job_name: failing
    static_configs: [{ targets: ["${target(failing.url)}"] }]
`);
  // rate() needs two samples; a few more make the history a few seconds long.
  const client = new PrometheusClient(prometheus.url);
  await pollUntil("five scrapes of each service", async () => {
    const data = await client.query("min(count_over_time(http_requests_total[1m]))");
    const samples = data.resultType === "vector" ? Number(data.result[0]?.value[1] ?? 0) : 0;
    return samples >= 10 ? true : undefined; // two series per service, five scrapes each
  });
}, 60_000);

afterAll(async () => {
  await prometheus?.stop();
  await healthy?.close();
  await failing?.close();
});

const measurement = (f: FindingInput, name: string) => f.measurements?.find((m) => m.name === name)?.value;

describe("errorBudgetRemaining against Prometheus", () => {
  it("judges each SLO by the budget its service's traffic left, over the history Prometheus holds", async () => {
    const spec = {
      services: { healthy: { url: healthy.url }, failing: { url: failing.url } },
      monitoring: { prometheus: prometheus.url },
      slos: SLOS,
    };
    const { ctx, readEvidence } = makeCheckContext(spec);
    expect(check.applies(ctx.spec, { allowDestructive: false })).toBe(true);
    const observation = await check.observe(ctx);
    const findings = check.judge(observation, ctx.spec);
    expect(findings.map((f) => [f.data?.slo, f.status, f.messageId])).toEqual([
      ["healthy-availability", "PASS", "budgetLeft"],
      ["healthy-latency", "PASS", "budgetLeft"],
      ["healthy-tight", "WARN", "budgetLow"],
      ["healthy-no-503", "PASS", "budgetLeft"],
      ["failing-availability", "FAIL", "budgetExhausted"],
      ["failing-latency", "FAIL", "budgetExhausted"],
      ["healthy-250ms", "UNVERIFIED", "missingBucket"],
      ["healthy-misspelt", "UNVERIFIED", "emptyResult"],
    ]);
    const [availability, latency, tight, no503, failed, slow, bucket, misspelt] =
      findings as FindingInput[] & { length: 8 };

    // The remaining budget is what the dictated shares leave (counters are linear, so the ratio is exact).
    expect(measurement(availability!, "budget remaining")).toBeCloseTo(50, 0);
    expect(measurement(availability!, "error ratio")).toBeCloseTo(0.05, 2);
    expect(measurement(latency!, "budget remaining")).toBeCloseTo(60, 0);
    expect(measurement(tight!, "budget remaining")).toBeCloseTo(16.7, 0);
    expect(measurement(no503!, "budget remaining")).toBe(100);
    expect(no503!.message).toMatch(/no error series exists/);
    expect(measurement(failed!, "budget remaining")).toBeCloseTo(-1900, -1);
    expect(measurement(slow!, "budget remaining")).toBeCloseTo(-400, -1);

    // The window judged is the few seconds Prometheus has scraped, not 30 days, and the message says so.
    const judged = measurement(availability!, "window judged")!;
    expect(judged).toBeGreaterThan(3_000);
    expect(judged).toBeLessThanOrEqual(Date.now() - startedAt);
    expect(availability!.message).toMatch(/over the last \d+s of 30d \(all the history Prometheus holds\)/);
    // 100 requests a second over that span, give or take rate()'s extrapolation by a scrape at either end.
    const requests = measurement(availability!, "requests")!;
    expect(requests).toBeGreaterThan((judged / 1000 - 2) * 100);
    expect(requests).toBeLessThan((judged / 1000 + 2) * 100);

    expect(bucket!.message).toMatch(/no bucket le="0\.25" \(its buckets: 0\.1, 0\.3, 1, \+Inf\)/);
    expect(bucket!.toVerify).toMatch(/threshold/);
    expect(misspelt!.message).toMatch(/http_request_total/);

    // The evidence holds every query with Prometheus' raw answer.
    const evidence = JSON.parse(readEvidence(availability!.evidence![0]!));
    expect(evidence.queries.map((q: { purpose: string }) => q.purpose)).toEqual(
      expect.arrayContaining(["total", "errors", "history"]),
    );
    expect(evidence.queries[0].query).toBe('sum(rate(http_requests_total{job="healthy"}[30d]))');
    expect(evidence.queries[0].answer.resultType).toBe("vector");
    const latencyEvidence = JSON.parse(readEvidence(latency!.evidence![0]!));
    expect(latencyEvidence.queries.map((q: { query: string }) => q.query)).toContain(
      'sum(increase(http_request_duration_seconds_bucket{job="healthy", le="0.3"}[30d]))',
    );

    const only = (names: string[]) => ({
      observation: { slos: observation.slos.filter((s) => names.includes(s.slo)) } as ErrorBudgetObservation,
      spec: { ...spec, slos: SLOS.filter((s) => names.includes(s.name)) },
    });
    const ok = only(["healthy-availability", "healthy-latency", "healthy-no-503"]);
    recordObservation("errorBudgetRemaining", "ok.budget-left", ok.observation, ok.spec);
    const ng = only([
      "healthy-tight",
      "failing-availability",
      "failing-latency",
      "healthy-250ms",
      "healthy-misspelt",
    ]);
    recordObservation("errorBudgetRemaining", "ng.budget-spent", ng.observation, ng.spec);
  }, 30_000);

  it("waits for a second scrape of series Prometheus has only just begun to scrape, and not for a wrong label", async () => {
    const fresh = await startSliServer({ rate: 100, errorShare: 0.0005, slowShare: 0.004 });
    // 5 s scrapes: after the first one, seconds pass with a single sample, too few for rate().
    const young = await startPrometheus(`global: { scrape_interval: 5s, scrape_timeout: 4s }
scrape_configs:
  - job_name: fresh
    static_configs: [{ targets: ["${new URL(fresh.url).host}"] }]
`);
    try {
      const client = new PrometheusClient(young.url);
      await pollUntil("the first scrape", async () => {
        const data = await client.query('count(http_requests_total{job="fresh"})');
        return data.resultType === "vector" && data.result.length > 0 ? true : undefined;
      });
      const { ctx } = makeCheckContext({
        services: { fresh: { url: fresh.url } },
        monitoring: { prometheus: young.url },
        slos: [
          { name: "fresh", service: "fresh", objective: "99.9%", window: "30d", sli: ratio("fresh") },
          { name: "wrong-job", service: "fresh", objective: "99.9%", window: "30d", sli: ratio("frseh") },
        ],
      });
      const started = Date.now();
      const observation = await check.observe(ctx);
      const [waited, wrong] = check.judge(observation, ctx.spec) as [FindingInput, FindingInput];
      expect(waited).toMatchObject({ status: "PASS", messageId: "budgetLeft" });
      expect(observation.slos[0]!.waitedMs).toBeGreaterThan(0);
      expect(wrong).toMatchObject({ status: "UNVERIFIED", messageId: "emptyResult" });
      expect(observation.slos[1]!.waitedMs).toBeUndefined();
      expect(Date.now() - started).toBeLessThan(20_000);
    } finally {
      await young.stop();
      await fresh.close();
    }
  }, 60_000);

  it("UNVERIFIED when Prometheus cannot be reached, naming the query", async () => {
    const { ctx } = makeCheckContext({
      services: { healthy: { url: healthy.url } },
      monitoring: { prometheus: "http://127.0.0.1:1" },
      slos: [SLOS[0]],
    });
    const [finding] = await check.run(ctx);
    expect(finding).toMatchObject({ status: "UNVERIFIED", messageId: "queryFailed" });
    expect(finding!.toVerify).toMatch(/monitoring\.prometheus/);
  });
});
