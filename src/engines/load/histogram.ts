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

export function summarize(histogram: Histogram): LatencySummary {
  const empty = histogram.totalCount === 0;
  const ms = (us: number) => (empty ? 0 : Math.round(us) / 1000);
  return {
    count: histogram.totalCount,
    min: ms(histogram.minNonZeroValue),
    mean: empty ? 0 : Math.round(histogram.mean) / 1000,
    p50: percentileMs(histogram, 50),
    p90: percentileMs(histogram, 90),
    p95: percentileMs(histogram, 95),
    p99: percentileMs(histogram, 99),
    p999: percentileMs(histogram, 99.9),
    max: ms(histogram.maxValue),
  };
}
