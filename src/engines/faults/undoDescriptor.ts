// How a fault is undone, described so that another process can do it: what the fault journal keeps for a run that
// might be killed before it undoes its own faults (src/core/faultJournal.ts carries them out).
/** An undo another process can carry out from this description alone. */
export type UndoDescriptor =
  | { kind: "removeToxics"; api: string; token?: string; names: string[] }
  | { kind: "resumeProcesses"; pid: number; service: string }
  | { kind: "unpauseContainer"; socket: string; name: string; service: string }
  | { kind: "startContainer"; socket: string; name: string; service: string }
  /** A supervised service (control.process) Gauntlet started: orphaned if Gauntlet dies, so it is stopped. */
  | { kind: "stopProcessGroup"; pgid: number; startTicks: string; service: string; command: string }
  /**
   * A scratch server and its folder (a restore drill's): the server whose pid file is in the folder is killed, the
   * folder removed.
   */
  | { kind: "removeScratch"; dir: string; pidFile?: string; what: string }
  /** Nothing can be undone from here (a user's start command); the next run says so and how to fix it. */
  | { kind: "mayBeDown"; service: string; fix: string };
