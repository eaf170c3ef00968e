// One text in, its secrets out: secretlint's preset and Gauntlet's rules, placeholders dropped, overlapping matches of
// the same secret kept once (the most specific rule wins), each at its 1-based line and column. The secret itself
// stays in this process: what leaves is its mask, a hash for fingerprints, and the strings to register for redaction.
import { createHash } from "node:crypto";
import { lowEntropyBody, placeholderReason } from "./placeholders.js";
import { classifyFile, gauntletDetections, type RawDetection, type Severity } from "./rules.js";
import { type SecretlintInput, secretlintDetections, urlPassword } from "./secretlint.js";

export interface Detection {
  ruleId: string;
  engine: "secretlint" | "gauntlet";
  label: string;
  severity: Severity;
  encrypted?: boolean | null;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  /** At most the first 4 characters (never more than an eighth of the secret), then "…". */
  masked: string;
  /** sha256 of the secret: what fingerprints and de-duplication use, never written as is. */
  secretHash: string;
  /** Registered with the redactor by the caller before anything is written. */
  redact: string[];
}

// secretlint's rules for a password in a URL have no issuer format to go by: generic, like Gauntlet's assignments.
const GENERIC_SECRETLINT_RULES = new Set([
  "@secretlint/secretlint-rule-basicauth",
  "@secretlint/secretlint-rule-database-connection-string",
]);

export async function detectSecrets(input: SecretlintInput): Promise<Detection[]> {
  const fileClass = classifyFile(input.file);
  const generic = fileClass === "code" || fileClass === "config";
  const raw = gauntletDetections(input.content, fileClass);
  for (const found of await secretlintDetections(input)) {
    if (secretlintDecoy(found) || (!generic && GENERIC_SECRETLINT_RULES.has(found.ruleId))) continue;
    raw.push(found);
  }
  if (raw.length === 0) return [];
  raw.sort((a, b) => a.priority - b.priority || a.start - b.start);
  const kept: RawDetection[] = [];
  for (const candidate of raw) {
    if (!kept.some((k) => candidate.start < k.end && k.start < candidate.end)) kept.push(candidate);
  }
  kept.sort((a, b) => a.start - b.start);
  const lines = lineStarts(input.content);
  return kept.map((d) => {
    const start = position(lines, d.start);
    const end = position(lines, d.end);
    return {
      ruleId: d.ruleId,
      engine: d.ruleId.startsWith("gauntlet/") ? "gauntlet" : "secretlint",
      label: d.label,
      severity: d.severity,
      ...(d.encrypted !== undefined ? { encrypted: d.encrypted } : {}),
      line: start.line,
      column: start.column,
      endLine: end.line,
      endColumn: end.column,
      masked: mask(d.secret),
      secretHash: hashSecret(d.secret),
      redact: d.redact,
    };
  });
}

/** secretlint has no placeholder list of its own beyond AWS's documented example: apply Gauntlet's. */
function secretlintDecoy(found: RawDetection): boolean {
  if (found.secret.includes("\n")) return false;
  const password = urlPassword(found.secret);
  if (password !== null) {
    // postgres://postgres:postgres@…, guest:guest: a product's default login, not a secret of this system.
    const user = /^[a-z][a-z0-9+.-]*:\/\/([^/:@\s]*):/i.exec(found.secret)?.[1];
    return placeholderReason(password) !== null || password === user;
  }
  return placeholderReason(found.secret) !== null || lowEntropyBody(found.secret, 3);
}

export function mask(secret: string): string {
  const shown = Math.min(4, Math.floor(secret.length / 8));
  return `${secret.slice(0, shown)}…`;
}

export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  return starts;
}

/** 1-based line and column (UTF-16 code units, as SARIF counts by default) of an offset. */
function position(starts: number[], offset: number): { line: number; column: number } {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (starts[mid]! <= offset) low = mid;
    else high = mid - 1;
  }
  return { line: low + 1, column: offset - starts[low]! + 1 };
}
