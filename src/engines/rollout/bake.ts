// One bake of one step: open-model load at the entry with the load engine (the traffic users would send, through the
// user's splitter) while the sampler measures baseline and canary side by side on their own URLs. The bake is cut
// into analyses of `intervalMs`, each judged by the canary judge; `failureLimit` consecutive FAILs end it at once.
import { setTimeout as sleep } from "node:timers/promises";
import { type AnalysisResult, analyse, type SideSamples } from "../canary/judge.js";
import { runLoad } from "../load/run.js";
import type { TimelinePoint } from "../load/stage.js";
import type { RolloutContext } from "./context.js";
import type { RolloutPlan } from "./plan.js";
import { startSampler } from "./sampler.js";

export interface Analysis {
  /** 1-based within the step, over all its bakes. */
  index: number;
  startedAt: string;
  durationMs: number;
  verdict: AnalysisResult["verdict"];
  reasons: string[];
  result: AnalysisResult;
  /** The raw samples judged (latencies of each side), when the caller keeps evidence. */
  evidence?: string;
}

export interface EntryFigures {
  requests: number;
  rps: number;
  errorRate: number;
  p50: number;
  p99: number;
  dropped: number;
}

export interface BakeResult {
  analyses: Analysis[];
  entry: EntryFigures | null;
  /** Consecutive FAILs at the end of the bake (carried over from the step's earlier bakes and analyses). */
  failStreak: number;
  /** The streak reached failureLimit: the rollout must abort. */
  failed: boolean;
  interrupted: boolean;
}

export interface BakeEvents {
  onAnalysis?: (analysis: Analysis) => void;
  onSecond?: (point: TimelinePoint) => void;
}

export async function runBake(
  ctx: RolloutContext,
  plan: RolloutPlan,
  step: { percent: number; index: number; bake: number; firstAnalysis: number; failStreak: number },
  signal: AbortSignal,
  events: BakeEvents = {},
): Promise<BakeResult> {
  const stop = new AbortController();
  const onInterrupt = () => stop.abort();
  signal.addEventListener("abort", onInterrupt, { once: true });
  if (signal.aborted) stop.abort();
  const load = runLoad({
    url: plan.entry.url,
    requests: plan.requests,
    stages: [{ name: `step ${step.index + 1} (${step.percent}%)`, rate: plan.rate, duration: plan.bakeMs }],
    env: ctx.env,
    secrets: ctx.secrets,
    signal: stop.signal,
    onSecond: (_stage, point) => events.onSecond?.(point),
  });
  const sampler = startSampler(
    ctx,
    { baseline: plan.baseline.url, canary: plan.canary.url },
    plan.requests,
    plan.sampleRate,
  );
  const analyses: Analysis[] = [];
  let failStreak = step.failStreak;
  let failed = false;
  try {
    let from = Date.now();
    for (let i = 0; i < plan.analysesPerBake && !stop.signal.aborted; i++) {
      const until = from + plan.intervalMs;
      await sleep(Math.max(0, until - Date.now()), undefined, { signal: stop.signal }).catch(() => {});
      if (signal.aborted) break;
      const samples = await sampler.cut(until);
      const analysis = await judged(ctx, plan, samples, {
        index: step.firstAnalysis + i,
        percent: step.percent,
        bake: step.bake,
        from,
        until,
      });
      analyses.push(analysis);
      events.onAnalysis?.(analysis);
      if (analysis.verdict === "FAIL") failStreak++;
      else if (analysis.verdict === "PASS") failStreak = 0;
      if (failStreak >= plan.failureLimit) {
        failed = true;
        break;
      }
      from = until;
    }
  } finally {
    sampler.stop();
    stop.abort();
    signal.removeEventListener("abort", onInterrupt);
  }
  const loaded = await load.catch(() => null);
  const stage = loaded?.stages[0];
  return {
    analyses,
    entry: stage
      ? {
          requests: stage.requests,
          rps: stage.rps,
          errorRate: stage.errorRate,
          p50: stage.latency.p50,
          p99: stage.latency.p99,
          dropped: stage.dropped,
        }
      : null,
    failStreak,
    failed,
    interrupted: signal.aborted,
  };
}

async function judged(
  ctx: RolloutContext,
  plan: RolloutPlan,
  samples: { baseline: SideSamples; canary: SideSamples },
  at: { index: number; percent: number; bake: number; from: number; until: number },
): Promise<Analysis> {
  // The interval's length lets an `rps` condition be judged (the rate of Gauntlet's own samples of that side).
  const durationMs = at.until - at.from;
  const result = analyse({
    baseline: { ...samples.baseline, durationMs },
    canary: { ...samples.canary, durationMs },
    rollbackOn: plan.rollbackOn,
    minSamples: plan.minSamples,
    alpha: plan.alpha,
    tolerance: plan.tolerance,
  });
  const evidence = ctx.evidence
    ? await ctx.evidence.write(
        `analysis-${at.percent}pct-${at.index}.json`,
        `${JSON.stringify({ step: at.percent, analysis: at.index, bake: at.bake, samples, result }, null, 2)}\n`,
      )
    : undefined;
  return {
    index: at.index,
    startedAt: new Date(at.from).toISOString(),
    durationMs: Math.round(at.until - at.from),
    verdict: result.verdict,
    reasons: result.reasons,
    result,
    ...(evidence ? { evidence } : {}),
  };
}
