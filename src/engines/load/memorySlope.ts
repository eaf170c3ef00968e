// Memory growth as a robust slope: Theil–Sen (the median of the slopes between every pair of samples) ignores the
// sawtooth of a garbage collector and a few outliers, where a least-squares line would follow them.

export interface MemorySample {
  /** ms since the first sample */
  t: number;
  bytes: number;
}

/** Bytes per second; 0 with fewer than two samples at distinct times. */
export function theilSenSlope(samples: readonly MemorySample[]): number {
  const slopes: number[] = [];
  // Above ~400 samples, pairs are taken with a stride so the cost stays near 80k pairs.
  const stride = Math.max(1, Math.floor(samples.length / 400));
  for (let i = 0; i < samples.length; i += stride) {
    for (let j = i + 1; j < samples.length; j += stride) {
      const dt = samples[j]!.t - samples[i]!.t;
      if (dt > 0) slopes.push(((samples[j]!.bytes - samples[i]!.bytes) * 1000) / dt);
    }
  }
  if (slopes.length === 0) return 0;
  slopes.sort((a, b) => a - b);
  const mid = slopes.length >> 1;
  return slopes.length % 2 === 1 ? slopes[mid]! : (slopes[mid - 1]! + slopes[mid]!) / 2;
}

/** Resident memory from a Prometheus text exposition (`process_resident_memory_bytes`), summed over series. */
export function residentMemoryFromMetrics(text: string): number | undefined {
  let total: number | undefined;
  for (const line of text.split("\n")) {
    const match = /^process_resident_memory_bytes(?:\{[^}]*\})?\s+([0-9.eE+-]+)/.exec(line);
    if (match) total = (total ?? 0) + Number(match[1]);
  }
  return total !== undefined && Number.isFinite(total) ? total : undefined;
}
