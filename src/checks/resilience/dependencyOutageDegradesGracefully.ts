// Does the system fail fast when a dependency vanishes? Blackhole it for real — a `timeout 0` toxic on both directions
// at its fault proxy (or `reset_peer` for fault: reset), or, without a proxy, freeze the dependency itself (SIGSTOP,
// container pause): connections stay open and nothing answers, the hardest outage for a client without timeouts.
// Dependants (transitively) must keep answering — errors or degraded data are fine — within the answer limit, never
// hang, and recover once it is back. A PASS needs a probe whose answer shows the outage reached it.
import { randomBytes } from "node:crypto";
import type { CheckContext, FindingInput } from "../../core/types.js";
import { registerFault, registerToxic } from "../../engines/experiments/fault.js";
import { proxyTraffic, remoteToxics } from "../../engines/faults/proxy/proxyClient.js";
import type { ToxicInput } from "../../engines/faults/proxy/toxics.js";
import type { Spec } from "../../spec/schema.js";
import { faultEntries } from "./experiments/answers.js";
import {
  defaultExperiment,
  dependencies,
  type PlannedExperiment,
  proxyApiFor,
  proxyTokenFor,
} from "./experiments/plan.js";
import { dependantProbes, experimentProbes } from "./experiments/probes.js";
import { type FaultMethod, observeExperiment } from "./experiments/run.js";
import {
  defineExperimentCheck,
  type ExperimentRecord,
  noticedText,
  seconds,
} from "./experiments/skeleton.js";

const DEFAULT_DURATION_MS = 5_000;
/** A dependant that takes longer than this to answer during the outage is hanging, not degrading. */
const ANSWER_LIMIT_MS = 2_000;

interface OutageDetails {
  dependants: string[];
  answerLimitMs: number;
}

function defaults(spec: Spec): PlannedExperiment[] {
  return dependencies(spec).map((name) =>
    defaultExperiment(name, "blackhole", "outage", { durationMs: DEFAULT_DURATION_MS }),
  );
}

export default defineExperimentCheck<OutageDetails>({
  meta: {
    id: "dependencyOutageDegradesGracefully",
    risk: "high",
    title: "Dependency outage degrades gracefully",
    objective: `While a dependency is blackholed, dependants answer (errors or degraded data) within ${ANSWER_LIMIT_MS / 1000} s instead of hanging, and recover after.`,
    remediation: {
      effort: "medium",
      text: "Put a timeout (connect and per call) on every call from its dependants to {{service}}, fail fast or serve degraded data when it is unreachable (circuit breaker), and keep health answering quickly.",
    },
    messages: {
      degraded: "every dependant kept answering within the limit during the outage and recovered after",
      hung: "some dependant requests hung or got no answer within the limit during the outage",
      notRecovered: "the dependants were not healthy again within the limit after the outage",
    },
    timeoutMs: 10 * 60_000,
  },
  faults: ["blackhole", "pause", "reset"],
  defaults,
  nothingToTest: "no service depends on another (dependsOn)",
  mustBeObserved: () => ({}),

  async observeOne(ctx, experiment) {
    const name = experiment.target;
    const probes = [
      ...dependantProbes(ctx.spec, name, { timeoutMs: ANSWER_LIMIT_MS }),
      ...experimentProbes(ctx.spec, experiment, { timeoutMs: ANSWER_LIMIT_MS }),
    ];
    const details = { dependants: [] as string[], answerLimitMs: ANSWER_LIMIT_MS };
    if (probes.length === 0) {
      return skipped(
        experiment,
        details,
        "noProbes",
        `${name}: no service that depends on it has a probe to watch`,
        `give the services that depend on ${name} a health endpoint that uses it, or list resilience.experiments[].probes`,
      );
    }
    const method = await outageMethod(ctx, experiment);
    if (!method) {
      const why = ctx.targets.unavailable?.(name);
      return skipped(
        experiment,
        details,
        "noMethod",
        `${name}: ${why ?? "no fault proxy carries its traffic and Gauntlet cannot pause it"}`,
        `name its fault proxy in resilience.proxies.${name}.api, or declare services.${name}.control (process, container, or commands with pid)`,
      );
    }
    details.dependants = [...new Set(probes.map((p) => p.service).filter((s): s is string => s !== null))];
    return observeExperiment(ctx, experiment, {
      subject: name,
      probes,
      method,
      file: `${name}-outage.json`,
      context: { dependency: name, method: method.how, answerLimitMs: ANSWER_LIMIT_MS },
      details: () => details,
    });
  },

  judgeOne(record, _spec, context): FindingInput {
    const { base, evidence, measurements } = context;
    const r = record.result!;
    const during = faultEntries(record.journal ?? []).filter((e) =>
      record.probes?.some((p) => p.name === e.name && p.role !== "bystander"),
    );
    const hung = during.filter((e) => !e.answered || (e.latencyMs ?? 0) > record.details.answerLimitMs);
    const slowest = Math.max(0, ...during.map((e) => e.latencyMs ?? 0));
    const file = evidence[0]!;
    measurements.push(
      { name: "slowest_answer_during_outage", value: slowest, unit: "ms", evidence: file },
      { name: "hung_probes", value: hung.length, unit: "count", evidence: file },
    );
    const head = `${record.subject} ${record.method}`;
    const problems: string[] = [];
    if (hung.length > 0) {
      problems.push(
        `${hung.length}/${during.length} requests to dependants hung or got no answer within ${seconds(record.details.answerLimitMs)}`,
      );
    }
    if (!r.recovered)
      problems.push(`not healthy again within ${seconds(record.experiment.recoverWithinMs)} after`);
    if (problems.length > 0) {
      return {
        ...base,
        evidence,
        measurements,
        status: "FAIL",
        messageId: hung.length > 0 ? "hung" : "notRecovered",
        message: `${head}: ${problems.join("; ")}`,
      };
    }
    return {
      ...base,
      evidence,
      measurements,
      status: "PASS",
      messageId: "degraded",
      message: `${head}: dependants answered within ${slowest} ms throughout, healthy ${seconds(r.timeToRecoverMs ?? 0)} after; ${noticedText(context)}`,
    };
  },
});

function skipped(
  experiment: PlannedExperiment,
  details: OutageDetails,
  messageId: string,
  message: string,
  toVerify: string,
): ExperimentRecord<OutageDetails> {
  return { experiment, subject: experiment.target, skipped: { messageId, message, toVerify }, details };
}

async function outageMethod(ctx: CheckContext, experiment: PlannedExperiment): Promise<FaultMethod | null> {
  const name = experiment.target;
  const holdMs = experiment.durationMs ?? DEFAULT_DURATION_MS;
  const api = proxyApiFor(ctx.spec, name);
  if (api && experiment.fault !== "pause") {
    const proxy = remoteToxics(api, ...proxyTokenFor(ctx.spec, name));
    const id = randomBytes(3).toString("hex");
    const reset = experiment.fault === "reset";
    const toxics: ToxicInput[] = reset
      ? [
          {
            name: `gauntlet-reset-${id}`,
            type: "reset_peer",
            stream: "downstream" as const,
            attributes: { timeout: 0 },
          },
        ]
      : (["upstream", "downstream"] as const).map((stream) => ({
          name: `gauntlet-blackhole-${stream === "upstream" ? "up" : "down"}-${id}`,
          type: "timeout",
          stream,
          attributes: { timeout: 0 },
        }));
    const fault = registerToxic(ctx.rollbacks, ctx.signal, proxy, toxics);
    return {
      how: `${reset ? "connections reset" : "blackholed"} at ${proxy.where} for ${seconds(holdMs)}`,
      inject: fault.inject,
      revert: fault.revert,
      holdMs,
      traffic: () => proxyTraffic(proxy),
      via: proxy.where,
    };
  }
  const target = ctx.targets.get(name);
  if (!target || experiment.fault === "reset") return null;
  const fault = registerFault(
    ctx.rollbacks,
    ctx.signal,
    `resume ${name}`,
    () => target.pause(),
    () => target.resume(),
    await target.undoFor?.("pause"),
  );
  return {
    how: `frozen (${target.kind} pause) for ${seconds(holdMs)}`,
    inject: fault.inject,
    revert: fault.revert,
    holdMs,
  };
}
