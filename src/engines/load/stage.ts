// Runs one stage, in this thread (one worker: no messaging in the hot path) or split over worker threads whose
// histograms are merged exactly. Produces the figures a report quotes: rps, percentiles, errors by class, a timeline.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import {
  createHistogram,
  decodeHistogram,
  type Histogram,
  type LatencySummary,
  percentileMs,
  summarize,
} from "./histogram.js";
import { type ErrorCounts, type LoopResult, runLoop, type StagePlan } from "./loadLoop.js";
import type { WorkerInput, WorkerMessage } from "./loadWorker.js";
import type { Endpoint, RequestMix } from "./requests.js";

export interface TimelinePoint {
  second: number;
  rps: number;
  errors: number;
  /** Milliseconds. */
  p50: number;
  p99: number;
}

export interface StageErrors extends ErrorCounts {
  /** Responses with a status outside 2xx, by code. */
  non2xx: Record<string, number>;
  total: number;
}

export interface StageResult {
  name: string;
  model: "closed" | "open";
  connections: number;
  /** Open model: the target arrival rate. */
  rate?: number;
  pipelining: number;
  workers: number;
  startedAt: string;
  durationMs: number;
  requests: number;
  rps: number;
  bytes: number;
  status: Record<string, number>;
  errors: StageErrors;
  /** Share of attempts that failed (non-2xx or connection errors), 0–1. */
  errorRate: number;
  latency: LatencySummary;
  histogram: Histogram;
  /**
   * Open model: how late the generator itself released each request against its intended time, so a reader can
   * tell the generator's own jitter from the server's latency (it is part of the latency). Absent in the closed
   * model (nothing is scheduled).
   */
  lateness?: LatencySummary;
  /** Open model: requests that waited for a free connection of the pool (their wait counts in their latency). */
  queued: number;
  /** The lateness samples (µs); empty in the closed model. */
  latenessHistogram: Histogram;
  timeline: TimelinePoint[];
  dropped: number;
  unfinished: number;
  aborted: boolean;
  /** A distributed run (runDistributedStage): each worker process's own figures, in the order of its segment. */
  perWorker?: WorkerFigures[];
}

/** One worker process's share of a distributed stage; latencies in ms. */
export interface WorkerFigures {
  name: string;
  connections: number;
  /** Open model: its share of the arrival rate. */
  rate?: number;
  requests: number;
  rps: number;
  bytes: number;
  /** Non-2xx answers and connection errors. */
  errors: number;
  errorRate: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  durationMs: number;
  dropped: number;
  queued: number;
  /** Per-second snapshots received from it. */
  snapshots: number;
  /** Its clock minus Redis' (ms), measured as it took its segment; the start was corrected by it. */
  clockSkewMs: number;
  /** The round trip of that measurement: the skew is known to within half of it. */
  rttMs: number;
}

export interface StageOptions {
  endpoint: Endpoint;
  mix: RequestMix;
  plan: StagePlan;
  workers?: number;
  signal?: AbortSignal;
  rejectUnauthorized?: boolean;
  /** Each second of the stage, merged over workers. */
  onSecond?: (point: TimelinePoint) => void;
}

export async function runStage(options: StageOptions): Promise<StageResult> {
  const { plan } = options;
  const workers = Math.max(1, Math.min(options.workers ?? 1, plan.connections));
  const startedAt = new Date().toISOString();
  const timeline = new TimelineCollector(plan, workers, options.onSecond);
  let results: LoopResult[];
  if (workers === 1) {
    results = [
      await runLoop({
        endpoint: options.endpoint,
        mix: options.mix,
        plan,
        signal: options.signal,
        rejectUnauthorized: options.rejectUnauthorized,
        onTick: (t) => timeline.add(t.second, t.requests, t.errors, t.histogram),
      }),
    ];
  } else {
    const shares = split(plan, workers);
    results = await Promise.all(
      shares.map((share) =>
        runInWorker(options, share, (m) => {
          const h = m.histogram ? decodeHistogram(m.histogram) : null;
          timeline.add(m.second, m.requests, m.errors, h);
          h?.destroy();
        }),
      ),
    );
  }
  return stageResultOf(plan, workers, startedAt, results, timeline.finish());
}

/**
 * Merges per-second reports from several sources (threads or processes) into one timeline. A second's histogram
 * lives only until every source has reported it; the timeline keeps its summary, so memory stays flat however long
 * the stage runs.
 */
export class TimelineCollector {
  readonly #pending = new Map<
    number,
    { requests: number; errors: number; histogram: Histogram; reported: number }
  >();
  readonly #timeline: TimelinePoint[] = [];
  readonly #plan: StagePlan;
  readonly #sources: number;
  readonly #onSecond: ((point: TimelinePoint) => void) | undefined;

  constructor(plan: StagePlan, sources: number, onSecond?: (point: TimelinePoint) => void) {
    this.#plan = plan;
    this.#sources = sources;
    this.#onSecond = onSecond;
  }

  /** One source's figures for one second; the histogram is added (copied), not kept. */
  add(second: number, requests: number, errors: number, histogram: Histogram | null): void {
    if (this.#sources === 1 && !this.#pending.has(second)) {
      // One source: its histogram is the second's, summarised as it is (no copy of every bucket).
      const point = pointOf(second, { requests, errors, histogram: histogram ?? EMPTY });
      this.#keep(point);
      this.#onSecond?.(point);
      return;
    }
    let entry = this.#pending.get(second);
    if (!entry) {
      entry = { requests: 0, errors: 0, histogram: createHistogram(), reported: 0 };
      this.#pending.set(second, entry);
    }
    entry.requests += requests;
    entry.errors += errors;
    if (histogram) entry.histogram.add(histogram);
    entry.reported++;
    if (entry.reported === this.#sources) {
      const point = this.#settle(second);
      this.#onSecond?.(point);
    }
  }

  /** Seconds some source never reported (it finished earlier) are settled with what arrived. */
  finish(): TimelinePoint[] {
    for (const second of [...this.#pending.keys()]) this.#settle(second);
    return this.#timeline.sort((a, b) => a.second - b.second);
  }

  #settle(second: number): TimelinePoint {
    const entry = this.#pending.get(second)!;
    this.#pending.delete(second);
    const point = pointOf(second, entry);
    entry.histogram.destroy();
    this.#keep(point);
    return point;
  }

  #keep(point: TimelinePoint): void {
    if (point.rps > 0 || point.errors > 0 || point.second * 1000 <= this.#plan.durationMs)
      this.#timeline.push(point);
  }
}

/** One stage's figures from the loops that ran it (one per thread or process): counts summed, histograms merged. */
export function stageResultOf(
  plan: StagePlan,
  workers: number,
  startedAt: string,
  results: LoopResult[],
  timeline: TimelinePoint[],
): StageResult {
  const histogram = createHistogram();
  const lateness = createHistogram();
  const status: Record<string, number> = {};
  const errors: StageErrors = { refused: 0, reset: 0, timeout: 0, other: 0, non2xx: {}, total: 0 };
  let requests = 0;
  let bytes = 0;
  let durationMs = 0;
  let dropped = 0;
  let queued = 0;
  let unfinished = 0;
  let aborted = false;
  for (const r of results) {
    queued += r.queued;
    histogram.add(r.histogram);
    lateness.add(r.lateness);
    requests += r.requests;
    bytes += r.bytes;
    durationMs = Math.max(durationMs, r.durationMs);
    dropped += r.dropped;
    unfinished += r.unfinished;
    aborted ||= r.aborted;
    for (const [code, n] of Object.entries(r.status)) status[code] = (status[code] ?? 0) + n;
    for (const kind of ["refused", "reset", "timeout", "other"] as const) errors[kind] += r.errors[kind];
  }
  let non2xxTotal = 0;
  for (const [code, n] of Object.entries(status)) {
    if (!code.startsWith("2")) {
      errors.non2xx[code] = n;
      non2xxTotal += n;
    }
  }
  errors.total = errors.refused + errors.reset + errors.timeout + errors.other + non2xxTotal;
  const attempts = requests + errors.refused + errors.reset + errors.timeout + errors.other;
  const open = plan.rate !== undefined;
  return {
    name: plan.name,
    model: open ? "open" : "closed",
    connections: plan.connections,
    ...(open ? { rate: plan.rate } : {}),
    pipelining: plan.pipelining ?? 1,
    workers,
    startedAt,
    durationMs: Math.round(durationMs),
    requests,
    rps: durationMs > 0 ? round2((requests * 1000) / durationMs) : 0,
    bytes,
    status,
    errors,
    errorRate: attempts > 0 ? errors.total / attempts : 0,
    latency: summarize(histogram),
    histogram,
    ...(open ? { lateness: summarize(lateness) } : {}),
    latenessHistogram: lateness,
    timeline,
    dropped,
    queued,
    unfinished,
    aborted,
  };
}

const EMPTY = createHistogram();

function pointOf(second: number, entry: { requests: number; errors: number; histogram: Histogram }) {
  return {
    second,
    rps: entry.requests,
    errors: entry.errors,
    p50: percentileMs(entry.histogram, 50),
    p99: percentileMs(entry.histogram, 99),
  };
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

/** Splits connections and rate over workers so the shares add up exactly. */
export function split(plan: StagePlan, workers: number): StagePlan[] {
  const shares: StagePlan[] = [];
  const share = (total: number, i: number) => Math.floor(total / workers) + (i < total % workers ? 1 : 0);
  for (let i = 0; i < workers; i++) {
    const p: StagePlan = { ...plan, connections: share(plan.connections, i) };
    if (plan.rate !== undefined) p.rate = plan.rate / workers;
    if (plan.from) {
      p.from = {
        ...(plan.from.connections !== undefined ? { connections: share(plan.from.connections, i) } : {}),
        ...(plan.from.rate !== undefined ? { rate: plan.from.rate / workers } : {}),
      };
    }
    shares.push(p);
  }
  return shares.filter((p) => p.connections > 0);
}

/** The compiled worker: next to this module in dist/, or dist/ when running from the TypeScript sources (tests). */
function workerUrl(): URL {
  const here = new URL("./loadWorker.js", import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  return new URL("../../../dist/engines/load/loadWorker.js", import.meta.url);
}

function runInWorker(
  options: StageOptions,
  plan: StagePlan,
  onTick: (m: Extract<WorkerMessage, { type: "tick" }>) => void,
): Promise<LoopResult> {
  const input: WorkerInput = {
    endpoint: options.endpoint,
    mix: {
      order: options.mix.order,
      requests: options.mix.requests.map((r) => ({ ...r, buffer: new Uint8Array(r.buffer) })),
    },
    plan,
    rejectUnauthorized: options.rejectUnauthorized ?? true,
  };
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerUrl(), { workerData: input });
    const onAbort = () => worker.postMessage({ type: "abort" });
    options.signal?.addEventListener("abort", onAbort, { once: true });
    if (options.signal?.aborted) onAbort();
    let done = false;
    worker.on("message", (m: WorkerMessage) => {
      if (m.type === "tick") onTick(m);
      else {
        done = true;
        options.signal?.removeEventListener("abort", onAbort);
        resolve({
          ...m.result,
          histogram: decodeHistogram(m.result.histogram),
          lateness: decodeHistogram(m.result.lateness),
        });
      }
    });
    worker.on("error", (error) => {
      options.signal?.removeEventListener("abort", onAbort);
      reject(error);
    });
    worker.on("exit", (code) => {
      if (!done) reject(new Error(`load worker exited with code ${code} before reporting`));
    });
  });
}
