// ServiceTarget over user-given shell commands (`control.commands`), for services Gauntlet neither started nor can
// reach through an API (systemd units, a VM, a remote host over ssh). Operations without a command fall back to
// signals to the process the `pid` command names; without either they are UnsupportedOperation.
import { readFile } from "node:fs/promises";
import { runCommand } from "../../shell/run.js";
import type { UndoDescriptor } from "../undoDescriptor.js";
import { signalTree } from "./processTree.js";
import { type ServiceTarget, UnsupportedOperation } from "./target.js";

export interface CommandsSpec {
  kill?: string;
  stop?: string;
  start?: string;
  restart?: string;
  pid?: string;
}

const COMMAND_TIMEOUT_MS = 60_000;

export class CommandsControl implements ServiceTarget {
  readonly kind = "commands" as const;
  readonly service: string;
  readonly commands: CommandsSpec;
  readonly #cwd: string;
  readonly #env: NodeJS.ProcessEnv;

  constructor(service: string, commands: CommandsSpec, options: { cwd: string; env?: NodeJS.ProcessEnv }) {
    this.service = service;
    this.commands = commands;
    this.#cwd = options.cwd;
    this.#env = options.env ?? process.env;
  }

  /** Without a pid command Gauntlet cannot look: unknown, never "running" (a killed service would stay down). */
  async isRunning(): Promise<boolean | undefined> {
    if (!this.commands.pid) return undefined;
    return (await this.pid()) !== undefined;
  }

  async kill(): Promise<void> {
    if (this.commands.kill) return this.#run("kill");
    await this.#signal("SIGKILL", "kill", "give control.commands.kill or control.commands.pid");
  }

  async stop(): Promise<void> {
    if (this.commands.stop) return this.#run("stop");
    await this.#signal("SIGTERM", "stop", "give control.commands.stop or control.commands.pid");
  }

  async start(): Promise<void> {
    if (!this.commands.start) throw new UnsupportedOperation(this, "start", "give control.commands.start");
    await this.#run("start");
  }

  async restart(): Promise<void> {
    if (this.commands.restart) return this.#run("restart");
    if (!this.commands.start) {
      throw new UnsupportedOperation(this, "restart", "give control.commands.restart (or stop and start)");
    }
    await this.stop();
    await this.start();
  }

  async pause(): Promise<void> {
    await this.#signal("SIGSTOP", "pause", "give control.commands.pid so Gauntlet can SIGSTOP the process");
  }

  async resume(): Promise<void> {
    await this.#signal("SIGCONT", "resume", "give control.commands.pid so Gauntlet can SIGCONT the process");
  }

  /** The live process the pid command names; a stale pid file (left by a crash) names none. */
  async pid(): Promise<number | undefined> {
    if (!this.commands.pid) return undefined;
    const result = await this.#shell(this.commands.pid);
    const pid = Number.parseInt(result.stdout.trim().split(/\s+/)[0] ?? "", 10);
    return result.exitCode === 0 && pid > 0 && (await alive(pid)) ? pid : undefined;
  }

  async undoFor(operation: "kill" | "stop" | "restart" | "pause"): Promise<UndoDescriptor | undefined> {
    if (operation === "pause") {
      const pid = await this.pid();
      return pid ? { kind: "resumeProcesses", pid, service: this.service } : undefined;
    }
    // Running the user's start command on the next run's behalf could start a second copy: say it, do not do it.
    const fix = this.commands.start
      ? `check it and run its start command: ${this.commands.start}`
      : `check it and start it (control.commands has no start command)`;
    return { kind: "mayBeDown", service: this.service, fix };
  }

  async memoryBytes(): Promise<number | undefined> {
    const pid = await this.pid();
    if (!pid) return undefined;
    const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
    const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return rss ? Number(rss[1]) * 1024 : undefined;
  }

  /** Signals the process the pid command names and everything it started (a freeze must reach the workers). */
  async #signal(signal: NodeJS.Signals, operation: string, hint: string): Promise<void> {
    if (!this.commands.pid) throw new UnsupportedOperation(this, operation, hint);
    const pid = await this.pid();
    if (!pid) throw new Error(`${this.service}: the pid command gave no running process`);
    if ((await signalTree(pid, signal)) === 0)
      throw new Error(`${this.service}: ${signal} reached no process`);
  }

  async #run(operation: keyof CommandsSpec): Promise<void> {
    const result = await this.#shell(this.commands[operation]!);
    if (result.exitCode !== 0) {
      const why = result.timedOut ? "timed out" : `exited with ${result.exitCode ?? result.signal}`;
      throw new Error(
        `${this.service}: control.commands.${operation} ${why}: ${result.stderr.trim().slice(0, 300)}`,
      );
    }
  }

  #shell(command: string) {
    return runCommand("/bin/sh", ["-c", command], {
      cwd: this.#cwd,
      env: this.#env,
      timeoutMs: COMMAND_TIMEOUT_MS,
    });
  }
}

async function alive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  // Without /proc (not Linux) the signal test above is all there is to go on.
  if (stat === "") return true;
  return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
}
