// Runs one external command without a shell: bounded time, bounded output, cancellable. The child gets its own
// process group so a timeout or abort also ends whatever it started (a script's `sleep` would otherwise hold its pipes).
import { spawn } from "node:child_process";
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import path from "node:path";
import { performance } from "node:perf_hooks";

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Ends the command (SIGTERM, then SIGKILL after killGraceMs) and sets timedOut. Default: no limit. */
  timeoutMs?: number;
  /** Aborting ends the command the same way, then runCommand rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Bytes kept per stream; the rest is counted and dropped. Default 1 MiB. */
  maxOutputBytes?: number;
  /** Written to stdin, which is then closed. Without it stdin is /dev/null. */
  input?: string;
  killGraceMs?: number;
  /** Called with the child's pid once it started: also its process group's id (the child leads its own group). */
  onSpawn?: (pid: number) => void;
}

export interface RunResult {
  command: string;
  args: string[];
  /** null when the command was ended by a signal or never started. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Bytes the command wrote, including those dropped past maxOutputBytes. */
  stdoutBytes: number;
  stderrBytes: number;
  truncated: boolean;
  durationMs: number;
  timedOut: boolean;
  /** Set when the command could not start (ENOENT: not found, EACCES: not executable). */
  spawnError?: { code: string; message: string };
}

const DEFAULT_MAX_OUTPUT = 1024 * 1024;
/** After the child exits, how long to wait for its pipes to close (a daemonised grandchild may keep them open). */
const PIPE_CLOSE_GRACE_MS = 500;

/** Runs `command args…` (no shell). Resolves for every outcome except abort, which rejects with signal.reason. */
export function runCommand(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  const maxBytes = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
  const grace = options.killGraceMs ?? 2_000;
  const started = performance.now();

  return new Promise<RunResult>((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: true,
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      windowsHide: true,
    });
    if (child.pid !== undefined) options.onSpawn?.(child.pid);
    const out = captureStream(maxBytes);
    const err = captureStream(maxBytes);
    child.stdout?.on("data", out.push);
    child.stderr?.on("data", err.push);
    if (options.input !== undefined && child.stdin) {
      child.stdin.on("error", () => {}); // EPIPE when the command does not read its input
      child.stdin.end(options.input);
    }

    let timedOut = false;
    let aborted = false;
    let settled = false;
    let exitCode: number | null = null;
    let exitSignal: NodeJS.Signals | null = null;
    let spawnError: RunResult["spawnError"];
    const timers: NodeJS.Timeout[] = [];

    const kill = (sig: NodeJS.Signals) => {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        child.kill(sig);
      }
    };
    const terminate = () => {
      kill("SIGTERM");
      timers.push(setTimeout(() => kill("SIGKILL"), grace));
    };
    const onAbort = () => {
      aborted = true;
      terminate();
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    if (options.timeoutMs !== undefined) {
      timers.push(
        setTimeout(() => {
          timedOut = true;
          terminate();
        }, options.timeoutMs),
      );
    }

    const finish = () => {
      if (settled) return;
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      child.stdout?.destroy();
      child.stderr?.destroy();
      if (aborted && signal) {
        reject(abortReason(signal));
        return;
      }
      const result: RunResult = {
        command,
        args,
        exitCode,
        signal: exitSignal,
        stdout: out.text(),
        stderr: err.text(),
        stdoutBytes: out.bytes(),
        stderrBytes: err.bytes(),
        truncated: out.truncated() || err.truncated(),
        durationMs: performance.now() - started,
        timedOut,
      };
      if (spawnError) result.spawnError = spawnError;
      resolve(result);
    };

    child.on("error", (error: NodeJS.ErrnoException) => {
      // Only a failure to start is final; errors after start (e.g. a failed kill) are followed by exit/close.
      if (child.pid === undefined) {
        spawnError = { code: error.code ?? "ERROR", message: error.message };
        finish();
      }
    });
    child.on("exit", (code, sig) => {
      exitCode = code;
      exitSignal = sig;
      timers.push(setTimeout(finish, PIPE_CLOSE_GRACE_MS));
    });
    child.on("close", (code, sig) => {
      exitCode = code;
      exitSignal = sig;
      finish();
    });
  });
}

/** Absolute path of an executable named `name` on `searchPath` (PATH syntax), or null. */
export async function which(
  name: string,
  searchPath: string | undefined = process.env.PATH,
): Promise<string | null> {
  if (name.includes("/")) return (await isExecutableFile(name)) ? path.resolve(name) : null;
  for (const dir of (searchPath ?? "").split(path.delimiter)) {
    // An empty PATH entry means the current directory; never pick up a tool from wherever we happen to run.
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (await isExecutableFile(candidate)) return path.resolve(candidate);
  }
  return null;
}

async function isExecutableFile(file: string): Promise<boolean> {
  try {
    if (!(await stat(file)).isFile()) return false;
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function captureStream(maxBytes: number) {
  const chunks: Buffer[] = [];
  let kept = 0;
  let total = 0;
  return {
    push: (chunk: Buffer) => {
      total += chunk.length;
      if (kept >= maxBytes) return;
      const part = kept + chunk.length > maxBytes ? chunk.subarray(0, maxBytes - kept) : chunk;
      chunks.push(part);
      kept += part.length;
    },
    text: () => Buffer.concat(chunks).toString("utf8"),
    bytes: () => total,
    truncated: () => total > kept,
  };
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("The operation was aborted.", "AbortError");
}
