// A load run: stages in order (each ramping from the previous one's level), thresholds judged per stage and over the
// whole run, and an optional stop when a threshold marked abortOnFail fails.

import type { SecretSink } from "../../secrets/redactor.js";
import type { DistributedLoad, runDistributedStage } from "./distributed/coordinator.js";
import { createHistogram, type Histogram, type LatencySummary, summarize } from "./histogram.js";
import type { StagePlan } from "./loadLoop.js";
import { buildMix, type LoadRequest, parseEndpoint } from "./requests.js";
import { runStage, type StageResult, type TimelinePoint } from "./stage.js";
import {
  evaluateThresholds,
  parseThresholds,
  subjectOf,
  type Threshold,
  type ThresholdOutcome,
} from "./thresholds.js";

export interface StageSpec {
  name: string;
  connections?: number;
  rate?: number;
  /** ms */
  duration: number;
  rampUp?: number;
  pipelining?: number;
}

export interface LoadRunOptions {
  url: string;
  requests?: LoadRequest[];
  stages: StageSpec[];
  thresholds?: string[];
  workers?: number;
  /** Request timeout, ms. */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Where the URL's password and expanded header values are registered, so they never reach output. */
  secrets: SecretSink;
  signal?: AbortSignal;
  rejectUnauthorized?: boolean;
  /** Each stage over this many `gauntlet worker` processes reached through Redis, instead of this process's threads. */
  distributed?: DistributedLoad;
  onStageStart?: (stage: StageSpec, index: number) => void;
  onSecond?: (stage: StageSpec, point: TimelinePoint) => void;
}

export interface StageOutcome extends StageResult {
  thresholds: ThresholdOutcome[];
}

export interface LoadRunResult {
  url: string;
  stages: StageOutcome[];
  overall: {
    requests: number;
    durationMs: number;
    rps: number;
    bytes: number;
    errorRate: number;
    errors: StageResult["errors"];
    status: Record<string, number>;
    latency: LatencySummary;
    histogram: Histogram;
    thresholds: ThresholdOutcome[];
  };
  passed: boolean;
  /** Set when a threshold marked abortOnFail failed and later stages were skipped. */
  abortedBy?: string;
  /** The signal aborted the run. */
  cancelled: boolean;
}

/** Pool size for an open-model stage when none is given: enough for 100 ms answers at the rate, at least 10. */
export function defaultPool(rate: number): number {
  return Math.min(1000, Math.max(10, Math.ceil(rate / 10)));
}

export async function runLoad(options: LoadRunOptions): Promise<LoadRunResult> {
  const thresholds: Threshold[] = parseThresholds(options.thresholds ?? []);
  const endpoint = parseEndpoint(options.url, options.secrets);
  const mix = buildMix(endpoint, options.requests ?? [], options.env ?? process.env, options.secrets);
  // Loaded only for a distributed run: the coordinator brings ioredis.
  let distributed: { load: DistributedLoad; run: typeof runDistributedStage } | undefined;
  if (options.distributed) {
    options.secrets.addFromUrl(options.distributed.redis);
    const { runDistributedStage } = await import("./distributed/coordinator.js");
    distributed = { load: options.distributed, run: runDistributedStage };
  }
  const stages: StageOutcome[] = [];
  let previous: StageSpec | undefined;
  let abortedBy: string | undefined;
  for (const [index, spec] of options.stages.entries()) {
    if (options.signal?.aborted) break;
    options.onStageStart?.(spec, index);
    const plan: StagePlan = {
      name: spec.name,
      durationMs: spec.duration,
      connections: spec.connections ?? defaultPool(spec.rate ?? 0),
      ...(spec.rate !== undefined ? { rate: spec.rate } : {}),
      ...(spec.pipelining ? { pipelining: spec.pipelining } : {}),
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
      ...(spec.rampUp ? { rampUpMs: spec.rampUp } : {}),
    };
    if (spec.rampUp && previous) {
      plan.from = {
        ...(previous.connections !== undefined ? { connections: previous.connections } : {}),
        ...(previous.rate !== undefined ? { rate: previous.rate } : {}),
      };
    }
    const stageOptions = {
      endpoint,
      mix,
      plan,
      signal: options.signal,
      rejectUnauthorized: options.rejectUnauthorized ?? true,
      onSecond: (point: TimelinePoint) => options.onSecond?.(spec, point),
    };
    const result = distributed
      ? await distributed.run({ ...stageOptions, distributed: distributed.load })
      : await runStage({ ...stageOptions, workers: options.workers ?? 1 });
    const outcome: StageOutcome = {
      ...result,
      thresholds: evaluateThresholds(thresholds, subjectOf(result)),
    };
    stages.push(outcome);
    previous = spec;
    const stop = outcome.thresholds.find((o, i) => !o.passed && thresholds[i]!.abortOnFail);
    if (stop) {
      abortedBy = `stage ${spec.name}: ${stop.description}`;
      break;
    }
  }
  const overall = combine(stages);
  const overallThresholds = evaluateThresholds(thresholds, subjectOf(overall));
  const passed =
    overallThresholds.every((o) => o.passed) && stages.every((s) => s.thresholds.every((o) => o.passed));
  return {
    url: options.url,
    stages,
    overall: { ...overall, thresholds: overallThresholds },
    passed: passed && abortedBy === undefined,
    ...(abortedBy ? { abortedBy } : {}),
    cancelled: options.signal?.aborted ?? false,
  };
}

/** All stages together: histograms added exactly, counts summed, rps over the summed durations. */
export function combine(stages: StageResult[]) {
  const histogram = createHistogram();
  const status: Record<string, number> = {};
  const errors: StageResult["errors"] = { refused: 0, reset: 0, timeout: 0, other: 0, non2xx: {}, total: 0 };
  let requests = 0;
  let durationMs = 0;
  let bytes = 0;
  let attempts = 0;
  for (const s of stages) {
    histogram.add(s.histogram);
    requests += s.requests;
    durationMs += s.durationMs;
    bytes += s.bytes;
    for (const [code, n] of Object.entries(s.status)) status[code] = (status[code] ?? 0) + n;
    for (const kind of ["refused", "reset", "timeout", "other", "total"] as const)
      errors[kind] += s.errors[kind];
    for (const [code, n] of Object.entries(s.errors.non2xx))
      errors.non2xx[code] = (errors.non2xx[code] ?? 0) + n;
    attempts += s.requests + s.errors.refused + s.errors.reset + s.errors.timeout + s.errors.other;
  }
  return {
    requests,
    durationMs,
    rps: durationMs > 0 ? Math.round((requests * 100_000) / durationMs) / 100 : 0,
    bytes,
    errorRate: attempts > 0 ? errors.total / attempts : 0,
    errors,
    status,
    latency: summarize(histogram),
    histogram,
  };
}
