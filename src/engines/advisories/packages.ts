// What a lockfile reader returns: the exact versions installed, each with where it is written, and what could not
// be checked by version (a git or file dependency, an unpinned requirement). Ecosystem names are OSV's.

export const ECOSYSTEMS = ["npm", "PyPI", "Go", "crates.io"] as const;
export type Ecosystem = (typeof ECOSYSTEMS)[number];

export type LockfileFormat =
  | "package-lock"
  | "npm-shrinkwrap"
  | "yarn-classic"
  | "yarn-berry"
  | "pnpm-lock"
  | "requirements"
  | "poetry-lock"
  | "pipfile-lock"
  | "go-mod"
  | "go-sum"
  | "cargo-lock";

export interface LockedPackage {
  ecosystem: Ecosystem;
  /** As the ecosystem's advisories name it (PyPI names normalised per PEP 503). */
  name: string;
  version: string;
  /** 1-based line of the entry in the lockfile, when it can be told. */
  line?: number;
  /** The lockfile says it is only needed for development. */
  dev?: boolean;
  /** The lockfile says it is optional. */
  optional?: boolean;
}

/** An entry that names no registry version an advisory could match: why, and where. */
export interface UncheckedEntry {
  name: string;
  /** What the lockfile says instead of a version (`github:user/repo#abc`, `>=1.0`, `file:../lib`). */
  spec: string;
  reason: "unpinned" | "not-from-registry" | "invalid-version";
  line?: number;
}

export interface LockfileContent {
  format: LockfileFormat;
  /** Format detail worth reporting (`lockfileVersion 3`, `yarn berry 8`, `pnpm 9.0`). */
  variant?: string;
  packages: LockedPackage[];
  unchecked: UncheckedEntry[];
}

/** PEP 503: lowercase, runs of `-`, `_` and `.` become one `-` (PyYAML → pyyaml, zope.interface → zope-interface). */
export function normalizePypiName(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[-_.]+/g, "-");
}
