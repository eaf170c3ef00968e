// Does the system survive its datastore blinking? Restart each datastore for real — through its ServiceTarget, or,
// when Gauntlet cannot control it, by cutting it off at the fault proxy the dependants reach it through (a `down`
// toxic for the blink) — and require every dependant to be healthy again within `recoverWithin` with the canary
// marker written before the blink still there after it.
import { randomBytes } from "node:crypto";
import { type CheckContext, defineCheck, type FindingInput, notApplicable } from "../../core/types.js";
import { canaryFor } from "../../engines/experiments/canary.js";
import { runExperiment } from "../../engines/experiments/experiment.js";
import { registerFault } from "../../engines/experiments/fault.js";
import { experimentMeasurements, saveJournal, seconds } from "../../engines/experiments/record.js";
import {
  DEFAULT_RECOVER_WITHIN_MS,
  dependencies,
  dependentsOf,
  experimentsFor,
  hypothesisProbes,
  isDatastore,
  noExperimentReason,
  type PlannedExperiment,
  probesAround,
  proxyApiFor,
} from "../../engines/experiments/resilienceSpec.js";
import { remoteToxics } from "../../engines/faults/proxy/proxyClient.js";
import type { Spec } from "../../spec/schema.js";

/** How long a proxy blink keeps the datastore unreachable when the experiment gives no duration. */
const DEFAULT_BLINK_MS = 2_000;

function planned(spec: Spec): PlannedExperiment[] {
  return experimentsFor(spec, ["restart"], () =>
    dependencies(spec)
      .filter((name) => isDatastore(spec, name))
      .map((name) => ({
        name: `${name}-blink`,
        target: name,
        fault: "restart" as const,
        recoverWithinMs: DEFAULT_RECOVER_WITHIN_MS,
      })),
  );
}

export default defineCheck({
  meta: {
    id: "dependencyBlinkSurvived",
    category: "resilience",
    risk: "critical",
    destructive: true,
    title: "Datastore restart survived",
    objective:
      "After each datastore restarts, its dependants are healthy again within recoverWithin and no canary data is lost.",
    remediation: {
      effort: "medium",
      text: "Make the services that use {{service}} reconnect after it restarts (client retry with backoff, health that reports the dependency) instead of crashing or hanging, and make {{service}} persist acknowledged writes (Redis appendonly, PostgreSQL fsync).",
    },
    timeoutMs: 10 * 60_000,
  },

  applies(spec) {
    return planned(spec).length > 0
      ? true
      : notApplicable(noExperimentReason(spec, ["restart"], "no service depends on a datastore (dependsOn)"));
  },

  async run(ctx) {
    const findings: FindingInput[] = [];
    for (const experiment of planned(ctx.spec)) {
      if (ctx.signal.aborted) break;
      findings.push(await blink(ctx, experiment));
    }
    return findings;
  },
});

interface BlinkMethod {
  how: string;
  holdMs: number;
  inject(): Promise<void>;
  revert?(): Promise<void>;
}

async function blink(ctx: CheckContext, experiment: PlannedExperiment): Promise<FindingInput> {
  const datastore = experiment.target;
  const base = { subject: datastore, data: { service: datastore, experiment: experiment.name } };
  const dependants = dependentsOf(ctx.spec, datastore);
  const probes = probesAround(ctx.spec, datastore).dependants.map((p) => p.probe);
  if (probes.length === 0) {
    const who = dependants.length ? dependants.join(", ") : "no service (dependsOn)";
    return {
      ...base,
      status: "UNVERIFIED",
      message: `${datastore}: ${who} has no health endpoint to tell whether it survived the blink`,
      toVerify: `give the services that depend on ${datastore} a health endpoint that checks it`,
    };
  }

  const method = blinkMethod(ctx, experiment);
  if (!method) {
    return {
      ...base,
      status: "UNVERIFIED",
      message: `${datastore}: Gauntlet cannot restart it (no control) and no fault proxy carries its traffic`,
      toVerify: `declare services.${datastore}.control (process, container, kubernetes or commands with restart), or route its dependants through \`gauntlet proxy\` and name it in resilience.proxies.${datastore}.api`,
    };
  }

  const service = ctx.spec.services[datastore]!;
  const canary = canaryFor(service.kind, service.url);
  ctx.log.info(`${datastore}: blink by ${method.how}; watching ${dependants.join(", ")}`);
  const result = await runExperiment({
    name: experiment.name,
    probes: [...probes, ...hypothesisProbes(ctx.spec, experiment)],
    inject: method.inject,
    ...(method.revert ? { revert: method.revert } : {}),
    holdMs: method.holdMs,
    recoverWithinMs: experiment.recoverWithinMs,
    canary,
    signal: ctx.signal,
  });
  const evidence = await saveJournal(ctx.evidence, `${datastore}-blink.json`, result, {
    datastore,
    dependants,
    method: method.how,
    recoverWithinMs: experiment.recoverWithinMs,
  });
  const measurements = experimentMeasurements(result, evidence, experiment.recoverWithinMs);
  const withEvidence = { ...base, evidence: [evidence], measurements };
  const limit = seconds(experiment.recoverWithinMs);
  if (!result.steadyBefore) {
    return {
      ...withEvidence,
      status: "UNVERIFIED",
      message: `${datastore}: its dependants were not healthy before the blink, so survival cannot be judged`,
      toVerify: `make ${dependants.join(", ")} healthy before the assessment`,
    };
  }
  if (!result.injected) {
    return { ...withEvidence, status: "ERROR", message: `${datastore}: ${result.error ?? "blink failed"}` };
  }
  const problems: string[] = [];
  if (!result.recovered) {
    problems.push(
      result.timeToRecoverMs === null
        ? `${dependants.join(", ")} not healthy again within ${limit}`
        : `healthy again only after ${seconds(result.timeToRecoverMs)} (limit ${limit})`,
    );
  }
  if (result.canary?.intact === false) problems.push(`canary lost: ${result.canary.detail}`);
  const detected =
    result.timeToDetectMs === null ? "" : `, outage seen after ${seconds(result.timeToDetectMs)}`;
  if (problems.length > 0) {
    return {
      ...withEvidence,
      status: "FAIL",
      message: `${datastore} blinked (${method.how})${detected}: ${problems.join("; ")}`,
    };
  }
  if (canary && result.canary?.intact !== true) {
    // Recovery was seen, but "no data lost" is half the objective: a datastore we could not write to proves nothing.
    return {
      ...withEvidence,
      status: "WARN",
      message: `${datastore} blinked (${method.how})${detected}: dependants healthy again after ${seconds(result.timeToRecoverMs ?? 0)} (limit ${limit}), but data integrity is unknown: ${result.canary?.detail ?? "canary not checked"}`,
    };
  }
  const canaryNote = result.canary?.intact === true ? "canary intact" : "no canary for this kind";
  return {
    ...withEvidence,
    status: "PASS",
    message: `${datastore} blinked (${method.how})${detected}: dependants healthy again after ${seconds(result.timeToRecoverMs ?? 0)} (limit ${limit}), ${canaryNote}`,
  };
}

// Every fault's undo is registered with ctx.rollbacks before the fault goes in.
function blinkMethod(ctx: CheckContext, experiment: PlannedExperiment): BlinkMethod | null {
  const datastore = experiment.target;
  const target = ctx.targets.get(datastore);
  if (target) {
    const fault = registerFault(
      ctx.rollbacks,
      ctx.signal,
      `start ${datastore} if its restart left it down`,
      () => target.restart(),
      async () => {
        if (!(await target.isRunning())) await target.start();
      },
    );
    return { how: `${target.kind} restart`, holdMs: 0, inject: fault.inject };
  }
  const api = proxyApiFor(ctx.spec, datastore);
  if (!api) return null;
  const proxy = remoteToxics(api);
  const toxic = `gauntlet-blink-${randomBytes(3).toString("hex")}`;
  const fault = registerFault(
    ctx.rollbacks,
    ctx.signal,
    `remove toxic ${toxic} from ${proxy.where}`,
    async () => {
      await proxy.add({ name: toxic, type: "down" });
    },
    () => proxy.remove(toxic),
  );
  const holdMs = experiment.durationMs ?? DEFAULT_BLINK_MS;
  return {
    how: `fault proxy down for ${seconds(holdMs)}`,
    holdMs,
    inject: fault.inject,
    revert: fault.revert,
  };
}
