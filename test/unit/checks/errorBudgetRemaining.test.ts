// errorBudgetRemaining's arithmetic and the judge's edges that a live Prometheus does not reach in the integration
// test: no Prometheus, no sli, no traffic, the whole window held, a 100 % objective, the 25 % boundary.
import { describe, expect, it } from "vitest";
import check, { type SloBudgetRecord } from "../../../src/checks/performance/errorBudgetRemaining.js";
import {
  errorBudget,
  histogramQueries,
  leValue,
  matchingBucket,
  parseHistogramSli,
  promDuration,
  withWindow,
} from "../../../src/engines/slo/errorBudget.js";
import { specSchema } from "../../../src/spec/schema.js";
import { makeCheckContext } from "../../support/checkContext.js";

const DAY = 86_400_000;

describe("error budget arithmetic", () => {
  it("writes windows as PromQL durations", () => {
    expect(promDuration(30 * DAY)).toBe("30d");
    expect(promDuration(28 * DAY)).toBe("28d");
    expect(promDuration(90 * 60_000)).toBe("1h30m");
    expect(promDuration(1_500)).toBe("1s500ms");
    expect(withWindow("sum(rate(x[{{window}}])) / sum(rate(y[{{ window }}]))", 7 * DAY)).toBe(
      "sum(rate(x[7d])) / sum(rate(y[7d]))",
    );
  });

  it("consumes the budget as the error ratio over what the objective allows", () => {
    const half = errorBudget(5, 10_000, 99.9);
    expect(half.errorRatio).toBeCloseTo(0.0005, 10);
    expect(half.consumed).toBeCloseTo(0.5, 10);
    expect(half.remaining).toBeCloseTo(0.5, 10);
    expect(errorBudget(0, 10, 99.9).remaining).toBe(1);
    expect(errorBudget(30, 1000, 99).remaining).toBeCloseTo(-2, 10);
    expect(errorBudget(1, 1000, 100).remaining).toBe(Number.NEGATIVE_INFINITY);
    expect(errorBudget(0, 1000, 100).remaining).toBe(1);
  });

  it("finds the histogram's bucket by value, in the unit its name says", () => {
    expect(matchingBucket(["0.1", "0.3", "1.0", "+Inf"], 1000, "http_request_duration_seconds")).toBe("1.0");
    expect(matchingBucket(["0.1", "0.3", "+Inf"], 300, "http_request_duration_seconds")).toBe("0.3");
    expect(matchingBucket(["100", "300", "+Inf"], 300, "rpc_latency_milliseconds")).toBe("300");
    expect(matchingBucket(["0.1", "0.3", "+Inf"], 250, "http_request_duration_seconds")).toBeUndefined();
    expect(leValue("+Inf")).toBe(Number.POSITIVE_INFINITY);
    const h = parseHistogramSli('http_request_duration_seconds{job="api", route!="/healthz"}')!;
    expect(histogramQueries(h, 30 * DAY, "0.3").good).toBe(
      'sum(increase(http_request_duration_seconds_bucket{job="api", route!="/healthz", le="0.3"}[30d]))',
    );
    expect(histogramQueries(parseHistogramSli("latency_seconds")!, DAY).total).toBe(
      "sum(increase(latency_seconds_count{}[1d]))",
    );
    expect(parseHistogramSli("rate(x[5m])")).toBeUndefined();
  });
});

const specWith = (objective: string) =>
  specSchema.parse({
    version: 1,
    system: { name: "t" },
    services: { api: { url: "http://127.0.0.1:8080" } },
    monitoring: { prometheus: "http://127.0.0.1:9090" },
    slos: [
      {
        name: "avail",
        service: "api",
        objective,
        window: "30d",
        sli: { errors: "sum(rate(e[{{window}}]))", total: "sum(rate(t[{{window}}]))" },
      },
    ],
  });
const spec = specWith("99%");

const record = (over: Partial<SloBudgetRecord>): SloBudgetRecord => ({
  slo: "avail",
  service: "api",
  form: "ratio",
  windowMs: 30 * DAY,
  queries: [],
  bad: 0,
  total: 1,
  perSecond: true,
  historyMs: 30 * DAY,
  evidence: "errorBudgetRemaining/avail-budget.json",
  ...over,
});
const judge = (r: SloBudgetRecord) => check.judge({ slos: [r] }, spec)[0]!;

describe("errorBudgetRemaining judge", () => {
  it("WARN under a quarter left, PASS at a quarter, FAIL when spent", () => {
    // Per-second rates: 1 request/s for 30 days, 0.76 % and 0.75 % bad of 1 % allowed.
    expect(judge(record({ bad: 0.0076 })).messageId).toBe("budgetLow");
    expect(judge(record({ bad: 0.0075 })).messageId).toBe("budgetLeft");
    expect(judge(record({ bad: 0.01 })).messageId).toBe("budgetExhausted");
    const pass = judge(record({ bad: 0.005 }));
    expect(pass.message).toMatch(/over 30d$/);
    expect(pass.measurements?.find((m) => m.name === "requests")?.value).toBe(30 * 86_400);
  });

  it("no traffic in the window: UNVERIFIED, the budget says nothing", () => {
    const finding = judge(record({ total: 0 }));
    expect(finding).toMatchObject({ status: "UNVERIFIED", messageId: "noRequests" });
    expect(finding.message).toMatch(/no requests .*: the budget says nothing/);
  });

  it("an unmeasured history is said, and the window is judged as declared", () => {
    const finding = judge(record({ bad: 0.001, historyMs: null, historyNote: "no series" }));
    expect(finding.status).toBe("PASS");
    expect(finding.message).toMatch(/over 30d \(no series\)/);
  });

  it("a 100 % objective has no budget: any bad request spends it", () => {
    const [finding] = check.judge({ slos: [record({ bad: 0.0001 })] }, specWith("100%"));
    expect(finding).toMatchObject({ status: "FAIL", messageId: "budgetExhausted" });
    expect(finding!.message).toMatch(/allows no bad request/);
  });

  it("UNVERIFIED without Prometheus or without an sli, saying what to write", async () => {
    const { ctx } = makeCheckContext({
      services: { api: { url: "http://127.0.0.1:8080" } },
      slos: [{ name: "avail", service: "api", objective: "99%", window: "30d" }],
    });
    const [noProm] = await check.run(ctx);
    expect(noProm).toMatchObject({ status: "UNVERIFIED", messageId: "noPrometheus" });
    const { ctx: withProm } = makeCheckContext({
      services: { api: { url: "http://127.0.0.1:8080" } },
      monitoring: { prometheus: "http://127.0.0.1:1" },
      slos: [{ name: "avail", service: "api", objective: "99%", window: "30d" }],
    });
    const [noSli] = await check.run(withProm);
    expect(noSli).toMatchObject({ status: "UNVERIFIED", messageId: "noSli" });
    expect(noSli!.toVerify).toMatch(/write slos\[0\]\.sli/);
  });

  it("is N/A without slos", () => {
    const none = specSchema.parse({ version: 1, system: { name: "t" }, services: {} });
    expect(check.applies(none, { allowDestructive: false })).toMatchObject({ applies: false });
  });
});
