// Remediation roadmap: every non-passing finding becomes one action, ordered by risk then effort, grouped in phases
// (critical first). UNVERIFIED items ask for what would make them verifiable instead of a fix.
import type { CheckResult, RoadmapItem, RoadmapPhase } from "../core/assessment.js";
import type { Finding } from "../core/types.js";
import { EFFORT_ORDER, RISK_ORDER } from "./statuses.js";

const PHASES = [
  { phase: 1, name: "Blockers: critical risks", risks: ["critical"] },
  { phase: 2, name: "High risks", risks: ["high"] },
  { phase: 3, name: "Hardening: medium and low risks", risks: ["medium", "low"] },
] as const;

const STATUS_ORDER = { FAIL: 0, ERROR: 1, UNVERIFIED: 2, WARN: 3 } as const;

/** Fills {{name}} from the finding's data; {{service}}, {{file}} and {{subject}} fall back to the subject. */
export function fillTemplate(template: string, finding: Pick<Finding, "data" | "subject">): string {
  return template.replace(/\{\{\s*(\w+)\s*\}\}/g, (whole, key: string) => {
    const value = finding.data?.[key];
    if (value !== undefined && value !== null) return String(value);
    if (["service", "file", "subject"].includes(key) && finding.subject) return finding.subject;
    return whole === "{{service}}" ? "the service" : key;
  });
}

export function buildRoadmap(checks: CheckResult[]): RoadmapPhase[] {
  const items: RoadmapItem[] = [];
  for (const check of checks) {
    const seen = new Set<string>();
    for (const finding of check.findings) {
      if (finding.status === "PASS" || finding.status === "NA") continue;
      const key = `${finding.status}:${finding.subject ?? ""}`;
      if (seen.has(key)) continue; // one action per check, subject and status is enough
      seen.add(key);
      const verifiable = finding.status === "UNVERIFIED" || finding.status === "ERROR";
      items.push({
        checkId: check.checkId,
        title: check.title,
        category: check.category,
        risk: check.risk,
        effort: check.remediation.effort,
        status: finding.status,
        ...(finding.subject !== undefined ? { subject: finding.subject } : {}),
        action: verifiable
          ? `Make it verifiable: ${finding.toVerify ?? check.reason ?? finding.message}`
          : fillTemplate(check.remediation.text, finding),
      });
    }
  }
  items.sort(
    (a, b) =>
      RISK_ORDER[a.risk] - RISK_ORDER[b.risk] ||
      EFFORT_ORDER[a.effort] - EFFORT_ORDER[b.effort] ||
      STATUS_ORDER[a.status as keyof typeof STATUS_ORDER] -
        STATUS_ORDER[b.status as keyof typeof STATUS_ORDER] ||
      a.checkId.localeCompare(b.checkId) ||
      (a.subject ?? "").localeCompare(b.subject ?? ""),
  );
  return PHASES.map(({ phase, name, risks }) => ({
    phase,
    name,
    items: items.filter((i) => (risks as readonly string[]).includes(i.risk)),
  })).filter((p) => p.items.length > 0);
}
