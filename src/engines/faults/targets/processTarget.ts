// A service Gauntlet supervises itself (`control.process`): started in its own process group so a stop reaches
// every child, restarted per its policy, its output kept (bounded, redacted) for evidence.
import { type ChildProcess, spawn } from "node:child_process";
import { EventEmitter } from "node:events";
import path from "node:path";
import type { Readable } from "node:stream";
import { LineRedactor, MAX_LINE } from "../../../secrets/lineRedactor.js";
import { Redactor, type StreamRedaction } from "../../../secrets/redactor.js";

export interface ProcessTargetOptions {
  name: string;
  command: string;
  cwd: string;
  env?: Record<string, string>;
  restart: "always" | "on-failure" | "never";
  /** Bytes of combined stdout/stderr kept for evidence (the latest whole lines). */
  logLimit?: number;
  /**
   * The run's secrets: each stream is redacted with them line by line before any of it is kept. Without them only
   * secrets recognisable by shape (URL passwords, credential query parameters) are masked.
   */
  secrets?: StreamRedaction;
}

export interface ExitRecord {
  at: number;
  code: number | null;
  signal: NodeJS.Signals | null;
}

const STOP_GRACE_MS = 5_000;
const RESTART_DELAY_MS = 250;
const LOG_LIMIT = 256 * 1024;
// After the exit, how long to wait for the pipes to close, so the last lines are kept too.
const DRAIN_MS = 1_000;

export class ProcessTarget extends EventEmitter {
  readonly options: ProcessTargetOptions;
  readonly exits: ExitRecord[] = [];
  /** Epoch ms of every start (the first and each restart). */
  readonly starts: number[] = [];
  #child: ChildProcess | null = null;
  #stopping = false;
  readonly #secrets: StreamRedaction;
  readonly #log: OutputWindow;
  #restarts = 0;
  #restartTimer: NodeJS.Timeout | null = null;

  constructor(options: ProcessTargetOptions) {
    super();
    this.options = options;
    this.#secrets = options.secrets ?? new Redactor();
    this.#log = new OutputWindow(options.logLimit ?? LOG_LIMIT);
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get restarts(): number {
    return this.#restarts;
  }

  /** The kept output: the latest whole lines that fit in logLimit, redacted (an unfinished line is held back). */
  get output(): string {
    return this.#log.text;
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
    // Each stream on its own: interleaved, a line of stdout would cut a line of stderr (and a secret in it) in two.
    if (child.stdout) this.#keepLines(child.stdout);
    if (child.stderr) this.#keepLines(child.stderr);
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
    const drained = new Promise<void>((resolve) => child.once("close", () => resolve()));
    this.signal("SIGCONT"); // a paused process cannot act on SIGTERM
    this.signal("SIGTERM");
    const timer = setTimeout(() => this.signal("SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
    await Promise.race([drained, sleep(DRAIN_MS)]);
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

  #keepLines(stream: Readable): void {
    const lines = new LineRedactor(this.#secrets, Math.min(MAX_LINE, Math.floor(this.#log.limit / 4)));
    stream.setEncoding("utf8"); // a character split across two chunks is decoded whole
    stream.on("data", (text: string) => this.#log.keep(lines.push(text)));
    stream.on("end", () => this.#log.keep(lines.end()));
  }

  /** Gauntlet's own lines about the process. */
  #append(line: string): void {
    this.#log.keep([this.#secrets.redact(line)]);
  }
}

/**
 * The latest output that fits in `limit` bytes, as the redacted pieces it was kept in (whole lines, or settled pieces
 * of an over-long line): text is only ever dropped a whole piece at a time, so no cut runs through a secret.
 */
class OutputWindow {
  readonly limit: number;
  #pieces: string[] = [];
  #sizes: number[] = [];
  #first = 0;
  #bytes = 0;
  #dropped = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  keep(pieces: string[]): void {
    for (const piece of pieces) {
      const size = Buffer.byteLength(piece);
      this.#pieces.push(piece);
      this.#sizes.push(size);
      this.#bytes += size;
    }
    while (this.#bytes > this.limit && this.#first < this.#pieces.length) {
      this.#bytes -= this.#sizes[this.#first]!;
      this.#dropped += this.#sizes[this.#first]!;
      this.#first += 1;
    }
    if (this.#first > 1024 && this.#first * 2 > this.#pieces.length) {
      this.#pieces = this.#pieces.slice(this.#first);
      this.#sizes = this.#sizes.slice(this.#first);
      this.#first = 0;
    }
  }

  get text(): string {
    const kept = this.#pieces.slice(this.#first).join("");
    if (this.#dropped === 0) return kept;
    const note = `only the latest ${this.limit} bytes of whole lines are kept`;
    return `[gauntlet] ${this.#dropped} bytes of earlier output dropped: ${note}\n${kept}`;
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
