// The Assessment: everything one run produced. Reporters, the history store and the certificate read only this.
// Its JSON form is report.json (schema documented in docs/report-json.md); bump ASSESSMENT_SCHEMA_VERSION on any
// incompatible change.
import type { OmissionReason } from "../engines/files/systemFiles.js";
import type { Category, Effort, Finding, Risk, Status } from "./types.js";

export const ASSESSMENT_SCHEMA_VERSION = 1;

export type Verdict = "CERTIFIED" | "CONDITIONAL" | "NOT READY";

export interface CheckResult {
  checkId: string;
  title: string;
  objective: string;
  category: Category;
  risk: Risk;
  destructive: boolean;
  /** Worst status over the check's findings after waivers; NA when the check does not apply. */
  status: Status;
  /** Why the check is N/A (from applies()), or why it is UNVERIFIED/ERROR as a whole. */
  reason?: string;
  durationMs: number;
  findings: Finding[];
  remediation: { effort: Effort; text: string };
}

export interface CategoryScore {
  category: Category;
  /** 0–100, or null when no check in the category applies. */
  score: number | null;
  /** Configured weight and the share of the overall score it carries after renormalisation. */
  weight: number;
  effectiveWeight: number;
  /** Points this category adds to the overall score (score × effectiveWeight). */
  contribution: number;
  applicable: number;
  verified: number;
  counts: Record<Status, number>;
}

export interface Scores {
  /** 0–100, or null when no check applies at all. */
  overall: number | null;
  /** Share (0–100) of applicable checks that were actually verified (PASS, WARN or FAIL). */
  coverage: number;
  categories: CategoryScore[];
  counts: Record<Status, number>;
}

export interface Gate {
  id:
    | "overall-certify"
    | "overall-conditional"
    | "category-minimum"
    | "no-critical-failed"
    | "no-critical-unverified";
  passed: boolean;
  description: string;
  detail: string;
}

export interface WaiverUse {
  check: string;
  subject?: string;
  reason: string;
  approvedBy: string;
  expires: string;
  /** active: turned a FAIL into WARN; expired: no longer applies; unused: nothing failed that it covers. */
  state: "active" | "expired" | "unused";
  appliedTo: number;
}

/**
 * A `resilience.exclude` entry and what it left out: printed on every report like a waiver, because a fault the spec
 * chose not to inject is a gap in the evidence the reader must see.
 */
export interface ExclusionUse {
  check: string;
  subject?: string;
  reason: string;
  /** applied: it left out at least one planned experiment; unused: it matched nothing planned. */
  state: "applied" | "unused";
  appliedTo: number;
}

export interface RoadmapItem {
  checkId: string;
  title: string;
  category: Category;
  risk: Risk;
  effort: Effort;
  status: Status;
  subject?: string;
  /** Remediation text filled from the finding's data; for UNVERIFIED, what would make it verifiable. */
  action: string;
}

export interface RoadmapPhase {
  phase: number;
  name: string;
  items: RoadmapItem[];
}

export interface VerdictResult {
  verdict: Verdict;
  /** For CONDITIONAL: what must change for CERTIFIED. For NOT READY: why. */
  conditions: string[];
  gates: Gate[];
  exitCode: 0 | 1 | 2;
}

export interface Revision {
  kind: "git" | "spec";
  /** git commit sha, or sha256 of the spec and the files it names. */
  digest: string;
  /** git: whether the work tree had uncommitted changes. */
  dirty?: boolean;
  /** git, dirty: sha256 of what differs from HEAD (the diff and the untracked files), so the changes are bound too. */
  worktree?: string;
  /** Files folded into a spec digest, relative to the spec folder. */
  files?: string[];
  /**
   * Spec digest: what the walk left out, by reason, so a reader sees what the digest does not cover. Counts entries:
   * a folder left out counts once (it is never read). Reasons: gitignore, revisionExclude (the spec's
   * revision.exclude), datastoreData (PostgreSQL, Prometheus, Alertmanager, Redis, SQLite… data), runtimeState (pid
   * files, socket locks), specialFile (sockets, FIFOs, devices), folderLink (not followed), gauntletOutput (.gauntlet/,
   * folders holding a certificate), dependencies (node_modules), vcs (.git). Absent in older revisions.
   */
  omitted?: Partial<Record<OmissionReason, number>>;
}

export interface Assessment {
  schemaVersion: typeof ASSESSMENT_SCHEMA_VERSION;
  runId: string;
  tool: { name: "gauntlet"; version: string };
  system: { name: string; version?: string; owner?: string };
  revision: Revision;
  specPath: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  environment: { node: string; platform: string; arch: string; hostname: string };
  options: { allowDestructive: boolean; only: string[]; skip: string[] };
  checks: CheckResult[];
  scores: Scores;
  verdict: VerdictResult;
  scoring: {
    certifyAt: number;
    conditionalAt: number;
    categoryMinimum: number;
    weights: Record<Category, number>;
  };
  waivers: WaiverUse[];
  /** resilience.exclude entries; absent in runs stored before exclusions existed. */
  exclusions?: ExclusionUse[];
  /** Faults an earlier run was killed before undoing, found in its fault journal at this run's start. */
  leftovers?: {
    runId: string;
    check: string;
    what: string;
    outcome: "undone" | "gone" | "manual" | "failed";
    detail: string;
  }[];
  roadmap: RoadmapPhase[];
  evidence: {
    /** Folder holding the evidence files and manifest.json, relative to the report folder. */
    dir: string;
    /** sha256 of manifest.json. */
    manifestDigest: string;
    files: number;
  };
  certificate: {
    file: string;
    signed: boolean;
    keyid?: string;
    validUntil: string;
    /** Why the certificate is unsigned (no key given). */
    note?: string;
  } | null;
}
