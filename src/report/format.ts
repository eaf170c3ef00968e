// Small formatting helpers shared by the reporters. Every figure they print comes from the Assessment; nothing here
// reads the clock or the environment, so the same Assessment always renders the same bytes.
import type { Assessment, CheckResult, ExclusionUse } from "../core/assessment.js";
import type { Finding, Measurement, Status } from "../core/types.js";
import { Redactor } from "../secrets/redactor.js";

export const STATUS_LABEL: Record<Status, string> = {
  PASS: "PASS",
  WARN: "WARN",
  FAIL: "FAIL",
  UNVERIFIED: "UNVERIFIED",
  ERROR: "ERROR",
  NA: "N/A",
};

import { isUnverified } from "../scoring/statuses.js";

export { isUnverified, worstStatus } from "../scoring/statuses.js";

/** One sentence on the certificate, for reports that have no better place for it (JUnit, SARIF). */
export function certificateStatus(a: Assessment): string {
  if (!a.certificate) return "no certificate: the run was not completed";
  if (!a.certificate.signed) return `UNSIGNED: ${unsignedNote(a.certificate)}`;
  return `signed by key ${a.certificate.keyid ?? "?"}, valid until ${a.certificate.validUntil}`;
}

/**
 * Why a certificate is unsigned. Notes of runs stored before 0.2 also said "unsigned:" and "this (report) is not a
 * certificate"; reports say that themselves, once, so it is cut from the note.
 */
export function unsignedNote(certificate: NonNullable<Assessment["certificate"]>): string {
  const note = (certificate.note ?? "")
    .trim()
    .replace(/^unsigned:\s*/i, "")
    .replace(/[;,.]?\s*this (report )?is not a certificate\.?$/i, "")
    .trim();
  return note === "" ? "no signing key was given" : note;
}

/** "networkLatencyTolerated for cache", "networkLatencyTolerated (every subject)". */
export function exclusionTarget(x: ExclusionUse): string {
  return x.subject === undefined ? `${x.check} (every subject)` : `${x.check} for ${x.subject}`;
}

/** What an exclusion did, in a few words: "left out 1 experiment", "matched no planned experiment". */
export function exclusionEffect(x: ExclusionUse): string {
  return x.state === "applied"
    ? `left out ${plural(x.appliedTo, "experiment")}`
    : "matched no planned experiment";
}

/** Whether a finding is a subject that resilience.exclude left out (the experiment checks' own N/A). */
export function isExcluded(finding: Finding): boolean {
  return finding.status === "NA" && finding.messageId === "excluded";
}

/**
 * The findings a reporter shows for a check. A check that produced none (N/A, or UNVERIFIED/ERROR as a whole, e.g. a
 * timeout) is shown as one finding carrying the check's status, so no check disappears from a report; its reason is
 * then the N/A message or what would make it verifiable (toVerifyOf).
 */
export function findingsOf(check: CheckResult): Finding[] {
  if (check.findings.length > 0) return check.findings;
  return [
    {
      checkId: check.checkId,
      status: check.status,
      message: isUnverified(check.status)
        ? `The check ${check.status === "ERROR" ? "failed to run" : "could not observe the system"} and reported no finding.`
        : (check.reason ?? (check.status === "PASS" ? "" : "The check reported no finding.")),
    },
  ];
}

/** What would make an UNVERIFIED/ERROR finding verifiable. */
export function toVerifyOf(check: CheckResult, finding: Finding): string {
  // A crash's reason is its error message again; what helps is saying whose bug it is and what to send.
  if (finding.toVerify === undefined && finding.messageId === "internalError") {
    return (
      "The check itself crashed (a bug in Gauntlet, not a finding about the system): re-run it with " +
      `--only ${check.checkId} and report it with its evidence files${finding.evidence?.length ? ` (${finding.evidence.join(", ")})` : ""}.`
    );
  }
  return (
    finding.toVerify ??
    check.reason ??
    "The check gave no hint; read its evidence files and re-run with --only."
  );
}

/** The subject a finding is about: the service or file it names, else the file of its location. */
export function subjectOf(finding: Finding): string | undefined {
  return finding.subject ?? finding.location?.path;
}

/** Path of an evidence file as seen from the report folder, forward slashes. */
export function evidencePath(assessment: Assessment, file: string): string {
  const dir = assessment.evidence.dir.replace(/\\/g, "/").replace(/\/+$/, "");
  const relative = file.replace(/\\/g, "/");
  return dir === "" || dir === "." ? relative : `${dir}/${relative}`;
}

/**
 * The evidence file a measurement was read from: its own, else the finding's only evidence file. Undefined when it
 * cannot be attributed (reporters then say so instead of guessing).
 */
export function measurementEvidence(finding: Finding, measurement: Measurement): string | undefined {
  if (measurement.evidence) return measurement.evidence;
  return finding.evidence?.length === 1 ? finding.evidence[0] : undefined;
}

/** 412 → "412", 241.66 → "241.66", 0.00123 → "0.00123"; never exponent notation for ordinary figures. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return String(value);
  const abs = Math.abs(value);
  const text = abs >= 1 ? value.toFixed(2) : value.toPrecision(3);
  return String(Number(text));
}

/** "412 ms", "99.5%", "18342 lines". */
export function formatMeasurement(measurement: Measurement): string {
  const value = formatNumber(measurement.value);
  const unit = measurement.unit.trim();
  if (unit === "") return value;
  return unit === "%" ? `${value}%` : `${value} ${unit}`;
}

export function formatScore(score: number | null): string {
  return score === null ? "n/a" : formatNumber(Math.round(score * 100) / 100);
}

/** A 0–1 share as a percentage: 0.16667 → "16.67%". */
export function formatShare(share: number): string {
  return `${formatNumber(Math.round(share * 10_000) / 100)}%`;
}

/** 850 → "850 ms", 458495 → "7 min 38 s", 3723000 → "1 h 2 min 3 s". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${formatNumber(Math.round(ms / 100) / 10)} s`;
  const totalSeconds = Math.round(ms / 1000);
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  const parts: string[] = [];
  if (hours > 0) parts.push(`${hours} h`);
  if (minutes > 0) parts.push(`${minutes} min`);
  if (seconds > 0) parts.push(`${seconds} s`);
  return parts.join(" ");
}

/** "2026-03-14T09:12:03.412Z" → "2026-03-14 09:12:03 UTC"; anything unparseable is printed as given. */
export function formatTimestamp(iso: string): string {
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return iso;
  const text = new Date(time).toISOString();
  return `${text.slice(0, 10)} ${text.slice(11, 19)} UTC`;
}

export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}

/**
 * Renders an Assessment with every string redacted before rendering (so escaped forms, e.g. `&amp;` in XML, cannot
 * hide a secret) and the output redacted again as the last step (defence in depth: findings are redacted already).
 */
export function renderRedacted(
  assessment: Assessment,
  secrets: Redactor | undefined,
  render: (assessment: Assessment) => string,
): string {
  // Without the run's secrets (re-rendering a stored run) what is recognisable by shape is still masked.
  const redactor = secrets ?? new Redactor();
  return redactor.redact(render(redactor.redactValue(assessment, KEEP)));
}

/** Fields whose values are enumerations the reporters switch on; a secret equal to one must not change them. */
const KEEP: ReadonlySet<string> = new Set([
  "status",
  "messageId",
  "risk",
  "category",
  "verdict",
  "state",
  "kind",
  "effort",
]);
