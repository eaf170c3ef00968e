// The one scoring entry point: checks (with findings) + the spec's scoring section → waivers applied, scores,
// verdict and roadmap. Pure function of its inputs; `now` only decides which waivers have expired.
import type { CheckResult, RoadmapPhase, Scores, VerdictResult, WaiverUse } from "../core/assessment.js";
import type { Category } from "../core/types.js";
import { DEFAULT_WEIGHTS, type ScoringConfig } from "../spec/schema.js";
import { buildRoadmap } from "./roadmap.js";
import { scoreChecks } from "./score.js";
import { decideVerdict } from "./verdict.js";
import { applyWaivers } from "./waivers.js";

export interface Evaluation {
  checks: CheckResult[];
  scores: Scores;
  verdict: VerdictResult;
  waivers: WaiverUse[];
  roadmap: RoadmapPhase[];
  weights: Record<Category, number>;
}

export function resolveWeights(config: Pick<ScoringConfig, "weights">): Record<Category, number> {
  return { ...DEFAULT_WEIGHTS, ...stripUndefined(config.weights) };
}

export function evaluate(checks: CheckResult[], config: ScoringConfig, now: Date): Evaluation {
  const weights = resolveWeights(config);
  const waived = applyWaivers(checks, config.waivers, now);
  const scores = scoreChecks(waived.checks, weights);
  const verdict = decideVerdict(scores, waived.checks, config);
  return {
    checks: waived.checks,
    scores,
    verdict,
    waivers: waived.uses,
    roadmap: buildRoadmap(waived.checks),
    weights,
  };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
