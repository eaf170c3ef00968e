// Finds the lockfiles and dependency manifests of a repository and reads the lockfiles. The walk starts at each
// `security.scan.paths` entry (relative to system.repo), never enters what is not the project's own (node_modules,
// vendor, virtualenvs, VCS folders, Gauntlet's output), what .gitignore leaves out or what `security.scan.exclude`
// names, and does not follow folder links. A manifest (package.json, pyproject.toml, …) that declares dependencies
// with no lockfile of its ecosystem in its folder or a folder above is unpinned: nothing says which versions run.

import type { Dirent } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { GitignoreRules } from "../files/gitignore.js";
import { isInside, toPosix } from "../files/glob.js";
import { excludeMatcher } from "../files/scanExclude.js";
import { parseJson, TextError } from "./jsonText.js";
import { readCargoLock } from "./lockfiles/cargo.js";
import { readGoMod, readGoSum } from "./lockfiles/go.js";
import { readPackageLock } from "./lockfiles/npm.js";
import { readPnpmLock } from "./lockfiles/pnpm.js";
import {
  parseTomlText,
  type RequirementsContent,
  readPipfileLock,
  readPoetryLock,
  readRequirements,
} from "./lockfiles/python.js";
import { readYarnLock } from "./lockfiles/yarn.js";
import type {
  Ecosystem,
  LockedPackage,
  LockfileContent,
  LockfileFormat,
  UncheckedEntry,
} from "./packages.js";

/** Folders that hold other people's code or tools' state, never the project's own dependency files. */
const SKIPPED_FOLDERS = new Set([
  ".git",
  ".hg",
  ".svn",
  ".gauntlet",
  "node_modules",
  "bower_components",
  "jspm_packages",
  "vendor",
  ".yarn",
  ".pnpm-store",
  ".venv",
  "venv",
  ".tox",
  ".nox",
  "__pypackages__",
  "site-packages",
  "__pycache__",
]);
/** Larger than any real lockfile (the largest public monorepos' are tens of MB): reading more is a mistake. */
export const MAX_LOCKFILE_BYTES = 64 * 1024 * 1024;
const MAX_ENTRIES = 500_000;
const MAX_INCLUDE_DEPTH = 8;

const FORMAT_ECOSYSTEM: Record<LockfileFormat, Ecosystem> = {
  "package-lock": "npm",
  "npm-shrinkwrap": "npm",
  "yarn-classic": "npm",
  "yarn-berry": "npm",
  "pnpm-lock": "npm",
  requirements: "PyPI",
  "poetry-lock": "PyPI",
  "pipfile-lock": "PyPI",
  "go-mod": "Go",
  "go-sum": "Go",
  "cargo-lock": "crates.io",
};

export interface LockfileRead {
  /** Relative to the repository, with forward slashes. */
  path: string;
  format: LockfileFormat;
  ecosystem: Ecosystem;
  variant?: string;
  /** One entry per distinct name and version, at the line where it first appears. */
  packages: LockedPackage[];
  unchecked: UncheckedEntry[];
  /** Why the file could not be read (then packages is empty). */
  error?: { message: string; line?: number };
  /** Set for a requirements file read because another one names it with -r / -c. */
  includedBy?: string;
}

export interface ManifestSeen {
  path: string;
  ecosystem: Ecosystem;
  declaresDependencies: boolean;
  /** The lockfile of its ecosystem in its folder or the nearest folder above, if any. */
  lockedBy?: string;
  /** Set when the manifest cannot be parsed: it is then taken to declare dependencies. */
  error?: string;
}

export interface Discovery {
  /** Each scan path, relative to the repository, and whether it exists. */
  roots: { path: string; exists: boolean }[];
  lockfiles: LockfileRead[];
  manifests: ManifestSeen[];
  /** Entries the walk left out, by reason. */
  omitted: { dependencyFolders: number; gitignored: number; excluded: number };
  /** Set when the walk stopped at MAX_ENTRIES. */
  truncated?: boolean;
}

export interface DiscoverOptions {
  repoDir: string;
  /** security.scan.paths, relative to repoDir. */
  paths: readonly string[];
  /** security.scan.exclude: globs relative to repoDir. */
  exclude: readonly string[];
  signal?: AbortSignal;
}

type FileKind = { kind: "lockfile"; format: LockfileFormat } | { kind: "manifest"; ecosystem: Ecosystem };

/** What a file is, by its name (and, for requirements, its folder's). */
export function dependencyFileKind(relative: string): FileKind | null {
  const name = path.posix.basename(relative);
  const folder = path.posix.basename(path.posix.dirname(relative));
  switch (name) {
    case "package-lock.json":
      return { kind: "lockfile", format: "package-lock" };
    case "npm-shrinkwrap.json":
      return { kind: "lockfile", format: "npm-shrinkwrap" };
    case "yarn.lock":
      return { kind: "lockfile", format: "yarn-classic" };
    case "pnpm-lock.yaml":
      return { kind: "lockfile", format: "pnpm-lock" };
    case "poetry.lock":
      return { kind: "lockfile", format: "poetry-lock" };
    case "Pipfile.lock":
      return { kind: "lockfile", format: "pipfile-lock" };
    case "go.mod":
      return { kind: "lockfile", format: "go-mod" };
    case "go.sum":
      return { kind: "lockfile", format: "go-sum" };
    case "Cargo.lock":
      return { kind: "lockfile", format: "cargo-lock" };
    case "package.json":
      return { kind: "manifest", ecosystem: "npm" };
    case "pyproject.toml":
    case "Pipfile":
    case "setup.py":
    case "setup.cfg":
      return { kind: "manifest", ecosystem: "PyPI" };
    case "Cargo.toml":
      return { kind: "manifest", ecosystem: "crates.io" };
  }
  if (/^requirements.*\.txt$/i.test(name) || (folder === "requirements" && name.endsWith(".txt"))) {
    return { kind: "lockfile", format: "requirements" };
  }
  return null;
}

export async function discoverDependencies(options: DiscoverOptions): Promise<Discovery> {
  const repoDir = path.resolve(options.repoDir);
  const excluded = excludeMatcher(options.exclude);
  const discovery: Discovery = {
    roots: [],
    lockfiles: [],
    manifests: [],
    omitted: { dependencyFolders: 0, gitignored: 0, excluded: 0 },
  };
  const found = new Map<string, FileKind>();
  let entries = 0;

  const consider = (absolute: string) => {
    const relative = toPosix(path.relative(repoDir, absolute));
    const kind = dependencyFileKind(relative);
    if (kind) found.set(relative, kind);
  };

  const visit = async (dir: string, rules: GitignoreRules): Promise<void> => {
    options.signal?.throwIfAborted();
    const listing = await readdir(dir, { withFileTypes: true }).catch(() => [] as Dirent[]);
    const inner = await rules.enter(
      dir,
      listing.some((e) => e.isFile() && e.name === ".gitignore"),
    );
    for (const entry of listing) {
      if (++entries > MAX_ENTRIES) {
        discovery.truncated = true;
        return;
      }
      const absolute = path.join(dir, entry.name);
      const relative = toPosix(path.relative(repoDir, absolute));
      if (entry.isDirectory()) {
        if (SKIPPED_FOLDERS.has(entry.name)) discovery.omitted.dependencyFolders++;
        else if (excluded(relative)) discovery.omitted.excluded++;
        else if (inner.ignores(absolute, true)) discovery.omitted.gitignored++;
        else await visit(absolute, inner);
        continue;
      }
      if (!dependencyFileKind(relative)) continue;
      const info = entry.isSymbolicLink() ? await stat(absolute).catch(() => null) : entry;
      if (!info?.isFile()) continue;
      if (excluded(relative)) discovery.omitted.excluded++;
      else if (inner.ignores(absolute, false)) discovery.omitted.gitignored++;
      else consider(absolute);
    }
  };

  for (const scanPath of options.paths) {
    const root = path.resolve(repoDir, scanPath);
    const shown = toPosix(path.relative(repoDir, root)) || ".";
    const info = await stat(root).catch(() => null);
    discovery.roots.push({ path: shown, exists: info !== null });
    if (!info) continue;
    // A file the spec names is read whatever .gitignore says: the spec says it is part of the system.
    if (info.isFile()) consider(root);
    else if (info.isDirectory()) await visit(root, await GitignoreRules.forWalk(repoDir, root));
  }

  const byPath = new Map<string, LockfileRead>();
  const read = async (relative: string, format: LockfileFormat, includedBy?: string, depth = 0) => {
    if (byPath.has(relative)) return;
    const { includes, ...lockfile } = await readLockfile(repoDir, relative, format);
    if (includedBy) lockfile.includedBy = includedBy;
    byPath.set(relative, lockfile);
    for (const include of includes ?? []) {
      const target = path.resolve(repoDir, path.posix.dirname(relative), include);
      const targetRelative = toPosix(path.relative(repoDir, target));
      if (!isInside(repoDir, target) || depth >= MAX_INCLUDE_DEPTH) continue;
      if (!(await stat(target).catch(() => null))?.isFile()) continue;
      await read(targetRelative, "requirements", relative, depth + 1);
    }
  };
  const sorted = [...found.entries()].sort(([a], [b]) => a.localeCompare(b));
  for (const [relative, kind] of sorted) {
    options.signal?.throwIfAborted();
    if (kind.kind !== "lockfile") continue;
    // go.sum is read only where no go.mod says which versions the build selected.
    if (kind.format === "go-sum" && found.has(path.posix.join(path.posix.dirname(relative), "go.mod")))
      continue;
    await read(relative, kind.format);
  }
  discovery.lockfiles = [...byPath.values()].sort((a, b) => a.path.localeCompare(b.path));

  for (const [relative, kind] of sorted) {
    if (kind.kind !== "manifest") continue;
    const manifest = await readManifest(repoDir, relative, kind.ecosystem);
    const lock = nearestLockfile(relative, kind.ecosystem, discovery.lockfiles);
    if (lock) manifest.lockedBy = lock;
    discovery.manifests.push(manifest);
  }
  return discovery;
}

/** Reads one lockfile; a problem with it is its `error`, never a throw. `includes`: the files its -r / -c lines name. */
export async function readLockfile(
  repoDir: string,
  relative: string,
  format: LockfileFormat,
): Promise<LockfileRead & { includes?: string[] }> {
  const base = { path: relative, format, ecosystem: FORMAT_ECOSYSTEM[format], packages: [], unchecked: [] };
  const absolute = path.resolve(repoDir, relative);
  try {
    const info = await stat(absolute);
    if (info.size > MAX_LOCKFILE_BYTES) {
      return {
        ...base,
        error: {
          message: `${relative} is ${Math.round(info.size / 1048576)} MiB, more than the ${MAX_LOCKFILE_BYTES / 1048576} MiB a lockfile is read up to`,
        },
      };
    }
    const text = (await readFile(absolute, "utf8")).replace(/^\uFEFF/, "");
    const content = parseLockfile(text, relative, format);
    return {
      ...base,
      format: content.format,
      ...(content.variant ? { variant: content.variant } : {}),
      packages: distinct(content.packages),
      unchecked: content.unchecked,
      ...("includes" in content ? { includes: (content as RequirementsContent).includes } : {}),
    };
  } catch (error) {
    if (error instanceof TextError) {
      return { ...base, error: { message: error.message, ...(error.line ? { line: error.line } : {}) } };
    }
    const code = (error as NodeJS.ErrnoException).code;
    const message = code
      ? `${relative} cannot be read (${code})`
      : `${relative} cannot be read as ${format}: ${(error as Error).message}`;
    return { ...base, error: { message } };
  }
}

export function parseLockfile(text: string, file: string, format: LockfileFormat): LockfileContent {
  switch (format) {
    case "package-lock":
    case "npm-shrinkwrap":
      return readPackageLock(text, file, format === "npm-shrinkwrap");
    case "yarn-classic":
    case "yarn-berry":
      return readYarnLock(text);
    case "pnpm-lock":
      return readPnpmLock(text, file);
    case "requirements":
      return readRequirements(text);
    case "poetry-lock":
      return readPoetryLock(text, file);
    case "pipfile-lock":
      return readPipfileLock(text, file);
    case "go-mod":
      return readGoMod(text);
    case "go-sum":
      return readGoSum(text);
    case "cargo-lock":
      return readCargoLock(text, file);
  }
}

/** One entry per name and version: dev (or optional) only when every occurrence is. */
function distinct(packages: LockedPackage[]): LockedPackage[] {
  const byKey = new Map<string, LockedPackage>();
  for (const p of packages) {
    const key = `${p.name}@${p.version}`;
    const seen = byKey.get(key);
    if (!seen) {
      byKey.set(key, { ...p });
      continue;
    }
    if (!p.dev) delete seen.dev;
    if (!p.optional) delete seen.optional;
  }
  return [...byKey.values()];
}

async function readManifest(repoDir: string, relative: string, ecosystem: Ecosystem): Promise<ManifestSeen> {
  const seen: ManifestSeen = { path: relative, ecosystem, declaresDependencies: true };
  try {
    const text = await readFile(path.resolve(repoDir, relative), "utf8");
    seen.declaresDependencies = declaresDependencies(path.posix.basename(relative), text, relative);
  } catch (error) {
    seen.error = error instanceof TextError ? error.message : `${relative}: ${(error as Error).message}`;
  }
  return seen;
}

/** Whether the manifest names any dependency (a package.json of a tool's fixture often names none). */
function declaresDependencies(name: string, text: string, file: string): boolean {
  const nonEmpty = (value: unknown) =>
    Array.isArray(value)
      ? value.length > 0
      : typeof value === "object" && value !== null && Object.keys(value).length > 0;
  switch (name) {
    case "package.json": {
      const data = parseJson(text, file) as Record<string, unknown> | null;
      return ["dependencies", "devDependencies", "optionalDependencies"].some((k) => nonEmpty(data?.[k]));
    }
    case "pyproject.toml": {
      const data = parseTomlText(text, file);
      const project = (data.project ?? {}) as Record<string, unknown>;
      const poetry = ((data.tool as Record<string, unknown> | undefined)?.poetry ?? {}) as Record<
        string,
        unknown
      >;
      const poetryDeps = Object.keys((poetry.dependencies ?? {}) as object).filter((k) => k !== "python");
      return (
        nonEmpty(project.dependencies) ||
        nonEmpty(project["optional-dependencies"]) ||
        nonEmpty(data["dependency-groups"]) ||
        poetryDeps.length > 0 ||
        nonEmpty(poetry.group)
      );
    }
    case "Pipfile": {
      const data = parseTomlText(text, file);
      return nonEmpty(data.packages) || nonEmpty(data["dev-packages"]);
    }
    case "Cargo.toml": {
      const data = parseTomlText(text, file);
      const workspace = (data.workspace ?? {}) as Record<string, unknown>;
      return ["dependencies", "dev-dependencies", "build-dependencies"].some(
        (k) => nonEmpty(data[k]) || nonEmpty(workspace[k]),
      );
    }
    default:
      // setup.py and setup.cfg cannot be evaluated; install_requires says they declare dependencies.
      return /install_requires/.test(text);
  }
}

/**
 * Whether the walk would leave this file out (a dependency folder on its path, security.scan.exclude, .gitignore):
 * what an external scanner reports about such a file is not the project's, as the user said.
 */
export async function leftOutByWalk(
  repoDir: string,
  relative: string,
  exclude: readonly string[],
): Promise<boolean> {
  const segments = relative.split("/");
  if (segments.slice(0, -1).some((segment) => SKIPPED_FOLDERS.has(segment))) return true;
  const excluded = excludeMatcher(exclude);
  if (excluded(relative)) return true;
  let rules = await GitignoreRules.none.enter(repoDir);
  let dir = repoDir;
  for (const [index, segment] of segments.slice(0, -1).entries()) {
    dir = path.join(dir, segment);
    if (excluded(segments.slice(0, index + 1).join("/")) || rules.ignores(dir, true)) return true;
    rules = await rules.enter(dir);
  }
  return rules.ignores(path.join(repoDir, relative), false);
}

/** The lockfile of the ecosystem in the manifest's folder or the nearest folder above it. */
function nearestLockfile(
  manifest: string,
  ecosystem: Ecosystem,
  lockfiles: LockfileRead[],
): string | undefined {
  let dir = path.posix.dirname(manifest);
  while (true) {
    const here = lockfiles.find(
      (l) => l.ecosystem === ecosystem && !l.includedBy && path.posix.dirname(l.path) === dir,
    );
    if (here) return here.path;
    if (dir === "." || dir === "/" || dir === "") return undefined;
    dir = path.posix.dirname(dir);
  }
}
