// What changed between two runs: score, coverage and verdict deltas, and every check sorted into regressed,
// improved, unchanged, added, removed or changed applicability. Pure: two Assessments in, one value out.
import type { Assessment, Verdict } from "../core/assessment.js";
import { CATEGORIES, type Category, RISKS, type Risk, type Status } from "../core/types.js";

export type CheckChangeKind = "regressed" | "improved" | "unchanged" | "added" | "removed" | "applicability";

export interface CheckChange {
  checkId: string;
  /** From the newer run when the check is in it, else from the older. */
  title: string;
  category: Category;
  risk: Risk;
  kind: CheckChangeKind;
  /** Absent for added checks. */
  from?: Status;
  /** Absent for removed checks. */
  to?: Status;
}

export interface NumberDelta {
  from: number | null;
  to: number | null;
  /** to − from, rounded to 2 decimals; null when either side is null. */
  delta: number | null;
}

export interface CategoryDelta extends NumberDelta {
  category: Category;
}

export interface RunRefSummary {
  runId: string;
  system: string;
  startedAt: string;
  verdict: Verdict;
}

export interface AssessmentDiff {
  from: RunRefSummary;
  to: RunRefSummary;
  sameSystem: boolean;
  overall: NumberDelta;
  coverage: NumberDelta;
  verdict: { from: Verdict; to: Verdict; change: "better" | "worse" | "same" };
  /** Every category in either run, in the canonical category order. */
  categories: CategoryDelta[];
  /** Every check in either run: regressions first, then by risk (critical first) and id. */
  checks: CheckChange[];
  counts: Record<CheckChangeKind, number>;
}

/** Higher is better. UNVERIFIED and ERROR rank the same: both mean "not verified". NA has no rank. */
const STATUS_RANK: Record<Exclude<Status, "NA">, number> = {
  PASS: 3,
  WARN: 2,
  UNVERIFIED: 1,
  ERROR: 1,
  FAIL: 0,
};

const VERDICT_RANK: Record<Verdict, number> = { CERTIFIED: 2, CONDITIONAL: 1, "NOT READY": 0 };

const KIND_ORDER: readonly CheckChangeKind[] = [
  "regressed",
  "improved",
  "applicability",
  "added",
  "removed",
  "unchanged",
];

/** How a check's status moved between two runs; undefined status means the check is absent from that run. */
export function classifyStatusChange(from: Status | undefined, to: Status | undefined): CheckChangeKind {
  if (from === undefined && to === undefined) throw new Error("a check must be in at least one run");
  if (from === undefined) return "added";
  if (to === undefined) return "removed";
  if (from === "NA" || to === "NA") return from === to ? "unchanged" : "applicability";
  const delta = STATUS_RANK[to] - STATUS_RANK[from];
  return delta > 0 ? "improved" : delta < 0 ? "regressed" : "unchanged";
}

export function diffAssessments(a: Assessment, b: Assessment): AssessmentDiff {
  const before = new Map(a.checks.map((c) => [c.checkId, c]));
  const after = new Map(b.checks.map((c) => [c.checkId, c]));
  const ids = new Set([...before.keys(), ...after.keys()]);

  const checks: CheckChange[] = [];
  for (const id of ids) {
    const old = before.get(id);
    const now = after.get(id);
    const meta = (now ?? old)!;
    const change: CheckChange = {
      checkId: id,
      title: meta.title,
      category: meta.category,
      risk: meta.risk,
      kind: classifyStatusChange(old?.status, now?.status),
    };
    if (old) change.from = old.status;
    if (now) change.to = now.status;
    checks.push(change);
  }
  checks.sort(
    (x, y) =>
      KIND_ORDER.indexOf(x.kind) - KIND_ORDER.indexOf(y.kind) ||
      RISKS.indexOf(x.risk) - RISKS.indexOf(y.risk) ||
      x.checkId.localeCompare(y.checkId),
  );

  const counts = Object.fromEntries(KIND_ORDER.map((k) => [k, 0])) as Record<CheckChangeKind, number>;
  for (const c of checks) counts[c.kind]++;

  const oldScores = new Map(a.scores.categories.map((c) => [c.category, c.score]));
  const newScores = new Map(b.scores.categories.map((c) => [c.category, c.score]));
  const categories = CATEGORIES.filter((c) => oldScores.has(c) || newScores.has(c)).map((category) => ({
    category,
    ...numberDelta(oldScores.get(category) ?? null, newScores.get(category) ?? null),
  }));

  const verdictDelta = VERDICT_RANK[b.verdict.verdict] - VERDICT_RANK[a.verdict.verdict];
  return {
    from: runRef(a),
    to: runRef(b),
    sameSystem: a.system.name === b.system.name,
    overall: numberDelta(a.scores.overall, b.scores.overall),
    coverage: numberDelta(a.scores.coverage, b.scores.coverage),
    verdict: {
      from: a.verdict.verdict,
      to: b.verdict.verdict,
      change: verdictDelta > 0 ? "better" : verdictDelta < 0 ? "worse" : "same",
    },
    categories,
    checks,
    counts,
  };
}

function numberDelta(from: number | null, to: number | null): NumberDelta {
  if (from === null || to === null) return { from, to, delta: null };
  const delta = Math.round((to - from) * 100) / 100;
  return { from, to, delta: delta === 0 ? 0 : delta }; // no -0
}

function runRef(a: Assessment): RunRefSummary {
  return { runId: a.runId, system: a.system.name, startedAt: a.startedAt, verdict: a.verdict.verdict };
}
