// Does the system tolerate a slow dependency? Add real latency (default 200 ms, split over both directions) at the
// fault proxy in front of each dependency for a while: the dependants must stay up with errors under the threshold,
// services that do not use the dependency must not suffer (no cascade), and all must be healthy again soon after the
// toxic is removed. A PASS needs a dependant probe that got slower by at least half the added latency: one that did
// not was never reached by it.
import type { FindingInput } from "../../core/types.js";
import { registerToxic } from "../../engines/experiments/fault.js";
import { proxyTraffic, remoteToxics } from "../../engines/faults/proxy/proxyClient.js";
import type { Spec } from "../../spec/schema.js";
import { faultEntries } from "./experiments/answers.js";
import {
  defaultExperiment,
  dependencies,
  type PlannedExperiment,
  proxyApiFor,
  proxyTokenFor,
} from "./experiments/plan.js";
import { bystanderProbes, dependantProbes, experimentProbes } from "./experiments/probes.js";
import { observeExperiment } from "./experiments/run.js";
import {
  defineExperimentCheck,
  type ExperimentRecord,
  noticedText,
  seconds,
} from "./experiments/skeleton.js";

const DEFAULT_LATENCY_MS = 200;
const DEFAULT_DURATION_MS = 5_000;
/** Share of dependant probes that may fail while the dependency is slow. */
const MAX_ERROR_RATIO = 0.1;

interface LatencyDetails {
  latencyMs: number;
  dependants: string[];
}

function defaults(spec: Spec): PlannedExperiment[] {
  return dependencies(spec).map((name) =>
    defaultExperiment(name, "latency", "latency", {
      latencyMs: DEFAULT_LATENCY_MS,
      durationMs: DEFAULT_DURATION_MS,
    }),
  );
}

const latencyOf = (e: PlannedExperiment) => e.latencyMs ?? DEFAULT_LATENCY_MS;

export default defineExperimentCheck<LatencyDetails>({
  meta: {
    id: "dependencyLatencyTolerated",
    risk: "high",
    title: "Slow dependency tolerated",
    objective: `With ${DEFAULT_LATENCY_MS} ms added to a dependency, dependants stay up with under ${MAX_ERROR_RATIO * 100}% errors, nothing else degrades, and all recover.`,
    remediation: {
      effort: "medium",
      text: "Give {{service}}'s clients timeouts above its normal latency, bounded pools and retries with backoff, so a slow {{service}} slows its dependants without failing them or what they serve.",
    },
    messages: {
      tolerated:
        "dependants slowed down but stayed within the error limit, nothing else degraded, and all recovered",
      tooManyErrors: "too many dependant probes failed while the dependency was slow",
      cascade: "services that do not use the dependency failed too",
      steadyStateBroken: "the experiment's PromQL steady state broke while the dependency was slow",
      notRecovered: "not healthy again within the limit after the latency was removed",
    },
    timeoutMs: 10 * 60_000,
  },
  faults: ["latency"],
  defaults,
  nothingToTest: "no service depends on another (dependsOn)",
  mustBeObserved: (record) => ({ latencyShiftMs: latencyOf(record.experiment) / 2 }),

  async observeOne(ctx, experiment) {
    const name = experiment.target;
    const latency = latencyOf(experiment);
    const dependants = [...dependantProbes(ctx.spec, name), ...experimentProbes(ctx.spec, experiment)];
    const details: LatencyDetails = { latencyMs: latency, dependants: [] };
    const skip = (
      messageId: string,
      message: string,
      toVerify: string,
    ): ExperimentRecord<LatencyDetails> => ({
      experiment,
      subject: name,
      skipped: { messageId, message, toVerify },
      details,
    });
    if (dependants.length === 0) {
      return skip(
        "noProbes",
        `${name}: no service that depends on it has a probe to watch`,
        `give the services that depend on ${name} a health endpoint that uses it, or list resilience.experiments[].probes`,
      );
    }
    const api = proxyApiFor(ctx.spec, name);
    if (!api) {
      return skip(
        "noMethod",
        `${name}: no fault proxy carries its traffic, so latency cannot be added`,
        `route its dependants through \`gauntlet proxy --listen … --upstream …\` and name its control API in resilience.proxies.${name}.api`,
      );
    }
    details.dependants = [
      ...new Set(dependants.map((p) => p.service).filter((s): s is string => s !== null)),
    ];
    const proxy = remoteToxics(api, ...proxyTokenFor(ctx.spec, name));
    const fault = registerToxic(ctx.rollbacks, ctx.signal, proxy, [
      {
        name: `gauntlet-latency-up-${name}`,
        type: "latency",
        stream: "upstream",
        attributes: { latency: latency / 2 },
      },
      {
        name: `gauntlet-latency-down-${name}`,
        type: "latency",
        stream: "downstream",
        attributes: { latency: latency / 2 },
      },
    ]);
    const holdMs = experiment.durationMs ?? DEFAULT_DURATION_MS;
    return observeExperiment(ctx, experiment, {
      subject: name,
      probes: [...dependants, ...bystanderProbes(ctx.spec, name)],
      method: {
        how: `+${latency} ms at ${proxy.where} for ${seconds(holdMs)}`,
        inject: fault.inject,
        revert: fault.revert,
        holdMs,
        traffic: () => proxyTraffic(proxy),
        via: proxy.where,
      },
      file: `${name}-latency.json`,
      context: { dependency: name, latencyMs: latency, holdMs },
      details: () => details,
    });
  },

  judgeOne(record, _spec, context): FindingInput {
    const { base, evidence, measurements } = context;
    const r = record.result!;
    const roles = new Map((record.probes ?? []).map((p) => [p.name, p.role]));
    const during = faultEntries(record.journal ?? []);
    const dependantEntries = during.filter(
      (e) => roles.get(e.name) === "dependant" || roles.get(e.name) === "declared",
    );
    const errors = dependantEntries.filter((e) => !e.ok).length;
    const ratio = dependantEntries.length ? errors / dependantEntries.length : 0;
    const cascaded = [
      ...new Set(during.filter((e) => roles.get(e.name) === "bystander" && !e.ok).map((e) => e.name)),
    ];
    const broken = [
      ...new Set(during.filter((e) => roles.get(e.name) === "hypothesis" && !e.ok).map((e) => e.name)),
    ];
    measurements.push(
      {
        name: "error_ratio_during_fault",
        value: Math.round(ratio * 1000) / 10,
        unit: "%",
        evidence: evidence[0]!,
      },
      { name: "added_latency", value: record.details.latencyMs, unit: "ms", evidence: evidence[0]! },
    );
    const head = `${record.subject} +${record.details.latencyMs} ms for ${seconds(record.experiment.durationMs ?? DEFAULT_DURATION_MS)}`;
    const problems: { id: string; text: string }[] = [];
    if (ratio > MAX_ERROR_RATIO) {
      problems.push({
        id: "tooManyErrors",
        text: `${errors}/${dependantEntries.length} dependant probes failed (over ${MAX_ERROR_RATIO * 100}%)`,
      });
    }
    if (cascaded.length) problems.push({ id: "cascade", text: `cascade: ${cascaded.join(", ")} failed too` });
    if (broken.length)
      problems.push({ id: "steadyStateBroken", text: `steady state broken: ${broken.join(", ")}` });
    if (!r.recovered) {
      problems.push({
        id: "notRecovered",
        text: `not healthy again within ${seconds(record.experiment.recoverWithinMs)} of removal`,
      });
    }
    if (problems.length > 0) {
      return {
        ...base,
        evidence,
        measurements,
        status: "FAIL",
        messageId: problems[0]!.id,
        message: `${head}: ${problems.map((p) => p.text).join("; ")}`,
      };
    }
    return {
      ...base,
      evidence,
      measurements,
      status: "PASS",
      messageId: "tolerated",
      message: `${head}: ${errors}/${dependantEntries.length} dependant probes failed, no cascade, healthy ${seconds(r.timeToRecoverMs ?? 0)} after removal; ${noticedText(context)}`,
    };
  },
});
