// Does the system survive a dependency blinking? Restart it for real through its control (or stop it, then start
// it), or — when Gauntlet cannot control it — cut it off for a moment at the fault proxy its dependants reach it
// through; every dependant, transitively (api → pgbouncer → db), must be healthy again within `recoverWithin`. A PASS
// needs proof that the probes use the dependency: one of them noticed the blink, or a short freeze showed it depends
// on it. Whether the datastore kept its data is writesSurviveCrash's question, judged by what the store is.
import { randomBytes } from "node:crypto";
import type { CheckContext, FindingInput } from "../../core/types.js";
import { registerFault } from "../../engines/experiments/fault.js";
import { proxyTraffic, remoteToxics } from "../../engines/faults/proxy/proxyClient.js";
import type { Spec } from "../../spec/schema.js";
import {
  defaultExperiment,
  dependencies,
  type PlannedExperiment,
  proxyApiFor,
  proxyTokenFor,
} from "./experiments/plan.js";
import { dependantProbes, experimentProbes, ownProbe } from "./experiments/probes.js";
import {
  type FaultMethod,
  identityOf,
  observeExperiment,
  sensitivityFreeze,
  startIfDown,
} from "./experiments/run.js";
import {
  defineExperimentCheck,
  type ExperimentRecord,
  noticedIn,
  noticedText,
  seconds,
} from "./experiments/skeleton.js";

/** How long a proxy blink, or a stop, keeps the dependency away when the experiment gives no duration. */
const DEFAULT_BLINK_MS = 2_000;

interface BlinkDetails {
  dependants: string[];
}

function defaults(spec: Spec): PlannedExperiment[] {
  return dependencies(spec).map((name) => defaultExperiment(name, "restart", "blink"));
}

export default defineExperimentCheck<BlinkDetails>({
  meta: {
    id: "dependencyBlinkSurvived",
    risk: "critical",
    title: "Dependency restart survived",
    objective:
      "After each dependency restarts (or blinks at its fault proxy), every service that depends on it is healthy again within recoverWithin — shown by probes that use it.",
    remediation: {
      effort: "medium",
      text: "Make the services that use {{service}} reconnect after it restarts (client retry with backoff, a health endpoint that reports the dependency) instead of crashing or hanging.",
    },
    messages: {
      survived: "the dependency restarted and every dependant was healthy again within the limit",
      notRecovered: "after the restart some dependant was not healthy again within the limit",
      recoveredLate: "the dependants were healthy again only after the limit",
    },
    timeoutMs: 10 * 60_000,
  },
  faults: ["restart", "stop"],
  defaults,
  nothingToTest: "no service depends on another (dependsOn)",
  mustBeObserved: () => ({}),

  async observeOne(ctx, experiment) {
    const name = experiment.target;
    const probes = [...dependantProbes(ctx.spec, name), ...experimentProbes(ctx.spec, experiment)];
    const skip = (messageId: string, message: string, toVerify: string): ExperimentRecord<BlinkDetails> => ({
      experiment,
      subject: name,
      skipped: { messageId, message, toVerify },
      details: { dependants: [] },
    });
    if (probes.length === 0) {
      return skip(
        "noProbes",
        `${name}: no service that depends on it has a health endpoint, request or datastore url to watch`,
        `give the services that depend on ${name} a health endpoint that uses it, or list resilience.experiments[].probes`,
      );
    }
    const method = await blinkMethod(ctx, experiment);
    if (!method) {
      const why = ctx.targets.unavailable?.(name);
      return skip(
        "noMethod",
        `${name}: ${why ?? "Gauntlet cannot restart it (no control) and no fault proxy carries its traffic"}`,
        `declare services.${name}.control (process, container, kubernetes or commands with restart), or route its dependants through \`gauntlet proxy\` and name it in resilience.proxies.${name}.api`,
      );
    }
    const dependants = [...new Set(probes.map((p) => p.service).filter((s): s is string => s !== null))];
    ctx.log.info(`${name}: blink by ${method.how}; watching ${dependants.join(", ")}`);
    const target = ctx.targets.get(name);
    const record = await observeExperiment(ctx, experiment, {
      subject: name,
      probes,
      method,
      ...(target ? { identity: identityOf(ctx, name, target) } : {}),
      file: `${name}-blink.json`,
      context: { dependency: name, dependants, method: method.how },
      details: () => ({ dependants }),
    });
    // Nothing noticed the blink: freeze the dependency briefly to learn whether the probes use it at all.
    const canFreeze =
      target && (target.kind !== "commands" || ctx.spec.services[name]?.control?.commands?.pid);
    if (
      record.result?.injected &&
      record.result.steadyBefore &&
      noticedIn(record).length === 0 &&
      canFreeze
    ) {
      await startIfDown(target, ownProbe(ctx.spec, name));
      ctx.log.info(
        `${name}: no probe noticed the blink; freezing it briefly to see whether any probe uses it`,
      );
      record.sensitivity = await sensitivityFreeze(ctx, target, probes);
    }
    return record;
  },

  judgeOne(record, _spec, context): FindingInput {
    const { base, evidence, measurements } = context;
    const r = record.result!;
    const limit = seconds(record.experiment.recoverWithinMs);
    const head = `${record.subject} blinked (${record.method})`;
    if (r.recovered && r.timeToRecoverMs !== null) {
      return {
        ...base,
        evidence,
        measurements,
        status: "PASS",
        messageId: "survived",
        message: `${head}: ${record.details.dependants.join(", ")} healthy again after ${seconds(r.timeToRecoverMs)} (limit ${limit}); ${noticedText(context)}`,
      };
    }
    const late = r.timeToRecoverMs !== null;
    const detected = r.timeToDetectMs === null ? "" : `, outage seen after ${seconds(r.timeToDetectMs)}`;
    return {
      ...base,
      evidence,
      measurements,
      status: "FAIL",
      messageId: late ? "recoveredLate" : "notRecovered",
      message: `${head}${detected}: ${late ? `healthy again only after ${seconds(r.timeToRecoverMs!)} (limit ${limit})` : `${record.details.dependants.join(", ")} not healthy again within ${limit}`}`,
    };
  },
});

// Every fault's undo is registered with ctx.rollbacks before the fault goes in.
async function blinkMethod(ctx: CheckContext, experiment: PlannedExperiment): Promise<FaultMethod | null> {
  const name = experiment.target;
  const target = ctx.targets.get(name);
  if (target) {
    const probe = ownProbe(ctx.spec, name);
    if (experiment.fault === "stop") {
      const holdMs = experiment.durationMs ?? DEFAULT_BLINK_MS;
      const fault = registerFault(
        ctx.rollbacks,
        ctx.signal,
        `start ${name} after its stop`,
        () => target.stop(),
        () => startIfDown(target, probe),
        await target.undoFor?.("stop"),
      );
      return {
        how: `${target.kind} stop for ${seconds(holdMs)}, then start`,
        inject: fault.inject,
        revert: fault.revert,
        holdMs,
      };
    }
    const fault = registerFault(
      ctx.rollbacks,
      ctx.signal,
      `start ${name} if its restart left it down`,
      () => target.restart(),
      () => startIfDown(target, probe),
      await target.undoFor?.("restart"),
    );
    return { how: `${target.kind} restart`, inject: fault.inject, holdMs: 0 };
  }
  const api = proxyApiFor(ctx.spec, name);
  if (!api) return null;
  const proxy = remoteToxics(api, ...proxyTokenFor(ctx.spec, name));
  const toxic = `gauntlet-blink-${randomBytes(3).toString("hex")}`;
  const fault = registerFault(
    ctx.rollbacks,
    ctx.signal,
    `remove toxic ${toxic} from ${proxy.where}`,
    async () => {
      await proxy.add({ name: toxic, type: "down" });
    },
    () => proxy.remove(toxic),
    proxy.remote
      ? {
          kind: "removeToxics",
          api: proxy.remote.api,
          names: [toxic],
          ...(proxy.remote.token ? { token: proxy.remote.token } : {}),
        }
      : undefined,
  );
  const holdMs = experiment.durationMs ?? DEFAULT_BLINK_MS;
  return {
    how: `fault proxy down for ${seconds(holdMs)}`,
    inject: fault.inject,
    revert: fault.revert,
    holdMs,
    traffic: () => proxyTraffic(proxy),
    via: proxy.where,
  };
}
