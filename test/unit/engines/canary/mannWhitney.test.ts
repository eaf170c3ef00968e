// Reference p-values from SciPy 1.17.1 (scipy.stats.mannwhitneyu(x, y, alternative=…, method="exact" or
// "asymptotic")), computed once on this machine and written here; the exact ones are also checked by enumeration below.
import { describe, expect, it } from "vitest";
import {
  type Alternative,
  exactUpperTail,
  mannWhitney,
  mannWhitneyGreater,
  upperNormalTail,
} from "../../../../src/engines/canary/mannWhitney.js";

const twentyUp = Array.from({ length: 20 }, (_, i) => i + 1);
const twentyShifted = Array.from({ length: 20 }, (_, i) => i + 3.5);
const tiedX = [1, 2, 2, 3, 3, 3, 4, 5, 5, 6, 7, 7, 7, 8, 9, 9, 10, 12, 12, 15, 16, 18, 20, 22, 25];
const tiedY = [1, 1, 2, 2, 3, 3, 3, 4, 4, 5, 5, 5, 6, 6, 7, 8, 8, 9, 10, 10, 11, 12, 13];

const references: {
  name: string;
  x: number[];
  y: number[];
  alternative: Alternative;
  u: number;
  method: "exact" | "normal";
  p: number;
}[] = [
  {
    name: "5 vs 6 interleaved",
    x: [3, 5, 7, 9, 11],
    y: [1, 2, 4, 6, 8, 10],
    alternative: "greater",
    u: 20,
    method: "exact",
    p: 0.21428571428571427,
  },
  {
    name: "5 vs 6 interleaved",
    x: [3, 5, 7, 9, 11],
    y: [1, 2, 4, 6, 8, 10],
    alternative: "two-sided",
    u: 20,
    method: "exact",
    p: 0.42857142857142855,
  },
  {
    name: "20 vs 20, x lower",
    x: twentyUp,
    y: twentyShifted,
    alternative: "greater",
    u: 153,
    method: "exact",
    p: 0.8994027597814415,
  },
  {
    name: "20 vs 20, x lower",
    x: twentyUp,
    y: twentyShifted,
    alternative: "two-sided",
    u: 153,
    method: "exact",
    p: 0.21096432724812078,
  },
  {
    name: "7 slow vs 8 fast latencies",
    x: [12.5, 30.1, 18.2, 44.0, 25.3, 19.9, 31.7],
    y: [10.1, 11.4, 17.3, 9.8, 15.5, 12.2, 14.0, 13.1],
    alternative: "greater",
    u: 52,
    method: "exact",
    p: 0.0018648018648018648,
  },
  { name: "1 vs 1", x: [1.5], y: [2.5], alternative: "greater", u: 0, method: "exact", p: 1 },
  {
    name: "tie-heavy 25 vs 23",
    x: tiedX,
    y: tiedY,
    alternative: "greater",
    u: 360,
    method: "normal",
    p: 0.06810207622096395,
  },
  {
    name: "tie-heavy 25 vs 23",
    x: tiedX,
    y: tiedY,
    alternative: "two-sided",
    u: 360,
    method: "normal",
    p: 0.1362041524419279,
  },
  // Small but tied: not exact (the exact null then depends on the ties), the tie-corrected normal approximation.
  {
    name: "small with ties",
    x: [2, 3, 3, 4, 6, 7],
    y: [1, 2, 2, 3, 5],
    alternative: "greater",
    u: 23,
    method: "normal",
    p: 0.08152252792711867,
  },
  {
    name: "small with ties",
    x: [2, 3, 3, 4, 6, 7],
    y: [1, 2, 2, 3, 5],
    alternative: "two-sided",
    u: 23,
    method: "normal",
    p: 0.16304505585423734,
  },
];

describe("mannWhitney", () => {
  it.each(references)(
    "$name, $alternative: U=$u, p as SciPy ($method)",
    ({ x, y, alternative, u, method, p }) => {
      const r = mannWhitney(x, y, alternative);
      expect(r).toMatchObject({ u, method });
      expect(r.pValue).toBeCloseTo(p, method === "exact" ? 12 : 6);
    },
  );

  it("agrees with brute-force enumeration of every rank arrangement for tiny samples", () => {
    for (const [m, n] of [
      [1, 1],
      [2, 3],
      [3, 4],
      [4, 4],
      [5, 3],
    ] as const) {
      // Every way to give m of the ranks 1..m+n to x is equally likely: the share with U ≥ u is the exact p-value.
      const us: number[] = [];
      for (let mask = 0; mask < 1 << (m + n); mask++) {
        const xs = [...Array(m + n).keys()].filter((i) => mask & (1 << i));
        if (xs.length === m) us.push(xs.reduce((sum, rank) => sum + rank + 1, 0) - (m * (m + 1)) / 2);
      }
      for (let u = 0; u <= m * n; u++) {
        expect(exactUpperTail(m, n, u), `m=${m} n=${n} u=${u}`).toBeCloseTo(
          us.filter((v) => v >= u).length / us.length,
          12,
        );
      }
    }
  });

  it("on 0/1 outcomes is the two-proportion test with tie correction (closed form), 8 % against 1 % significant", () => {
    const m = 100;
    const n = 100;
    const canary = [...Array(8).fill(1), ...Array(92).fill(0)];
    const baseline = [1, ...Array(99).fill(0)];
    const r = mannWhitneyGreater(canary, baseline);
    // Two tie groups (a ones, b zeros) reduce the tie-corrected variance to mn·a·b / (4(N−1)).
    const total = m + n;
    const ones = 9;
    const variance = (m * n * ones * (total - ones)) / (4 * (total - 1));
    const shift = (m * n * (0.08 - 0.01)) / 2;
    expect(r.u).toBe(m * n * 0.5 + shift);
    expect(r.z).toBeCloseTo((shift - 0.5) / Math.sqrt(variance), 10);
    expect(r.pValue).toBeCloseTo(0.008696445693422305, 6); // SciPy asymptotic, greater
    // Without continuity correction z is the pooled two-proportion z times √((N−1)/N).
    const pooled = ones / total;
    const proportionZ = (0.08 - 0.01) / Math.sqrt(pooled * (1 - pooled) * (1 / m + 1 / n));
    expect(shift / Math.sqrt(variance)).toBeCloseTo(proportionZ * Math.sqrt((total - 1) / total), 10);
    // The same outcomes the other way round are no evidence that the baseline fails more.
    expect(mannWhitneyGreater(baseline, canary).pValue).toBeGreaterThan(0.99);
  });

  it("gives p = 1, not NaN, when a side is empty or every value is equal", () => {
    expect(mannWhitneyGreater([], [1, 2])).toMatchObject({ u: 0, pValue: 1 });
    expect(mannWhitneyGreater([1, 2], [])).toMatchObject({ u: 0, pValue: 1 });
    expect(mannWhitneyGreater(Array(50).fill(3), Array(40).fill(3))).toMatchObject({ u: 1000, pValue: 1 });
    expect(mannWhitney([0, 0, 0], [0, 0], "two-sided").pValue).toBe(1);
  });

  it("has the normal tail right to 1e-7 (Φ references)", () => {
    expect(upperNormalTail(0)).toBeCloseTo(0.5, 7);
    expect(upperNormalTail(1.959963984540054)).toBeCloseTo(0.025, 7);
    expect(upperNormalTail(-1.6448536269514722)).toBeCloseTo(0.95, 7);
    expect(upperNormalTail(5)).toBeCloseTo(2.866515718791939e-7, 9);
  });

  it("ranks 100 000 samples a side in well under a second, and sees a 1 % shift at that size", () => {
    const x = Array.from({ length: 100_000 }, (_, i) => ((i * 7919) % 1000) + 10);
    const y = Array.from({ length: 100_000 }, (_, i) => ((i * 104_729) % 1000) + 0);
    const started = performance.now();
    const r = mannWhitneyGreater(x, y);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(r).toMatchObject({ u: 5_099_500_000, method: "normal" });
    expect(r.pValue / 6.429331868256049e-15).toBeCloseTo(1, 5); // SciPy asymptotic, greater
    expect(mannWhitneyGreater(y, x).pValue).toBeGreaterThan(0.999);
  });
});
