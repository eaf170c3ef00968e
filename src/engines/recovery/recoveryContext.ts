// What the recovery engine needs of a check's context, declared here because engines sit below core: a check's
// CheckContext satisfies it as is.
import type { Redactor } from "../../secrets/redactor.js";
import type { Spec } from "../../spec/schema.js";
import type { UndoDescriptor } from "../faults/undoDescriptor.js";

export interface UndoRegistry {
  /** Registers an undo action that runs when the check ends, fails or is cancelled; `persist` journals it first. */
  add(name: string, undo: () => Promise<void> | void, persist?: UndoDescriptor): { runNow(): Promise<void> };
}

export interface RecoveryContext {
  spec: Spec;
  specDir: string;
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  clock: { now(): number };
  secrets: Redactor;
  rollbacks: UndoRegistry;
  shared: { once<T>(key: string, start: () => Promise<T>): Promise<T> };
}
