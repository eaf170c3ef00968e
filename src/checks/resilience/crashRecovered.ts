// Does a service come back by itself after a hard crash? SIGKILL it (kill its container's main process, delete its
// pods, or run commands.kill) and watch its own probe — its health endpoint, or a PING / SELECT 1 for a datastore —
// until it holds again within `recoverWithin`. When the restart is Gauntlet's own supervisor (control.process with
// restart: always), the finding says so: what is measured then is how fast a fresh start becomes healthy.
import type { FindingInput } from "../../core/types.js";
import { registerFault } from "../../engines/experiments/fault.js";
import type { Spec } from "../../spec/schema.js";
import { defaultExperiment, type PlannedExperiment } from "./experiments/plan.js";
import { experimentProbes, ownProbe, targetProbe } from "./experiments/probes.js";
import { identityOf, observeExperiment, startIfDown } from "./experiments/run.js";
import { defineExperimentCheck, type ExperimentRecord, seconds } from "./experiments/skeleton.js";

interface CrashDetails {
  control?: string;
  /** "gauntlet" when Gauntlet's supervisor did the restart, with the policy it followed. */
  restartedBy?: string;
  restartPolicy?: string;
  /** Epoch ms of the restart Gauntlet's supervisor made, and of the first healthy probe after it. */
  restartedAt?: number | null;
  healthyAt?: number | null;
}

function defaults(spec: Spec): PlannedExperiment[] {
  return Object.keys(spec.services)
    .filter((name) => ownProbe(spec, name) !== null)
    .map((name) => defaultExperiment(name, "kill", "crash"));
}

export default defineExperimentCheck<CrashDetails>({
  meta: {
    id: "crashRecovered",
    risk: "critical",
    title: "Crashed service recovers",
    objective:
      "After SIGKILL (container kill, pod delete) the service — an API by its health endpoint, a datastore by a no-op command — is back and healthy within recoverWithin.",
    remediation: {
      effort: "medium",
      text: "Run {{service}} under a supervisor that restarts it on exit (systemd Restart=always, a container restart policy, a Kubernetes Deployment) and make it healthy quickly after start.",
    },
    messages: {
      recovered: "killed, and healthy again within the limit",
      recoveredBySupervisor:
        "killed, and healthy again within the limit after Gauntlet's own supervisor restarted it (standing in for the process manager)",
      notRecovered: "killed, and not healthy again within the limit",
      recoveredLate: "killed, and healthy again only after the limit",
    },
    timeoutMs: 5 * 60_000,
  },
  faults: ["kill"],
  defaults,
  nothingToTest: "no service with a health endpoint or a datastore url to watch after a crash",

  async observeOne(ctx, experiment): Promise<ExperimentRecord<CrashDetails>> {
    const name = experiment.target;
    const own = targetProbe(ctx.spec, name);
    if (!own) {
      return skipped(
        experiment,
        "noProbes",
        `${name}: no health endpoint or datastore url to tell whether it came back`,
        `give services.${name}.health (a path on its http url), or a url for a datastore`,
      );
    }
    const target = ctx.targets.get(name);
    if (!target) {
      const why = ctx.targets.unavailable?.(name);
      return skipped(
        experiment,
        "noMethod",
        `${name}: ${why ?? `Gauntlet has no way to kill it (no services.${name}.control)`}`,
        why
          ? `fix services.${name}.control`
          : `declare services.${name}.control (process, container, kubernetes or commands with kill)`,
      );
    }
    // Registered before the kill: whatever happens, a service that stayed down is started again.
    const fault = registerFault(
      ctx.rollbacks,
      ctx.signal,
      `start ${name} again if the crash left it down`,
      () => target.kill(),
      () => startIfDown(target, own.probe),
      await target.undoFor?.("kill"),
    );
    ctx.log.info(`${name}: SIGKILL via ${target.kind} control`);
    const startedBefore = target.lastStartedAt?.();
    const record = await observeExperiment(ctx, experiment, {
      subject: name,
      probes: [own, ...experimentProbes(ctx.spec, experiment)],
      method: { how: `${target.kind} kill`, inject: fault.inject, holdMs: 0 },
      identity: identityOf(ctx, name, target),
      file: `${name}-crash.json`,
      context: { service: name, fault: "kill", control: target.kind },
      details: (result) => {
        const restartedAt = target.lastStartedAt?.();
        const streak = result.timeToRecoverMs !== null && result.endedAt !== null;
        return {
          control: target.kind,
          ...(target.restartedBy
            ? {
                restartedBy: target.restartedBy,
                restartPolicy: ctx.spec.services[name]?.control?.process?.restart ?? "always",
              }
            : {}),
          restartedAt: restartedAt !== undefined && restartedAt !== startedBefore ? restartedAt : null,
          healthyAt: streak ? result.journal.epochOf(result.endedAt! + result.timeToRecoverMs!) : null,
        };
      },
    });
    // The rollback is for the system, not the measurement: the verdict is already in the journal.
    await fault.revert();
    return record;
  },

  judgeOne(record, _spec, { base, evidence, measurements }): FindingInput {
    const name = record.subject;
    const r = record.result!;
    const limit = seconds(record.experiment.recoverWithinMs);
    const d = record.details;
    if (r.recovered && r.timeToRecoverMs !== null) {
      const supervised = d.restartedBy === "gauntlet";
      const startToHealthy =
        d.restartedAt && d.healthyAt && d.healthyAt >= d.restartedAt ? d.healthyAt - d.restartedAt : null;
      if (startToHealthy !== null) {
        measurements.push({
          name: "start_to_healthy",
          value: Math.round(startToHealthy),
          unit: "ms",
          evidence: evidence[0]!,
        });
      }
      const note = supervised
        ? `; the restart was Gauntlet's own supervisor (control.process restart: ${d.restartPolicy ?? "always"}), standing in for your process manager${startToHealthy !== null ? `: a fresh start was healthy after ${seconds(startToHealthy)}` : ""}`
        : "";
      return {
        ...base,
        evidence,
        measurements,
        status: "PASS",
        messageId: supervised ? "recoveredBySupervisor" : "recovered",
        message: `${name}: killed (${record.method}), healthy again after ${seconds(r.timeToRecoverMs)} (limit ${limit})${note}`,
        data: { ...base.data, ...(supervised ? { restartedBy: "gauntlet" } : {}) },
      };
    }
    const detected = r.timeToDetectMs === null ? "" : `; down detected after ${seconds(r.timeToDetectMs)}`;
    const late = r.timeToRecoverMs !== null;
    return {
      ...base,
      evidence,
      measurements,
      status: "FAIL",
      messageId: late ? "recoveredLate" : "notRecovered",
      message: `${name}: killed (${record.method}), ${late ? `healthy again only after ${seconds(r.timeToRecoverMs!)} (limit ${limit})` : `not healthy again within ${limit}`}${detected}`,
    };
  },
});

function skipped(
  experiment: PlannedExperiment,
  messageId: string,
  message: string,
  toVerify: string,
): ExperimentRecord<CrashDetails> {
  return { experiment, subject: experiment.target, skipped: { messageId, message, toVerify }, details: {} };
}
