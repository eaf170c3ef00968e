// Latency histograms: HDR, 3 significant digits, values recorded in microseconds. Memory depends on the value range,
// never on the number of requests, so a long run stays flat; encode/decode/add merge worker histograms exactly.
import {
  build,
  decodeFromCompressedBase64,
  encodeIntoCompressedBase64,
  type Histogram,
} from "hdr-histogram-js";

export type { Histogram };

export function createHistogram(): Histogram {
  // 1 µs to 1 h; beyond that a value is clamped (a request that takes an hour is a timeout anyway).
  return build({
    bitBucketSize: 32,
    autoResize: false,
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: 3,
  });
}

export const HIGHEST_US = 3_600_000_000;

export function recordMicros(histogram: Histogram, micros: number): void {
  histogram.recordValue(micros < 1 ? 1 : micros > HIGHEST_US ? HIGHEST_US : Math.round(micros));
}

export function encodeHistogram(histogram: Histogram): string {
  return encodeIntoCompressedBase64(histogram);
}

export function decodeHistogram(encoded: string): Histogram {
  return decodeFromCompressedBase64(encoded, 32, false);
}

/** Adds `encoded` into `into`; exact, bucket by bucket. */
export function mergeEncoded(into: Histogram, encoded: string): void {
  const other = decodeHistogram(encoded);
  into.add(other);
  other.destroy();
}

export interface LatencySummary {
  count: number;
  /** Milliseconds. */
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
}

/** Latency percentile in milliseconds; percentile is 0–100. */
export function percentileMs(histogram: Histogram, percentile: number): number {
  if (histogram.totalCount === 0) return 0;
  return histogram.getValueAtPercentile(percentile) / 1000;
}

/** The bucket-level view of hdr-histogram-js's JsHistogram (what `build` returns without WebAssembly). */
interface Buckets {
  countsArrayLength: number;
  getCountAtIndex(index: number): number;
  valueFromIndex(index: number): number;
  highestEquivalentValue(value: number): number;
  medianEquivalentValue(value: number): number;
}

const SUMMARY_PERCENTILES = [50, 90, 95, 99, 99.9] as const;

/**
 * Every figure in one pass over the buckets, the same values hdr-histogram-js's getValueAtPercentile and mean give
 * (the count rounding included). Its own mean walks an iterator object per bucket and took milliseconds a call,
 * long enough to make a load generator late once a second.
 */
export function summarize(histogram: Histogram): LatencySummary {
  const total = histogram.totalCount;
  if (total === 0) return { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0, max: 0 };
  const h = histogram as unknown as Buckets;
  const targets = SUMMARY_PERCENTILES.map((p) => countAtPercentile(p, total));
  const values: number[] = [];
  let next = 0;
  let seen = 0;
  let sum = 0;
  for (let i = 0; i < h.countsArrayLength && seen < total; i++) {
    const count = h.getCountAtIndex(i);
    if (count === 0) continue;
    seen += count;
    const value = h.valueFromIndex(i);
    sum += h.medianEquivalentValue(value) * count;
    while (next < targets.length && seen >= targets[next]!) {
      values.push(h.highestEquivalentValue(value));
      next++;
    }
  }
  const ms = (us: number) => us / 1000;
  return {
    count: total,
    min: Math.round(histogram.minNonZeroValue) / 1000,
    mean: Math.round(sum / total) / 1000,
    p50: ms(values[0] ?? 0),
    p90: ms(values[1] ?? 0),
    p95: ms(values[2] ?? 0),
    p99: ms(values[3] ?? 0),
    p999: ms(values[4] ?? 0),
    max: Math.round(histogram.maxValue) / 1000,
  };
}

/** hdr-histogram-js's rounding of a percentile to a count: up, guarding against a 1-ulp excess, at least 1. */
function countAtPercentile(percentile: number, total: number): number {
  const fp = (Math.min(percentile, 100) / 100) * total;
  const ulp = fp === 0 ? 0 : 2 ** (Math.floor(Math.log2(fp)) - 52);
  return Math.max(Math.ceil(fp - ulp), 1);
}
