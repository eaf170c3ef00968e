// Runs the user's traffic splitter: `rollout.shift` with {{percent}} filled in (or `rollout.rollback` when aborting),
// under /bin/sh in the spec's folder, in its own process group, limited to rollout.timeout. Its output is redacted and
// kept (tails in the result, whole streams as evidence): a failed shift is reported with what the command said.
import { runCommand } from "../shell/run.js";
import type { RolloutContext } from "./context.js";

const SHELL = "/bin/sh";
const TAIL_LINES = 20;
const KILL_GRACE_MS = 5_000;

export interface ShiftRun {
  /** The canary's share asked for. */
  percent: number;
  /** The command as run (after {{percent}}), redacted. */
  command: string;
  /** "shift" or "rollback" (rollout.rollback instead of shift 0). */
  kind: "shift" | "rollback";
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  durationMs: number;
  spawnError?: string;
  stdoutTail: string[];
  stderrTail: string[];
  /** Evidence files of the whole streams, when the caller keeps evidence. */
  evidence: string[];
  ok: boolean;
}

export function shiftCommandFor(template: string, percent: number): string {
  return template.replaceAll("{{percent}}", String(percent));
}

/** Runs `command` for `percent`; never throws for the command's own failure (the result says it). */
export async function runShift(
  ctx: RolloutContext,
  command: string,
  percent: number,
  kind: ShiftRun["kind"],
  timeoutMs: number,
  /** Names its evidence files apart from the run's other shifts, e.g. "shift-3". */
  evidencePrefix = `shift-${kind}-${percent}`,
): Promise<ShiftRun> {
  const shown = ctx.secrets.redact(command);
  ctx.log?.(`${kind === "rollback" ? "rolling back" : `shifting to ${percent}%`}: ${shown}`);
  const result = await runCommand(SHELL, ["-c", command], {
    cwd: ctx.specDir,
    env: ctx.env,
    timeoutMs,
    killGraceMs: KILL_GRACE_MS,
  });
  const stdout = ctx.secrets.redact(result.stdout);
  const stderr = ctx.secrets.redact(result.stderr);
  const evidence: string[] = [];
  if (ctx.evidence) {
    evidence.push(await ctx.evidence.write(`${evidencePrefix}.stdout.txt`, stdout));
    evidence.push(await ctx.evidence.write(`${evidencePrefix}.stderr.txt`, stderr));
  }
  return {
    percent,
    command: shown,
    kind,
    exitCode: result.exitCode,
    signal: result.signal,
    timedOut: result.timedOut,
    durationMs: Math.round(result.durationMs),
    ...(result.spawnError ? { spawnError: `${SHELL}: ${result.spawnError.code}` } : {}),
    stdoutTail: tail(stdout),
    stderrTail: tail(stderr),
    evidence,
    ok: result.exitCode === 0 && !result.timedOut,
  };
}

/** One line saying how a shift failed, with the end of what it printed. */
export function shiftFailure(run: ShiftRun): string {
  const how = run.spawnError
    ? `could not start (${run.spawnError})`
    : run.timedOut
      ? `took longer than rollout.timeout and was ended`
      : run.exitCode === null
        ? `was ended by ${run.signal}`
        : `exited with ${run.exitCode}`;
  const said = (run.stderrTail.length > 0 ? run.stderrTail : run.stdoutTail).slice(-2).join(" | ");
  return `${run.kind === "rollback" ? "rollout.rollback" : `rollout.shift to ${run.percent}%`} ${how}${said ? `: ${said}` : ""}`;
}

function tail(text: string): string[] {
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === "") lines.pop();
  return lines.slice(-TAIL_LINES);
}
