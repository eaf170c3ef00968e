// Verdict and gates. Criticals gate (DESIGN principle 3): a failed critical check blocks certification whatever the
// average says, and an unverified critical blocks CERTIFIED.
import type { CheckResult, Gate, Scores, VerdictResult } from "../core/assessment.js";

export interface VerdictThresholds {
  certifyAt: number;
  conditionalAt: number;
  categoryMinimum: number;
}

export function decideVerdict(scores: Scores, checks: CheckResult[], t: VerdictThresholds): VerdictResult {
  const criticalFailed = checks.filter((c) => c.risk === "critical" && c.status === "FAIL");
  const criticalUnverified = checks.filter(
    (c) => c.risk === "critical" && (c.status === "UNVERIFIED" || c.status === "ERROR"),
  );
  const lowCategories = scores.categories.filter((c) => c.score !== null && c.score < t.categoryMinimum);
  const overall = scores.overall;
  const ids = (list: CheckResult[]) => list.map((c) => c.checkId).join(", ");
  const shown = overall === null ? "no score (no applicable check)" : `${overall}`;

  const gates: Gate[] = [
    {
      id: "overall-certify",
      passed: overall !== null && overall >= t.certifyAt,
      description: `overall score ≥ ${t.certifyAt}`,
      detail: `overall ${shown}`,
    },
    {
      id: "category-minimum",
      passed: overall !== null && lowCategories.length === 0,
      description: `every category ≥ ${t.categoryMinimum}`,
      detail:
        lowCategories.length === 0
          ? "all scored categories at or above the minimum"
          : lowCategories.map((c) => `${c.category} ${c.score}`).join(", "),
    },
    {
      id: "no-critical-failed",
      passed: criticalFailed.length === 0,
      description: "no critical check failed",
      detail: criticalFailed.length === 0 ? "none failed" : `failed: ${ids(criticalFailed)}`,
    },
    {
      id: "no-critical-unverified",
      passed: criticalUnverified.length === 0,
      description: "every critical check verified",
      detail: criticalUnverified.length === 0 ? "all verified" : `unverified: ${ids(criticalUnverified)}`,
    },
    {
      id: "overall-conditional",
      passed: overall !== null && overall >= t.conditionalAt,
      description: `overall score ≥ ${t.conditionalAt} (conditional)`,
      detail: `overall ${shown}`,
    },
  ];
  const gate = (id: Gate["id"]) => gates.find((g) => g.id === id)!;

  if (overall === null) {
    return {
      verdict: "NOT READY",
      conditions: ["no applicable check ran: nothing was verified"],
      gates,
      exitCode: 2,
    };
  }
  const certifyGates = [
    "overall-certify",
    "category-minimum",
    "no-critical-failed",
    "no-critical-unverified",
  ] as const;
  const unmet = certifyGates.map(gate).filter((g) => !g.passed);
  if (unmet.length === 0) return { verdict: "CERTIFIED", conditions: [], gates, exitCode: 0 };

  // A condition says what is wrong ("critical check failed: x"), not the requirement it breaks, which read as the
  // opposite ("no critical check failed: failed: x").
  const problem: Record<Gate["id"], string> = {
    "overall-certify": `overall score ${shown} is below ${t.certifyAt} (certified)`,
    "overall-conditional": `overall score ${shown} is below ${t.conditionalAt} (conditional) and ${t.certifyAt} (certified)`,
    "category-minimum": `categories below the minimum of ${t.categoryMinimum}: ${gate("category-minimum").detail}`,
    "no-critical-failed": `critical ${criticalFailed.length === 1 ? "check" : "checks"} failed: ${ids(criticalFailed)}`,
    "no-critical-unverified": `critical ${criticalUnverified.length === 1 ? "check" : "checks"} not verified: ${ids(criticalUnverified)}`,
  };
  if (gate("overall-conditional").passed && gate("no-critical-failed").passed) {
    return { verdict: "CONDITIONAL", conditions: unmet.map((g) => problem[g.id]), gates, exitCode: 1 };
  }
  const blocking = [gate("no-critical-failed"), gate("overall-conditional")].filter((g) => !g.passed);
  // Below the conditional threshold says the certify threshold too: it is listed once.
  const rest = unmet.filter(
    (g) => !blocking.includes(g) && !(g.id === "overall-certify" && !gate("overall-conditional").passed),
  );
  return {
    verdict: "NOT READY",
    conditions: [...blocking, ...rest].map((g) => problem[g.id]),
    gates,
    exitCode: 2,
  };
}
