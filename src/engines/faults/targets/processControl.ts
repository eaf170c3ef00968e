// ServiceTarget over a ProcessTarget that Gauntlet supervises (`control.process`). Signals go to the whole process
// group, and memory is the RSS summed over the group, because `command` runs under a shell whose children do the work.
import { readdir, readFile } from "node:fs/promises";
import type { UndoDescriptor } from "../undoDescriptor.js";
import type { ProcessTarget } from "./processTarget.js";
import { signalTree } from "./processTree.js";
import type { ServiceTarget } from "./target.js";

export class ProcessControl implements ServiceTarget {
  readonly kind = "process" as const;
  readonly service: string;
  readonly process: ProcessTarget;
  readonly restartedBy?: "gauntlet";

  constructor(service: string, process: ProcessTarget) {
    this.service = service;
    this.process = process;
    if (process.options.restart !== "never") this.restartedBy = "gauntlet";
  }

  lastStartedAt(): number | undefined {
    return this.process.starts.at(-1);
  }

  /** A frozen tree stays frozen without Gauntlet; a kill of its own supervised process needs no undo from outside. */
  async undoFor(operation: "kill" | "stop" | "restart" | "pause"): Promise<UndoDescriptor | undefined> {
    const pid = this.process.pid;
    return operation === "pause" && pid ? { kind: "resumeProcesses", pid, service: this.service } : undefined;
  }

  async isRunning(): Promise<boolean> {
    return this.process.isRunning();
  }

  async kill(): Promise<void> {
    this.#send("SIGKILL");
  }

  async stop(): Promise<void> {
    const pgid = this.process.pid;
    await this.process.stop();
    if (pgid) await waitForGroupExit(pgid);
  }

  async start(): Promise<void> {
    this.process.start();
  }

  async restart(): Promise<void> {
    await this.stop();
    this.process.start();
  }

  /** The group, and the children that left it (setsid), so a freeze reaches every worker. */
  async pause(): Promise<void> {
    this.#send("SIGSTOP");
    if (this.process.pid) await signalTree(this.process.pid, "SIGSTOP");
  }

  async resume(): Promise<void> {
    // Lenient on purpose: a process that died while paused leaves nothing frozen to undo.
    if (this.process.pid) await signalTree(this.process.pid, "SIGCONT");
    this.process.signal("SIGCONT");
  }

  /** A fault that was not delivered must not pass for one: a later "recovered" would be measured against nothing. */
  #send(signal: NodeJS.Signals): void {
    if (!this.process.signal(signal)) {
      throw new Error(`${this.service} is not running: ${signal} could not be sent`);
    }
  }

  /** Only a live process has a pid: the exited child's number must not pass for the service still running. */
  async pid(): Promise<number | undefined> {
    return this.process.isRunning() ? this.process.pid : undefined;
  }

  async memoryBytes(): Promise<number | undefined> {
    const pgid = this.process.pid;
    if (!pgid || !this.process.isRunning()) return undefined;
    return processGroupRss(pgid);
  }
}

/**
 * Waits until no process of the group is left. The shell that leads the group exits at once on SIGTERM while its
 * child (e.g. redis-server) may still be shutting down and holding its port: a restart must not race it.
 * After `graceMs` the stragglers get SIGKILL.
 */
export async function waitForGroupExit(pgid: number, graceMs = 5_000, procDir = "/proc"): Promise<boolean> {
  const deadline = performance.now() + graceMs;
  let killed = false;
  for (;;) {
    if (!(await groupAlive(pgid, procDir))) return true;
    if (!killed && performance.now() > deadline) {
      killed = true;
      try {
        process.kill(-pgid, "SIGKILL");
      } catch {
        return true; // nothing left to signal
      }
    } else if (killed && performance.now() > deadline + 2_000) {
      return false;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function groupAlive(pgid: number, procDir: string): Promise<boolean> {
  for (const entry of await readdir(procDir)) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`${procDir}/${entry}/stat`, "utf8").catch(() => "");
    if (!stat) continue;
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // A zombie (state Z) holds no port or memory any more.
    if (Number(fields[2]) === pgid && fields[0] !== "Z") return true;
  }
  return false;
}

/** Sum of resident set sizes of every process in a process group (group from /proc/<pid>/stat, VmRSS from status). */
export async function processGroupRss(pgid: number, procDir = "/proc"): Promise<number | undefined> {
  let total = 0;
  let found = false;
  for (const entry of await readdir(procDir)) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = await readFile(`${procDir}/${entry}/stat`, "utf8");
    } catch {
      continue; // exited while we looked
    }
    // Fields after the parenthesised command name (which may itself hold spaces): state ppid pgrp …
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(fields[2]) !== pgid) continue;
    const status = await readFile(`${procDir}/${entry}/status`, "utf8").catch(() => "");
    const rssKb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    if (!rssKb) continue; // a zombie has no memory left
    found = true;
    total += Number(rssKb[1]) * 1024;
  }
  return found ? total : undefined;
}
