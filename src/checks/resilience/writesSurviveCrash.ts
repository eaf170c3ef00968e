// Does a datastore keep what it acknowledged? Write a canary (a Redis key, a PostgreSQL row), crash the store at once
// (SIGKILL: whatever was acknowledged but not written to disk is lost), bring it back — by itself, or started by
// Gauntlet — and read the canary again. A durable store that lost it FAILs (critical); a cache (`durable: false`) may
// lose it, and that is reported, never failed. Whether the store's dependants survive is dependencyBlinkSurvived's.
import type { FindingInput } from "../../core/types.js";
import { canaryFor } from "../../engines/experiments/canary.js";
import { pause } from "../../engines/experiments/experiment.js";
import { registerFault } from "../../engines/experiments/fault.js";
import type { Probe } from "../../engines/experiments/steadyState.js";
import { CommandsControl } from "../../engines/faults/targets/commandsControl.js";
import type { ServiceTarget } from "../../engines/faults/targets/target.js";
import { isDatastoreKind, isDurable, protocolOf } from "../../spec/kinds.js";
import type { Spec } from "../../spec/schema.js";
import { defaultExperiment, type PlannedExperiment } from "./experiments/plan.js";
import { targetProbe } from "./experiments/probes.js";
import { identityOf, observeExperiment } from "./experiments/run.js";
import { defineExperimentCheck, type ExperimentRecord, seconds } from "./experiments/skeleton.js";

/** Kinds that hold no data of their own: a crash cannot lose any (unless the spec says `durable: true`). */
const NO_DATA_OF_THEIR_OWN = new Set(["pgbouncer", "memcached"]);

interface DurabilityDetails {
  durable: boolean;
  kind: string;
  /** "kill": a crash; "restart": a graceful restart only (the target cannot be killed). */
  crash?: "kill" | "restart";
  /** Who brought the store back after the crash. */
  startedBy?: "itself" | "gauntlet" | null;
  canary?: { written: boolean; intact: boolean | null; detail: string };
}

function defaults(spec: Spec): PlannedExperiment[] {
  return Object.entries(spec.services)
    .filter(([, s]) => isDatastoreKind(s.kind))
    .map(([name]) => defaultExperiment(name, "kill", "durability"));
}

export default defineExperimentCheck<DurabilityDetails>({
  meta: {
    id: "writesSurviveCrash",
    risk: "critical",
    title: "Acknowledged writes survive a crash",
    objective:
      "A write each durable datastore acknowledged just before it was killed is still there when it is back; a cache (durable: false) is reported, not judged.",
    remediation: {
      effort: "medium",
      text: "Make {{service}} persist every acknowledged write before it answers (Redis: appendonly yes with appendfsync everysec or always; PostgreSQL: fsync on, synchronous_commit on), or declare it `durable: false` if it is a cache whose loss the system tolerates.",
    },
    messages: {
      kept: "the acknowledged write was still there after the crash",
      keptGracefulOnly:
        "the write survived a graceful restart, but Gauntlet could not crash the store to test it",
      lost: "a durable store lost a write it had acknowledged before the crash",
      cacheLost: "a cache (durable: false) lost the write, as a cache may",
      cacheKept: "a cache (durable: false) kept the write (not required)",
      noDataOfItsOwn: "the service holds no data of its own (a pooler, a memory cache)",
      noCanary: "Gauntlet has no canary for this kind of datastore yet",
      canaryNotWritten: "the canary could not be written, so loss cannot be told",
      notBack: "the store did not come back after the crash, so its data could not be read",
    },
    timeoutMs: 10 * 60_000,
  },
  faults: ["kill"],
  defaults,
  eligible: (spec, target) => isDatastoreKind(spec.services[target]?.kind ?? "http"),
  nothingToTest: "no datastore (kind redis, postgres, mysql, …) in the system",

  async observeOne(ctx, experiment) {
    const name = experiment.target;
    const service = ctx.spec.services[name]!;
    const details: DurabilityDetails = { durable: isDurable(service), kind: service.kind };
    const skip = (
      messageId: string,
      message: string,
      toVerify?: string,
      status?: "NA",
    ): ExperimentRecord<DurabilityDetails> => ({
      experiment,
      subject: name,
      skipped: { messageId, message, ...(toVerify ? { toVerify } : {}), ...(status ? { status } : {}) },
      details,
    });
    if (!isDatastoreKind(service.kind)) {
      return skip(
        "noCanary",
        `${name}: kind ${service.kind} is not a datastore`,
        `declare services.${name}.kind (redis, postgres, …)`,
      );
    }
    if (NO_DATA_OF_THEIR_OWN.has(service.kind) && service.durable === undefined) {
      return skip(
        "noDataOfItsOwn",
        `${service.kind} holds no data of its own; its store is judged on its own`,
        undefined,
        "NA",
      );
    }
    const canary = canaryFor(protocolOf(service.kind), service.url);
    if (!canary) {
      return skip(
        "noCanary",
        `${name}: Gauntlet has no canary for ${service.kind}${service.url ? "" : " (and no url)"}, so a lost write cannot be told`,
        service.url
          ? `run this check by hand for ${service.kind}, or exclude it with a reason in resilience.exclude`
          : `give services.${name}.url`,
      );
    }
    const own = targetProbe(ctx.spec, name)!;
    const target = ctx.targets.get(name);
    if (!target) {
      const why = ctx.targets.unavailable?.(name);
      return skip(
        "noMethod",
        `${name}: ${why ?? `Gauntlet has no way to crash it (no services.${name}.control)`}`,
        `declare services.${name}.control (process, container, kubernetes, or commands with kill and start)`,
      );
    }
    ctx.rollbacks.add(`remove the canary from ${name}`, () => canary.cleanup());
    try {
      await canary.write();
    } catch (error) {
      details.canary = {
        written: false,
        intact: null,
        detail: `could not write the marker: ${(error as Error).message}`,
      };
      return skip(
        "canaryNotWritten",
        `${name}: ${details.canary.detail}`,
        `let the user in services.${name}.url write (a key, or a table in its database)`,
      );
    }
    const crash = crashMethod(target);
    details.crash = crash;
    const fault = registerFault(
      ctx.rollbacks,
      ctx.signal,
      `bring ${name} back after the crash`,
      () => (crash === "kill" ? target.kill() : target.restart()),
      async () => {
        details.startedBy = await bringBack(
          target,
          own.probe,
          Math.min(experiment.recoverWithinMs, 5_000),
          ctx.signal,
        );
      },
      await target.undoFor?.(crash),
    );
    ctx.log.info(
      `${name}: canary written; ${crash === "kill" ? "SIGKILL" : "restart"} via ${target.kind} control`,
    );
    const record = await observeExperiment(ctx, experiment, {
      subject: name,
      probes: [own],
      method: {
        how:
          crash === "kill"
            ? `${target.kind} kill right after an acknowledged write`
            : `${target.kind} restart`,
        inject: fault.inject,
        revert: fault.revert,
        holdMs: 0,
      },
      identity: identityOf(ctx, name, target),
      file: `${name}-durability.json`,
      context: { datastore: name, kind: service.kind, durable: details.durable },
      details: async () => {
        const read = await canary.verify(experiment.recoverWithinMs, ctx.signal);
        details.canary = { written: true, intact: read.intact, detail: read.detail };
        return details;
      },
    });
    await canary.cleanup();
    return record;
  },

  judgeOne(record, _spec, { base, evidence, measurements }): FindingInput {
    const name = record.subject;
    const d = record.details;
    const canary = d.canary;
    const file = evidence[0]!;
    const data = { ...base.data, durable: d.durable, kind: d.kind };
    const finding = (
      status: FindingInput["status"],
      messageId: string,
      message: string,
      toVerify?: string,
    ): FindingInput => ({
      ...base,
      data,
      evidence,
      measurements,
      status,
      messageId,
      message,
      ...(toVerify ? { toVerify } : {}),
    });
    const back = record.result?.recovered ?? false;
    const by =
      d.startedBy === "gauntlet"
        ? ", started again by Gauntlet"
        : d.startedBy === "itself"
          ? ", back by itself"
          : "";
    if (canary?.intact !== null && canary?.intact !== undefined) {
      measurements.push({
        name: "canary_intact",
        value: canary.intact ? 1 : 0,
        unit: "bool",
        evidence: file,
      });
    }
    if (!canary?.written)
      return finding(
        "UNVERIFIED",
        "canaryNotWritten",
        `${name}: the canary was not written`,
        `let the user in services.${name}.url write`,
      );
    if (canary.intact === null || (!canary.intact && !back && /could not read/.test(canary.detail))) {
      return finding(
        "UNVERIFIED",
        "notBack",
        `${name}: ${record.method}, and it was not back within ${seconds(record.experiment.recoverWithinMs)} to read the canary (${canary.detail})`,
        `make services.${name}.control able to start it again (a start command, or a supervisor), then run again`,
      );
    }
    const head = `${name}: ${record.method}${by}`;
    if (!d.durable) {
      return canary.intact
        ? finding("NA", "cacheKept", `${head}: the canary survived (not required: durable: false)`)
        : finding(
            "NA",
            "cacheLost",
            `${head}: the canary was lost, as a cache may (durable: false) — ${canary.detail}`,
          );
    }
    if (!canary.intact)
      return finding("FAIL", "lost", `${head}: an acknowledged write was lost — ${canary.detail}`);
    if (d.crash === "restart") {
      return finding(
        "WARN",
        "keptGracefulOnly",
        `${head}: the canary survived a graceful restart, but a crash was not tested (a store that saves only on shutdown passes this)`,
      );
    }
    return finding("PASS", "kept", `${head}: the acknowledged write was read back intact`);
  },
});

/** Kill when the target can; only a restart otherwise (commands without kill or pid). */
function crashMethod(target: ServiceTarget): "kill" | "restart" {
  if (!(target instanceof CommandsControl)) return "kill";
  return target.commands.kill || target.commands.pid ? "kill" : "restart";
}

/**
 * Waits up to `graceMs` for the store to come back by itself (a supervisor, a restart policy); then starts it, retrying
 * while a crashed store's leftovers (PostgreSQL's orphaned backends, a pid file) still hold it back.
 */
async function bringBack(
  target: ServiceTarget,
  probe: Probe,
  graceMs: number,
  signal: AbortSignal,
): Promise<"itself" | "gauntlet" | null> {
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && !signal.aborted) {
    if ((await probe.run(signal).catch(() => null))?.ok) return "itself";
    await pause(200, signal);
  }
  const startBy = Date.now() + 30_000;
  let lastError: unknown;
  while (Date.now() < startBy && !signal.aborted) {
    if ((await target.isRunning().catch(() => undefined)) === true) {
      if ((await probe.run(signal).catch(() => null))?.ok) return "itself";
    } else {
      try {
        await target.start();
        return "gauntlet";
      } catch (error) {
        lastError = error;
      }
    }
    await pause(500, signal);
  }
  if (lastError) throw lastError;
  return null;
}
