// Does a service survive being overloaded? Drive it well past capacity (many concurrent clients back to back) for a
// while: it may shed (429/503) or slow down, but must not crash, refuse or reset connections, or error beyond the
// threshold, and must be healthy again soon after the load stops.
import { type CheckContext, defineCheck, type FindingInput, notApplicable } from "../../core/types.js";
import { runExperiment } from "../../engines/experiments/experiment.js";
import { registerFault } from "../../engines/experiments/fault.js";
import { experimentMeasurements, saveJournal, seconds } from "../../engines/experiments/record.js";
import {
  DEFAULT_RECOVER_WITHIN_MS,
  experimentsFor,
  healthProbe,
  hypothesisProbes,
  isDatastore,
  noExperimentReason,
  type PlannedExperiment,
} from "../../engines/experiments/resilienceSpec.js";
import { type OverloadTally, type RunningOverload, startOverload } from "../../engines/faults/overload.js";
import type { Spec } from "../../spec/schema.js";

const CONCURRENCY = 256;
const DEFAULT_DURATION_MS = 5_000;
/** Share of requests that may fail other than by shedding (timeouts, 5xx other than 503, refused, reset). */
const MAX_ERROR_RATIO = 0.05;

function planned(spec: Spec): PlannedExperiment[] {
  return experimentsFor(spec, ["overload"], () => {
    const target = spec.performance?.target;
    const names = target
      ? [target]
      : Object.entries(spec.services)
          .filter(([name, s]) => s.health && s.url && !isDatastore(spec, name))
          .map(([name]) => name);
    return names.map((name) => ({
      name: `${name}-overload`,
      target: name,
      fault: "overload" as const,
      durationMs: DEFAULT_DURATION_MS,
      recoverWithinMs: DEFAULT_RECOVER_WITHIN_MS,
    }));
  });
}

export default defineCheck({
  meta: {
    id: "overloadShedGracefully",
    category: "resilience",
    risk: "high",
    destructive: true,
    title: "Overload shed gracefully",
    objective: `Under ${CONCURRENCY} concurrent clients the service sheds (429/503) or slows but does not crash or error beyond ${MAX_ERROR_RATIO * 100}%, and recovers.`,
    remediation: {
      effort: "medium",
      text: "Bound {{service}}'s concurrency (a limit on in-flight requests or a queue with a deadline) and answer 429/503 with Retry-After beyond it, instead of accepting work it cannot finish.",
    },
    timeoutMs: 5 * 60_000,
  },

  applies(spec) {
    return planned(spec).length > 0
      ? true
      : notApplicable(
          noExperimentReason(spec, ["overload"], "no http service with a url and a health endpoint"),
        );
  },

  async run(ctx) {
    const findings: FindingInput[] = [];
    for (const experiment of planned(ctx.spec)) {
      if (ctx.signal.aborted) break;
      findings.push(await overload(ctx, experiment));
    }
    return findings;
  },
});

function requestUrl(spec: Spec, name: string): string | null {
  const service = spec.services[name];
  if (!service?.url || !/^https?:/.test(service.url)) return null;
  const path =
    spec.performance?.target === name
      ? (spec.performance.requests?.find((r) => r.method === "GET")?.path ?? service.health)
      : service.health;
  return new URL(path ?? "/", service.url).href;
}

async function overload(ctx: CheckContext, experiment: PlannedExperiment): Promise<FindingInput> {
  const service = experiment.target;
  const base = { subject: service, data: { service, experiment: experiment.name } };
  const probe = healthProbe(ctx.spec, service);
  const url = requestUrl(ctx.spec, service);
  if (!probe || !url || url.startsWith("https:")) {
    return {
      ...base,
      status: "UNVERIFIED",
      message: `${service}: needs an http url and a health endpoint to be overloaded and watched`,
      toVerify: `give services.${service}.url (http) and services.${service}.health`,
    };
  }
  let load: RunningOverload | null = null;
  let tally: OverloadTally | null = null;
  const holdMs = experiment.durationMs ?? DEFAULT_DURATION_MS;
  const fault = registerFault(
    ctx.rollbacks,
    ctx.signal,
    `stop the load on ${service}`,
    async () => {
      load = startOverload({ url, concurrency: CONCURRENCY, maxDurationMs: holdMs + 5_000 });
    },
    async () => {
      if (load && !tally) tally = await load.stop();
    },
  );
  const target = ctx.targets.get(service);
  const pidBefore = await target?.pid();
  const result = await runExperiment({
    name: experiment.name,
    probes: [probe, ...hypothesisProbes(ctx.spec, experiment)],
    inject: fault.inject,
    revert: fault.revert,
    holdMs,
    recoverWithinMs: experiment.recoverWithinMs,
    signal: ctx.signal,
  });
  const pidAfter = await target?.pid();
  const restarted = pidBefore !== undefined && pidAfter !== pidBefore;
  const t = tally as OverloadTally | null;
  const evidence = await saveJournal(ctx.evidence, `${service}-overload.json`, result, {
    service,
    url,
    concurrency: CONCURRENCY,
    holdMs,
    load: t,
    pidBefore: pidBefore ?? null,
    pidAfter: pidAfter ?? null,
  });
  const measurements = experimentMeasurements(result, evidence, experiment.recoverWithinMs);
  if (t) {
    measurements.push(
      { name: "requests", value: t.requests, unit: "count", evidence },
      { name: "throughput", value: t.rps, unit: "req/s", evidence },
      { name: "shed", value: t.shed, unit: "count", evidence },
      { name: "latency_p99", value: t.latencyMs.p99, unit: "ms", evidence },
    );
  }
  const withEvidence = { ...base, evidence: [evidence], measurements };
  if (!result.steadyBefore) {
    return {
      ...withEvidence,
      status: "UNVERIFIED",
      message: `${service}: not healthy before the load, so overload behaviour cannot be judged`,
      toVerify: `make ${service}'s health endpoint answer 2xx before the assessment`,
    };
  }
  if (!result.injected || !t) {
    return { ...withEvidence, status: "ERROR", message: `${service}: ${result.error ?? "load did not run"}` };
  }
  const errors = t.otherStatus + t.timeouts + t.refused + t.resets + t.otherErrors;
  const ratio = t.requests ? errors / t.requests : 0;
  measurements.push({ name: "error_ratio", value: Math.round(ratio * 1000) / 10, unit: "%", evidence });
  const head = `${service}: ${t.requests} requests from ${CONCURRENCY} clients in ${seconds(t.durationMs)} (${t.ok} ok, ${t.shed} shed, ${errors} errors)`;
  const problems: string[] = [];
  if (t.refused > 0 || restarted)
    problems.push("it crashed (connections refused or the process was replaced)");
  if (ratio > MAX_ERROR_RATIO)
    problems.push(`${Math.round(ratio * 1000) / 10}% errors (over ${MAX_ERROR_RATIO * 100}%)`);
  if (!result.recovered)
    problems.push(`not healthy again within ${seconds(experiment.recoverWithinMs)} after the load`);
  if (problems.length) return { ...withEvidence, status: "FAIL", message: `${head}: ${problems.join("; ")}` };
  return {
    ...withEvidence,
    status: "PASS",
    message: `${head}; p99 ${t.latencyMs.p99} ms; healthy ${seconds(result.timeToRecoverMs ?? 0)} after`,
  };
}
