// Reference p-values from SciPy 1.17 (scipy.stats.mannwhitneyu, alternative="greater"), computed once and written here.
import { describe, expect, it } from "vitest";
import { exactUpperTail, mannWhitneyGreater } from "../../../../src/engines/canary/mannWhitney.js";

describe("mannWhitneyGreater", () => {
  it("uses the exact distribution for small samples without ties (SciPy method=exact)", () => {
    const r = mannWhitneyGreater([3, 5, 7, 9, 11], [1, 2, 4, 6, 8, 10]);
    expect(r).toMatchObject({ u: 20, method: "exact" });
    expect(r.pValue).toBeCloseTo(0.21428571428571427, 12);
    const twenty = mannWhitneyGreater(
      Array.from({ length: 20 }, (_, i) => i + 1),
      Array.from({ length: 20 }, (_, i) => i + 3.5),
    );
    expect(twenty).toMatchObject({ u: 153, method: "exact" });
    expect(twenty.pValue).toBeCloseTo(0.8994027597814415, 10);
  });

  it("agrees with brute-force enumeration of every arrangement for tiny samples", () => {
    // All C(7,3) ways to give 3 of the ranks 1..7 to x: the share with U ≥ u is the exact p-value.
    const m = 3;
    const n = 4;
    const us: number[] = [];
    for (let mask = 0; mask < 1 << (m + n); mask++) {
      const xs = [...Array(m + n).keys()].filter((i) => mask & (1 << i));
      if (xs.length !== m) continue;
      us.push(xs.reduce((sum, rank) => sum + rank + 1, 0) - (m * (m + 1)) / 2);
    }
    for (let u = 0; u <= m * n; u++) {
      const expected = us.filter((v) => v >= u).length / us.length;
      expect(exactUpperTail(m, n, u)).toBeCloseTo(expected, 12);
    }
  });

  it("uses the tie-corrected normal approximation with continuity correction when values tie (SciPy asymptotic)", () => {
    const x = [1, 2, 2, 3, 3, 3, 4, 5, 5, 6, 7, 7, 7, 8, 9, 9, 10, 12, 12, 15, 16, 18, 20, 22, 25];
    const y = [1, 1, 2, 2, 3, 3, 3, 4, 4, 5, 5, 5, 6, 6, 7, 8, 8, 9, 10, 10, 11, 12, 13];
    const r = mannWhitneyGreater(x, y);
    expect(r).toMatchObject({ u: 360, method: "normal" });
    expect(r.pValue).toBeCloseTo(0.06810207622096395, 5);
  });

  it("compares failure outcomes (0/1) as a two-proportion test: 8 % against 1 % is significant", () => {
    const canary = [...Array(8).fill(1), ...Array(92).fill(0)];
    const baseline = [1, ...Array(99).fill(0)];
    const r = mannWhitneyGreater(canary, baseline);
    expect(r.u).toBe(5350);
    expect(r.pValue).toBeCloseTo(0.008696445693422305, 5);
  });

  it("gives p = 1, not NaN, when there is nothing to compare or every value is equal", () => {
    expect(mannWhitneyGreater([], [1, 2]).pValue).toBe(1);
    expect(mannWhitneyGreater(Array(50).fill(3), Array(40).fill(3)).pValue).toBe(1);
  });

  it("ranks 100 000 samples a side quickly enough for an analysis interval", () => {
    const x = Array.from({ length: 100_000 }, (_, i) => (i * 7919) % 1000);
    const y = Array.from({ length: 100_000 }, (_, i) => (i * 104_729) % 1000);
    const r = mannWhitneyGreater(x, y);
    expect(r.method).toBe("normal");
    expect(r.pValue).toBeGreaterThan(0.05);
  });
});
