// What each resilience.exclude entry left out, read from the findings the experiment checks made for it (messageId
// "excluded"): pure, like the rest of scoring.
import type { CheckResult, ExclusionUse } from "../core/assessment.js";

export interface Exclusion {
  check: string;
  subject?: string;
  reason: string;
}

export function exclusionUses(checks: CheckResult[], exclusions: readonly Exclusion[]): ExclusionUse[] {
  return exclusions.map((x) => {
    const check = checks.find((c) => c.checkId === x.check);
    const appliedTo =
      check?.findings.filter(
        (f) => f.messageId === "excluded" && (x.subject === undefined || f.subject === x.subject),
      ).length ?? 0;
    return {
      check: x.check,
      ...(x.subject !== undefined ? { subject: x.subject } : {}),
      reason: x.reason,
      state: appliedTo > 0 ? "applied" : "unused",
      appliedTo,
    };
  });
}
