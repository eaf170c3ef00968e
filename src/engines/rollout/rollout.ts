// A progressive rollout: for each step, shift the canary's share, bake under load, judge every analysis. A step
// advances only when its bake's analyses were all conclusive and the last one PASSed; an inconclusive bake is run again
// (up to MAX_BAKES_PER_STEP bakes), then the rollout stops as inconclusive. failureLimit consecutive FAILs abort. Every
// way out but reaching the last step — abort, inconclusive, a failed shift, an interruption, an exception — runs the
// rollback (rollout.rollback, else shift 0) at once and confirms that the entry serves no canary answers.
import type { TimelinePoint } from "../load/stage.js";
import { type Analysis, type EntryFigures, runBake } from "./bake.js";
import { type Confirmation, confirmNoCanary } from "./confirmZero.js";
import type { RolloutContext } from "./context.js";
import { MAX_BAKES_PER_STEP, type RolloutPlan } from "./plan.js";
import { runShift, type ShiftRun, shiftCommandFor, shiftFailure } from "./shiftCommand.js";

export type RolloutOutcome = "completed" | "aborted" | "inconclusive" | "interrupted" | "error";
export type StepVerdict = "PASS" | "FAIL" | "INCONCLUSIVE" | "SHIFT_FAILED" | "INTERRUPTED" | "ERROR";

export interface StepRecord {
  /** 1-based. */
  step: number;
  percent: number;
  shift: ShiftRun;
  bakes: { entry: EntryFigures | null; analyses: number }[];
  analyses: Analysis[];
  verdict?: StepVerdict;
}

export interface RolloutResult {
  outcome: RolloutOutcome;
  plan: {
    entry: string;
    baseline: string;
    canary: string;
    steps: number[];
    bakeMs: number;
    intervalMs: number;
    rate: number;
    sampleRate: number;
    minSamples: number;
    failureLimit: number;
    rollbackOn: string[];
    requestsFrom: RolloutPlan["requestsFrom"];
  };
  steps: StepRecord[];
  /** The share the canary held when the rollout ended (before any rollback): the last step shifted to. */
  reachedPercent: number;
  /** Why the rollout did not reach its last step. */
  stopped?: { step: number; percent: number; reasons: string[]; message: string };
  rollback?: { run: ShiftRun; ok: boolean; confirmation: Confirmation };
  error?: string;
  startedAt: string;
  durationMs: number;
}

export interface RolloutEvents {
  onStep?: (step: number, percent: number) => void;
  onShift?: (run: ShiftRun) => void;
  onAnalysis?: (step: StepRecord, analysis: Analysis) => void;
  onSecond?: (step: StepRecord, point: TimelinePoint) => void;
  onRollback?: (why: string) => void;
}

export async function runRollout(
  ctx: RolloutContext,
  plan: RolloutPlan,
  /** Aborted by SIGINT/SIGTERM (the CLI) or the check's cancellation: the rollout then shifts back to 0. */
  signal: AbortSignal,
  events: RolloutEvents = {},
): Promise<RolloutResult> {
  const started = Date.now();
  const steps: StepRecord[] = [];
  let reachedPercent = 0;
  let outcome: RolloutOutcome = "completed";
  let stopped: RolloutResult["stopped"];
  let error: string | undefined;
  let shifts = 0;
  const stop = (
    record: StepRecord,
    how: RolloutOutcome,
    verdict: StepVerdict,
    reasons: string[],
    message: string,
  ) => {
    outcome = how;
    record.verdict = verdict;
    stopped = { step: record.step, percent: record.percent, reasons, message };
  };
  try {
    for (const [i, percent] of plan.steps.entries()) {
      if (signal.aborted) {
        outcome = "interrupted";
        break;
      }
      events.onStep?.(i + 1, percent);
      const shift = await runShift(
        ctx,
        shiftCommandFor(plan.shift, percent),
        percent,
        "shift",
        plan.timeoutMs,
        `shift-${++shifts}`,
      );
      events.onShift?.(shift);
      reachedPercent = percent;
      const record: StepRecord = { step: i + 1, percent, shift, bakes: [], analyses: [] };
      steps.push(record);
      if (!shift.ok) {
        const why = shiftFailure(shift);
        stop(record, "aborted", "SHIFT_FAILED", [why], `step ${record.step} (${percent}%): ${why}`);
        break;
      }
      let failStreak = 0;
      for (let bake = 1; bake <= MAX_BAKES_PER_STEP && !record.verdict; bake++) {
        const result = await runBake(
          ctx,
          plan,
          { percent, index: i, bake, firstAnalysis: record.analyses.length + 1, failStreak },
          signal,
          {
            onAnalysis: (a) => {
              record.analyses.push(a);
              events.onAnalysis?.(record, a);
            },
            onSecond: (point) => events.onSecond?.(record, point),
          },
        );
        record.bakes.push({ entry: result.entry, analyses: result.analyses.length });
        failStreak = result.failStreak;
        const last = result.analyses.at(-1);
        if (result.interrupted) {
          stop(
            record,
            "interrupted",
            "INTERRUPTED",
            ["interrupted"],
            `step ${record.step} (${percent}%): interrupted`,
          );
        } else if (result.failed && last) {
          stop(
            record,
            "aborted",
            "FAIL",
            last.reasons,
            `step ${record.step} (${percent}%): ${last.reasons.join("; ")}`,
          );
        } else if (last?.verdict === "PASS" && result.analyses.every((a) => a.verdict !== "INCONCLUSIVE")) {
          record.verdict = "PASS";
        } else if (bake === MAX_BAKES_PER_STEP) {
          const reasons = last?.reasons ?? ["no analysis was made"];
          stop(
            record,
            "inconclusive",
            "INCONCLUSIVE",
            reasons,
            `step ${record.step} (${percent}%) stayed inconclusive over ${MAX_BAKES_PER_STEP} bakes: ${reasons.join("; ")}`,
          );
        }
      }
      if (record.verdict !== "PASS") break;
    }
  } catch (e) {
    outcome = "error";
    error = e instanceof Error ? e.message : String(e);
    const last = steps.at(-1);
    if (last) last.verdict = "ERROR";
  }
  const result: RolloutResult = {
    outcome,
    plan: {
      entry: plan.entry.service,
      baseline: plan.baseline.service,
      canary: plan.canary.service,
      steps: plan.steps,
      bakeMs: plan.bakeMs,
      intervalMs: plan.intervalMs,
      rate: plan.rate,
      sampleRate: plan.sampleRate,
      minSamples: plan.minSamples,
      failureLimit: plan.failureLimit,
      rollbackOn: plan.rollbackOn.map((t) => t.source),
      requestsFrom: plan.requestsFrom,
    },
    steps,
    reachedPercent,
    ...(stopped ? { stopped } : {}),
    ...(error !== undefined ? { error: ctx.secrets.redact(error) } : {}),
    startedAt: new Date(started).toISOString(),
    durationMs: 0,
  };
  if (outcome !== "completed") {
    events.onRollback?.(stopped?.message ?? error ?? outcome);
    result.rollback = await rollBack(ctx, plan, reachedPercent || plan.steps[0]!, `shift-${++shifts}`);
  }
  result.durationMs = Date.now() - started;
  return result;
}

/** rollout.rollback, else shift 0, then the confirmation; never throws (the result says what failed). */
export async function rollBack(
  ctx: RolloutContext,
  plan: RolloutPlan,
  fromPercent: number,
  evidencePrefix = "rollback",
): Promise<NonNullable<RolloutResult["rollback"]>> {
  const run = plan.rollback
    ? await runShift(ctx, plan.rollback, 0, "rollback", plan.timeoutMs, evidencePrefix)
    : await runShift(ctx, shiftCommandFor(plan.shift, 0), 0, "shift", plan.timeoutMs, evidencePrefix);
  const confirmation = await confirmNoCanary(ctx, plan, fromPercent).catch(
    (e): Confirmation => ({
      method: plan.identify ? "header" : plan.canary.metrics ? "counter" : "none",
      status: "unconfirmed",
      message: `the rollback is unconfirmed: the confirmation failed (${e instanceof Error ? e.message : String(e)})`,
      bursts: [],
      durationMs: 0,
    }),
  );
  return { run, ok: run.ok && confirmation.status === "confirmed", confirmation };
}
