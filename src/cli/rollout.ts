// `gauntlet rollout [spec]`: drives the spec's rollout section step by step (shift, bake under load, judge the canary
// against the baseline) and rolls back on a regression. A live view on a TTY, a final table otherwise, --json for the
// whole analysis. Exit: 0 reached the last step, 1 stopped and the rollback confirmed, 2 stopped and the rollback
// failed or is unconfirmed, 3 usage or spec error, 4 an internal error (after rolling back), 130 interrupted.
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import { CHECK_IDS } from "../checks/ids.js";
import type { Analysis } from "../engines/rollout/bake.js";
import type { RolloutContext } from "../engines/rollout/context.js";
import type { RolloutResult } from "../engines/rollout/rollout.js";
import { formatDuration } from "../spec/units.js";
import type { CliIO } from "./io.js";
import { terminalText } from "./terminal.js";

export const EXIT_ROLLED_OUT = 0;
export const EXIT_ROLLED_BACK = 1;
export const EXIT_ROLLBACK_UNCONFIRMED = 2;
export const EXIT_INTERNAL = 4;
export const EXIT_INTERRUPTED = 130;

export interface RolloutFlags {
  json?: boolean;
  steps?: string;
  evidence?: string;
}

export function registerRollout(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command("rollout")
    .description(
      "progressive rollout: shift traffic step by step, judge the canary, roll back on a regression",
    )
    .argument("[spec]", "path to the spec file", "gauntlet.yaml")
    .option("--json", "print the whole analysis as one JSON object")
    .option("--steps <list>", "override rollout.steps, e.g. 5,25,100")
    .option("--evidence <dir>", "keep each shift's output and each analysis' samples in this folder")
    .action(async (spec: string, flags: RolloutFlags) => setExit(await rolloutCommand(spec, flags, io)));
}

export async function rolloutCommand(specPath: string, flags: RolloutFlags, io: CliIO): Promise<number> {
  const [{ parseSteps, planRollout }, { loadSpec }] = await Promise.all([
    import("../engines/rollout/plan.js"),
    import("../spec/loader.js"),
  ]);
  const steps = flags.steps !== undefined ? parseSteps(flags.steps) : undefined;
  const { spec, dir } = await loadSpec(specPath, {
    env: process.env,
    checkIds: CHECK_IDS,
    secrets: io.secrets,
  });
  const plan = planRollout(spec, steps);
  const ctx: RolloutContext = {
    specDir: dir,
    env: process.env,
    secrets: io.secrets,
    ...(flags.evidence ? { evidence: evidenceFolder(path.resolve(flags.evidence), io) } : {}),
  };
  const live = io.isTTY && !flags.json && Boolean(process.stderr.isTTY);
  const say = (line: string) => {
    if (flags.json) return;
    if (live) process.stderr.write("\r\x1b[2K");
    io.err(line);
  };
  ctx.log = (line) => say(`  ${line}`);
  // Loaded on use: the other commands must not depend on the rollout engine's modules.
  const { runRollout } = await import("../engines/rollout/rollout.js");
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) return;
    say(`${signal}: stopping the load and shifting the canary back to 0 %`);
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  let result: RolloutResult;
  try {
    result = await runRollout(ctx, plan, controller.signal, {
      onStep: (step, percent) => say(`step ${step}/${plan.steps.length}: canary at ${percent} %`),
      onAnalysis: (record, a) => say(`  ${analysisLine(record.step, record.percent, a)}`),
      onSecond: (record, point) => {
        if (!live) return;
        process.stderr.write(
          `\r\x1b[2Kstep ${record.step} (${record.percent} %) baking: entry ${point.rps} req/s  p50 ${point.p50} ms  p99 ${point.p99} ms  errors ${point.errors}`,
        );
      },
      onRollback: (why) => say(`rolling back: ${terminalText(why)}`),
    });
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    if (live) process.stderr.write("\r\x1b[2K");
  }
  if (flags.json) io.out(JSON.stringify(result, null, 2));
  else io.out(tableOf(result));
  return exitCodeOf(result);
}

export function exitCodeOf(result: RolloutResult): number {
  if (result.outcome === "completed") return EXIT_ROLLED_OUT;
  if (result.outcome === "interrupted") return EXIT_INTERRUPTED;
  if (result.outcome === "error") return EXIT_INTERNAL;
  return result.rollback?.ok ? EXIT_ROLLED_BACK : EXIT_ROLLBACK_UNCONFIRMED;
}

function analysisLine(step: number, percent: number, a: Analysis): string {
  const { canary: c, baseline: b } = a.result;
  const side = (s: typeof c) => `p50 ${fmt(s.p50)} p99 ${fmt(s.p99)} err ${(s.errorRate * 100).toFixed(1)}%`;
  const why = a.verdict === "PASS" ? "" : ` — ${terminalText(a.reasons.join("; "))}`;
  return `step ${step} (${percent} %) analysis ${a.index}: canary ${side(c)} | baseline ${side(b)} → ${a.verdict}${why}`;
}

function fmt(ms: number): string {
  return Number.isFinite(ms) ? `${Math.round(ms * 10) / 10} ms` : "–";
}

function tableOf(result: RolloutResult): string {
  const p = result.plan;
  const lines: string[] = [];
  lines.push(
    `rollout of ${p.canary} beside ${p.baseline} at ${p.entry}: steps ${p.steps.map((s) => `${s}%`).join(" → ")}, bake ${formatDuration(p.bakeMs)}, analyses of ${formatDuration(p.intervalMs)}`,
  );
  lines.push("");
  lines.push("step  share  analysis  canary p50/p99/err            baseline p50/p99/err          verdict");
  for (const s of result.steps) {
    if (s.analyses.length === 0) {
      lines.push(
        `${String(s.step).padEnd(6)}${`${s.percent}%`.padEnd(7)}${"-".padEnd(10)}${s.verdict ?? ""}`,
      );
    }
    for (const a of s.analyses) {
      const side = (x: typeof a.result.canary) =>
        `${fmt(x.p50)} / ${fmt(x.p99)} / ${(x.errorRate * 100).toFixed(1)}%`.padEnd(30);
      lines.push(
        `${String(s.step).padEnd(6)}${`${s.percent}%`.padEnd(7)}${String(a.index).padEnd(10)}${side(a.result.canary)}${side(a.result.baseline)}${a.verdict}`,
      );
    }
  }
  lines.push("");
  lines.push(summaryOf(result));
  return lines.join("\n");
}

/** The closing sentence: where the rollout ended, and for a stop the step, figure and threshold from the judge. */
export function summaryOf(result: RolloutResult): string {
  const lines: string[] = [];
  if (result.outcome === "completed") {
    lines.push(`rolled out: the canary reached ${result.reachedPercent} % and every step passed`);
  } else if (result.stopped) {
    const verb =
      result.outcome === "inconclusive"
        ? "stopped (inconclusive)"
        : result.outcome === "interrupted"
          ? "interrupted"
          : "aborted";
    lines.push(`rollout ${verb} at ${terminalText(result.stopped.message)}`);
  } else if (result.error) {
    lines.push(`rollout failed with an internal error: ${terminalText(result.error)}`);
  } else if (result.outcome === "interrupted") {
    lines.push("rollout interrupted before its first step");
  }
  const rb = result.rollback;
  if (rb) {
    const shifted = rb.run.ok
      ? `${rb.run.kind === "rollback" ? "rollout.rollback" : "shift to 0 %"} succeeded`
      : `${rb.run.kind === "rollback" ? "rollout.rollback" : "shift to 0 %"} FAILED (exit ${rb.run.exitCode ?? rb.run.signal}${rb.run.timedOut ? ", timed out" : ""})`;
    lines.push(`rollback: ${shifted}; ${terminalText(rb.confirmation.message)}`);
    if (rb.confirmation.fix) lines.push(`to confirm rollbacks: ${terminalText(rb.confirmation.fix)}`);
  }
  return lines.join("\n");
}

function evidenceFolder(dir: string, io: CliIO): NonNullable<RolloutContext["evidence"]> {
  return {
    write: async (name, content) => {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const file = path.join(dir, path.basename(name));
      await writeFile(file, typeof content === "string" ? io.secrets.redact(content) : content, {
        mode: 0o600,
      });
      return path.basename(name);
    },
  };
}
