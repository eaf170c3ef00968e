// Does a service survive being overloaded? Drive it well past capacity (many concurrent clients back to back) for a
// while: it may shed (429/503) or slow down, but must not crash, refuse or reset connections, or error beyond the
// threshold, and must be healthy again soon after the load stops. A PASS needs evidence that it was overloaded at
// all: it shed, queued (its median latency rose well above its unloaded one) or pushed back — 256 clients that a
// service absorbs without a flinch prove nothing about its overload behaviour.
import type { CheckContext, FindingInput } from "../../core/types.js";
import { registerFault } from "../../engines/experiments/fault.js";
import { type OverloadTally, type RunningOverload, startOverload } from "../../engines/faults/overload.js";
import { probeHttp } from "../../engines/http/probe.js";
import type { Spec } from "../../spec/schema.js";
import { defaultExperiment, type PlannedExperiment } from "./experiments/plan.js";
import { experimentProbes, targetProbe } from "./experiments/probes.js";
import { observeExperiment } from "./experiments/run.js";
import { defineExperimentCheck, type ExperimentRecord, seconds } from "./experiments/skeleton.js";

const CONCURRENCY = 256;
const DEFAULT_DURATION_MS = 5_000;
/** Share of requests that may fail other than by shedding (timeouts, 5xx other than 503, refused, reset). */
const MAX_ERROR_RATIO = 0.05;
/** Unloaded requests measured first, one at a time, to know what "slower under load" means. */
const BASELINE_REQUESTS = 20;
/** Overloaded = shed, errors, or a median this many times the unloaded one (and at least 5 ms more). */
const QUEUEING_FACTOR = 5;
const QUEUEING_MARGIN_MS = 5;

interface OverloadDetails {
  url: string;
  concurrency: number;
  /** Median latency of the unloaded requests, ms; null when none answered. */
  baselineP50Ms: number | null;
  load: OverloadTally | null;
  pidBefore: number | null;
  pidAfter: number | null;
}

function requestUrl(spec: Spec, name: string): string | null {
  const service = spec.services[name];
  if (!service?.url || !/^http:/.test(service.url)) return null;
  const path =
    spec.performance?.target === name
      ? (spec.performance.requests?.find((r) => r.method === "GET")?.path ?? service.health)
      : service.health;
  return new URL(path ?? "/", service.url).href;
}

function defaults(spec: Spec): PlannedExperiment[] {
  const target = spec.performance?.target;
  const names = target
    ? [target]
    : Object.entries(spec.services)
        .filter(([name, s]) => s.health && requestUrl(spec, name) !== null)
        .map(([name]) => name);
  return names.map((name) =>
    defaultExperiment(name, "overload", "overload", { durationMs: DEFAULT_DURATION_MS }),
  );
}

export default defineExperimentCheck<OverloadDetails>({
  meta: {
    id: "overloadShedGracefully",
    risk: "high",
    title: "Overload shed gracefully",
    objective: `Under ${CONCURRENCY} concurrent clients the service is overloaded (sheds with 429/503 or queues) but does not crash or error beyond ${MAX_ERROR_RATIO * 100}%, and recovers.`,
    remediation: {
      effort: "medium",
      text: "Bound {{service}}'s concurrency (a limit on in-flight requests or a queue with a deadline) and answer 429/503 with Retry-After beyond it, instead of accepting work it cannot finish.",
    },
    messages: {
      shedGracefully:
        "overloaded, it shed or queued without crashing, stayed within the error limit and recovered",
      crashed: "under the load it crashed: connections refused or the process replaced",
      tooManyErrors: "under the load more requests failed (other than by shedding) than the limit allows",
      notRecovered: "not healthy again within the limit after the load",
      notSaturated:
        "the load did not overload it (nothing shed, no queueing), so overload behaviour is not shown",
      noLoadServed: "no request of the load got any answer",
    },
    timeoutMs: 5 * 60_000,
  },
  faults: ["overload"],
  defaults,
  nothingToTest: "no http service with a url and a health endpoint",

  async observeOne(ctx, experiment) {
    const name = experiment.target;
    const own = targetProbe(ctx.spec, name);
    const url = requestUrl(ctx.spec, name);
    const concurrency = experiment.concurrency ?? CONCURRENCY;
    const details: OverloadDetails = {
      url: url ?? "",
      concurrency,
      baselineP50Ms: null,
      load: null,
      pidBefore: null,
      pidAfter: null,
    };
    if (!own || !url || !ctx.spec.services[name]?.health) {
      return skipped(
        experiment,
        details,
        "noProbes",
        `${name}: needs an http:// url and a health endpoint to be overloaded and watched`,
        `give services.${name}.url (http) and services.${name}.health`,
      );
    }
    details.baselineP50Ms = await unloadedMedian(ctx, url);
    let load: RunningOverload | null = null;
    const holdMs = experiment.durationMs ?? DEFAULT_DURATION_MS;
    const fault = registerFault(
      ctx.rollbacks,
      ctx.signal,
      `stop the load on ${name}`,
      async () => {
        load = startOverload({ url, concurrency, maxDurationMs: holdMs + 5_000 });
      },
      async () => {
        const running = load as RunningOverload | null;
        if (running && !details.load) details.load = await running.stop();
      },
    );
    const target = ctx.targets.get(name);
    details.pidBefore = (await target?.pid().catch(() => undefined)) ?? null;
    return observeExperiment(ctx, experiment, {
      subject: name,
      probes: [own, ...experimentProbes(ctx.spec, experiment)],
      method: {
        how: `${concurrency} concurrent clients on ${url}`,
        inject: fault.inject,
        revert: fault.revert,
        holdMs,
      },
      file: `${name}-overload.json`,
      context: { service: name, url, concurrency, holdMs },
      details: async () => {
        details.pidAfter = (await target?.pid().catch(() => undefined)) ?? null;
        return details;
      },
    });
  },

  judgeOne(record, _spec, { base, evidence, measurements }): FindingInput {
    const name = record.subject;
    const r = record.result!;
    const t = record.details.load;
    const file = evidence[0]!;
    const verdict = (
      status: "PASS" | "FAIL" | "UNVERIFIED",
      messageId: string,
      message: string,
      toVerify?: string,
    ) => ({
      ...base,
      evidence,
      measurements,
      status,
      messageId,
      message,
      ...(toVerify ? { toVerify } : {}),
    });
    if (!t)
      return verdict(
        "UNVERIFIED",
        "noLoadServed",
        `${name}: the load did not run`,
        "run the assessment again; see the evidence for the load driver's error",
      );
    const errors = t.otherStatus + t.timeouts + t.refused + t.resets + t.otherErrors;
    const ratio = t.requests ? errors / t.requests : 0;
    measurements.push(
      { name: "requests", value: t.requests, unit: "count", evidence: file },
      { name: "throughput", value: t.rps, unit: "req/s", evidence: file },
      { name: "shed", value: t.shed, unit: "count", evidence: file },
      { name: "latency_p50", value: t.latencyMs.p50, unit: "ms", evidence: file },
      { name: "latency_p99", value: t.latencyMs.p99, unit: "ms", evidence: file },
      { name: "error_ratio", value: Math.round(ratio * 1000) / 10, unit: "%", evidence: file },
    );
    const baseline = record.details.baselineP50Ms;
    if (baseline !== null)
      measurements.push({ name: "unloaded_p50", value: baseline, unit: "ms", evidence: file });
    const clients = record.details.concurrency;
    const head = `${name}: ${t.requests} requests from ${clients} clients in ${seconds(t.durationMs)} (${t.ok} ok, ${t.shed} shed, ${errors} errors)`;
    const restarted =
      record.details.pidBefore !== null && record.details.pidAfter !== record.details.pidBefore;
    if (t.refused > 0 || restarted) {
      return verdict(
        "FAIL",
        "crashed",
        `${head}: it crashed (connections refused or the process was replaced)`,
      );
    }
    if (t.ok + t.shed + t.otherStatus === 0) {
      return verdict(
        "UNVERIFIED",
        "noLoadServed",
        `${head}: no request got an answer`,
        `check that ${record.details.url} is reachable from here`,
      );
    }
    if (ratio > MAX_ERROR_RATIO) {
      return verdict(
        "FAIL",
        "tooManyErrors",
        `${head}: ${Math.round(ratio * 1000) / 10}% errors (over ${MAX_ERROR_RATIO * 100}%)`,
      );
    }
    if (!r.recovered) {
      return verdict(
        "FAIL",
        "notRecovered",
        `${head}: not healthy again within ${seconds(record.experiment.recoverWithinMs)} after the load`,
      );
    }
    const queued =
      baseline !== null &&
      t.latencyMs.p50 >= Math.max(baseline * QUEUEING_FACTOR, baseline + QUEUEING_MARGIN_MS);
    if (t.shed === 0 && errors === 0 && !queued) {
      return verdict(
        "UNVERIFIED",
        "notSaturated",
        `${head}: not overloaded — nothing shed and the median stayed at ${t.latencyMs.p50} ms (unloaded ${baseline ?? "?"} ms), so how it behaves past capacity is not shown`,
        `raise the load: resilience.experiments[] { target: ${name}, fault: overload, concurrency: ${clients * 4} }`,
      );
    }
    const how =
      t.shed > 0 ? `shed ${t.shed}` : `queued (median ${t.latencyMs.p50} ms vs ${baseline} ms unloaded)`;
    return verdict(
      "PASS",
      "shedGracefully",
      `${head}; ${how}; p99 ${t.latencyMs.p99} ms; healthy ${seconds(r.timeToRecoverMs ?? 0)} after`,
    );
  },
});

function skipped(
  experiment: PlannedExperiment,
  details: OverloadDetails,
  messageId: string,
  message: string,
  toVerify: string,
): ExperimentRecord<OverloadDetails> {
  return { experiment, subject: experiment.target, skipped: { messageId, message, toVerify }, details };
}

/** Median of unloaded requests, one at a time; null when none answered. */
async function unloadedMedian(ctx: CheckContext, url: string): Promise<number | null> {
  const latencies: number[] = [];
  for (let i = 0; i < BASELINE_REQUESTS && !ctx.signal.aborted; i++) {
    const result = await probeHttp({ url, timeoutMs: 2_000, signal: ctx.signal, maxBodyBytes: 0 }).catch(
      () => null,
    );
    if (result?.ok) latencies.push(result.latencyMs);
  }
  if (latencies.length === 0) return null;
  latencies.sort((a, b) => a - b);
  return Math.round(latencies[Math.floor(latencies.length / 2)]! * 100) / 100;
}
