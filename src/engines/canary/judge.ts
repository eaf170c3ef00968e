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
  /** ms; 0 when nothing was answered. */
  p50: number;
  p90: number;
  p99: number;
}

export interface Comparison {
  u: number;
  z?: number;
  pValue: number;
  method: "exact" | "normal";
  /** Latency: canary median relative to the baseline median − 1, in percent; errors: canary − baseline rate, in points. */
  effect: number;
  /** pValue < alpha */
  significant: boolean;
  /** Significant and the effect beyond the tolerance. */
  worse: boolean;
  /** Why the comparison could not be made (a side with no answer), when it could not. */
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

export function analyse(input: AnalysisInput): AnalysisResult {
  const baseline = figuresOf(input.baseline);
  const canary = figuresOf(input.canary);
  const latency = compareLatency(input);
  const errors = compareErrors(input);
  const base = { baseline, canary, latency, errors, breaches: [] };
  const few = (["baseline", "canary"] as const).filter((side) => input[side].attempts < input.minSamples);
  if (few.length > 0) {
    const reasons = few.map(
      (side) =>
        `too few samples: the ${side} gave ${input[side].attempts} requests, fewer than minSamples ${input.minSamples} (raise analysis.sampleRate or the interval)`,
    );
    return { ...base, verdict: "INCONCLUSIVE", reasons };
  }

  const reasons: string[] = [];
  const breaches: AnalysisResult["breaches"] = [];
  const subject = subjectOf(input.canary, canary);
  for (const threshold of input.rollbackOn) {
    if (threshold.metric.kind === "rps" && Number.isNaN(subject.rps)) {
      reasons.push(
        `rollbackOn ${threshold.source} cannot be judged: the canary's request rate is not known here`,
      );
      continue;
    }
    const outcome = evaluateThreshold(threshold, subject);
    if (outcome.passed) {
      breaches.push({
        threshold: threshold.source,
        actual: outcome.actual,
        limit: outcome.limit,
        unit: outcome.unit,
      });
      reasons.push(`canary ${outcome.description} (rollbackOn ${threshold.source})`);
    }
  }
  if (latency.worse) {
    reasons.push(
      `canary latency is worse than the baseline's: median ${round(median(input.canary.latenciesMs))}ms vs ${round(median(input.baseline.latenciesMs))}ms (+${round(latency.effect)}%, tolerance ${input.tolerance.latency}%; Mann–Whitney p=${pText(latency.pValue)} < ${input.alpha})`,
    );
  }
  if (errors.worse) {
    reasons.push(
      `canary fails more often than the baseline: ${round(canary.errorRate * 100)}% vs ${round(baseline.errorRate * 100)}% (+${round(errors.effect)} points, tolerance ${input.tolerance.errors}; Mann–Whitney p=${pText(errors.pValue)} < ${input.alpha})`,
    );
  }
  if (breaches.length > 0 || latency.worse || errors.worse) {
    return { ...base, breaches, verdict: "FAIL", reasons };
  }
  if (input.baseline.attempts - input.baseline.failures <= 0) {
    reasons.push(
      `the baseline answered none of its ${input.baseline.attempts} requests successfully: there is nothing to compare the canary with`,
    );
    return { ...base, verdict: "INCONCLUSIVE", reasons };
  }
  reasons.push(
    `canary p50 ${round(canary.p50)}ms / p99 ${round(canary.p99)}ms / errors ${round(canary.errorRate * 100)}% against baseline p50 ${round(baseline.p50)}ms / p99 ${round(baseline.p99)}ms / errors ${round(baseline.errorRate * 100)}%: no rollbackOn condition holds and neither latency nor errors is worse beyond the tolerance`,
  );
  return { ...base, verdict: "PASS", reasons };
}

function figuresOf(side: SideSamples): SideFigures {
  const sorted = Float64Array.from(side.latenciesMs).sort();
  return {
    attempts: side.attempts,
    failures: side.failures,
    errorRate: side.attempts === 0 ? 0 : side.failures / side.attempts,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
  };
}

/** Nearest rank: the smallest value with at least p % of the samples at or below it (as HDR histograms report). */
function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

function median(values: readonly number[]): number {
  return percentile(Float64Array.from(values).sort(), 50);
}

/** The canary's figures as a threshold sees them; `rps` is NaN when the interval's length is not known. */
function subjectOf(side: SideSamples, figures: SideFigures): ThresholdSubject {
  const sorted = Float64Array.from(side.latenciesMs).sort();
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    latencyAt: (p) => percentile(sorted, p),
    avg: sorted.length === 0 ? 0 : sum / sorted.length,
    max: sorted.length === 0 ? 0 : (sorted[sorted.length - 1] as number),
    min: sorted.length === 0 ? 0 : (sorted[0] as number),
    errorRate: figures.errorRate,
    rps: side.durationMs ? side.attempts / (side.durationMs / 1000) : Number.NaN,
  };
}

function compareLatency(input: AnalysisInput): Comparison {
  const c = input.canary.latenciesMs;
  const b = input.baseline.latenciesMs;
  if (c.length === 0 || b.length === 0) {
    const side = c.length === 0 ? "canary" : "baseline";
    return {
      u: 0,
      pValue: 1,
      method: "normal",
      effect: 0,
      significant: false,
      worse: false,
      skipped: `the ${side} answered nothing`,
    };
  }
  const test = mannWhitneyGreater(c, b);
  const baseMedian = median(b);
  // A baseline answering in no measurable time: compare against 1 µs rather than divide by zero.
  const effect = ((median(c) - baseMedian) / Math.max(baseMedian, 0.001)) * 100;
  const significant = test.pValue < input.alpha;
  return { ...test, effect, significant, worse: significant && effect > input.tolerance.latency };
}

function compareErrors(input: AnalysisInput): Comparison {
  const outcomes = (side: SideSamples) => {
    const values = new Array<number>(side.attempts).fill(0);
    for (let i = 0; i < Math.min(side.failures, side.attempts); i++) values[i] = 1;
    return values;
  };
  const c = input.canary;
  const b = input.baseline;
  if (c.attempts === 0 || b.attempts === 0) {
    const side = c.attempts === 0 ? "canary" : "baseline";
    return {
      u: 0,
      pValue: 1,
      method: "normal",
      effect: 0,
      significant: false,
      worse: false,
      skipped: `the ${side} sent nothing`,
    };
  }
  const test = mannWhitneyGreater(outcomes(c), outcomes(b));
  const effect = (c.failures / c.attempts - b.failures / b.attempts) * 100;
  const significant = test.pValue < input.alpha;
  return { ...test, effect, significant, worse: significant && effect > input.tolerance.errors };
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

function pText(p: number): string {
  return p < 0.0001 ? p.toExponential(1) : String(Math.round(p * 10000) / 10000);
}
