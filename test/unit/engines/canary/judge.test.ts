import { describe, expect, it } from "vitest";
import { type AnalysisInput, analyse, type SideSamples } from "../../../../src/engines/canary/judge.js";
import { parseThresholds } from "../../../../src/spec/thresholds.js";

/** mulberry32: a seeded generator, so every run of this test judges the same samples. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A side answering in `base` ms plus a long-tailed (exponential) part, failing with probability `errorRate`. */
function side(seed: number, n: number, base: number, errorRate = 0, refused = false): SideSamples {
  const random = prng(seed);
  const latenciesMs: number[] = [];
  let failures = 0;
  for (let i = 0; i < n; i++) {
    if (random() < errorRate) failures++;
    if (!refused) latenciesMs.push(base + -Math.log(1 - random()) * 5);
  }
  return { latenciesMs, attempts: n, failures: refused ? n : failures };
}

const input = (baseline: SideSamples, canary: SideSamples, rollbackOn: string[] = []): AnalysisInput => ({
  baseline,
  canary,
  rollbackOn: parseThresholds(rollbackOn),
  minSamples: 50,
  alpha: 0.05,
  tolerance: { latency: 20, errors: 1 },
});

describe("analyse", () => {
  it("fails a canary 400 ms slower with 8 % errors, naming the rollbackOn figures and both comparisons", () => {
    const r = analyse(input(side(1, 200, 20), side(2, 200, 420, 0.08), ["p(99)>300ms", "errors>1%"]));
    expect(r.verdict).toBe("FAIL");
    expect(r.breaches.map((b) => b.threshold)).toEqual(["p(99)>300ms", "errors>1%"]);
    expect(r.latency.worse && r.errors.worse).toBe(true);
    expect(r.reasons.join("\n")).toMatch(/canary p\(99\)=\d+ms > 300ms \(rollbackOn p\(99\)>300ms\)/);
    expect(r.canary.p50).toBeGreaterThan(400);
  });

  it("fails the same canary on the comparison alone when no rollbackOn is written", () => {
    const r = analyse(input(side(3, 100, 20), side(4, 100, 420, 0.08)));
    expect(r.verdict).toBe("FAIL");
    expect(r.breaches).toEqual([]);
    expect(r.latency.effect).toBeGreaterThan(1000);
  });

  it("passes a canary drawn from the baseline's own distribution in at least 95 % of 200 trials", () => {
    let passed = 0;
    for (let trial = 0; trial < 200; trial++) {
      const r = analyse(
        input(side(1000 + trial, 100, 20, 0.01), side(5000 + trial, 100, 20, 0.01), ["errors>5%"]),
      );
      if (r.verdict === "PASS") passed++;
    }
    expect(passed).toBeGreaterThanOrEqual(190);
  });

  it("passes a significant shift that stays within the tolerance", () => {
    const r = analyse(input(side(7, 5000, 20), side(8, 5000, 21.5)));
    expect(r.latency.significant).toBe(true);
    expect(r.latency.effect).toBeLessThan(20);
    expect(r.verdict).toBe("PASS");
  });

  it("is INCONCLUSIVE below minSamples on either side, even when the few samples look bad", () => {
    const r = analyse(input(side(9, 200, 20), side(10, 20, 500, 0.5), ["p(99)>300ms"]));
    expect(r.verdict).toBe("INCONCLUSIVE");
    expect(r.reasons[0]).toMatch(/the canary gave 20 requests, fewer than minSamples 50/);
  });

  it("is INCONCLUSIVE when the baseline answered nothing successfully: nothing to compare with", () => {
    const r = analyse(input(side(11, 100, 20, 0, true), side(12, 100, 20), ["p(99)>300ms"]));
    expect(r.verdict).toBe("INCONCLUSIVE");
    expect(r.reasons.at(-1)).toMatch(/nothing to compare the canary with/);
  });

  it("fails a canary that refuses every connection: 100 % errors, never inconclusive", () => {
    const r = analyse(input(side(13, 100, 20), side(14, 100, 20, 0, true)));
    expect(r.verdict).toBe("FAIL");
    expect(r.errors.effect).toBe(100);
    expect(r.latency.skipped).toBe("the canary answered nothing");
  });

  it("says an rps condition cannot be judged without the interval's length, and judges it with one", () => {
    const canary = side(15, 100, 20);
    expect(analyse(input(side(16, 100, 20), canary, ["rps<10"])).reasons[0]).toMatch(/cannot be judged/);
    const timed = analyse(input(side(16, 100, 20), { ...canary, durationMs: 20_000 }, ["rps<10"]));
    expect(timed).toMatchObject({ verdict: "FAIL", breaches: [{ threshold: "rps<10", actual: 5 }] });
  });
});
