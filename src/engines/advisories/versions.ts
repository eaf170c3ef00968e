// Version order per ecosystem, as OSV ranges need it: npm and crates.io are SemVer 2.0; Go is SemVer with a `v`
// prefix (pseudo-versions are SemVer pre-releases, `+incompatible` is build metadata, ignored); PyPI is PEP 440.
import semver from "semver";
import type { Ecosystem } from "./packages.js";
import { comparePep440, type Pep440Version, parsePep440 } from "./pep440.js";

/** A version parsed for its ecosystem's order; opaque outside this module. */
export type ParsedVersion =
  | { scheme: "semver"; raw: string; value: semver.SemVer }
  | { scheme: "pep440"; raw: string; value: Pep440Version };

/** The version parsed for the ecosystem's order, or null when it is not a version of that ecosystem. */
export function parseVersion(ecosystem: Ecosystem, raw: string): ParsedVersion | null {
  const text = raw.trim();
  if (ecosystem === "PyPI") {
    const value = parsePep440(text);
    return value ? { scheme: "pep440", raw, value } : null;
  }
  const bare = ecosystem === "Go" ? text.replace(/^v/, "") : text;
  const value = semver.parse(bare);
  return value ? { scheme: "semver", raw, value } : null;
}

/** Negative, zero or positive; both must be parsed for the same ecosystem. */
export function compareParsed(a: ParsedVersion, b: ParsedVersion): number {
  if (a.scheme === "pep440" && b.scheme === "pep440") return comparePep440(a.value, b.value);
  if (a.scheme === "semver" && b.scheme === "semver") return a.value.compare(b.value);
  throw new Error(`cannot compare a ${a.scheme} version with a ${b.scheme} one (a bug)`);
}

/** Compares two version strings of an ecosystem; null when either is not a version of it. */
export function compareVersions(ecosystem: Ecosystem, a: string, b: string): number | null {
  const x = parseVersion(ecosystem, a);
  const y = parseVersion(ecosystem, b);
  return x && y ? compareParsed(x, y) : null;
}
