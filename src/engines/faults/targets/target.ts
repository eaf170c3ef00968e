// One interface over every way a service can be controlled (DESIGN `control`): a process Gauntlet supervises, a
// container, a Kubernetes workload, or user-given commands. Checks reach it through ctx.targets.get(service).
import type { UndoDescriptor } from "../undoDescriptor.js";

export type TargetKind = "process" | "container" | "kubernetes" | "commands";

export interface ServiceTarget {
  readonly service: string;
  readonly kind: TargetKind;
  /** Whether the service's process/container/pod is running now; undefined when this target cannot look. */
  isRunning(): Promise<boolean | undefined>;
  /** Hard kill: SIGKILL, container kill, pod delete. The target's own supervisor decides whether it comes back. */
  kill(): Promise<void>;
  /** Graceful stop. */
  stop(): Promise<void>;
  start(): Promise<void>;
  restart(): Promise<void>;
  /** Freeze without killing: SIGSTOP to the process group, container pause. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** Main pid when there is one on this host. */
  pid(): Promise<number | undefined>;
  /** Resident memory in bytes of everything the target runs (a process group's RSS, a container's usage). */
  memoryBytes(): Promise<number | undefined>;
  /**
   * Set when Gauntlet itself restarts the service after it exits (control.process with restart: always/on-failure):
   * a crash test then measures Gauntlet's supervisor, standing in for the user's process manager.
   */
  readonly restartedBy?: "gauntlet";
  /** Epoch ms of the newest start of the service, when the target saw it (a supervised process). */
  lastStartedAt?(): number | undefined;
  /**
   * How another process could undo `operation` if Gauntlet were killed right after it (for the fault journal);
   * undefined when nothing would be left behind or nothing can be done from outside.
   */
  undoFor?(operation: "kill" | "stop" | "restart" | "pause"): Promise<UndoDescriptor | undefined>;
}

/** Thrown by a target that cannot do an operation (e.g. `commands` without a `pause` command). */
export class UnsupportedOperation extends Error {
  constructor(target: ServiceTarget, operation: string, hint: string) {
    super(`${target.service} (${target.kind}) cannot ${operation}: ${hint}`);
    this.name = "UnsupportedOperation";
  }
}

export interface TargetLookup {
  get(service: string): ServiceTarget | undefined;
  /** Why a service that declares `control` has no target for this run (e.g. kubernetes without a context). */
  unavailable?(service: string): string | undefined;
}

export const NO_TARGETS: TargetLookup = { get: () => undefined };
