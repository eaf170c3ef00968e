// pnpm-lock.yaml in its three shapes: lockfile 5.x keys packages as `/name/1.2.3_peer@2`, 6.x as
// `/name@1.2.3(peer@2)`, 9.x as `name@1.2.3` with the dependency graph moved to `snapshots`. Versions 5 and 6 mark
// dev-only packages (`dev: true`); 9 does not, so a package is dev-only when only `devDependencies` of the importers
// reach it through the snapshots.
import semver from "semver";
import { isMap, isScalar, LineCounter, parseDocument } from "yaml";
import { TextError } from "../jsonText.js";
import type { LockedPackage, LockfileContent, UncheckedEntry } from "../packages.js";

type Dict = Record<string, unknown>;

export function readPnpmLock(text: string, file: string): LockfileContent {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: false, prettyErrors: false });
  const error = doc.errors[0];
  if (error) {
    const line = lineCounter.linePos(error.pos[0]).line;
    throw new TextError(`${file} is not valid YAML at line ${line}: ${error.message.split("\n")[0]}`, line);
  }
  const data = doc.toJS({ maxAliasCount: 100 }) as unknown;
  if (!isDict(data)) throw new TextError(`${file} is not a pnpm lockfile: its top level is not a mapping`, 1);
  const version = String(data.lockfileVersion ?? "");
  const major = Number.parseInt(version, 10);
  if (!Number.isFinite(major)) {
    throw new TextError(`${file} has no lockfileVersion: regenerate it with pnpm install`, 1);
  }
  const keyLines = new Map<string, number>();
  const packagesNode = doc.get("packages", true);
  if (isMap(packagesNode)) {
    for (const pair of packagesNode.items) {
      if (isScalar(pair.key) && pair.key.range) {
        keyLines.set(String(pair.key.value), lineCounter.linePos(pair.key.range[0]).line);
      }
    }
  }
  const packages = isDict(data.packages) ? data.packages : {};
  const devOnly = major >= 9 ? devOnlyFromGraph(data) : null;
  // Lockfile 9 marks optional packages in their snapshots, 5 and 6 in the package entry.
  const optionalSnapshots = new Set(
    major >= 9 && isDict(data.snapshots)
      ? Object.entries(data.snapshots).flatMap(([k, v]) =>
          isDict(v) && v.optional === true ? [k.replace(/\(.*$/, "")] : [],
        )
      : [],
  );
  const found: LockedPackage[] = [];
  const unchecked: UncheckedEntry[] = [];
  for (const [key, value] of Object.entries(packages)) {
    const entry = isDict(value) ? value : {};
    const line = keyLines.get(key);
    const parsed = parseKey(key, major);
    // Tarball, git and folder packages name themselves in the entry; their "version" is where they come from.
    const name = typeof entry.name === "string" ? entry.name : parsed.name;
    const spec = parsed.version;
    const resolution = isDict(entry.resolution) ? entry.resolution : {};
    const fromElsewhere = "repo" in resolution || "directory" in resolution || "tarball" in resolution;
    if (!semver.valid(spec) || (fromElsewhere && !isRegistryTarball(resolution.tarball))) {
      unchecked.push({
        name,
        spec: describeSource(resolution) ?? spec,
        reason: "not-from-registry",
        ...at(line),
      });
      continue;
    }
    const dev = devOnly ? devOnly(key) : entry.dev === true;
    found.push({
      ecosystem: "npm",
      name,
      version: spec,
      ...at(line),
      ...(dev ? { dev } : {}),
      ...(entry.optional === true || optionalSnapshots.has(key) ? { optional: true } : {}),
    });
  }
  return { format: "pnpm-lock", variant: `lockfileVersion ${version}`, packages: found, unchecked };
}

/** `/@scope/name/1.2.3_peer@1` (5.x), `/@scope/name@1.2.3(peer@1)` (6.x), `@scope/name@1.2.3` (9.x). */
function parseKey(key: string, major: number): { name: string; version: string } {
  const bare = key.replace(/^\//, "").replace(/\(.*$/, "");
  if (major < 6) {
    const slash = bare.lastIndexOf("/");
    const version = bare.slice(slash + 1).replace(/_.*$/, "");
    return { name: bare.slice(0, slash), version };
  }
  const at = bare.indexOf("@", 1);
  if (at === -1) return { name: bare, version: "" };
  return { name: bare.slice(0, at), version: bare.slice(at + 1) };
}

/**
 * Lockfile 9: which package keys only devDependencies reach. Roots are each importer's dependencies and
 * optionalDependencies (production) and devDependencies; edges are the snapshots' dependencies.
 */
function devOnlyFromGraph(data: Dict): ((packageKey: string) => boolean) | null {
  const importers = isDict(data.importers) ? data.importers : null;
  const snapshots = isDict(data.snapshots) ? data.snapshots : null;
  if (!importers || !snapshots) return null;
  const edges = (snapshotKey: string): string[] => {
    const snapshot = snapshots[snapshotKey];
    if (!isDict(snapshot)) return [];
    return [snapshot.dependencies, snapshot.optionalDependencies].flatMap((deps) =>
      isDict(deps) ? Object.entries(deps).flatMap(([name, v]) => snapshotKeyOf(name, v)) : [],
    );
  };
  const reach = (roots: string[]): Set<string> => {
    const seen = new Set<string>();
    const queue = [...roots];
    while (queue.length > 0) {
      const next = queue.pop()!;
      if (seen.has(next)) continue;
      seen.add(next);
      queue.push(...edges(next));
    }
    return seen;
  };
  const roots = (field: string) =>
    Object.values(importers).flatMap((importer) => {
      const deps = isDict(importer) ? importer[field] : undefined;
      return isDict(deps)
        ? Object.entries(deps).flatMap(([name, v]) => snapshotKeyOf(name, isDict(v) ? v.version : v))
        : [];
    });
  const strip = (keys: Set<string>) => new Set([...keys].map((k) => k.replace(/\(.*$/, "")));
  const production = strip(reach([...roots("dependencies"), ...roots("optionalDependencies")]));
  const development = strip(reach(roots("devDependencies")));
  return (packageKey) => development.has(packageKey) && !production.has(packageKey);
}

/** The snapshot key a dependency points at: `name@version(peers)`, or the alias's own `real@version`. */
function snapshotKeyOf(name: string, version: unknown): string[] {
  if (typeof version !== "string" || version.startsWith("link:")) return [];
  const bare = version.replace(/\(.*$/, "");
  return bare.indexOf("@", 1) > 0 ? [version] : [`${name}@${version}`];
}

function isRegistryTarball(tarball: unknown): boolean {
  return typeof tarball === "string" && /\/-\/[^/]+\.tgz$/.test(tarball);
}

function describeSource(resolution: Dict): string | undefined {
  for (const key of ["repo", "directory", "tarball"]) {
    if (typeof resolution[key] === "string") return String(resolution[key]);
  }
  return undefined;
}

function at(line: number | undefined): { line?: number } {
  return line ? { line } : {};
}

function isDict(value: unknown): value is Dict {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
