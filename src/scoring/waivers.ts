// A waiver turns a FAIL into a WARN for one check (and optionally one subject) until it expires. Expired waivers are
// kept on the report, marked expired, so nobody mistakes them for active ones.
import type { CheckResult, WaiverUse } from "../core/assessment.js";
import type { Finding } from "../core/types.js";
import type { Waiver } from "../spec/schema.js";
import { worstStatus } from "./statuses.js";

/** A date-only expiry ("2027-03-01") ends at the start of that day, UTC: on that day the waiver no longer applies. */
export function waiverExpiry(expires: string): number {
  return /^\d{4}-\d{2}-\d{2}$/.test(expires) ? Date.parse(`${expires}T00:00:00Z`) : Date.parse(expires);
}

export function applyWaivers(
  checks: CheckResult[],
  waivers: Waiver[],
  now: Date,
): { checks: CheckResult[]; uses: WaiverUse[] } {
  const uses: WaiverUse[] = waivers.map((w) => ({
    check: w.check,
    ...(w.subject !== undefined ? { subject: w.subject } : {}),
    reason: w.reason,
    approvedBy: w.approvedBy,
    expires: w.expires,
    // An expiry that cannot be read counts as expired: a waiver must never become permanent by accident.
    state: !(now.getTime() < waiverExpiry(w.expires)) ? "expired" : "unused",
    appliedTo: 0,
  }));

  const result = checks.map((check) => {
    let changed = false;
    const findings = check.findings.map((finding): Finding => {
      if (finding.status !== "FAIL") return finding;
      const index = uses.findIndex(
        (use) =>
          use.state !== "expired" &&
          use.check === check.checkId &&
          (use.subject === undefined || use.subject === finding.subject),
      );
      if (index < 0) return finding;
      const use = uses[index]!;
      use.state = "active";
      use.appliedTo += 1;
      changed = true;
      return {
        ...finding,
        status: "WARN",
        waived: { reason: use.reason, approvedBy: use.approvedBy, expires: use.expires },
      };
    });
    return changed ? { ...check, findings, status: worstStatus(findings.map((f) => f.status)) } : check;
  });
  return { checks: result, uses };
}
