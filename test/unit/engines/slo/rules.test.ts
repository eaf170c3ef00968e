// The rule generator's decisions that the promtool and Prometheus test (test/integration/observability/sloRules.test.ts)
// does not pin down: the default traffic guard, windows left out for a short SLO, and SLOs it must refuse.
import { describe, expect, it } from "vitest";
import { alertName, defaultMinTraffic, leMatcher, sloRules } from "../../../../src/engines/slo/rules.js";

const DAY = 86_400_000;
const sli = { errors: "sum(rate(e[{{window}}]))", total: "sum(rate(t[{{window}}]))" };

describe("SLO rules", () => {
  it("guard each pair by default with more requests over the long window than one error could trip", () => {
    // 99.9 % over 30 d, 1 h pair: 14.4 × 0.1 % = 1.44 %, so more than 69.4 requests in the hour.
    expect(defaultMinTraffic({ factor: 14.4, longMs: 3_600_000 }, 0.001) * 3600).toBeCloseTo(69.44, 2);
    const [group] = sloRules([{ name: "a", service: "s", objective: 99.9, window: 30 * DAY, sli }]).groups;
    const page = group!.rules.find((r) => r.alert === "AErrorBudgetBurn1h")!;
    expect(page.expr).toContain('slo:sli_requests:rate1h{slo="a"} > 0.0192901');
    expect(page.annotations!.description).toContain("more than 69.4 requests in 1h");
  });

  it("use slos[].minTraffic when given, and count increase() totals per second", () => {
    const [group] = sloRules([
      {
        name: "a",
        service: "s",
        objective: 99,
        window: 28 * DAY,
        minTraffic: 2,
        sli: { errors: "sum(increase(e[{{window}}]))", total: "sum(increase(t[{{window}}]))" },
      },
    ]).groups;
    expect(group!.rules.find((r) => r.alert === "AErrorBudgetBurn6h")!.expr).toMatch(
      /rate6h\{slo="a"\} > 2$/,
    );
    expect(group!.rules.find((r) => r.record === "slo:sli_requests:rate1h")!.expr).toBe(
      "(sum(increase(t[1h]))) / 3600",
    );
  });

  it("leave out pairs longer than a short SLO window, saying so", () => {
    const rules = sloRules([{ name: "a", service: "s", objective: 99, window: 2 * DAY, sli }]);
    expect(rules.groups[0]!.rules.filter((r) => r.alert).map((r) => r.alert)).toEqual([
      "AErrorBudgetBurn1h",
      "AErrorBudgetBurn6h",
    ]);
    expect(rules.notes[0]).toMatch(/left out/);
  });

  it("refuse an SLO without sli or budget, naming it and what to write", () => {
    const rules = sloRules([
      { name: "bare", service: "s", objective: 99, window: 30 * DAY },
      { name: "perfect", service: "s", objective: 100, window: 30 * DAY, sli },
    ]);
    expect(rules.groups).toEqual([]);
    expect(rules.skipped.map((s) => s.slo)).toEqual(["bare", "perfect"]);
    expect(rules.skipped[0]!.reason).toMatch(/^slos\[0\] \(bare\): has no sli.*add sli: \{ errors:/);
    expect(rules.skipped[1]!.reason).toMatch(/leaves no error budget/);
  });

  it("name alerts after the SLO and match whole-second buckets as Prometheus 2 and 3 print them", () => {
    expect(alertName("api-availability", 3 * DAY)).toBe("ApiAvailabilityErrorBudgetBurn3d");
    expect(leMatcher(0.3)).toBe('le="0.3"');
    expect(leMatcher(1)).toBe('le=~"1|1\\\\.0"');
  });
});
