// The spec's load run (performance.stages against performance.target), run once per assessment and shared by the
// checks that judge it (through ctx.shared, so a new assessment never sees an old run). Each stage's figures, encoded
// histogram and timeline go to an evidence file.
import type { CheckContext } from "../../../core/types.js";
import { encodeHistogram, type Histogram, percentileMs } from "../../../engines/load/histogram.js";
import type { LoadRequest } from "../../../engines/load/requests.js";
import {
  type LoadRunOptions,
  type LoadRunResult,
  runLoad,
  type StageSpec,
} from "../../../engines/load/run.js";

export interface SharedLoad {
  service: string;
  url: string;
  result: LoadRunResult;
  /** Evidence files written for this run, relative to the evidence root. */
  evidence: string[];
}

/** When an SLO's service has no stages of its own: a short closed-model measurement. */
export const DEFAULT_MEASUREMENT: StageSpec = { name: "slo-measurement", connections: 10, duration: 10_000 };

export interface PlannedLoad {
  service: string;
  url: string;
  requests: LoadRequest[];
  stages: StageSpec[];
  thresholds: string[];
}

/** The load the spec describes for `service`: its stages when it is performance.target, else the default. */
export function plannedLoad(ctx: CheckContext, service: string): PlannedLoad | { missing: string } {
  const svc = ctx.spec.services[service];
  if (!svc?.url) return { missing: `services.${service} has no url to send load to` };
  if (!/^https?:\/\//i.test(svc.url)) return { missing: `services.${service}.url is not an http(s) URL` };
  const perf = ctx.spec.performance;
  if (perf && perf.target === service && (perf.stages?.length ?? 0) > 0) {
    return {
      service,
      url: svc.url,
      requests: perf.requests ?? [],
      stages: perf.stages ?? [],
      thresholds: perf.thresholds ?? [],
    };
  }
  return {
    service,
    url: svc.url,
    requests: perf?.target === service ? (perf.requests ?? []) : [],
    stages: [DEFAULT_MEASUREMENT],
    thresholds: perf?.target === service ? (perf.thresholds ?? []) : [],
  };
}

/** Runs (or joins the already started) load run for a service in this assessment. */
export function serviceLoad(ctx: CheckContext, planned: PlannedLoad): Promise<SharedLoad> {
  const run = async (): Promise<SharedLoad> => {
    const result = await runWithContext(ctx, {
      url: planned.url,
      requests: planned.requests,
      stages: planned.stages,
      thresholds: planned.thresholds,
      env: ctx.env,
    });
    const evidence: string[] = [];
    for (const stage of result.stages) {
      evidence.push(
        await ctx.evidence.writeJson(
          `${planned.service}-stage-${safe(stage.name)}.json`,
          stageEvidence(stage),
        ),
      );
    }
    evidence.push(
      await ctx.evidence.writeJson(`${planned.service}-load-summary.json`, {
        url: result.url,
        stages: result.stages.map((s) => s.name),
        overall: { ...result.overall, histogram: encodeHistogram(result.overall.histogram) },
        passed: result.passed,
        abortedBy: result.abortedBy ?? null,
        cancelled: result.cancelled,
      }),
    );
    return { service: planned.service, url: planned.url, result, evidence };
  };
  // A cancelled run is not kept: the next check may try again.
  return ctx.shared.once(`load:${planned.service}`, run, (load) => !load.result.cancelled);
}

/** Runs load bound to a check: its abort signal stops the load, and a rollback stops it on every exit path. */
export function runWithContext(
  ctx: CheckContext,
  options: Omit<LoadRunOptions, "secrets">,
): Promise<LoadRunResult> {
  return withStoppableLoad(ctx, "stop load generation", (signal) =>
    runLoad({
      ...options,
      ...distributedOf(ctx),
      secrets: ctx.secrets,
      signal,
      onStageStart: (stage) =>
        ctx.log.info(
          `stage ${stage.name}: ${stage.rate !== undefined ? `${stage.rate}/s` : `${stage.connections} connections`} for ${stage.duration} ms`,
        ),
    }),
  );
}

/** performance.distributed as runLoad takes it: every load run of the assessment over the spec's workers. */
function distributedOf(ctx: CheckContext): Pick<LoadRunOptions, "distributed"> {
  const d = ctx.spec.performance?.distributed;
  if (!d) return {};
  return {
    distributed: {
      redis: d.redis,
      workers: d.workers,
      ...(d.prefix !== undefined ? { prefix: d.prefix } : {}),
      ...(d.wait !== undefined ? { waitMs: d.wait } : {}),
    },
  };
}

/** Runs `generate` with a signal that follows the check's and is aborted by a rollback on every exit path. */
export async function withStoppableLoad<T>(
  ctx: CheckContext,
  rollbackName: string,
  generate: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  ctx.signal.addEventListener("abort", onAbort, { once: true });
  if (ctx.signal.aborted) controller.abort();
  const stop = ctx.rollbacks.add(rollbackName, () => controller.abort());
  try {
    return await generate(controller.signal);
  } finally {
    ctx.signal.removeEventListener("abort", onAbort);
    await stop.runNow();
  }
}

/** Latency at each percentile (ms), keyed by the percentile as written (`"99.9"`), for an observation to carry. */
export function latencyAt(histogram: Histogram, percentiles: Iterable<number>): Record<string, number> {
  const at: Record<string, number> = {};
  for (const p of [...new Set(percentiles)].sort((a, b) => a - b)) at[String(p)] = percentileMs(histogram, p);
  return at;
}

export function stageEvidence(stage: LoadRunResult["stages"][number]) {
  return {
    name: stage.name,
    model: stage.model,
    connections: stage.connections,
    rate: stage.rate ?? null,
    pipelining: stage.pipelining,
    startedAt: stage.startedAt,
    durationMs: stage.durationMs,
    requests: stage.requests,
    rps: stage.rps,
    bytes: stage.bytes,
    status: stage.status,
    errors: stage.errors,
    errorRate: stage.errorRate,
    latencyMs: stage.latency,
    /** Open model: how late the generator released each request against its schedule (part of latencyMs). */
    generatorLatenessMs: stage.lateness ?? null,
    queued: stage.queued,
    thresholds: stage.thresholds,
    dropped: stage.dropped,
    unfinished: stage.unfinished,
    timeline: stage.timeline,
    /** HdrHistogram, compressed base64 (µs): decode with any HdrHistogram library to recompute any percentile. */
    histogram: encodeHistogram(stage.histogram),
  };
}

function safe(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]+/g, "-");
}
