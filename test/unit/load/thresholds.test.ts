import { describe, expect, it } from "vitest";
import {
  evaluateThreshold,
  parseThreshold,
  type ThresholdSubject,
} from "../../../src/engines/load/thresholds.js";
import { UserError } from "../../../src/errors.js";

const subject: ThresholdSubject = {
  latencyAt: (p) => (p >= 99.9 ? 1500 : p >= 95 ? 412 : 100),
  avg: 120,
  max: 2000,
  min: 1,
  errorRate: 0.02,
  rps: 480,
};

describe("thresholds", () => {
  it("parses k6-style expressions with units", () => {
    expect(parseThreshold("p(95)<300ms")).toMatchObject({
      metric: { kind: "percentile", percentile: 95 },
      op: "<",
      value: 300,
    });
    expect(parseThreshold("p(99.9) < 1s")).toMatchObject({ metric: { percentile: 99.9 }, value: 1000 });
    expect(parseThreshold("errors<1%")).toMatchObject({ metric: { kind: "errors" }, value: 1 });
    expect(parseThreshold("rps>=500 abortOnFail")).toMatchObject({
      metric: { kind: "rps" },
      op: ">=",
      value: 500,
      abortOnFail: true,
    });
  });

  it("evaluates and describes a failure with the offending figure", () => {
    expect(evaluateThreshold(parseThreshold("p(95)<300ms"), subject)).toMatchObject({
      passed: false,
      actual: 412,
      description: "p(95)=412ms ≥ 300ms",
    });
    expect(evaluateThreshold(parseThreshold("p(99.9)<1s"), subject).description).toBe("p(99.9)=1.5s ≥ 1s");
    expect(evaluateThreshold(parseThreshold("avg<200ms"), subject).passed).toBe(true);
    expect(evaluateThreshold(parseThreshold("max<2s"), subject).passed).toBe(false);
    expect(evaluateThreshold(parseThreshold("errors<1%"), subject).description).toBe("errors=2% ≥ 1%");
    expect(evaluateThreshold(parseThreshold("rps>500"), subject).description).toBe("rps=480/s ≤ 500/s");
  });

  it("rejects bad expressions with a sentence", () => {
    for (const bad of ["p95<300", "p(0)<1ms", "p(95)<300kg", "errors<5ms", "latency<1s", "rps>5ms"]) {
      expect(() => parseThreshold(bad), bad).toThrow(UserError);
    }
    expect(() => parseThreshold("p95<300")).toThrow(/write it like "p\(95\)<300ms"/);
  });
});

describe("threshold parsing stays linear", () => {
  it("a 1 MB run of spaces is refused in well under a second", () => {
    const started = performance.now();
    expect(() => parseThreshold(`p(95)<300ms${" ".repeat(1_000_000)}x`)).toThrow(/not understood/);
    expect(performance.now() - started).toBeLessThan(500);
    expect(parseThreshold("p(95)<300ms   abortOnFail").abortOnFail).toBe(true);
    expect(parseThreshold("p(95)<300ms").abortOnFail).toBe(false);
  });
});
