// The fault journal (DESIGN principle 5, surviving the worst case): every undo that must outlive the Gauntlet process
// — a toxic on a proxy Gauntlet does not own, a frozen process tree, a paused container, a supervised service that
// would run on orphaned — is written to .gauntlet/faults/<runId>.json, synchronously, before the fault goes in, and
// struck off once undone. A run killed with SIGKILL cannot undo anything; the next assessment in the same folder finds
// its journal (its process is gone), undoes what it can and reports every entry, so nothing is left behind in silence.
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmdirSync,
  rmSync,
  writeSync,
} from "node:fs";
import path from "node:path";
import { remoteToxics } from "../engines/faults/proxy/proxyClient.js";
import { signalTree } from "../engines/faults/targets/processTree.js";
import type { UndoDescriptor } from "../engines/faults/undoDescriptor.js";

export type { UndoDescriptor };

interface Entry {
  id: number;
  check: string;
  name: string;
  undo: UndoDescriptor;
  at: string;
}

interface JournalFile {
  runId: string;
  pid: number;
  /** The owner's start time in clock ticks since boot (/proc/<pid>/stat field 22): a reused pid is not the owner. */
  startTicks: string;
  entries: Entry[];
}

export interface Leftover {
  runId: string;
  check: string;
  what: string;
  /** undone: Gauntlet undid it now; gone: nothing left to undo; manual: a person must; failed: the undo failed. */
  outcome: "undone" | "gone" | "manual" | "failed";
  detail: string;
}

export const FAULTS_DIR = "faults";

export class FaultJournal {
  readonly file: string;
  readonly #dir: string;
  readonly #state: JournalFile;
  /** Folders this journal created (nothing is made until the first fault), removed again when left empty. */
  #created: string[] = [];
  #next = 1;

  constructor(gauntletDir: string, runId: string) {
    this.#dir = path.join(gauntletDir, FAULTS_DIR);
    this.file = path.join(this.#dir, `${runId}.json`);
    this.#state = { runId, pid: process.pid, startTicks: startTicksOf(process.pid) ?? "", entries: [] };
  }

  /** Writes the entry to disk (fsync) before returning: call it before the fault goes in. Returns the strike-off. */
  record(check: string, name: string, undo: UndoDescriptor): () => void {
    const entry: Entry = { id: this.#next++, check, name, undo, at: new Date().toISOString() };
    this.#state.entries.push(entry);
    this.#flush();
    return () => {
      const index = this.#state.entries.indexOf(entry);
      if (index < 0) return;
      this.#state.entries.splice(index, 1);
      this.#flush();
    };
  }

  /** At the end of a run: nothing is left to undo, so the journal goes (and the folders it made, if empty). */
  close(): void {
    if (this.#state.entries.length > 0) return;
    rmSync(this.file, { force: true });
    for (const dir of [...this.#created].reverse()) {
      try {
        rmdirSync(dir);
      } catch {
        break; // not empty: another run's journal, or history
      }
    }
    this.#created = [];
  }

  #flush(): void {
    if (this.#state.entries.length === 0) {
      rmSync(this.file, { force: true });
      return;
    }
    if (!existsSync(this.#dir)) {
      const first = mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
      // mkdirSync returns the first folder it had to make: every one from there down is ours to remove.
      if (first) {
        for (let dir = this.#dir; ; dir = path.dirname(dir)) {
          this.#created.unshift(dir);
          if (dir === first || dir === path.dirname(dir)) break;
        }
      }
    }
    const temp = `${this.file}.tmp`;
    const fd = openSync(temp, "w", 0o600);
    try {
      writeSync(fd, `${JSON.stringify(this.#state, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, this.file); // atomic: a reader never sees half a journal
  }
}

/**
 * Undoes and reports what runs that died (their process is gone) left in `gauntletDir`/faults. A journal of a run still
 * alive (another assessment in the same folder) is left alone.
 */
export async function reconcileLeftovers(gauntletDir: string): Promise<Leftover[]> {
  const dir = path.join(gauntletDir, FAULTS_DIR);
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith(".json"));
  } catch {
    return [];
  }
  const leftovers: Leftover[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    let journal: JournalFile;
    try {
      journal = JSON.parse(readFileSync(file, "utf8")) as JournalFile;
    } catch {
      leftovers.push({
        runId: name,
        check: "-",
        what: file,
        outcome: "failed",
        detail: "unreadable journal, kept",
      });
      continue;
    }
    if (isAlive(journal.pid, journal.startTicks)) continue;
    let unresolved = 0;
    for (const entry of [...journal.entries].reverse()) {
      const leftover = await undo(entry);
      leftovers.push({ runId: journal.runId, check: entry.check, ...leftover });
      if (leftover.outcome === "failed") unresolved += 1;
    }
    // A failed undo keeps its journal, so the next run tries again and says so again.
    if (unresolved === 0) rmSync(file, { force: true });
  }
  return leftovers;
}

async function undo(entry: Entry): Promise<Omit<Leftover, "runId" | "check">> {
  const u = entry.undo;
  try {
    switch (u.kind) {
      case "removeToxics": {
        const proxy = remoteToxics(u.api, u.token);
        const listed = new Set((await proxy.list()).map((t) => t.name));
        const present = u.names.filter((n) => listed.has(n));
        for (const n of present) await proxy.remove(n);
        return present.length > 0
          ? {
              what: entry.name,
              outcome: "undone",
              detail: `removed toxic ${present.join(", ")} from ${u.api}`,
            }
          : { what: entry.name, outcome: "gone", detail: `no toxic ${u.names.join(", ")} left on ${u.api}` };
      }
      case "resumeProcesses": {
        const reached = await signalTree(u.pid, "SIGCONT").catch(() => 0);
        return reached > 0
          ? {
              what: entry.name,
              outcome: "undone",
              detail: `sent SIGCONT to ${u.service} (pid ${u.pid} and its children)`,
            }
          : { what: entry.name, outcome: "gone", detail: `${u.service} (pid ${u.pid}) is no longer running` };
      }
      case "unpauseContainer":
      case "startContainer": {
        // Loaded only when a container fault is left to undo: dockerode costs every CLI start otherwise.
        const { default: Docker } = await import("dockerode");
        const container = new Docker({ socketPath: u.socket }).getContainer(u.name);
        const state = (await container.inspect()).State as { Running: boolean; Paused: boolean };
        if (u.kind === "unpauseContainer" && state.Paused) {
          await container.unpause();
          return { what: entry.name, outcome: "undone", detail: `unpaused container ${u.name}` };
        }
        if (u.kind === "startContainer" && !state.Running) {
          await container.start();
          return { what: entry.name, outcome: "undone", detail: `started container ${u.name} again` };
        }
        return { what: entry.name, outcome: "gone", detail: `container ${u.name} is running` };
      }
      case "stopProcessGroup": {
        if (startTicksOf(u.pgid) !== u.startTicks) {
          return {
            what: entry.name,
            outcome: "gone",
            detail: `${u.service} (\`${u.command}\`) is no longer running`,
          };
        }
        process.kill(-u.pgid, "SIGTERM");
        return {
          what: entry.name,
          outcome: "undone",
          detail: `stopped ${u.service}, left running by the killed run`,
        };
      }
      case "removeScratch":
        return removeScratch(entry.name, u);
      case "mayBeDown":
        return { what: entry.name, outcome: "manual", detail: `${u.service} may still be down: ${u.fix}` };
    }
  } catch (error) {
    return { what: entry.name, outcome: "failed", detail: `could not undo: ${(error as Error).message}` };
  }
}

/** Kills the scratch server whose pid file is in the folder (only if its command line names the folder), then removes it. */
function removeScratch(
  name: string,
  u: Extract<UndoDescriptor, { kind: "removeScratch" }>,
): Omit<Leftover, "runId" | "check"> {
  if (!existsSync(u.dir))
    return { what: name, outcome: "gone", detail: `${u.what} (${u.dir}) is already gone` };
  const pid =
    u.pidFile && existsSync(u.pidFile) ? Number(readFileSync(u.pidFile, "utf8").split("\n")[0]) : Number.NaN;
  if (Number.isInteger(pid) && pid > 0) {
    const where = (() => {
      try {
        return `${readFileSync(`/proc/${pid}/cmdline`, "utf8")}\0${readlinkSync(`/proc/${pid}/cwd`)}`;
      } catch {
        return "";
      }
    })();
    // A pid is reused: only a process started on this folder (or working in it, as redis-server does) is the server.
    if (where.includes(u.dir)) process.kill(pid, "SIGKILL");
  }
  rmSync(u.dir, { recursive: true, force: true });
  return { what: name, outcome: "undone", detail: `removed ${u.what} left by the killed run (${u.dir})` };
}

/** Field 22 of /proc/<pid>/stat; undefined when the process does not exist (or there is no /proc). */
export function startTicksOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

function isAlive(pid: number, startTicks: string): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // Without /proc the signal test is all there is; with it, a reused pid is told apart by its start time.
  const now = startTicksOf(pid);
  return now === undefined || startTicks === "" || now === startTicks;
}
