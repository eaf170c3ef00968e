// The skeleton every resilience check is built on (STYLE.md: a family of checks shares its skeleton). It plans the
// experiments (defaults, refinements, exclusions), observes each one through the check's own `observeOne`, and judges
// each record through guards that live here once: excluded → N/A; not watchable or not injectable → UNVERIFIED; not
// healthy before, not injected, no traffic through the proxy, the fault not delivered, or — for checks that need it —
// no probe that noticed the fault or was shown to use the target → UNVERIFIED. Only then does the check's `judgeOne`
// decide PASS, WARN or FAIL.
import {
  type Check,
  type CheckContext,
  type CheckMeta,
  defineCheck,
  type FindingInput,
  type Measurement,
  notApplicable,
} from "../../../core/types.js";
import type { JournalEntry } from "../../../engines/experiments/journal.js";
import type { Spec } from "../../../spec/schema.js";
import { type Noticed, type NoticeOptions, probesThatNoticed } from "./answers.js";
import { type ExperimentPlanning, type Fault, type PlannedExperiment, planExperiments } from "./plan.js";
import type { ProbeRole } from "./probes.js";

export interface ResultSummary {
  steadyBefore: boolean;
  injected: boolean;
  error?: string;
  injectedAt: number | null;
  endedAt: number | null;
  timeToDetectMs: number | null;
  timeToRecoverMs: number | null;
  recovered: boolean;
  failedProbes: number;
  totalProbes: number;
}

/** What one experiment saw: JSON, judged without I/O. */
export interface ExperimentRecord<D = Record<string, unknown>> {
  experiment: PlannedExperiment;
  subject: string;
  /** Not run, and why: UNVERIFIED unless `status: "NA"` (or messageId "excluded") says it cannot concern the target. */
  skipped?: { messageId: string; message: string; toVerify?: string; status?: "NA" };
  /** How the fault was injected, in words ("process restart", "fault proxy down for 2 s"). */
  method?: string;
  probes?: { name: string; service: string | null; role: ProbeRole }[];
  result?: ResultSummary;
  journal?: JournalEntry[];
  evidence?: string;
  /** Bytes through the fault proxy before and after the experiment. */
  traffic?: { before: number | null; after: number | null; via: string };
  /** What identifies the target's run (pid, Redis run_id, postmaster start) before and after the fault. */
  delivered?: { by: string; before: string | null; after: string | null };
  /** A short freeze of the target while the probes watched: does any of them use it at all? */
  sensitivity?: { method: string; journal: JournalEntry[]; error?: string };
  details: D;
}

export interface ExperimentObservation<D = Record<string, unknown>> {
  records: ExperimentRecord<D>[];
}

export interface JudgeContext {
  base: { subject: string; data: Record<string, unknown> };
  evidence: string[];
  measurements: Measurement[];
  /** Probes (dependants, declared, steady state) that noticed the fault. */
  noticed: Noticed[];
  /** Probes the sensitivity freeze showed to use the target. */
  exercised: Noticed[];
}

export const EXPERIMENT_MESSAGES: Record<string, string> = {
  noProbes:
    "no probe can tell whether the fault was survived (no health endpoint, request or datastore no-op)",
  noMethod: "Gauntlet has no way to inject this fault into the target (no usable control, no fault proxy)",
  notSteadyBefore: "the system was not healthy before the fault, so the experiment cannot judge it",
  notInjected: "the fault could not be injected",
  noTraffic: "no traffic went through the fault proxy during the experiment, so the fault reached nobody",
  faultNotDelivered: "the fault did not take effect: the target is the same process or server run as before",
  faultUnobserved:
    "no probe noticed the fault and none was shown to use the target: the experiment observed nothing",
};

export interface ExperimentCheckDefinition<D> {
  meta: Omit<CheckMeta, "category" | "destructive">;
  faults: readonly Fault[];
  defaults(spec: Spec): PlannedExperiment[];
  /** Targets a listed experiment may name for this check (default: any); others are left to the checks they fit. */
  eligible?(spec: Spec, target: string): boolean;
  /** N/A reason when nothing is planned (no eligible target and no declared experiment). */
  nothingToTest: string;
  /**
   * When set, PASS needs a probe that noticed the fault or was shown to use the target; the function gives the
   * options for reading the journal (e.g. the latency shift an added-latency fault must cause).
   */
  mustBeObserved?: (record: ExperimentRecord<D>) => NoticeOptions;
  observeOne(ctx: CheckContext, experiment: PlannedExperiment): Promise<ExperimentRecord<D>>;
  judgeOne(record: ExperimentRecord<D>, spec: Spec, context: JudgeContext): FindingInput;
}

/** An experiment check, and what it offers checks that reuse its runs (mttrWithinObjective). */
export interface ExperimentCheck<D = Record<string, unknown>> extends Check<ExperimentObservation<D>> {
  planning(spec: Spec): ExperimentPlanning;
  /** Runs one of its planned experiments, or joins this assessment's run of it: each runs once per assessment. */
  observeExperiment(ctx: CheckContext, experiment: PlannedExperiment): Promise<ExperimentRecord<D>>;
}

export function defineExperimentCheck<D>(definition: ExperimentCheckDefinition<D>): ExperimentCheck<D> {
  const meta: CheckMeta = {
    ...definition.meta,
    category: "resilience",
    destructive: true,
    messages: { ...EXPERIMENT_MESSAGES, ...definition.meta.messages },
  };
  const planning = (spec: Spec) =>
    planExperiments(spec, meta.id, definition.faults, definition.defaults, definition.eligible);
  // Keyed by the check and the whole planned experiment; a run cut short by an abort is not kept for others.
  const observeExperiment = (ctx: CheckContext, experiment: PlannedExperiment) =>
    ctx.shared.once(
      `experiment:${meta.id}:${JSON.stringify(experiment)}`,
      () => definition.observeOne(ctx, experiment),
      () => !ctx.signal.aborted,
    );
  const check = defineCheck<ExperimentObservation<D>>({
    meta,
    applies(spec) {
      const { planned, excluded } = planning(spec);
      return planned.length + excluded.length > 0 ? true : notApplicable(definition.nothingToTest);
    },
    async observe(ctx) {
      const { planned, excluded } = planning(ctx.spec);
      const observation: ExperimentObservation<D> = {
        records: excluded.map(({ experiment, reason }) => ({
          experiment,
          subject: experiment.target,
          skipped: { messageId: "excluded", message: `excluded by resilience.exclude: ${reason}` },
          details: {} as D,
        })),
      };
      for (const experiment of planned) {
        if (ctx.signal.aborted) break;
        observation.records.push(await observeExperiment(ctx, experiment));
        ctx.keepPartial(observation);
      }
      return observation;
    },
    judge(observation, spec) {
      return observation.records.map((record) => judgeRecord(definition, record, spec));
    },
  });
  return { ...check, planning, observeExperiment };
}

function judgeRecord<D>(
  definition: ExperimentCheckDefinition<D>,
  record: ExperimentRecord<D>,
  spec: Spec,
): FindingInput {
  const base = {
    subject: record.subject,
    data: { service: record.subject, experiment: record.experiment.name } as Record<string, unknown>,
  };
  if (record.skipped) {
    if (record.skipped.messageId === "excluded" || record.skipped.status === "NA") {
      return {
        ...base,
        status: "NA",
        messageId: record.skipped.messageId,
        message: `${record.subject}: ${record.skipped.message}`,
      };
    }
    return {
      ...base,
      status: "UNVERIFIED",
      messageId: record.skipped.messageId,
      message: record.skipped.message,
      ...(record.skipped.toVerify ? { toVerify: record.skipped.toVerify } : {}),
    };
  }
  const evidence = record.evidence ? [record.evidence] : [];
  const measurements = experimentMeasurements(record);
  const withEvidence = { ...base, evidence, measurements };
  const result = record.result;
  const who = record.subject;
  if (!result?.steadyBefore) {
    return {
      ...withEvidence,
      status: "UNVERIFIED",
      messageId: "notSteadyBefore",
      message: `${who}: the system was not healthy before the fault (${firstFailure(record)}), so it cannot be judged`,
      toVerify: "make every watched probe answer 2xx before the assessment",
    };
  }
  if (!result.injected) {
    return {
      ...withEvidence,
      status: "UNVERIFIED",
      messageId: "notInjected",
      message: `${who}: ${result.error ?? "the fault was not injected"}`,
      toVerify: `make the fault injectable through services.${who}.control (or its fault proxy), then run again`,
    };
  }
  const traffic = record.traffic;
  if (traffic && traffic.before !== null && traffic.after !== null && traffic.after === traffic.before) {
    return {
      ...withEvidence,
      status: "UNVERIFIED",
      messageId: "noTraffic",
      message: `${who}: no traffic went through ${traffic.via} during the experiment, so the fault reached nobody`,
      toVerify: `point the dependants' ${who} address at the proxy's listen address, then run again`,
    };
  }
  const delivered = record.delivered;
  if (
    delivered &&
    delivered.before !== null &&
    delivered.after !== null &&
    delivered.before === delivered.after
  ) {
    return {
      ...withEvidence,
      status: "UNVERIFIED",
      messageId: "faultNotDelivered",
      message: `${who}: ${record.method ?? "the fault"} did not take effect (${delivered.by} ${delivered.before} before and after)`,
      toVerify: `check that services.${who}.control acts on the process that serves ${who}`,
    };
  }
  const watched = watchedProbes(record);
  const options = definition.mustBeObserved?.(record);
  const noticed = noticedIn(record, options ?? {});
  const exercised = record.sensitivity
    ? probesThatNoticed(onlyWatched(record, record.sensitivity.journal))
    : [];
  if (options && noticed.length === 0 && exercised.length === 0) {
    const names = [...watched].join(", ") || "none";
    const sensitivity = record.sensitivity
      ? `; a ${record.sensitivity.method} did not change any of them either`
      : "";
    return {
      ...withEvidence,
      status: "UNVERIFIED",
      messageId: "faultUnobserved",
      message: `${who}: ${record.method ?? "the fault"} was injected, but no probe noticed (${names} answered as at baseline throughout${sensitivity}): they may not use ${who} at all, so survival is not shown`,
      data: { ...base.data, probes: [...watched] },
      toVerify: `make the fault observable: a performance.requests GET path (or resilience.experiments[].probes) that uses ${who}, a health endpoint that checks ${who}, or a steadyState PromQL condition on ${who}'s dependants`,
    };
  }
  return definition.judgeOne(record, spec, { base, evidence, measurements, noticed, exercised });
}

/** The probes whose answers can show the fault reached someone: dependants', declared and steady-state ones. */
function watchedProbes(record: ExperimentRecord<unknown>): Set<string> {
  return new Set(
    (record.probes ?? []).filter((p) => p.role !== "bystander" && p.role !== "target").map((p) => p.name),
  );
}

function onlyWatched(
  record: ExperimentRecord<unknown>,
  entries: readonly JournalEntry[] = [],
): JournalEntry[] {
  const watched = watchedProbes(record);
  return entries.filter((e) => e.kind !== "probe" || watched.has(e.name));
}

/** The watched probes that noticed the fault in the record's journal (observe uses it to decide on a freeze test). */
export function noticedIn(record: ExperimentRecord<unknown>, options: NoticeOptions = {}): Noticed[] {
  return probesThatNoticed(onlyWatched(record, record.journal), options);
}

function firstFailure(record: ExperimentRecord<unknown>): string {
  const failed = (record.journal ?? []).find((e) => e.kind === "probe" && !e.ok);
  return failed ? `${failed.name}: ${failed.detail}` : "no probe held";
}

export function experimentMeasurements(record: ExperimentRecord<unknown>): Measurement[] {
  const evidence = record.evidence;
  const r = record.result;
  if (!evidence || !r) return [];
  const figures: Measurement[] = [];
  if (r.timeToDetectMs !== null)
    figures.push({ name: "time_to_detect", value: r.timeToDetectMs, unit: "ms", evidence });
  if (r.timeToRecoverMs !== null) {
    figures.push({ name: "time_to_recover", value: r.timeToRecoverMs, unit: "ms", evidence });
  }
  figures.push({ name: "recover_limit", value: record.experiment.recoverWithinMs, unit: "ms", evidence });
  figures.push({ name: "failed_probes", value: r.failedProbes, unit: "count", evidence });
  figures.push({ name: "probes", value: r.totalProbes, unit: "count", evidence });
  return figures;
}

export function seconds(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** "noticed by api GET /api/items (during the fault: refused)" for PASS messages. */
export function noticedText(context: JudgeContext): string {
  if (context.noticed.length > 0) {
    const first = context.noticed[0]!;
    const more = context.noticed.length > 1 ? ` and ${context.noticed.length - 1} more` : "";
    return `noticed by ${first.probe} (${first.how})${more}`;
  }
  const first = context.exercised[0];
  return first
    ? `no probe failed during the fault, and ${first.probe} is shown to use it (${first.how} under a short freeze)`
    : "";
}
