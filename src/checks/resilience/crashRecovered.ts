// Does a service come back by itself after a hard crash? SIGKILL the service (or kill its container, delete its pod)
// through its ServiceTarget and watch its health until it holds again, within `recoverWithin` (default 10 s).
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
import type { Spec } from "../../spec/schema.js";

function planned(spec: Spec): PlannedExperiment[] {
  return experimentsFor(spec, ["kill"], () =>
    Object.entries(spec.services)
      .filter(([name, s]) => s.health && !isDatastore(spec, name))
      .map(([name]) => ({
        name: `${name}-crash`,
        target: name,
        fault: "kill" as const,
        recoverWithinMs: DEFAULT_RECOVER_WITHIN_MS,
      })),
  );
}

export default defineCheck({
  meta: {
    id: "crashRecovered",
    category: "resilience",
    risk: "critical",
    destructive: true,
    title: "Crashed service recovers",
    objective:
      "After SIGKILL (container kill, pod delete) the service is back and healthy within recoverWithin.",
    remediation: {
      effort: "medium",
      text: "Run {{service}} under a supervisor that restarts it on exit (systemd Restart=always, a container restart policy, a Kubernetes Deployment) and make it healthy quickly after start.",
    },
    timeoutMs: 5 * 60_000,
  },

  applies(spec) {
    return planned(spec).length > 0
      ? true
      : notApplicable(noExperimentReason(spec, ["kill"], "no service with a health endpoint to crash"));
  },

  async run(ctx) {
    const findings: FindingInput[] = [];
    for (const experiment of planned(ctx.spec)) {
      if (ctx.signal.aborted) break;
      findings.push(await crash(ctx, experiment));
    }
    return findings;
  },
});

async function crash(ctx: CheckContext, experiment: PlannedExperiment): Promise<FindingInput> {
  const service = experiment.target;
  const probe = healthProbe(ctx.spec, service);
  const base = { subject: service, data: { service, experiment: experiment.name } };
  if (!probe) {
    return {
      ...base,
      status: "UNVERIFIED",
      message: `${service}: no health endpoint to tell whether it came back`,
      toVerify: `give services.${service}.health (a path on its http url)`,
    };
  }
  const target = ctx.targets.get(service);
  if (!target) {
    return {
      ...base,
      status: "UNVERIFIED",
      message: `${service}: Gauntlet has no way to kill it (no services.${service}.control)`,
      toVerify: `declare services.${service}.control (process, container, kubernetes or commands with kill)`,
    };
  }

  // Registered before the kill: whatever happens, a service that stayed down is started again.
  const fault = registerFault(
    ctx.rollbacks,
    ctx.signal,
    `start ${service} again if the crash left it down`,
    () => target.kill(),
    async () => {
      if (!(await target.isRunning())) await target.start();
    },
  );
  ctx.log.info(`${service}: SIGKILL via ${target.kind} control`);
  const result = await runExperiment({
    name: experiment.name,
    probes: [probe, ...hypothesisProbes(ctx.spec, experiment)],
    inject: fault.inject,
    holdMs: 0,
    recoverWithinMs: experiment.recoverWithinMs,
    signal: ctx.signal,
  });
  const evidence = await saveJournal(ctx.evidence, `${service}-crash.json`, result, {
    service,
    fault: "kill",
    control: target.kind,
    recoverWithinMs: experiment.recoverWithinMs,
  });
  // The rollback is for the system, not the measurement: the verdict is already in the journal.
  await fault.revert();
  const measurements = experimentMeasurements(result, evidence, experiment.recoverWithinMs);
  const withEvidence = { ...base, evidence: [evidence], measurements };
  const limit = seconds(experiment.recoverWithinMs);
  if (!result.steadyBefore) {
    return {
      ...withEvidence,
      status: "UNVERIFIED",
      message: `${service}: not healthy before the crash, so recovery cannot be judged`,
      toVerify: `make ${service}'s health endpoint answer 2xx before the assessment`,
    };
  }
  if (!result.injected) {
    return { ...withEvidence, status: "ERROR", message: `${service}: ${result.error ?? "kill failed"}` };
  }
  if (result.recovered && result.timeToRecoverMs !== null) {
    return {
      ...withEvidence,
      status: "PASS",
      message: `${service}: killed with SIGKILL, healthy again after ${seconds(result.timeToRecoverMs)} (limit ${limit})`,
    };
  }
  const detected =
    result.timeToDetectMs === null ? "" : `; down detected after ${seconds(result.timeToDetectMs)}`;
  const late =
    result.timeToRecoverMs === null
      ? `not healthy again within ${limit}`
      : `healthy again only after ${seconds(result.timeToRecoverMs)} (limit ${limit})`;
  return { ...withEvidence, status: "FAIL", message: `${service}: killed with SIGKILL, ${late}${detected}` };
}
