// Cargo.lock: every `[[package]]` with its exact version. Packages from crates.io (its git or sparse index) are checked;
// a package without `source` is a member of the workspace (the project's own code), and one from git or another
// registry is not a crates.io version, so crates.io's advisories cannot be matched to it.
import semver from "semver";
import type { LockedPackage, LockfileContent, UncheckedEntry } from "../packages.js";
import { parseTomlText, tableHeaderLines } from "./python.js";

const CRATES_IO = new Set([
  "registry+https://github.com/rust-lang/crates.io-index",
  "sparse+https://index.crates.io/",
]);

export function readCargoLock(text: string, file: string): LockfileContent {
  const data = parseTomlText(text, file);
  const entries = Array.isArray(data.package) ? data.package : [];
  const headers = tableHeaderLines(text, "package");
  const packages: LockedPackage[] = [];
  const unchecked: UncheckedEntry[] = [];
  for (const [index, raw] of entries.entries()) {
    if (typeof raw !== "object" || raw === null) continue;
    const entry = raw as Record<string, unknown>;
    if (typeof entry.name !== "string" || typeof entry.version !== "string") continue;
    const line = headers[index];
    const where = line ? { line } : {};
    if (entry.source === undefined) continue;
    const source = String(entry.source);
    if (!CRATES_IO.has(source)) {
      unchecked.push({ name: entry.name, spec: source, reason: "not-from-registry", ...where });
      continue;
    }
    if (!semver.valid(entry.version)) {
      unchecked.push({ name: entry.name, spec: entry.version, reason: "invalid-version", ...where });
      continue;
    }
    packages.push({ ecosystem: "crates.io", name: entry.name, version: entry.version, ...where });
  }
  const version = typeof data.version === "number" ? `version ${data.version}` : "version 1 or 2";
  return { format: "cargo-lock", variant: version, packages, unchecked };
}
