// Running one experiment for a check's observeOne: read what identifies the target and the proxy's byte counter
// before, run the experiment, read them again after, and keep the whole journal as evidence and in the record.
import type { CheckContext } from "../../../core/types.js";
import { datastoreIdentity } from "../../../engines/datastores/probe.js";
import { type ExperimentResult, runExperiment } from "../../../engines/experiments/experiment.js";
import { registerFault } from "../../../engines/experiments/fault.js";
import type { Probe } from "../../../engines/experiments/steadyState.js";
import type { ServiceTarget } from "../../../engines/faults/targets/target.js";
import { protocolOf } from "../../../spec/kinds.js";
import type { PlannedExperiment } from "./plan.js";
import type { WatchingProbe } from "./probes.js";
import type { ExperimentRecord, ResultSummary } from "./skeleton.js";

export interface FaultMethod {
  /** In words, for messages: "process restart", "fault proxy down for 2.00 s". */
  how: string;
  inject(): Promise<void>;
  /** Ends the fault after holdMs (a toxic removed, a process resumed); omitted for faults that end by themselves. */
  revert?(): Promise<void>;
  holdMs: number;
  /** The fault proxy's byte counter, when the fault goes through one. */
  traffic?: () => Promise<number | null>;
  via?: string;
}

export interface Identity {
  by: string;
  read(): Promise<string | null>;
}

/**
 * What tells one run of the target from the next: a store's own run id (Redis run_id, the postmaster's start time),
 * else its pid. Not for PgBouncer: through it, `pg_postmaster_start_time()` is the database's, not the pooler's.
 */
export function identityOf(
  ctx: CheckContext,
  name: string,
  target: ServiceTarget | undefined,
): Identity | undefined {
  const service = ctx.spec.services[name];
  const protocol = service && service.kind !== "pgbouncer" ? protocolOf(service.kind) : undefined;
  if (protocol && service?.url) {
    const url = service.url;
    return {
      by: protocol === "redis" ? "Redis run_id" : "PostgreSQL start time",
      read: () => datastoreIdentity(protocol, url),
    };
  }
  if (!target) return undefined;
  return { by: "pid", read: async () => String((await target.pid().catch(() => undefined)) ?? "") || null };
}

export interface RunOptions<D> {
  subject: string;
  probes: WatchingProbe[];
  method: FaultMethod;
  identity?: Identity;
  /** Evidence file name for the journal. */
  file: string;
  /** Facts about the set-up, kept in the evidence beside the journal. */
  context: Record<string, unknown>;
  details: (result: ExperimentResult) => D | Promise<D>;
  intervalMs?: number;
}

export async function observeExperiment<D>(
  ctx: CheckContext,
  experiment: PlannedExperiment,
  options: RunOptions<D>,
): Promise<ExperimentRecord<D>> {
  const { method } = options;
  const trafficBefore = (await method.traffic?.()) ?? null;
  const identityBefore = (await options.identity?.read()) ?? null;
  const result = await runExperiment({
    name: experiment.name,
    probes: options.probes.map((p) => p.probe),
    inject: method.inject,
    ...(method.revert ? { revert: method.revert } : {}),
    holdMs: method.holdMs,
    recoverWithinMs: experiment.recoverWithinMs,
    signal: ctx.signal,
    ...(options.intervalMs ? { intervalMs: options.intervalMs } : {}),
  });
  const identityAfter = result.injected ? ((await options.identity?.read()) ?? null) : null;
  const trafficAfter = (await method.traffic?.()) ?? null;
  const details = await options.details(result);
  const summary = summarise(result);
  const evidence = await ctx.evidence.writeJson(options.file, {
    ...options.context,
    experiment,
    method: method.how,
    result: summary,
    details,
    journal: result.journal.toJSON(),
  });
  return {
    experiment,
    subject: options.subject,
    method: method.how,
    probes: options.probes.map((p) => ({ name: p.probe.name, service: p.service, role: p.role })),
    result: summary,
    journal: result.journal.entries,
    evidence,
    ...(method.traffic
      ? { traffic: { before: trafficBefore, after: trafficAfter, via: method.via ?? "the fault proxy" } }
      : {}),
    ...(options.identity && result.injected
      ? { delivered: { by: options.identity.by, before: identityBefore, after: identityAfter } }
      : {}),
    details,
  };
}

export function summarise(result: ExperimentResult): ResultSummary {
  return {
    steadyBefore: result.steadyBefore,
    injected: result.injected,
    ...(result.error ? { error: result.error } : {}),
    injectedAt: result.injectedAt,
    endedAt: result.endedAt,
    timeToDetectMs: result.timeToDetectMs,
    timeToRecoverMs: result.timeToRecoverMs,
    recovered: result.recovered,
    failedProbes: result.failedProbes,
    totalProbes: result.totalProbes,
  };
}

/** How long the sensitivity freeze holds the target: long enough that a probe using it answers visibly late. */
export const SENSITIVITY_FREEZE_MS = 1_500;

/**
 * Freezes the target briefly (SIGSTOP, container pause) while the probes watch: a probe that uses it slows down or
 * fails; one that does not, answers as before. Run when the real fault changed nothing, to tell "survived" from
 * "never reached". The resume is registered before the freeze.
 */
export async function sensitivityFreeze(
  ctx: CheckContext,
  target: ServiceTarget,
  probes: WatchingProbe[],
): Promise<NonNullable<ExperimentRecord["sensitivity"]>> {
  const fault = registerFault(
    ctx.rollbacks,
    ctx.signal,
    `resume ${target.service} after the sensitivity freeze`,
    () => target.pause(),
    () => target.resume(),
    await target.undoFor?.("pause"),
  );
  const result = await runExperiment({
    name: `${target.service}-sensitivity`,
    probes: probes.map((p) => p.probe),
    inject: fault.inject,
    revert: fault.revert,
    holdMs: SENSITIVITY_FREEZE_MS,
    recoverWithinMs: 0,
    skipRecovery: true,
    baselineRounds: 2,
    signal: ctx.signal,
  });
  return {
    method: `${SENSITIVITY_FREEZE_MS / 1000} s freeze (${target.kind} pause)`,
    journal: result.journal.entries,
    ...(result.error ? { error: result.error } : {}),
  };
}

/**
 * Starts the target again if the fault left it down. A target that cannot tell whether it runs (commands without a
 * pid command) is asked through its probe; a service that answers is never started twice.
 */
export async function startIfDown(target: ServiceTarget, probe: Probe | null): Promise<void> {
  const running = await target.isRunning().catch(() => undefined);
  if (running === true) return;
  if (running === undefined && probe) {
    const outcome = await probe.run(new AbortController().signal).catch(() => null);
    if (outcome?.ok) return;
  }
  await target.start();
}
