// Capacity search: a short closed-model burst finds the ceiling (burst capacity); then open-model steps at rising
// fractions of it find the highest arrival rate that still meets the thresholds (sustained capacity) and the knee,
// where p99 first climbs past twice its value at the lowest step. Total time is bounded by the step count × step time.
import type { SecretSink } from "../../secrets/redactor.js";
import type { LoadRequest } from "./requests.js";
import { type LoadRunResult, runLoad } from "./run.js";

export const CAPACITY_FRACTIONS = [0.25, 0.5, 0.7, 0.85, 1, 1.15] as const;

export interface CapacityOptions {
  url: string;
  requests?: LoadRequest[];
  thresholds: string[];
  /** Connections for the burst and the pool of the steps. */
  connections: number;
  burstMs: number;
  stepMs: number;
  env?: NodeJS.ProcessEnv;
  secrets: SecretSink;
  signal?: AbortSignal;
  onStep?: (message: string) => void;
}

export interface CapacityStep {
  rate: number;
  achievedRps: number;
  p50: number;
  p99: number;
  errorRate: number;
  dropped: number;
  passed: boolean;
  failures: string[];
}

export interface CapacityResult {
  /** Closed-model maximum, req/s. */
  burst: number;
  burstP99: number;
  /** Highest step rate that met every threshold and was actually delivered; 0 when none. */
  sustained: number;
  /** Step rate where p99 first exceeded twice the lowest step's p99, or the first failing step. */
  knee: number | null;
  steps: CapacityStep[];
  cancelled: boolean;
}

/** A step counts only when the server took (nearly) all the arrivals: 98 % of the rate, few dropped. */
const DELIVERED = 0.98;

export async function findCapacity(options: CapacityOptions): Promise<CapacityResult> {
  const common = {
    url: options.url,
    requests: options.requests ?? [],
    env: options.env ?? process.env,
    secrets: options.secrets,
    signal: options.signal,
  };
  const burstRun = await runLoad({
    ...common,
    stages: [{ name: "burst", connections: options.connections, duration: options.burstMs }],
  });
  const burstStage = burstRun.stages[0];
  const burst = burstStage?.rps ?? 0;
  const result: CapacityResult = {
    burst,
    burstP99: burstStage?.latency.p99 ?? 0,
    sustained: 0,
    knee: null,
    steps: [],
    cancelled: burstRun.cancelled,
  };
  options.onStep?.(`burst: ${burst} req/s with ${options.connections} connections`);
  if (burst <= 0 || burstRun.cancelled) return result;

  for (const fraction of CAPACITY_FRACTIONS) {
    const rate = Math.max(1, Math.round(burst * fraction));
    const run: LoadRunResult = await runLoad({
      ...common,
      thresholds: options.thresholds,
      stages: [{ name: `rate-${rate}`, rate, connections: options.connections, duration: options.stepMs }],
    });
    if (run.cancelled) {
      result.cancelled = true;
      break;
    }
    const stage = run.stages[0]!;
    const failures = stage.thresholds.filter((t) => !t.passed).map((t) => t.description);
    const expected = (rate * stage.durationMs) / 1000;
    const delivered =
      stage.requests + stage.errors.total - (stage.errors.non2xx ? sumOf(stage.errors.non2xx) : 0);
    if (delivered < expected * DELIVERED) {
      failures.push(`delivered ${Math.round(delivered)} of ${Math.round(expected)} arrivals`);
    }
    const step: CapacityStep = {
      rate,
      achievedRps: stage.rps,
      p50: stage.latency.p50,
      p99: stage.latency.p99,
      errorRate: stage.errorRate,
      dropped: stage.dropped,
      passed: failures.length === 0,
      failures,
    };
    result.steps.push(step);
    options.onStep?.(
      `rate ${rate}/s: ${stage.rps} req/s, p99 ${stage.latency.p99} ms${step.passed ? "" : ` (${failures.join(", ")})`}`,
    );
    if (!step.passed) break; // past the first failing step the service only gets worse
    result.sustained = rate;
  }
  result.knee = kneeOf(result.steps);
  return result;
}

/**
 * The first step from which every later step is degraded (p99 over twice the lowest step's, or failing): one noisy
 * step in the middle of good ones is not a knee.
 */
export function kneeOf(steps: readonly CapacityStep[]): number | null {
  if (steps.length === 0) return null;
  const base = Math.max(steps[0]!.p99, 0.001);
  const degraded = (s: CapacityStep) => !s.passed || s.p99 > 2 * base;
  let knee: number | null = null;
  for (let i = steps.length - 1; i >= 1; i--) {
    if (!degraded(steps[i]!)) break;
    knee = steps[i]!.rate;
  }
  return knee;
}

function sumOf(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}
