import { describe, expect, it } from "vitest";
import {
  createHistogram,
  percentileMs,
  recordMicros,
  summarize,
} from "../../../src/engines/load/histogram.js";
import { mulberry32 } from "../../support/prng.js";

describe("summarize", () => {
  it("gives exactly hdr-histogram-js's own percentiles, mean, min and max, in one pass", () => {
    const random = mulberry32(14);
    for (let round = 0; round < 200; round++) {
      const h = createHistogram();
      const n = 1 + Math.floor(random() * 3000);
      // Log-uniform from 1 µs to ~1 min: every bucket range, including the sub-bucket boundaries.
      for (let i = 0; i < n; i++) recordMicros(h, Math.exp(random() * 18));
      const s = summarize(h);
      expect(s).toEqual({
        count: n,
        min: Math.round(h.minNonZeroValue) / 1000,
        mean: Math.round(h.mean) / 1000,
        p50: percentileMs(h, 50),
        p90: percentileMs(h, 90),
        p95: percentileMs(h, 95),
        p99: percentileMs(h, 99),
        p999: percentileMs(h, 99.9),
        max: Math.round(h.maxValue) / 1000,
      });
      h.destroy();
    }
  });

  it("is all zeros for an empty histogram and exact for a single value", () => {
    const h = createHistogram();
    expect(summarize(h)).toEqual({
      count: 0,
      min: 0,
      mean: 0,
      p50: 0,
      p90: 0,
      p95: 0,
      p99: 0,
      p999: 0,
      max: 0,
    });
    recordMicros(h, 1234);
    const s = summarize(h);
    expect(s.count).toBe(1);
    expect(s.p50).toBe(s.p999);
    expect(Math.abs(s.p99 - 1.234)).toBeLessThan(0.002);
  });
});
