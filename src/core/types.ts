// The check contract (DESIGN.md "The check contract"). A check observes (I/O, written as evidence) and then judges
// the observation with a pure function; it returns findings and never scores. Each finding names a messageId declared
// in the check's meta, so tests assert [subject, status, messageId] rather than wording.
import type { TargetLookup } from "../engines/faults/targets/target.js";
import type { UndoDescriptor } from "../engines/faults/undoDescriptor.js";
import type { Redactor } from "../secrets/redactor.js";
import type { Spec } from "../spec/schema.js";

export const CATEGORIES = [
  "deployment",
  "observability",
  "resilience",
  "security",
  "performance",
  "recovery",
  "operations",
] as const;
export type Category = (typeof CATEGORIES)[number];

export const RISKS = ["critical", "high", "medium", "low"] as const;
export type Risk = (typeof RISKS)[number];

export const STATUSES = ["PASS", "WARN", "FAIL", "UNVERIFIED", "ERROR", "NA"] as const;
export type Status = (typeof STATUSES)[number];

export type Effort = "low" | "medium" | "high";

export interface Measurement {
  name: string;
  value: number;
  unit: string;
  /** Evidence file (relative to the evidence folder) this figure was read from. */
  evidence?: string;
}

export interface Location {
  path: string;
  line?: number;
  column?: number;
}

/** What a check's judge() returns; the runner stamps checkId. */
export interface FindingInput {
  status: Status;
  /** Which of the check's `meta.messages` this finding is (or one of CORE_MESSAGES for the runner's own). */
  messageId: string;
  message: string;
  /** Values for the remediation template ({{service}} etc.) and machine-readable detail. */
  data?: Record<string, unknown>;
  /** The service or file this finding is about; waivers match on it. */
  subject?: string;
  location?: Location;
  /** Evidence file names, relative to the run's evidence folder. */
  evidence?: string[];
  measurements?: Measurement[];
  /** For UNVERIFIED: what would make this verifiable. */
  toVerify?: string;
}

export interface Finding extends Omit<FindingInput, "messageId"> {
  checkId: string;
  /** Always set in a new run; absent in runs stored before messageIds existed. */
  messageId?: string;
  /** Set when a waiver turned this FAIL into a WARN. */
  waived?: { reason: string; approvedBy: string; expires: string };
}

export interface CheckMeta {
  /** camelCase yes/no question; equals the file name. */
  id: string;
  category: Category;
  risk: Risk;
  destructive: boolean;
  title: string;
  objective: string;
  remediation: { effort: Effort; text: string };
  /**
   * Every situation the check can report, by messageId: one line each saying what it means. A finding whose messageId
   * is not here is a bug (the runner turns it into ERROR).
   */
  messages: Record<string, string>;
  /** Upper bound for run(); the runner aborts and reports UNVERIFIED past it. */
  timeoutMs?: number;
}

/** messageIds the runner and planner use for findings they make themselves, valid for every check. */
export const CORE_MESSAGES: Record<string, string> = {
  notApplicable: "the check does not apply to this system",
  notRun: "the check applies but was not run (destructive without consent, --only or --skip)",
  cancelled: "the assessment was cancelled before or while the check ran",
  timedOut: "the check did not finish within its time limit",
  internalError: "the check failed with an internal error (a bug)",
  rollbackFailed: "an undo action of the check failed: the system may still be altered",
  excluded: "the spec excludes this subject from the check, with a reason",
};

export interface EvidenceWriter {
  /** Writes a file under this check's evidence folder (redacted) and returns its path relative to the evidence root. */
  write(name: string, content: string | Uint8Array): Promise<string>;
  writeJson(name: string, value: unknown): Promise<string>;
}

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
}

export type Rollback = () => Promise<void> | void;

export interface RollbackRegistry {
  /**
   * Registers an undo action; it runs (LIFO) when the check ends, times out, throws or the run is cancelled. With
   * `persist`, it is also written to the run's fault journal first, so a later run can undo it if this one is killed.
   */
  add(name: string, undo: Rollback, persist?: UndoDescriptor): { runNow(): Promise<void> };
}

export interface Clock {
  now(): number;
}

/** State shared by the checks of one run (e.g. one load run judged by several checks); gone with the run. */
export interface RunShared {
  /** The value for `key` in this run: `start()` is called by the first caller, the others await its promise. */
  once<T>(key: string, start: () => Promise<T>, keep?: (value: T) => boolean): Promise<T>;
}

export interface CheckContext {
  spec: Spec;
  /** Absolute path of the spec file; relative paths in the spec resolve against its folder. */
  specPath: string;
  specDir: string;
  env: NodeJS.ProcessEnv;
  evidence: EvidenceWriter;
  log: Logger;
  signal: AbortSignal;
  clock: Clock;
  rollbacks: RollbackRegistry;
  allowDestructive: boolean;
  /** Controllers of the services that declare `control` (process, container, kubernetes, commands). */
  targets: TargetLookup;
  /** This run's secrets: register what you discover (a URL's password), redact what you print. */
  secrets: Redactor;
  /** State shared with the other checks of this run. */
  shared: RunShared;
  /** Epoch ms at which the runner aborts this check (its timeout), so it can budget slow tools. */
  deadline: number;
  /**
   * Keeps the observation made so far: if the check is then aborted (timeout, cancel), the runner judges what was kept
   * instead of losing every finding already made.
   */
  keepPartial(observation: unknown): void;
}

export type AppliesResult = true | { applies: false; reason: string };

export interface Check<O = unknown> {
  meta: CheckMeta;
  applies(spec: Spec, options: { allowDestructive: boolean }): AppliesResult;
  /** I/O: probes the system, writes evidence, returns what it saw (JSON-serialisable, evidence cited by name). */
  observe(ctx: CheckContext): Promise<O>;
  /** Pure: the same observation and spec give the same findings; tested from fixture folders without servers. */
  judge(observation: O, spec: Spec): FindingInput[];
  /** observe, then judge. */
  run(ctx: CheckContext): Promise<FindingInput[]>;
}

export interface CheckDefinition<O> {
  meta: CheckMeta;
  applies: Check<O>["applies"];
  observe: Check<O>["observe"];
  judge: Check<O>["judge"];
}

export function defineCheck<O>(definition: CheckDefinition<O>): Check<O> {
  return {
    ...definition,
    async run(ctx) {
      return definition.judge(await definition.observe(ctx), ctx.spec);
    },
  };
}

export function notApplicable(reason: string): AppliesResult {
  return { applies: false, reason };
}
