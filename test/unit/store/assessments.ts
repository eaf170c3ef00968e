// Assessments for the store, diff and history tests: the shared realistic sample (test/fixtures/assessment.ts) with
// the fields these tests read replaced, so the expectations here don't move when the sample's story changes.
import type { Assessment, CheckResult, Verdict } from "../../../src/core/assessment.js";
import { CATEGORIES, type Category, type Risk, STATUSES, type Status } from "../../../src/core/types.js";
import { sampleAssessment } from "../../fixtures/assessment.js";

export interface CheckSpec {
  id: string;
  status: Status;
  category?: Category;
  risk?: Risk;
  title?: string;
}

export interface AssessmentSpec {
  runId: string;
  system?: string;
  startedAt?: string;
  verdict?: Verdict;
  overall?: number | null;
  coverage?: number;
  checks?: CheckSpec[];
  categoryScores?: Partial<Record<Category, number | null>>;
}

const DEFAULT_CHECKS: CheckSpec[] = [
  { id: "healthEndpointsRespond", status: "PASS", category: "deployment", risk: "critical" },
  { id: "alertRulesValid", status: "WARN", category: "observability", risk: "high" },
  { id: "backupsRecent", status: "FAIL", category: "recovery", risk: "critical" },
  { id: "tlsModern", status: "UNVERIFIED", category: "security", risk: "medium" },
  { id: "restoreDrillPasses", status: "ERROR", category: "recovery", risk: "high" },
  { id: "kubernetesProbesSet", status: "NA", category: "deployment", risk: "low" },
];

export function makeAssessment(spec: AssessmentSpec): Assessment {
  const startedAt = spec.startedAt ?? "2025-06-01T10:00:00.000Z";
  const finishedAt = new Date(Date.parse(startedAt) + 61_500).toISOString();
  const checks: CheckResult[] = (spec.checks ?? DEFAULT_CHECKS).map((c) => ({
    checkId: c.id,
    title: c.title ?? `Is ${c.id} satisfied?`,
    objective: `Verifies ${c.id}.`,
    category: c.category ?? "deployment",
    risk: c.risk ?? "medium",
    destructive: false,
    status: c.status,
    durationMs: 12.5,
    findings: [
      { checkId: c.id, status: c.status, message: `${c.id} is ${c.status}`, data: { service: "api" } },
    ],
    remediation: { effort: "low", text: "Fix {{service}}." },
  }));
  const counts = countStatuses(checks.map((c) => c.status));
  const applicable = checks.filter((c) => c.status !== "NA").length;
  const verified = checks.filter((c) => ["PASS", "WARN", "FAIL"].includes(c.status)).length;
  const categories = CATEGORIES.map((category) => {
    const inCategory = checks.filter((c) => c.category === category);
    const score = spec.categoryScores?.[category] ?? (inCategory.length > 0 ? 50 : null);
    return {
      category,
      score,
      weight: 1,
      effectiveWeight: 1 / CATEGORIES.length,
      contribution: (score ?? 0) / CATEGORIES.length,
      applicable: inCategory.filter((c) => c.status !== "NA").length,
      verified: inCategory.filter((c) => ["PASS", "WARN", "FAIL"].includes(c.status)).length,
      counts: countStatuses(inCategory.map((c) => c.status)),
    };
  });
  return {
    ...sampleAssessment(),
    runId: spec.runId,
    tool: { name: "gauntlet", version: "0.1.0" },
    system: { name: spec.system ?? "orders", version: "1.4.2", owner: "team-orders" },
    revision: { kind: "git", digest: "0123456789abcdef0123456789abcdef01234567", dirty: false },
    specPath: "gauntlet.yaml",
    startedAt,
    finishedAt,
    durationMs: 61_500,
    checks,
    scores: {
      overall: spec.overall === undefined ? 72.5 : spec.overall,
      coverage: spec.coverage ?? (applicable === 0 ? 0 : (verified / applicable) * 100),
      categories,
      counts,
    },
    verdict: {
      verdict: spec.verdict ?? "NOT READY",
      conditions: [],
      gates: [],
      exitCode: spec.verdict === "CERTIFIED" ? 0 : spec.verdict === "CONDITIONAL" ? 1 : 2,
    },
  };
}

function countStatuses(statuses: Status[]): Record<Status, number> {
  const counts = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<Status, number>;
  for (const s of statuses) counts[s]++;
  return counts;
}
