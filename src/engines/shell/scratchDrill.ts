// A drill of a user's command (a rollback, a deploy): run for real under /bin/sh in a scratch copy of the repository —
// never in its working tree — in the spec's folder inside the copy, in its own process group, with a minimal
// environment (PATH, LANG, the spec's required variables, a private HOME and TMPDIR), timed against a limit, its
// output tails redacted and kept as evidence. Whatever it leaves running is ended afterwards: its process groups and
// every process whose working directory is inside the scratch folder (/proc/*/cwd), which also catches a daemon that
// left its group with setsid. Not covered: containers or pods it started through a daemon (`docker compose up -d`,
// `kubectl apply`), which run outside the copy, and a daemon that changed its directory to `/`.
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, readlink, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Redactor } from "../../secrets/redactor.js";
import type { Spec } from "../../spec/schema.js";
import { formatDuration } from "../../spec/units.js";
import { isInside, toPosix } from "../files/glob.js";
import { makeScratchCopy, type ScratchCopy, ScratchCopyError } from "../files/scratchCopy.js";
import type { UndoRegistry } from "../recovery/recoveryContext.js";
import { runCommand } from "./run.js";

export const DRILL_SHELL = "/bin/sh";
const TAIL_LINES = 40;
/** Per stream: the tail is read from what was kept, so keep a lot before dropping the rest. */
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;
export const DRILL_KILL_GRACE_MS = 5_000;
/** Left of the check's own limit for the copy's removal and the evidence, after the command is ended. */
export const DRILL_WIND_DOWN_MS = 30_000;
/** How long leftovers get between SIGTERM and SIGKILL. */
const LEFTOVER_GRACE_MS = 2_000;
const LISTED_LEFTOVERS = 50;

/** What a drill needs of a check's context, declared here because engines sit below core: a CheckContext is one. */
export interface DrillContext {
  spec: Spec;
  specDir: string;
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  /** Epoch ms at which the check is aborted. */
  deadline: number;
  secrets: Redactor;
  rollbacks: UndoRegistry;
  evidence: { write(name: string, content: string | Uint8Array): Promise<string> };
  log: { info(message: string): void };
}

export interface DrillRun {
  /** The folder the command ran in, relative to the copy's root ("." for its top), or the spec folder (system). */
  cwd: string;
  /** The limit applied: the spec's timeout, or less when the check's own limit is sooner. */
  limitMs: number;
  /** The limit applied was the check's, not the spec's: an overrun then proves nothing. */
  limitedByCheck: boolean;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  durationMs: number;
  spawnError?: { code: string; message: string };
  stdoutBytes: number;
  stderrBytes: number;
  truncated: boolean;
  /** Last lines of each stream, redacted. */
  stdoutTail: string[];
  stderrTail: string[];
  /** After it exited by itself: processes it started in its group were still running. */
  leftRunning: boolean;
  /** Evidence files of the whole streams (redacted). */
  stdout: string;
  stderr: string;
}

/** The scratch copy as recorded in an observation: its source relative to the spec folder, no absolute root. */
export type ScratchSummary = Omit<ScratchCopy, "root" | "source"> & { source: string };

export interface SetupError {
  code: string;
  message: string;
}

export interface LeftoverProcess {
  pid: number;
  /** Its command line, redacted and cut to 200 characters. */
  command: string;
  /** How it was found: in a process group the drill started, or by its working directory inside the copy. */
  foundBy: "group" | "cwd";
}

export interface LeftoverSweep {
  /** Processes ended (the first LISTED_LEFTOVERS named; `count` counts them all). */
  ended: LeftoverProcess[];
  count: number;
  /** Pids still alive after SIGKILL (another user's, or unkillable). */
  survivors: number[];
  /** false where /proc cannot be read: only the process groups were signalled, blind. */
  procScanned: boolean;
}

/** The scratch copy a drill runs in, and how to run a command there. */
export interface ScratchSite {
  scratch: ScratchSummary;
  /** The spec's folder inside the copy, absolute and relative to the copy's root. */
  cwd: string;
  shownCwd: string;
  /** Runs `command` in the copy (see runDrillCommand); `runsLeft` shares the check's remaining time between runs. */
  run(
    command: string,
    timeoutMs: number,
    options?: { evidencePrefix?: string; runsLeft?: number },
  ): Promise<DrillRun>;
  /** Ends everything the site's runs left running (their groups, anything with its cwd in the copy). */
  stopLeftovers(): Promise<LeftoverSweep>;
}

export type ScratchOutcome<T> =
  | { scratch?: ScratchSummary; setupError: SetupError }
  | { scratch: ScratchSummary; value: T };

const SETUP_FIXES: Record<string, string> = {
  specOutside:
    "keep gauntlet.yaml inside the repository that system.repo names, so the command's folder exists in the copy",
  specNotCopied: "keep gauntlet.yaml in a folder of the repository that .gitignore does not leave out",
  repoMissing: "point system.repo (relative to the spec folder) at the repository",
};

/** What would let a scratch copy be made after `code` stopped it; `fallback` for the copy's own failures. */
export function scratchSetupFix(code: string, fallback: string): string {
  return SETUP_FIXES[code] ?? fallback;
}

/**
 * Makes a scratch copy of system.repo in a fresh temporary folder and calls `body` with it. The folder is removed
 * afterwards (also on abort or error, and by the next run when this one is killed: the removal is journalled), after
 * whatever the runs left running was ended.
 */
export async function inScratchCopy<T>(
  ctx: DrillContext,
  label: { prefix: string; what: string },
  body: (site: ScratchSite) => Promise<T>,
): Promise<ScratchOutcome<T>> {
  const repoDir = path.resolve(ctx.specDir, ctx.spec.system.repo);
  if (!(await stat(repoDir).catch(() => null))?.isDirectory()) {
    return {
      setupError: {
        code: "repoMissing",
        message: `system.repo (${ctx.spec.system.repo}) is not a folder: ${repoDir}`,
      },
    };
  }
  // The folder is the drill's from the start: whatever happens next (abort, Ctrl-C, an error), it is removed.
  const folder = await mkdtemp(path.join(tmpdir(), `gauntlet-${label.prefix}-`));
  const groups: number[] = [];
  const removal = ctx.rollbacks.add(
    `remove the ${label.prefix} drill's scratch copy`,
    async () => {
      await stopLeftovers(ctx, groups, folder);
      await rm(folder, { recursive: true, force: true, maxRetries: 3 });
    },
    { kind: "removeScratch", dir: folder, what: label.what },
  );
  try {
    let copy: ScratchCopy;
    try {
      copy = await makeScratchCopy(repoDir, folder, { signal: ctx.signal });
    } catch (error) {
      if (!(error instanceof ScratchCopyError)) throw error;
      return { setupError: { code: error.code, message: error.message } };
    }
    const { root, source, ...rest } = copy;
    const scratch: ScratchSummary = { ...rest, source: toPosix(path.relative(ctx.specDir, source)) || "." };
    ctx.log.info(
      `scratch copy (${copy.method}) of ${source}: ${copy.files} file(s), ${copy.skippedCount} left out, in ${copy.durationMs} ms`,
    );
    if (!isInside(source, ctx.specDir)) {
      return {
        scratch,
        setupError: {
          code: "specOutside",
          message: `the spec folder ${ctx.specDir} is not inside the repository ${source}: the command's folder has no place in the copy`,
        },
      };
    }
    const relative = toPosix(path.relative(source, ctx.specDir)) || ".";
    const cwd = path.join(root, relative);
    if (!(await stat(cwd).catch(() => null))?.isDirectory()) {
      return {
        scratch,
        setupError: {
          code: "specNotCopied",
          message: `the spec folder (${relative} in the repository) is not in the copy: it is ignored (.gitignore) or left out`,
        },
      };
    }
    const home = path.join(folder, "home");
    const temp = path.join(folder, "tmp");
    await mkdir(home);
    await mkdir(temp);
    const env = drillEnvironment(ctx, { HOME: home, TMPDIR: temp });
    const site: ScratchSite = {
      scratch,
      cwd,
      shownCwd: relative,
      run: (command, timeoutMs, options = {}) =>
        runDrillCommand(ctx, command, timeoutMs, {
          cwd,
          shownCwd: relative,
          env,
          ...options,
          onGroup: (pgid) => groups.push(pgid),
        }),
      stopLeftovers: () => stopLeftovers(ctx, groups, folder),
    };
    return { scratch, value: await body(site) };
  } finally {
    await removal.runNow();
  }
}

/** PATH, LANG and the spec's required variables (not Gauntlet's own), plus `extra`; nothing else of this process. */
export function drillEnvironment(ctx: DrillContext, extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: ctx.env.PATH ?? process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    LANG: ctx.env.LANG ?? "C.UTF-8",
  };
  for (const name of ctx.spec.deployment?.env?.required ?? []) {
    const value = ctx.env[name];
    if (value !== undefined && !name.startsWith("GAUNTLET_")) env[name] = value;
  }
  return { ...env, ...extra };
}

/**
 * Runs `command` under /bin/sh -c in `cwd`, limited to `timeoutMs` or the share of the check's remaining time that
 * `runsLeft` runs leave it, whichever is sooner. Its group is reported to `onGroup`; it is not ended here when the
 * command exits by itself (a deploy's services must outlive it), only on an overrun or abort (by runCommand).
 */
export async function runDrillCommand(
  ctx: DrillContext,
  command: string,
  timeoutMs: number,
  options: {
    cwd: string;
    shownCwd: string;
    env: NodeJS.ProcessEnv;
    evidencePrefix?: string;
    runsLeft?: number;
    onGroup?: (pgid: number) => void;
  },
): Promise<DrillRun> {
  const runsLeft = Math.max(1, options.runsLeft ?? 1);
  const left = ctx.deadline - Date.now() - DRILL_WIND_DOWN_MS - DRILL_KILL_GRACE_MS * runsLeft;
  const budget = Math.max(1_000, left / runsLeft);
  const limitMs = Math.min(timeoutMs, budget);
  const prefix = options.evidencePrefix ?? "";
  let group: number | undefined;
  ctx.log.info(`running in ${options.shownCwd} (limit ${formatDuration(limitMs)}): ${command}`);
  const result = await runCommand(DRILL_SHELL, ["-c", command], {
    cwd: options.cwd,
    env: options.env,
    timeoutMs: limitMs,
    signal: ctx.signal,
    killGraceMs: DRILL_KILL_GRACE_MS,
    maxOutputBytes: MAX_OUTPUT_BYTES,
    onSpawn: (pid) => {
      group = pid;
      options.onGroup?.(pid);
    },
  });
  // After an overrun its processes are still dying: only one that exited by itself can be said to leave some behind.
  const leftRunning = !result.timedOut && group !== undefined && groupAlive(group);
  const stdout = ctx.secrets.redact(result.stdout);
  const stderr = ctx.secrets.redact(result.stderr);
  return {
    cwd: options.shownCwd,
    limitMs,
    limitedByCheck: limitMs < timeoutMs,
    exitCode: result.exitCode,
    signal: result.signal,
    timedOut: result.timedOut,
    durationMs: Math.round(result.durationMs),
    ...(result.spawnError ? { spawnError: result.spawnError } : {}),
    stdoutBytes: result.stdoutBytes,
    stderrBytes: result.stderrBytes,
    truncated: result.truncated,
    stdoutTail: tail(stdout),
    stderrTail: tail(stderr),
    leftRunning,
    stdout: await ctx.evidence.write(`${prefix}stdout.txt`, stdout),
    stderr: await ctx.evidence.write(`${prefix}stderr.txt`, stderr),
  };
}

/**
 * Ends the processes of `groups` and every process whose working directory is inside `folder`: SIGTERM, then SIGKILL
 * after a grace period for those still there; looked for again, in case one started another meanwhile. Never this
 * process or its ancestors.
 */
export async function stopLeftovers(
  ctx: Pick<DrillContext, "secrets">,
  groups: readonly number[],
  folder: string,
): Promise<LeftoverSweep> {
  const spared = await ancestors();
  const targets = groups.filter((g) => !spared.has(g));
  const sweep: LeftoverSweep = { ended: [], count: 0, survivors: [], procScanned: true };
  const seen = new Set<number>();
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  for (let round = 0; round < 3; round++) {
    const found = await scanProcesses(new Set(targets), folder, spared);
    if (found === null) {
      // No /proc (not Linux): the groups are all that can be reached.
      sweep.procScanned = false;
      if (!targets.some(groupAlive)) return sweep;
      for (const g of targets) signal(-g, "SIGTERM");
      const until = Date.now() + LEFTOVER_GRACE_MS;
      while (targets.some(groupAlive) && Date.now() < until) await pause(50);
      for (const g of targets) signal(-g, "SIGKILL");
      return sweep;
    }
    if (found.length === 0) return sweep;
    for (const p of found) {
      if (seen.has(p.pid)) continue;
      seen.add(p.pid);
      sweep.count++;
      if (sweep.ended.length < LISTED_LEFTOVERS) {
        sweep.ended.push({ ...p, command: ctx.secrets.redact(p.command).slice(0, 200) });
      }
    }
    const pids = found.map((p) => p.pid);
    const signalAll = (sig: NodeJS.Signals) => {
      for (const g of targets) signal(-g, sig);
      for (const pid of pids) signal(pid, sig);
    };
    signalAll("SIGTERM");
    const until = Date.now() + LEFTOVER_GRACE_MS;
    while (pids.some(running) && Date.now() < until) await pause(50);
    if (pids.some(running)) signalAll("SIGKILL");
    await pause(50);
    sweep.survivors = pids.filter(running);
  }
  return sweep;
}

/** Running (not zombie) processes in `groups` or with their cwd inside `folder`; null where /proc cannot be listed. */
async function scanProcesses(
  groups: ReadonlySet<number>,
  folder: string,
  spared: ReadonlySet<number>,
): Promise<LeftoverProcess[] | null> {
  const entries = await readdir("/proc").catch(() => null);
  if (!entries) return null;
  const found: LeftoverProcess[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (spared.has(pid)) continue;
    const stat = statFields(pid);
    if (!stat || stat.state === "Z" || stat.state === "X") continue;
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => null);
    const inGroup = groups.has(stat.pgid);
    const inFolder = cwd !== null && isInside(folder, cwd);
    if (!inGroup && !inFolder) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    found.push({
      pid,
      command: cmdline.replace(/\0+$/, "").replaceAll("\0", " "),
      foundBy: inGroup ? "group" : "cwd",
    });
  }
  return found;
}

/** State, parent and process group of `pid` from /proc/<pid>/stat (after the command name, which may hold spaces). */
function statFields(pid: number): { state: string; ppid: number; pgid: number } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { state: fields[0] ?? "", ppid: Number(fields[1]), pgid: Number(fields[2]) };
}

/** This process and its ancestors, which no sweep may end (a test runner started in the folder, say). */
async function ancestors(): Promise<Set<number>> {
  const spared = new Set<number>([1, process.pid]);
  let pid = process.ppid;
  for (let i = 0; i < 64 && pid > 1 && !spared.has(pid); i++) {
    spared.add(pid);
    const stat = statFields(pid);
    if (!stat) break;
    pid = stat.ppid;
  }
  return spared;
}

export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Alive and not a zombie (a zombie that nobody reaps answers signal 0 forever). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const state = statFields(pid)?.state;
  return state !== "Z" && state !== "X";
}

function signal(target: number, sig: NodeJS.Signals): void {
  try {
    process.kill(target, sig);
  } catch {
    // already gone, or not ours
  }
}

function tail(text: string): string[] {
  const lines = text.replace(/\n$/, "").split("\n");
  return text.length === 0 ? [] : lines.slice(-TAIL_LINES);
}
