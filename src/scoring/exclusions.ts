// What each resilience.exclude entry left out, read from the findings the experiment checks made for it (messageId
// "excluded"): pure, like the rest of scoring.
import type { CheckResult, ExclusionUse } from "../core/assessment.js";

export interface Exclusion {
  check: string;
  subject?: string;
  reason: string;
}

export function exclusionUses(checks: CheckResult[], exclusions: readonly Exclusion[]): ExclusionUse[] {
  const appliedTo = exclusions.map(() => 0);
  for (const check of checks) {
    for (const finding of check.findings) {
      if (finding.messageId !== "excluded") continue;
      // The first matching entry is the one the planner applied (experiments/plan.ts): overlapping entries (one for
      // a subject, one for every subject) must not both count the same experiment.
      const index = exclusions.findIndex(
        (x) => x.check === check.checkId && (x.subject === undefined || x.subject === finding.subject),
      );
      if (index >= 0) appliedTo[index]! += 1;
    }
  }
  return exclusions.map((x, index) => ({
    check: x.check,
    ...(x.subject !== undefined ? { subject: x.subject } : {}),
    reason: x.reason,
    state: appliedTo[index]! > 0 ? "applied" : "unused",
    appliedTo: appliedTo[index]!,
  }));
}
