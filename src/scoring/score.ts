// Category and overall scores (DESIGN.md "Scoring"): risk-weighted mean per category, category weights renormalised
// over the categories that have an applicable check. Pure: same checks and weights, same numbers.
import type { CategoryScore, CheckResult, Scores } from "../core/assessment.js";
import { CATEGORIES, type Category } from "../core/types.js";
import { emptyCounts, isVerified, RISK_WEIGHT, STATUS_VALUE } from "./statuses.js";

export function scoreChecks(checks: CheckResult[], weights: Record<Category, number>): Scores {
  const counts = emptyCounts();
  for (const check of checks) counts[check.status] += 1;

  const partial = CATEGORIES.map((category) => {
    const inCategory = checks.filter((c) => c.category === category);
    const categoryCounts = emptyCounts();
    let weighted = 0;
    let totalWeight = 0;
    let applicable = 0;
    let verified = 0;
    for (const check of inCategory) {
      categoryCounts[check.status] += 1;
      const value = STATUS_VALUE[check.status];
      if (value === null) continue;
      applicable += 1;
      if (isVerified(check.status)) verified += 1;
      weighted += RISK_WEIGHT[check.risk] * value;
      totalWeight += RISK_WEIGHT[check.risk];
    }
    const score = applicable > 0 ? round((weighted / totalWeight) * 100) : null;
    return { category, score, weight: weights[category], applicable, verified, counts: categoryCounts };
  });

  const weightSum = partial.reduce((sum, c) => sum + (c.score === null ? 0 : c.weight), 0);
  const categories: CategoryScore[] = partial.map((c) => {
    const effectiveWeight = c.score === null || weightSum === 0 ? 0 : c.weight / weightSum;
    return {
      ...c,
      effectiveWeight: round(effectiveWeight, 4),
      contribution: round((c.score ?? 0) * effectiveWeight),
    };
  });

  const applicable = categories.reduce((sum, c) => sum + c.applicable, 0);
  const verified = categories.reduce((sum, c) => sum + c.verified, 0);
  const overall =
    weightSum > 0
      ? round(categories.reduce((sum, c) => sum + (c.score === null ? 0 : c.score * c.weight), 0) / weightSum)
      : null;
  return { overall, coverage: applicable > 0 ? round((verified / applicable) * 100) : 0, categories, counts };
}

function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
