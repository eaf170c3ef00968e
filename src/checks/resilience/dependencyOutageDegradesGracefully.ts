// Does the system fail fast when a dependency vanishes? Blackhole each dependency for real — a `timeout 0` toxic on
// both directions at its fault proxy, or, without a proxy, freezing the dependency itself (SIGSTOP, container pause):
// connections stay open and nothing answers, the hardest outage for a client without timeouts. Dependants must keep
// answering (errors or degraded data are fine) within the answer limit, never hang, and recover once it is back.
import { randomBytes } from "node:crypto";
import { type CheckContext, defineCheck, type FindingInput, notApplicable } from "../../core/types.js";
import { runExperiment } from "../../engines/experiments/experiment.js";
import { type RegisteredFault, registerFault, registerToxic } from "../../engines/experiments/fault.js";
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

const DEFAULT_DURATION_MS = 5_000;
/** A dependant that takes longer than this to answer during the outage is hanging, not degrading. */
const ANSWER_LIMIT_MS = 2_000;

function planned(spec: Spec): PlannedExperiment[] {
  return experimentsFor(spec, ["blackhole", "pause"], () =>
    dependencies(spec).map((name) => ({
      name: `${name}-outage`,
      target: name,
      fault: "blackhole" as const,
      durationMs: DEFAULT_DURATION_MS,
      recoverWithinMs: DEFAULT_RECOVER_WITHIN_MS,
    })),
  );
}

export default defineCheck({
  meta: {
    id: "dependencyOutageDegradesGracefully",
    category: "resilience",
    risk: "high",
    destructive: true,
    title: "Dependency outage degrades gracefully",
    objective: `While a dependency is blackholed, dependants answer (errors or degraded data) within ${ANSWER_LIMIT_MS / 1000} s instead of hanging, and recover after.`,
    remediation: {
      effort: "medium",
      text: "Put a timeout (connect and per call) on every call from its dependants to {{service}}, fail fast or serve degraded data when it is unreachable (circuit breaker), and keep health answering quickly.",
    },
    timeoutMs: 10 * 60_000,
  },

  applies(spec) {
    return planned(spec).length > 0
      ? true
      : notApplicable(
          noExperimentReason(spec, ["blackhole", "pause"], "no service has a dependency (dependsOn)"),
        );
  },

  async run(ctx) {
    const findings: FindingInput[] = [];
    for (const experiment of planned(ctx.spec)) {
      if (ctx.signal.aborted) break;
      findings.push(await blackhole(ctx, experiment));
    }
    return findings;
  },
});

function outageFault(
  ctx: CheckContext,
  experiment: PlannedExperiment,
): { how: string; fault: RegisteredFault; traffic?: () => Promise<number | null> } | null {
  const dependency = experiment.target;
  const api = proxyApiFor(ctx.spec, dependency);
  if (api && experiment.fault !== "pause") {
    const proxy = remoteToxics(api);
    const id = randomBytes(3).toString("hex");
    const fault = registerToxic(ctx.rollbacks, ctx.signal, proxy, [
      {
        name: `gauntlet-blackhole-up-${id}`,
        type: "timeout",
        stream: "upstream",
        attributes: { timeout: 0 },
      },
      {
        name: `gauntlet-blackhole-down-${id}`,
        type: "timeout",
        stream: "downstream",
        attributes: { timeout: 0 },
      },
    ]);
    return { how: `blackholed at ${proxy.where}`, fault, traffic: () => proxyTraffic(proxy) };
  }
  const target = ctx.targets.get(dependency);
  if (!target) return null;
  const fault = registerFault(
    ctx.rollbacks,
    ctx.signal,
    `resume ${dependency}`,
    () => target.pause(),
    () => target.resume(),
  );
  return { how: `frozen (${target.kind} pause)`, fault };
}

async function blackhole(ctx: CheckContext, experiment: PlannedExperiment): Promise<FindingInput> {
  const dependency = experiment.target;
  const base = { subject: dependency, data: { service: dependency, experiment: experiment.name } };
  const { dependants } = probesAround(ctx.spec, dependency, { timeoutMs: ANSWER_LIMIT_MS });
  if (dependants.length === 0) {
    return {
      ...base,
      status: "UNVERIFIED",
      message: `${dependency}: no service that depends on it has a health endpoint to watch`,
      toVerify: `give the services that depend on ${dependency} a health endpoint that uses it`,
    };
  }
  const outage = outageFault(ctx, experiment);
  if (!outage) {
    return {
      ...base,
      status: "UNVERIFIED",
      message: `${dependency}: no fault proxy carries its traffic and Gauntlet cannot pause it`,
      toVerify: `name its fault proxy in resilience.proxies.${dependency}.api, or declare services.${dependency}.control (process or container)`,
    };
  }
  const holdMs = experiment.durationMs ?? DEFAULT_DURATION_MS;
  const trafficBefore = (await outage.traffic?.()) ?? null;
  const result = await runExperiment({
    name: experiment.name,
    probes: [...dependants.map((p) => p.probe), ...hypothesisProbes(ctx.spec, experiment)],
    inject: outage.fault.inject,
    revert: outage.fault.revert,
    holdMs,
    recoverWithinMs: experiment.recoverWithinMs,
    signal: ctx.signal,
  });
  const during = result.journal.entries.filter((e) => e.phase === "during" && e.kind === "probe");
  const hung = during.filter((e) => !e.answered || (e.latencyMs ?? 0) > ANSWER_LIMIT_MS);
  const slowest = Math.max(0, ...during.map((e) => e.latencyMs ?? 0));
  const evidence = await saveJournal(ctx.evidence, `${dependency}-outage.json`, result, {
    dependency,
    method: outage.how,
    holdMs,
    answerLimitMs: ANSWER_LIMIT_MS,
    dependants: dependants.map((p) => p.name),
  });
  const measurements = [
    ...experimentMeasurements(result, evidence, experiment.recoverWithinMs),
    { name: "slowest_answer_during_outage", value: slowest, unit: "ms", evidence },
    { name: "hung_probes", value: hung.length, unit: "count", evidence },
  ];
  const withEvidence = { ...base, evidence: [evidence], measurements };
  if (!result.steadyBefore) {
    return {
      ...withEvidence,
      status: "UNVERIFIED",
      message: `${dependency}: its dependants were not healthy before the outage, so it cannot be judged`,
      toVerify: "make every health endpoint answer 2xx before the assessment",
    };
  }
  if (!result.injected) {
    return {
      ...withEvidence,
      status: "ERROR",
      message: `${dependency}: ${result.error ?? "outage not injected"}`,
    };
  }
  const trafficAfter = (await outage.traffic?.()) ?? null;
  if (noTrafficThrough(trafficBefore, trafficAfter)) {
    return {
      ...withEvidence,
      status: "UNVERIFIED",
      message: `${dependency}: no traffic went through its fault proxy during the experiment, so the outage reached nobody`,
      toVerify: `point the dependants' ${dependency} address at the proxy's listen address, then run again`,
    };
  }
  const head = `${dependency} ${outage.how} for ${seconds(holdMs)}`;
  const problems: string[] = [];
  if (hung.length) {
    problems.push(
      `${hung.length}/${during.length} requests to dependants hung or got no answer within ${seconds(ANSWER_LIMIT_MS)}`,
    );
  }
  if (!result.recovered)
    problems.push(`not healthy again within ${seconds(experiment.recoverWithinMs)} after`);
  if (problems.length) return { ...withEvidence, status: "FAIL", message: `${head}: ${problems.join("; ")}` };
  return {
    ...withEvidence,
    status: "PASS",
    message: `${head}: dependants answered within ${slowest} ms throughout, healthy ${seconds(result.timeToRecoverMs ?? 0)} after`,
  };
}
