// The check contract (DESIGN.md "The check contract"). Checks observe and return findings; they never score.
import type { TargetLookup } from "../engines/faults/targets/target.js";
import type { Spec } from "../spec/schema.js";

export const CATEGORIES = [
  "deployment",
  "observability",
  "resilience",
  "security",
  "performance",
  "recovery",
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

/** What a check's run() returns; the runner stamps checkId. */
export interface FindingInput {
  status: Status;
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

export interface Finding extends FindingInput {
  checkId: string;
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
  /** Upper bound for run(); the runner aborts and reports UNVERIFIED past it. */
  timeoutMs?: number;
}

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
  /** Registers an undo action; it runs (LIFO) when the check ends, times out, throws or the run is cancelled. */
  add(name: string, undo: Rollback): { runNow(): Promise<void> };
}

export interface Clock {
  now(): number;
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
}

export type AppliesResult = true | { applies: false; reason: string };

export interface Check {
  meta: CheckMeta;
  applies(spec: Spec, options: { allowDestructive: boolean }): AppliesResult;
  run(ctx: CheckContext): Promise<FindingInput[]>;
}

export function defineCheck(check: Check): Check {
  return check;
}

export function notApplicable(reason: string): AppliesResult {
  return { applies: false, reason };
}
