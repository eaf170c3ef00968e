import { describe, expect, it } from "vitest";
import {
  type AnalysisInput,
  type AnalysisResult,
  analyse,
  hodgesLehmannShift,
  type SideSamples,
} from "../../../../src/engines/canary/judge.js";
import { parseThresholds } from "../../../../src/spec/thresholds.js";
import { mulberry32 } from "../../../support/prng.js";

interface Shape {
  n: number;
  /** ms, plus a long-tailed (exponential, mean 5 ms) part */
  base: number;
  /** Probability that a request fails with an answer (a 5xx, still timed). */
  errorRate?: number;
  /** Every connection refused: no latency at all. */
  refused?: boolean;
}

function side(seed: number, { n, base, errorRate = 0, refused = false }: Shape): SideSamples {
  const random = mulberry32(seed);
  const latenciesMs: number[] = [];
  let failures = 0;
  for (let i = 0; i < n; i++) {
    if (random() < errorRate) failures++;
    if (!refused) latenciesMs.push(base + -Math.log(1 - random()) * 5);
  }
  return { latenciesMs, attempts: n, failures: refused ? n : failures };
}

function input(
  baseline: SideSamples,
  canary: SideSamples,
  rollbackOn: string[] = [],
  minSamples = 50,
): AnalysisInput {
  return {
    baseline,
    canary,
    rollbackOn: parseThresholds(rollbackOn),
    minSamples,
    alpha: 0.05,
    tolerance: { latency: 20, errors: 1 },
  };
}

const healthy = { n: 200, base: 20 };

const fixtures: {
  name: string;
  baseline: Shape;
  canary: Shape;
  rollbackOn?: string[];
  minSamples?: number;
  verdict: AnalysisResult["verdict"];
  /** Each must match one of the reasons. */
  reasons: RegExp[];
  also?: (r: AnalysisResult) => void;
}[] = [
  {
    name: "a canary 400 ms slower with 8 % errors, rollbackOn written",
    baseline: healthy,
    canary: { n: 200, base: 420, errorRate: 0.08 },
    rollbackOn: ["p(99)>300ms", "errors>1%"],
    verdict: "FAIL",
    reasons: [
      /^canary p\(99\)=\d+ms > 300ms \(rollbackOn p\(99\)>300ms\)$/,
      /^canary errors=[\d.]+% > 1% \(rollbackOn errors>1%\)$/,
      /^canary latency is worse than the baseline's: Hodges–Lehmann shift \+\d+(\.\d)?ms, \+\d+(\.\d)?% .*tolerance of 20%/,
      /^canary fails more often than the baseline: [\d.]+% vs 0% .*tolerance of 1 point\)/,
    ],
    also: (r) => {
      expect(r.breaches.map((b) => [b.threshold, b.unit])).toEqual([
        ["p(99)>300ms", "ms"],
        ["errors>1%", "%"],
      ]);
      expect(r.breaches[0]?.actual).toBeGreaterThan(400);
      expect(r.canary.p50).toBeGreaterThan(400);
    },
  },
  {
    name: "the same canary, no rollbackOn: the comparison alone",
    baseline: { n: 100, base: 20 },
    canary: { n: 100, base: 420, errorRate: 0.08 },
    verdict: "FAIL",
    reasons: [/^canary latency is worse/, /^canary fails more often/],
    also: (r) => {
      expect(r.breaches).toEqual([]);
      // HL shift ≈ 400 ms on a baseline median of ≈ 23.5 ms.
      expect(r.latency.effect).toBeGreaterThan(1500);
      expect(r.latency.effect).toBeLessThan(1900);
    },
  },
  {
    name: "a significant +1.5 ms shift, within the 20 % tolerance",
    baseline: { n: 5000, base: 20 },
    canary: { n: 5000, base: 21.5 },
    verdict: "PASS",
    reasons: [/no rollbackOn condition holds, latency shift \+\d/],
    also: (r) => {
      expect(r.latency.significant).toBe(true);
      expect(r.latency.effect).toBeGreaterThan(4);
      expect(r.latency.effect).toBeLessThan(9);
    },
  },
  {
    name: "a +10 ms shift (≈ 40 % of the median), beyond the tolerance",
    baseline: healthy,
    canary: { n: 200, base: 30 },
    verdict: "FAIL",
    reasons: [/^canary latency is worse/],
    also: (r) => expect(r.errors.worse).toBe(false),
  },
  {
    name: "errors 1.5 % against 1 % on 100k samples: significant, within 1 point",
    baseline: { n: 100_000, base: 20, errorRate: 0.01 },
    canary: { n: 100_000, base: 20, errorRate: 0.015 },
    verdict: "PASS",
    reasons: [/errors \+0\.\d points/],
    also: (r) => expect(r.errors).toMatchObject({ significant: true, worse: false }),
  },
  {
    name: "too few canary samples, even when they look bad",
    baseline: healthy,
    canary: { n: 20, base: 500, errorRate: 0.5 },
    rollbackOn: ["p(99)>300ms"],
    verdict: "INCONCLUSIVE",
    reasons: [/^too few samples: the canary gave 20 requests, fewer than minSamples 50/],
    also: (r) => expect(r.reasons).toHaveLength(1),
  },
  {
    name: "too few baseline samples",
    baseline: { n: 49, base: 20 },
    canary: healthy,
    verdict: "INCONCLUSIVE",
    reasons: [/^too few samples: the baseline gave 49 requests/],
  },
  {
    name: "a baseline refusing every connection: nothing to compare with",
    baseline: { n: 100, base: 20, refused: true },
    canary: { n: 100, base: 20 },
    rollbackOn: ["p(99)>300ms"],
    verdict: "INCONCLUSIVE",
    reasons: [/^the baseline answered none of its 100 requests successfully: there is nothing to compare/],
  },
  {
    name: "a baseline answering only errors, faster than a healthy canary: still nothing to compare with",
    baseline: { n: 100, base: 2, errorRate: 1 },
    canary: { n: 100, base: 20 },
    verdict: "INCONCLUSIVE",
    reasons: [/nothing to compare the canary with/],
    also: (r) => {
      expect(r.latency.significant).toBe(true);
      expect(r.latency).toMatchObject({ worse: false, skipped: /baseline answered none/ });
    },
  },
  {
    name: "a dead baseline does not hide a rollbackOn breach",
    baseline: { n: 100, base: 20, refused: true },
    canary: { n: 100, base: 420 },
    rollbackOn: ["p(99)>300ms"],
    verdict: "FAIL",
    reasons: [/^canary p\(99\)=\d+ms > 300ms/],
  },
  {
    name: "a canary refusing every connection",
    baseline: { n: 100, base: 20 },
    canary: { n: 100, base: 20, refused: true },
    verdict: "FAIL",
    reasons: [/^canary fails more often than the baseline: 100% vs 0% \(\+100 points/],
    also: (r) => {
      expect(r.errors.effect).toBe(100);
      expect(r.latency.skipped).toBe("the canary answered nothing");
    },
  },
  {
    name: "a canary refusing every connection, too few attempts for significance (minSamples 2)",
    baseline: { n: 2, base: 20 },
    canary: { n: 2, base: 20, refused: true },
    minSamples: 2,
    verdict: "FAIL",
    reasons: [/^the canary answered none of its 2 requests successfully/],
    also: (r) => expect(r.errors.significant).toBe(false),
  },
];

describe("analyse", () => {
  it.each(fixtures)("$name → $verdict", (f) => {
    const r = analyse(input(side(1, f.baseline), side(2, f.canary), f.rollbackOn, f.minSamples));
    expect(r.verdict).toBe(f.verdict);
    expect(r.reasons.length).toBeGreaterThan(0);
    for (const pattern of f.reasons)
      expect(
        r.reasons.some((reason) => pattern.test(reason)),
        String(pattern),
      ).toBe(true);
    f.also?.(r);
  });

  it("passes a canary drawn from the baseline's own distribution in at least 95 % of 200 trials", () => {
    let passed = 0;
    let latencySignificant = 0;
    for (let trial = 0; trial < 200; trial++) {
      const shape = { n: 100, base: 20, errorRate: 0.01 };
      const r = analyse(input(side(1000 + trial, shape), side(5000 + trial, shape), ["errors>5%"]));
      if (r.verdict === "PASS") passed++;
      if (r.latency.significant) latencySignificant++;
    }
    expect(passed).toBeGreaterThanOrEqual(190);
    // The test itself is calibrated: about alpha (5 %, binomial sd ≈ 3 of 200) significant by chance alone.
    expect(latencySignificant).toBeGreaterThanOrEqual(2);
    expect(latencySignificant).toBeLessThanOrEqual(20);
  });

  it("says an rps condition cannot be judged without the interval's length, and judges it with one", () => {
    const canary = side(15, { n: 100, base: 20 });
    const untimed = analyse(input(side(16, { n: 100, base: 20 }), canary, ["rps<10"]));
    expect(untimed.verdict).toBe("PASS");
    expect(untimed.reasons[0]).toMatch(/^rollbackOn rps<10 cannot be judged/);
    const timed = analyse(
      input(side(16, { n: 100, base: 20 }), { ...canary, durationMs: 20_000 }, ["rps<10"]),
    );
    expect(timed).toMatchObject({
      verdict: "FAIL",
      breaches: [{ threshold: "rps<10", actual: 5, unit: "/s" }],
    });
  });

  it("reports p50/p90/p99 by nearest rank and the error rate per side", () => {
    const latenciesMs = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted
    const r = analyse(
      input({ latenciesMs, attempts: 100, failures: 3 }, { latenciesMs, attempts: 100, failures: 0 }),
    );
    expect(r.baseline).toEqual({ attempts: 100, failures: 3, errorRate: 0.03, p50: 50, p90: 90, p99: 99 });
  });
});

describe("hodgesLehmannShift", () => {
  const sorted = (values: number[]) => Float64Array.from(values).sort();

  it("is the median of pairwise differences", () => {
    // Differences of [10, 20, 30] − [1, 2]: 9, 8, 19, 18, 29, 28 → median (18 + 19) / 2.
    expect(hodgesLehmannShift(sorted([30, 10, 20]), sorted([2, 1]))).toBe(18.5);
  });

  it("thinned to 1000 quantiles a side past 1000 samples, stays within 0.1 ms of the full estimate", () => {
    const b = sorted(side(21, { n: 2500, base: 20 }).latenciesMs);
    const c = sorted(side(22, { n: 2500, base: 60 }).latenciesMs);
    // All 6.25 M differences, the way the thinning avoids.
    const all = new Float64Array(c.length * b.length);
    let k = 0;
    for (const x of c) for (const y of b) all[k++] = x - y;
    all.sort();
    const full = ((all[all.length / 2 - 1] as number) + (all[all.length / 2] as number)) / 2;
    expect(full).toBeCloseTo(40, 0);
    expect(Math.abs(hodgesLehmannShift(c, b) - full)).toBeLessThan(0.1);
  });
});
