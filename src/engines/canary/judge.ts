// The canary judge: one analysis interval's samples of baseline and canary, measured side by side on their own URLs,
// become PASS, FAIL or INCONCLUSIVE. Two kinds of evidence, as Kayenta and Argo Rollouts use them: absolute limits on
// the canary (rollbackOn), and a comparison with the baseline — Mann–Whitney U on latency and on failure outcomes,
// worse only when both significant and larger than the tolerated effect (a significant 2 % shift is not a regression).

import type { Threshold } from "../../spec/thresholds.js";
import { evaluateThreshold, type ThresholdSubject } from "../load/thresholds.js";
import { mannWhitneyGreater } from "./mannWhitney.js";

/** What one side (baseline or canary) gave during one analysis interval, measured on its own URL. */
export interface SideSamples {
  /** Latency in ms of every answered request, whatever its status, in the order measured. */
  latenciesMs: number[];
  /** Requests sent, and those that failed (status outside 2xx, refused, reset, timeout). */
  attempts: number;
  failures: number;
  /** Length of the interval, when known: gives the side's request rate for an `rps` condition. */
  durationMs?: number;
}

export interface AnalysisInput {
  baseline: SideSamples;
  canary: SideSamples;
  /** rollout.rollbackOn, parsed: each is a condition that, when it holds on the canary's figures, rolls back. */
  rollbackOn: Threshold[];
  minSamples: number;
  alpha: number;
  /** latency: percent, relative to the baseline's median; errors: percentage points. */
  tolerance: { latency: number; errors: number };
}

export type AnalysisVerdict = "PASS" | "FAIL" | "INCONCLUSIVE";

export interface SideFigures {
  attempts: number;
  failures: number;
  /** 0–1 */
  errorRate: number;
  /** ms, nearest rank; 0 when nothing was answered. */
  p50: number;
  p90: number;
  p99: number;
}

export interface Comparison {
  u: number;
  z?: number;
  pValue: number;
  method: "exact" | "normal";
  /**
   * Latency: Hodges–Lehmann shift of the canary relative to the baseline's median, in percent; errors: canary −
   * baseline rate, in points.
   */
  effect: number;
  /** Latency only: the Hodges–Lehmann shift in ms, the numerator of `effect`. */
  shiftMs?: number;
  /** pValue < alpha */
  significant: boolean;
  /** Significant and the effect beyond the tolerance. */
  worse: boolean;
  /** Why the comparison could not be made or does not count (a side with no answer), when so. */
  skipped?: string;
}

export interface AnalysisResult {
  verdict: AnalysisVerdict;
  /** One sentence per reason for the verdict, each naming the figure and the limit. */
  reasons: string[];
  breaches: { threshold: string; actual: number; limit: number; unit: string }[];
  baseline: SideFigures;
  canary: SideFigures;
  latency: Comparison;
  errors: Comparison;
}

/** A side's latencies sorted once: percentiles, medians and the Hodges–Lehmann estimate all read from it. */
interface Side {
  samples: SideSamples;
  sorted: Float64Array;
  figures: SideFigures;
}

export function analyse(input: AnalysisInput): AnalysisResult {
  const baseline = sideOf(input.baseline);
  const canary = sideOf(input.canary);
  const baselineDead = input.baseline.attempts > 0 && successes(input.baseline) === 0;
  // Against a baseline that answered nothing successfully, "worse than the baseline" means nothing.
  const noBaseline = baselineDead
    ? `the baseline answered none of its ${input.baseline.attempts} requests successfully`
    : undefined;
  const latency = compareLatency(input, canary, baseline, noBaseline);
  const errors = compareErrors(input, noBaseline);
  const base = { baseline: baseline.figures, canary: canary.figures, latency, errors, breaches: [] };

  const few = (["baseline", "canary"] as const).filter((side) => input[side].attempts < input.minSamples);
  if (few.length > 0) {
    const reasons = few.map(
      (side) =>
        `too few samples: the ${side} gave ${input[side].attempts} requests, fewer than minSamples ${input.minSamples} (raise rollout.analysis.sampleRate or rollout.analysis.interval)`,
    );
    return { ...base, verdict: "INCONCLUSIVE", reasons };
  }

  const reasons: string[] = [];
  const breaches: AnalysisResult["breaches"] = [];
  const subject = subjectOf(canary);
  for (const threshold of input.rollbackOn) {
    if (threshold.metric.kind === "rps" && Number.isNaN(subject.rps)) {
      reasons.push(
        `rollbackOn ${threshold.source} cannot be judged: the length of the interval, hence the canary's request rate, is not known`,
      );
      continue;
    }
    const outcome = evaluateThreshold(threshold, subject);
    // `passed` means the condition holds: for a rollbackOn, that is a breach.
    if (!outcome.passed) continue;
    breaches.push({
      threshold: threshold.source,
      actual: outcome.actual,
      limit: outcome.limit,
      unit: outcome.unit,
    });
    reasons.push(`canary ${outcome.description} (rollbackOn ${threshold.source})`);
  }
  if (noBaseline) {
    if (breaches.length > 0) return { ...base, breaches, verdict: "FAIL", reasons };
    reasons.push(
      `${noBaseline}: there is nothing to compare the canary with, and no rollbackOn condition holds`,
    );
    return { ...base, verdict: "INCONCLUSIVE", reasons };
  }
  const cf = canary.figures;
  const bf = baseline.figures;
  const worse: string[] = [];
  if (latency.worse) {
    worse.push(
      `canary latency is worse than the baseline's: Hodges–Lehmann shift ${signed(latency.shiftMs ?? 0)}ms, ${signed(latency.effect)}% of the baseline median ${round(bf.p50)}ms (canary median ${round(cf.p50)}ms), beyond the tolerance of ${input.tolerance.latency}%; Mann–Whitney p=${pText(latency.pValue)} < alpha ${input.alpha}`,
    );
  }
  if (errors.worse) {
    worse.push(
      `canary fails more often than the baseline: ${percent(cf.errorRate)}% vs ${percent(bf.errorRate)}% (${signed(errors.effect)} points, beyond the tolerance of ${points(input.tolerance.errors)}); Mann–Whitney p=${pText(errors.pValue)} < alpha ${input.alpha}`,
    );
  } else if (successes(input.canary) === 0) {
    // Too few attempts for significance must not let a canary that answers nothing through.
    worse.push(
      `the canary answered none of its ${input.canary.attempts} requests successfully, while the baseline failed ${percent(bf.errorRate)}%`,
    );
  }
  if (breaches.length > 0 || worse.length > 0) {
    return { ...base, breaches, verdict: "FAIL", reasons: [...reasons, ...worse] };
  }

  reasons.push(
    `canary p50 ${round(cf.p50)}ms / p99 ${round(cf.p99)}ms / errors ${percent(cf.errorRate)}% against baseline p50 ${round(bf.p50)}ms / p99 ${round(bf.p99)}ms / errors ${percent(bf.errorRate)}%: no rollbackOn condition holds, latency shift ${signed(latency.effect)}% (tolerance ${input.tolerance.latency}%, p=${pText(latency.pValue)}), errors ${signed(errors.effect)} points (tolerance ${points(input.tolerance.errors)}, p=${pText(errors.pValue)})`,
  );
  return { ...base, verdict: "PASS", reasons };
}

function successes(side: SideSamples): number {
  return Math.max(0, side.attempts - side.failures);
}

function sideOf(samples: SideSamples): Side {
  // A typed array sorts numerically (an Array would sort as strings).
  const sorted = Float64Array.from(samples.latenciesMs).sort();
  return {
    samples,
    sorted,
    figures: {
      attempts: samples.attempts,
      failures: samples.failures,
      errorRate: samples.attempts === 0 ? 0 : Math.min(1, samples.failures / samples.attempts),
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p99: percentile(sorted, 99),
    },
  };
}

/** Nearest rank: the smallest value with at least p % of the samples at or below it (as HDR histograms report). */
function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

/** The canary's figures as a threshold sees them; `rps` is NaN when the interval's length is not known. */
function subjectOf(side: Side): ThresholdSubject {
  const { sorted, samples, figures } = side;
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    latencyAt: (p) => percentile(sorted, p),
    avg: sorted.length === 0 ? 0 : sum / sorted.length,
    max: sorted.length === 0 ? 0 : (sorted[sorted.length - 1] as number),
    min: sorted.length === 0 ? 0 : (sorted[0] as number),
    errorRate: figures.errorRate,
    rps:
      samples.durationMs && samples.durationMs > 0
        ? samples.attempts / (samples.durationMs / 1000)
        : Number.NaN,
  };
}

function compareLatency(input: AnalysisInput, canary: Side, baseline: Side, noBaseline?: string): Comparison {
  const c = input.canary.latenciesMs;
  const b = input.baseline.latenciesMs;
  if (c.length === 0 || b.length === 0) {
    return skipped(`the ${c.length === 0 ? "canary" : "baseline"} answered nothing`);
  }
  const test = mannWhitneyGreater(c, b);
  const baseMedian = percentile(baseline.sorted, 50);
  // A baseline answering in no measurable time: relative to 1 µs rather than a division by zero.
  const shiftMs = hodgesLehmannShift(canary.sorted, baseline.sorted);
  const effect = (shiftMs / Math.max(baseMedian, 0.001)) * 100;
  const significant = test.pValue < input.alpha;
  if (noBaseline) return { ...test, effect, shiftMs, significant, worse: false, skipped: noBaseline };
  return { ...test, effect, shiftMs, significant, worse: significant && effect > input.tolerance.latency };
}

function compareErrors(input: AnalysisInput, noBaseline?: string): Comparison {
  const c = input.canary;
  const b = input.baseline;
  if (c.attempts === 0 || b.attempts === 0)
    return skipped(`the ${c.attempts === 0 ? "canary" : "baseline"} sent nothing`);
  // Each attempt is an outcome, 1 failed / 0 answered: MWU on them is a two-proportion test with tie correction.
  const test = mannWhitneyGreater(outcomes(c), outcomes(b));
  const effect = (Math.min(1, c.failures / c.attempts) - Math.min(1, b.failures / b.attempts)) * 100;
  const significant = test.pValue < input.alpha;
  if (noBaseline) return { ...test, effect, significant, worse: false, skipped: noBaseline };
  return { ...test, effect, significant, worse: significant && effect > input.tolerance.errors };
}

function outcomes(side: SideSamples): number[] {
  const values = new Array<number>(side.attempts).fill(0);
  values.fill(1, 0, Math.min(side.failures, side.attempts));
  return values;
}

function skipped(why: string): Comparison {
  return { u: 0, pValue: 1, method: "normal", effect: 0, significant: false, worse: false, skipped: why };
}

/** Order statistics kept per side for Hodges–Lehmann: 1000 × 1000 pairwise differences (a few tens of ms). */
const HL_POINTS = 1000;

/**
 * Hodges–Lehmann shift: the median of all canary − baseline differences, the estimate that goes with Mann–Whitney.
 * Past HL_POINTS samples a side, all pairs (10¹⁰ for 100k each) are too many: each side is thinned to HL_POINTS evenly
 * spaced order statistics (its quantiles), which keeps the shape of both distributions and so the estimate.
 */
export function hodgesLehmannShift(canarySorted: Float64Array, baselineSorted: Float64Array): number {
  const c = quantiles(canarySorted, HL_POINTS);
  const b = quantiles(baselineSorted, HL_POINTS);
  const differences = new Float64Array(c.length * b.length);
  let k = 0;
  for (const x of c) for (const y of b) differences[k++] = x - y;
  differences.sort();
  const mid = differences.length >> 1;
  return differences.length % 2 === 1
    ? (differences[mid] as number)
    : ((differences[mid - 1] as number) + (differences[mid] as number)) / 2;
}

function quantiles(sorted: Float64Array, count: number): Float64Array {
  if (sorted.length <= count) return sorted;
  const picked = new Float64Array(count);
  for (let i = 0; i < count; i++)
    picked[i] = sorted[Math.floor(((i + 0.5) * sorted.length) / count)] as number;
  return picked;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

function percent(rate: number): number {
  return round(rate * 100);
}

function signed(n: number): string {
  return `${n >= 0 ? "+" : ""}${round(n)}`;
}

function points(n: number): string {
  return `${n} point${n === 1 ? "" : "s"}`;
}

function pText(p: number): string {
  return p < 0.0001 ? p.toExponential(1) : String(Math.round(p * 10000) / 10000);
}
