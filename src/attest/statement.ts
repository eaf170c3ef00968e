// The certificate: an in-toto Statement v1 whose subject is the system's revision and whose predicate carries the
// verdict, the scores and a digest for every evidence file, wrapped in a DSSE envelope signed with Ed25519.
import { writeFile } from "node:fs/promises";
import type { Assessment, Revision, Verdict } from "../core/assessment.js";
import { type EvidenceManifest, outputModes } from "../core/evidence.js";
import type { Category, Risk, Status } from "../core/types.js";
import { UserError } from "../errors.js";
import { type DsseEnvelope, IN_TOTO_PAYLOAD_TYPE, serializeEnvelope, signEnvelope } from "./dsse.js";
import { loadPrivateKey, type SigningKey } from "./keys.js";

export const STATEMENT_TYPE = "https://in-toto.io/Statement/v1";
export const READINESS_PREDICATE_TYPE = "https://gauntlet.dev/attestation/readiness/v1";

export interface StatementSubject {
  name: string;
  digest: Record<string, string>;
}

export interface ReadinessCheck {
  id: string;
  category: Category;
  risk: Risk;
  status: Status;
  /** Evidence path (relative to the evidence folder) → hex sha256, for the files under `<checkId>/`. */
  evidence: Record<string, string>;
}

export interface ReadinessPredicate {
  system: { name: string; version?: string; owner?: string };
  verdict: Verdict;
  conditions: string[];
  overall: number | null;
  coverage: number;
  /** Score (0–100) per category, null when no check in it applies. */
  categories: Record<string, number | null>;
  checks: ReadinessCheck[];
  evidence: { manifestDigest: string; files: number };
  /** Report file name (report.md, report.json, …) → hex sha256, so an edited report fails verification. */
  reports?: Record<string, string>;
  issuedAt: string;
  validUntil: string;
  runId: string;
  tool: { name: string; version: string };
  environment: Assessment["environment"];
  revision: { kind: Revision["kind"]; digest: string; dirty?: boolean; worktree?: string };
}

export interface ReadinessStatement {
  _type: typeof STATEMENT_TYPE;
  subject: StatementSubject[];
  predicateType: typeof READINESS_PREDICATE_TYPE;
  predicate: ReadinessPredicate;
}

export interface Certificate {
  envelope: DsseEnvelope;
  statement: ReadinessStatement;
  signed: boolean;
  keyid?: string;
  validUntil: string;
  /** Non-fatal problems to show the user (e.g. a private key others can read). */
  warnings: string[];
}

/** The subject that binds a certificate to one revision: a git commit, or the digest of the spec and its files. */
export function subjectFor(
  systemName: string,
  revision: Pick<Revision, "kind" | "digest">,
): StatementSubject {
  return revision.kind === "git"
    ? { name: `git+${systemName}`, digest: { gitCommit: revision.digest } }
    : { name: `spec:${systemName}`, digest: { sha256: revision.digest } };
}

export function buildStatement(
  assessment: Assessment,
  manifest: EvidenceManifest,
  manifestDigest: string,
  options: { issuedAt: Date; validForMs: number; reports?: Record<string, string> },
): ReadinessStatement {
  if (!(options.validForMs > 0)) {
    throw new UserError(
      `a certificate must be valid for a positive duration (got ${options.validForMs} ms).`,
    );
  }
  const validUntil = new Date(options.issuedAt.getTime() + options.validForMs);
  const manifestPaths = Object.keys(manifest.files).sort();
  const categories: Record<string, number | null> = {};
  for (const c of assessment.scores.categories) categories[c.category] = c.score;
  const revision: ReadinessPredicate["revision"] = {
    kind: assessment.revision.kind,
    digest: assessment.revision.digest,
  };
  if (assessment.revision.kind === "git") revision.dirty = Boolean(assessment.revision.dirty);
  if (assessment.revision.worktree) revision.worktree = assessment.revision.worktree;
  return {
    _type: STATEMENT_TYPE,
    subject: [subjectFor(assessment.system.name, assessment.revision)],
    predicateType: READINESS_PREDICATE_TYPE,
    predicate: {
      system: { ...assessment.system },
      verdict: assessment.verdict.verdict,
      conditions: [...assessment.verdict.conditions],
      overall: assessment.scores.overall,
      coverage: assessment.scores.coverage,
      categories,
      checks: assessment.checks.map((check) => {
        const evidence: Record<string, string> = {};
        for (const file of manifestPaths) {
          if (file.startsWith(`${check.checkId}/`)) evidence[file] = manifest.files[file]!;
        }
        return {
          id: check.checkId,
          category: check.category,
          risk: check.risk,
          status: check.status,
          evidence,
        };
      }),
      evidence: { manifestDigest, files: manifestPaths.length },
      ...(options.reports ? { reports: { ...options.reports } } : {}),
      issuedAt: options.issuedAt.toISOString(),
      validUntil: validUntil.toISOString(),
      runId: assessment.runId,
      tool: { name: assessment.tool.name, version: assessment.tool.version },
      environment: { ...assessment.environment },
      revision,
    },
  };
}

/** Builds the statement and wraps it in a DSSE envelope, signed when keyPath is given. */
export async function createCertificate(
  assessment: Assessment,
  manifest: EvidenceManifest,
  manifestDigest: string,
  options: {
    keyPath?: string;
    /** An already loaded key (wins over keyPath): load it early so a bad key fails before the checks run. */
    key?: SigningKey;
    validForMs: number;
    now?: Date;
    reports?: Record<string, string>;
  },
): Promise<Certificate> {
  const key = options.key ?? (options.keyPath ? await loadPrivateKey(options.keyPath) : undefined);
  const statement = buildStatement(assessment, manifest, manifestDigest, {
    issuedAt: options.now ?? new Date(),
    validForMs: options.validForMs,
    ...(options.reports ? { reports: options.reports } : {}),
  });
  const payload = Buffer.from(JSON.stringify(statement), "utf8");
  const envelope = signEnvelope(IN_TOTO_PAYLOAD_TYPE, payload, key);
  const certificate: Certificate = {
    envelope,
    statement,
    signed: key !== undefined,
    validUntil: statement.predicate.validUntil,
    warnings: key?.warnings ?? [],
  };
  if (key) certificate.keyid = key.keyid;
  return certificate;
}

/** Writes the envelope in the layout `gauntlet verify` expects; a new file gets the run's file mode (0600). */
export async function writeCertificate(
  file: string,
  envelope: DsseEnvelope,
  mode: number = outputModes().file,
): Promise<void> {
  await writeFile(file, serializeEnvelope(envelope), { mode });
}
