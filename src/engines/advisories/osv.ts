// OSV schema 1.x advisories (https://ossf.github.io/osv-schema/): which package versions each one affects, how bad
// it is and which version fixes it. A version is affected when `affected[].versions` lists it or a SEMVER or
// ECOSYSTEM range holds it: the range's events, sorted by version, switch "affected" on at `introduced` and off at
// `fixed`, after `last_affected` and at `limit`. GIT ranges name commits, which a lockfile's version does not carry:
// they are ignored (and counted). Only the ecosystems Gauntlet reads lockfiles of are kept.
import { cvss2BaseScore, cvss3BaseScore, type SeverityLevel } from "./cvss.js";
import { ECOSYSTEMS, type Ecosystem, normalizePypiName } from "./packages.js";
import { compareParsed, type ParsedVersion, parseVersion } from "./versions.js";

export type Level = Exclude<SeverityLevel, "none"> | "unknown";

export interface Severity {
  level: Level;
  /** CVSS base score when a vector could be scored. */
  score?: number;
  vector?: string;
  /** The advisory database's own label (GHSA's CRITICAL/HIGH/MODERATE/LOW), lowercased. */
  label?: string;
  /** Where `level` comes from. */
  from: "cvss-v3" | "label" | "cvss-v2" | "none";
}

export interface OsvEvent {
  introduced?: string;
  fixed?: string;
  last_affected?: string;
  limit?: string;
}

export interface OsvRange {
  type: "SEMVER" | "ECOSYSTEM";
  events: OsvEvent[];
}

export interface AffectedPackage {
  ecosystem: Ecosystem;
  /** Normalised for PyPI (PEP 503). */
  name: string;
  ranges: OsvRange[];
  versions: string[];
}

export interface Advisory {
  id: string;
  aliases: string[];
  summary?: string;
  modified?: string;
  severity: Severity;
  /** Only the entries for npm, PyPI, Go and crates.io. */
  affected: AffectedPackage[];
  /** Where it was read: a file, or `archive.zip:entry.json`. */
  source: string;
}

export type ParsedOsv =
  | {
      kind: "advisory";
      advisory: Advisory;
      ecosystems: Ecosystem[];
      otherEcosystems: number;
      gitRanges: number;
    }
  | { kind: "withdrawn"; id: string }
  | { kind: "invalid"; message: string };

const LEVEL_RANK: Record<Level, number> = { unknown: 0, low: 1, moderate: 2, high: 3, critical: 4 };

/** Reads one OSV object; a shape problem is a located sentence (`affected[0].ranges[1]: …`), never a throw. */
export function parseOsv(value: unknown, source: string): ParsedOsv {
  if (!isDict(value)) return invalid("an OSV advisory is a JSON object");
  if (typeof value.id !== "string" || value.id === "")
    return invalid('"id" is missing: an OSV advisory has an id');
  const id = value.id;
  if (typeof value.withdrawn === "string" && value.withdrawn !== "") return { kind: "withdrawn", id };
  if (value.affected !== undefined && !Array.isArray(value.affected))
    return invalid(`${id}: "affected" is not a list`);
  const aliases = Array.isArray(value.aliases)
    ? value.aliases.filter((a): a is string => typeof a === "string")
    : [];
  const affected: AffectedPackage[] = [];
  const ecosystems = new Set<Ecosystem>();
  let otherEcosystems = 0;
  let gitRanges = 0;
  for (const [i, entry] of ((value.affected as unknown[]) ?? []).entries()) {
    const where = `${id}: affected[${i}]`;
    if (!isDict(entry)) return invalid(`${where} is not an object`);
    const pkg = entry.package;
    if (!isDict(pkg) || typeof pkg.ecosystem !== "string" || typeof pkg.name !== "string") {
      // An entry without a package describes commits of a repository (GIT ranges only): nothing a lockfile holds.
      if (pkg === undefined) continue;
      return invalid(`${where}.package needs "ecosystem" and "name" strings`);
    }
    const ecosystem = ECOSYSTEMS.find((e) => e.toLowerCase() === String(pkg.ecosystem).toLowerCase());
    if (!ecosystem) {
      otherEcosystems++;
      continue;
    }
    const ranges: OsvRange[] = [];
    if (entry.ranges !== undefined && !Array.isArray(entry.ranges))
      return invalid(`${where}.ranges is not a list`);
    for (const [j, range] of ((entry.ranges as unknown[]) ?? []).entries()) {
      const at = `${where}.ranges[${j}]`;
      if (!isDict(range)) return invalid(`${at} is not an object`);
      if (range.type === "GIT") {
        gitRanges++;
        continue;
      }
      if (range.type !== "SEMVER" && range.type !== "ECOSYSTEM") {
        return invalid(`${at}.type is ${JSON.stringify(range.type)}: expected SEMVER, ECOSYSTEM or GIT`);
      }
      if (!Array.isArray(range.events) || range.events.length === 0)
        return invalid(`${at}.events is not a list of events`);
      const events: OsvEvent[] = [];
      for (const [k, event] of range.events.entries()) {
        const keys = isDict(event) ? Object.keys(event).filter((key) => EVENT_KEYS.has(key)) : [];
        const key = keys[0] as keyof OsvEvent | undefined;
        if (!isDict(event) || keys.length !== 1 || typeof event[key!] !== "string") {
          return invalid(
            `${at}.events[${k}] needs exactly one of introduced, fixed, last_affected or limit, as a string`,
          );
        }
        events.push({ [key!]: event[key!] as string });
      }
      ranges.push({ type: range.type, events });
    }
    if (entry.versions !== undefined && !Array.isArray(entry.versions))
      return invalid(`${where}.versions is not a list`);
    const versions = ((entry.versions as unknown[]) ?? []).filter((v): v is string => typeof v === "string");
    const name = ecosystem === "PyPI" ? normalizePypiName(pkg.name) : pkg.name;
    affected.push({ ecosystem, name, ranges, versions });
    ecosystems.add(ecosystem);
  }
  const advisory: Advisory = { id, aliases, severity: severityOf(value), affected, source };
  if (typeof value.summary === "string") advisory.summary = value.summary.slice(0, 300);
  if (typeof value.modified === "string") advisory.modified = value.modified;
  return { kind: "advisory", advisory, ecosystems: [...ecosystems], otherEcosystems, gitRanges };

  function invalid(message: string): ParsedOsv {
    return { kind: "invalid", message };
  }
}

const EVENT_KEYS = new Set(["introduced", "fixed", "last_affected", "limit"]);

/** CVSS v3 vector first, then the database's label, then a CVSS v2 vector; unknown when none is there. */
export function severityOf(osv: Record<string, unknown>): Severity {
  const vectors = Array.isArray(osv.severity) ? osv.severity.filter(isDict) : [];
  const labelSource = isDict(osv.database_specific) ? osv.database_specific.severity : undefined;
  const label = typeof labelSource === "string" ? labelSource.toLowerCase() : undefined;
  const common = label ? { label } : {};
  for (const entry of vectors) {
    if (entry.type !== "CVSS_V3" || typeof entry.score !== "string") continue;
    const scored = cvss3BaseScore(entry.score);
    if (scored) {
      const level = scored.level === "none" ? "low" : scored.level;
      return { level, score: scored.score, vector: entry.score, from: "cvss-v3", ...common };
    }
  }
  const fromLabel = labelLevel(label);
  if (fromLabel) return { level: fromLabel, from: "label", ...common };
  for (const entry of vectors) {
    if (entry.type !== "CVSS_V2" || typeof entry.score !== "string") continue;
    const scored = cvss2BaseScore(entry.score);
    if (scored) {
      const level = scored.level === "none" ? "low" : scored.level;
      return { level, score: scored.score, vector: entry.score, from: "cvss-v2", ...common };
    }
  }
  return { level: "unknown", from: "none", ...common };
}

/** GHSA, osv-scanner, Trivy and Grype labels as one scale. */
export function labelLevel(label: string | undefined): Exclude<Level, "unknown"> | undefined {
  switch (label?.toLowerCase()) {
    case "critical":
      return "critical";
    case "high":
      return "high";
    case "moderate":
    case "medium":
      return "moderate";
    case "low":
    case "negligible":
      return "low";
    default:
      return undefined;
  }
}

export function compareLevels(a: Level, b: Level): number {
  return LEVEL_RANK[a] - LEVEL_RANK[b];
}

/** Whether an affected entry holds a version: affected, not, or undecidable with the reason. */
export type Verdict =
  | { affected: true; fixed?: string; lastAffected?: string }
  | { affected: false }
  | { undecidable: string };

/** Evaluates one affected entry for an installed version of its package. */
export function evaluateAffected(entry: AffectedPackage, installed: string): Verdict {
  let undecidable: string | undefined;
  for (const [index, range] of entry.ranges.entries()) {
    const result = evaluateRange(entry.ecosystem, range, installed);
    if ("undecidable" in result) {
      undecidable ??= `ranges[${index}]: ${result.undecidable}`;
      continue;
    }
    if (result.affected) return result;
  }
  // Listed versions count whatever the ranges say (the schema: affected if in either).
  const own = parseVersion(entry.ecosystem, installed);
  if (entry.versions.some((v) => v === installed || (own !== null && sameVersion(entry.ecosystem, v, own)))) {
    return { affected: true };
  }
  return undecidable ? { undecidable } : { affected: false };
}

function sameVersion(ecosystem: Ecosystem, listed: string, own: ParsedVersion): boolean {
  const parsed = parseVersion(ecosystem, listed);
  return parsed !== null && parsed.scheme === own.scheme && compareParsed(parsed, own) === 0;
}

interface SortedEvent {
  kind: keyof OsvEvent;
  raw: string;
  /** null for `introduced: "0"`, which is before every version. */
  version: ParsedVersion | null;
}

const KIND_ORDER: Record<keyof OsvEvent, number> = { introduced: 0, last_affected: 1, fixed: 2, limit: 3 };

/** SEMVER ranges order by SemVer 2.0 whatever the ecosystem; ECOSYSTEM ranges by the ecosystem's own order. */
function evaluateRange(
  ecosystem: Ecosystem,
  range: OsvRange,
  installed: string,
): { affected: true; fixed?: string; lastAffected?: string } | { affected: false } | { undecidable: string } {
  const scheme: Ecosystem = range.type === "SEMVER" ? (ecosystem === "PyPI" ? "npm" : ecosystem) : ecosystem;
  const own = parseVersion(scheme, installed);
  if (!own) return { undecidable: `${installed} is not a version a ${range.type} range can order` };
  const events: SortedEvent[] = [];
  for (const event of range.events) {
    const kind = Object.keys(event)[0] as keyof OsvEvent;
    const raw = event[kind]!;
    if (kind === "introduced" && raw === "0") {
      events.push({ kind, raw, version: null });
      continue;
    }
    const version = parseVersion(scheme, raw);
    if (!version)
      return { undecidable: `${kind} "${raw}" is not a ${scheme === "PyPI" ? "PEP 440" : "SemVer"} version` };
    events.push({ kind, raw, version });
  }
  events.sort((a, b) => {
    if (a.version === null || b.version === null)
      return a.version === null ? (b.version === null ? 0 : -1) : 1;
    return compareParsed(a.version, b.version) || KIND_ORDER[a.kind] - KIND_ORDER[b.kind];
  });
  let affected = false;
  let index = 0;
  for (; index < events.length; index++) {
    const event = events[index]!;
    const order = event.version === null ? 1 : compareParsed(own, event.version);
    if (event.kind === "last_affected" ? order <= 0 : order < 0) break;
    affected = event.kind === "introduced";
  }
  if (!affected) return { affected: false };
  const after = events.slice(index);
  const fixed = after.find((e) => e.kind === "fixed")?.raw;
  const lastAffected = after.find((e) => e.kind === "last_affected")?.raw;
  return { affected: true, ...(fixed ? { fixed } : {}), ...(lastAffected && !fixed ? { lastAffected } : {}) };
}

function isDict(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
