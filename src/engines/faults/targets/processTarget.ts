// A service Gauntlet supervises itself (`control.process`): started in its own process group so a stop reaches
// every child, restarted per its policy, its output kept (bounded) for evidence.
import { type ChildProcess, spawn } from "node:child_process";
import { EventEmitter } from "node:events";
import path from "node:path";

export interface ProcessTargetOptions {
  name: string;
  command: string;
  cwd: string;
  env?: Record<string, string>;
  restart: "always" | "on-failure" | "never";
  /** Bytes of combined stdout/stderr kept for evidence. */
  logLimit?: number;
}

export interface ExitRecord {
  at: number;
  code: number | null;
  signal: NodeJS.Signals | null;
}

const STOP_GRACE_MS = 5_000;
const RESTART_DELAY_MS = 250;

export class ProcessTarget extends EventEmitter {
  readonly options: ProcessTargetOptions;
  readonly exits: ExitRecord[] = [];
  /** Epoch ms of every start (the first and each restart). */
  readonly starts: number[] = [];
  #child: ChildProcess | null = null;
  #stopping = false;
  #log = "";
  #restarts = 0;
  #restartTimer: NodeJS.Timeout | null = null;

  constructor(options: ProcessTargetOptions) {
    super();
    this.options = options;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get restarts(): number {
    return this.#restarts;
  }

  get output(): string {
    return this.#log;
  }

  isRunning(): boolean {
    return this.#child !== null && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  start(): void {
    if (this.isRunning()) return;
    this.#stopping = false;
    this.starts.push(Date.now());
    const child = spawn("/bin/sh", ["-c", this.options.command], {
      cwd: path.resolve(this.options.cwd),
      env: { ...process.env, ...this.options.env },
      detached: true, // own process group: signals reach the shell's children too
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.#child = child;
    const append = (chunk: Buffer) => this.#append(chunk.toString("utf8"));
    child.stdout?.on("data", append);
    child.stderr?.on("data", append);
    child.on("error", (error) => this.#append(`[gauntlet] failed to start: ${error.message}\n`));
    child.on("exit", (code, signal) => {
      this.exits.push({ at: Date.now(), code, signal });
      this.#append(`[gauntlet] process exited (code ${code}, signal ${signal})\n`);
      this.emit("exit", code, signal);
      if (this.#child === child) this.#maybeRestart(code);
    });
  }

  /** SIGTERM to the process group, SIGKILL after a grace period. Disables restarts. */
  async stop(graceMs = STOP_GRACE_MS): Promise<void> {
    this.#stopping = true;
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    const child = this.#child;
    if (!child || !this.isRunning()) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    this.signal("SIGCONT"); // a paused process cannot act on SIGTERM
    this.signal("SIGTERM");
    const timer = setTimeout(() => this.signal("SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
  }

  /** Sends a signal to the whole process group; false when there is nothing to signal. */
  signal(signal: NodeJS.Signals): boolean {
    const pid = this.#child?.pid;
    if (!pid || !this.isRunning()) return false;
    try {
      process.kill(-pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  #maybeRestart(code: number | null): void {
    const policy = this.options.restart;
    if (this.#stopping || policy === "never" || (policy === "on-failure" && code === 0)) return;
    this.#restartTimer = setTimeout(() => {
      if (this.#stopping) return;
      this.#restarts += 1;
      this.#append(`[gauntlet] restarting (policy ${policy}, restart #${this.#restarts})\n`);
      this.start();
    }, RESTART_DELAY_MS);
  }

  #append(text: string): void {
    const limit = this.options.logLimit ?? 256 * 1024;
    this.#log += text;
    if (this.#log.length > limit) this.#log = this.#log.slice(this.#log.length - limit);
  }
}
