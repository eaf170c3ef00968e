// Builds the CheckContext a check runs with: its own evidence folder, logger prefix, rollback scope, abort signal and
// deadline, and the run's secrets and shared state.
import path from "node:path";
import { NO_TARGETS, type TargetLookup } from "../engines/faults/targets/target.js";
import type { Redactor } from "../secrets/redactor.js";
import type { Spec } from "../spec/schema.js";
import type { EvidenceStore } from "./evidence.js";
import { createRunShared } from "./shared.js";
import type { CheckContext, Clock, Logger, RollbackRegistry, RunShared } from "./types.js";

export const systemClock: Clock = { now: () => Date.now() };

export interface ContextOptions {
  spec: Spec;
  specPath: string;
  checkId: string;
  evidence: EvidenceStore;
  rollbacks: RollbackRegistry;
  signal: AbortSignal;
  env?: NodeJS.ProcessEnv;
  allowDestructive?: boolean;
  clock?: Clock;
  targets?: TargetLookup;
  /** The run's secrets; a fresh, empty set when omitted (tests). */
  secrets?: Redactor;
  shared?: RunShared;
  /** Epoch ms at which the check will be aborted; none (Infinity) when omitted. */
  deadline?: number;
  /** Receives what the check keeps with ctx.keepPartial. */
  onPartial?: (observation: unknown) => void;
  /** Receives every log line, already redacted. */
  onLog?: (level: "debug" | "info" | "warn", checkId: string, message: string) => void;
}

export function createCheckContext(options: ContextOptions): CheckContext {
  const secrets = options.secrets ?? options.evidence.secrets;
  const emit = (level: "debug" | "info" | "warn") => (message: string) =>
    options.onLog?.(level, options.checkId, secrets.redact(message));
  const log: Logger = { debug: emit("debug"), info: emit("info"), warn: emit("warn") };
  const specPath = path.resolve(options.specPath);
  return {
    spec: options.spec,
    specPath,
    specDir: path.dirname(specPath),
    env: options.env ?? process.env,
    evidence: options.evidence.writerFor(options.checkId),
    log,
    signal: options.signal,
    clock: options.clock ?? systemClock,
    rollbacks: options.rollbacks,
    allowDestructive: options.allowDestructive ?? options.spec.destructive,
    targets: options.targets ?? NO_TARGETS,
    secrets,
    shared: options.shared ?? createRunShared(),
    deadline: options.deadline ?? Number.POSITIVE_INFINITY,
    keepPartial: (observation) => options.onPartial?.(observation),
  };
}
