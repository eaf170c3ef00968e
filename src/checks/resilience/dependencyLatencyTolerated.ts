// Does the system tolerate a slow dependency? Add real latency (default 200 ms each way) at the fault proxy in front
// of each dependency for a while: the dependants must stay up with errors under the threshold, services that do not
// use the dependency must not suffer (no cascade), and all must be healthy again soon after the toxic is removed.
import { type CheckContext, defineCheck, type FindingInput, notApplicable } from "../../core/types.js";
import { runExperiment } from "../../engines/experiments/experiment.js";
import { registerToxic } from "../../engines/experiments/fault.js";
import {
  experimentMeasurements,
  noTrafficThrough,
  proxyTraffic,
  saveJournal,
  seconds,
} from "../../engines/experiments/record.js";
import {
  DEFAULT_RECOVER_WITHIN_MS,
  dependencies,
  experimentsFor,
  hypothesisProbes,
  noExperimentReason,
  type PlannedExperiment,
  probesAround,
  proxyApiFor,
} from "../../engines/experiments/resilienceSpec.js";
import { remoteToxics } from "../../engines/faults/proxy/proxyClient.js";
import type { Spec } from "../../spec/schema.js";

const DEFAULT_LATENCY_MS = 200;
const DEFAULT_DURATION_MS = 5_000;
/** Share of dependant probes that may fail while the dependency is slow. */
const MAX_ERROR_RATIO = 0.1;

function planned(spec: Spec): PlannedExperiment[] {
  return experimentsFor(spec, ["latency"], () =>
    dependencies(spec).map((name) => ({
      name: `${name}-latency`,
      target: name,
      fault: "latency" as const,
      latencyMs: DEFAULT_LATENCY_MS,
      durationMs: DEFAULT_DURATION_MS,
      recoverWithinMs: DEFAULT_RECOVER_WITHIN_MS,
    })),
  );
}

export default defineCheck({
  meta: {
    id: "dependencyLatencyTolerated",
    category: "resilience",
    risk: "high",
    destructive: true,
    title: "Slow dependency tolerated",
    objective: `With ${DEFAULT_LATENCY_MS} ms added to a dependency, dependants stay up with under ${MAX_ERROR_RATIO * 100}% errors, nothing else degrades, and all recover.`,
    remediation: {
      effort: "medium",
      text: "Give {{service}}'s clients timeouts above its normal latency, bounded pools and retries with backoff, so a slow {{service}} slows its dependants without failing them or what they serve.",
    },
    timeoutMs: 10 * 60_000,
  },

  applies(spec) {
    return planned(spec).length > 0
      ? true
      : notApplicable(noExperimentReason(spec, ["latency"], "no service has a dependency (dependsOn)"));
  },

  async run(ctx) {
    const findings: FindingInput[] = [];
    for (const experiment of planned(ctx.spec)) {
      if (ctx.signal.aborted) break;
      findings.push(await slowDown(ctx, experiment));
    }
    return findings;
  },
});

async function slowDown(ctx: CheckContext, experiment: PlannedExperiment): Promise<FindingInput> {
  const dependency = experiment.target;
  const latency = experiment.latencyMs ?? DEFAULT_LATENCY_MS;
  const base = {
    subject: dependency,
    data: { service: dependency, experiment: experiment.name, latencyMs: latency },
  };
  const { dependants, bystanders } = probesAround(ctx.spec, dependency);
  if (dependants.length === 0) {
    return {
      ...base,
      status: "UNVERIFIED",
      message: `${dependency}: no service that depends on it has a health endpoint to watch`,
      toVerify: `give the services that depend on ${dependency} a health endpoint that uses it`,
    };
  }
  const api = proxyApiFor(ctx.spec, dependency);
  if (!api) {
    return {
      ...base,
      status: "UNVERIFIED",
      message: `${dependency}: no fault proxy carries its traffic, so latency cannot be added`,
      toVerify: `route its dependants through \`gauntlet proxy --listen … --upstream …\` and name its control API in resilience.proxies.${dependency}.api`,
    };
  }
  const proxy = remoteToxics(api);
  const fault = registerToxic(ctx.rollbacks, ctx.signal, proxy, [
    {
      name: `gauntlet-latency-up-${dependency}`,
      type: "latency",
      stream: "upstream",
      attributes: { latency: latency / 2 },
    },
    {
      name: `gauntlet-latency-down-${dependency}`,
      type: "latency",
      stream: "downstream",
      attributes: { latency: latency / 2 },
    },
  ]);
  const holdMs = experiment.durationMs ?? DEFAULT_DURATION_MS;
  const trafficBefore = await proxyTraffic(proxy);
  const result = await runExperiment({
    name: experiment.name,
    probes: [
      ...[...dependants, ...bystanders].map((p) => p.probe),
      ...hypothesisProbes(ctx.spec, experiment),
    ],
    inject: fault.inject,
    revert: fault.revert,
    holdMs,
    recoverWithinMs: experiment.recoverWithinMs,
    signal: ctx.signal,
  });
  const trafficAfter = await proxyTraffic(proxy);
  const during = result.journal.entries.filter((e) => e.phase === "during" && e.kind === "probe");
  const dependantNames = new Set(dependants.map((p) => p.probe.name));
  const dependantProbes = during.filter((e) => dependantNames.has(e.name));
  const errors = dependantProbes.filter((e) => !e.ok).length;
  const ratio = dependantProbes.length ? errors / dependantProbes.length : 0;
  const bystanderNames = new Set(bystanders.map((p) => p.probe.name));
  const cascaded = [...new Set(during.filter((e) => bystanderNames.has(e.name) && !e.ok).map((e) => e.name))];
  // The spec's own PromQL steady state (if any) is neither dependant nor bystander: it must simply hold.
  const brokenHypotheses = [
    ...new Set(
      during
        .filter((e) => !dependantNames.has(e.name) && !bystanderNames.has(e.name) && !e.ok)
        .map((e) => e.name),
    ),
  ];
  const evidence = await saveJournal(ctx.evidence, `${dependency}-latency.json`, result, {
    dependency,
    latencyMs: latency,
    holdMs,
    via: proxy.where,
    dependants: dependants.map((p) => p.name),
    bystanders: bystanders.map((p) => p.name),
  });
  const measurements = [
    ...experimentMeasurements(result, evidence, experiment.recoverWithinMs),
    { name: "error_ratio_during_fault", value: Math.round(ratio * 1000) / 10, unit: "%", evidence },
    { name: "added_latency", value: latency, unit: "ms", evidence },
  ];
  const withEvidence = { ...base, evidence: [evidence], measurements };
  if (!result.steadyBefore) {
    return {
      ...withEvidence,
      status: "UNVERIFIED",
      message: `${dependency}: the system was not healthy before the fault, so tolerance cannot be judged`,
      toVerify: "make every health endpoint answer 2xx before the assessment",
    };
  }
  if (!result.injected) {
    return {
      ...withEvidence,
      status: "ERROR",
      message: `${dependency}: ${result.error ?? "latency not added"}`,
    };
  }
  if (noTrafficThrough(trafficBefore, trafficAfter) || dependantProbes.length === 0) {
    return {
      ...withEvidence,
      status: "UNVERIFIED",
      message: noTrafficThrough(trafficBefore, trafficAfter)
        ? `${dependency}: no traffic went through ${proxy.where} during the experiment, so the latency reached nobody`
        : `${dependency}: no dependant was probed while the latency was in place`,
      toVerify: `point the dependants' ${dependency} address at the proxy's listen address, then run again`,
    };
  }
  const problems: string[] = [];
  if (ratio > MAX_ERROR_RATIO) {
    problems.push(
      `${errors}/${dependantProbes.length} dependant probes failed (over ${MAX_ERROR_RATIO * 100}%)`,
    );
  }
  if (cascaded.length) problems.push(`cascade: ${cascaded.join(", ")} failed too`);
  if (brokenHypotheses.length) problems.push(`steady state broken: ${brokenHypotheses.join(", ")}`);
  if (!result.recovered)
    problems.push(`not healthy again within ${seconds(experiment.recoverWithinMs)} of removal`);
  const head = `${dependency} +${latency} ms for ${seconds(holdMs)}`;
  if (problems.length) return { ...withEvidence, status: "FAIL", message: `${head}: ${problems.join("; ")}` };
  return {
    ...withEvidence,
    status: "PASS",
    message: `${head}: ${errors}/${dependantProbes.length} dependant probes failed, no cascade, healthy ${seconds(result.timeToRecoverMs ?? 0)} after removal`,
  };
}
