// package-lock.json and npm-shrinkwrap.json. Version 2 and 3 list every installed folder under `packages`
// ("node_modules/a/node_modules/b"); version 1 nests `dependencies` inside each other. An alias (`"cjs": "npm:real@1"`)
// is reported under the real package's name; workspace folders and links are the project's own code, not packages.
import semver from "semver";
import { lineIndex, parseJson, TextError } from "../jsonText.js";
import type { LockedPackage, LockfileContent, UncheckedEntry } from "../packages.js";

interface V1Entry {
  version?: unknown;
  resolved?: unknown;
  dev?: unknown;
  optional?: unknown;
  dependencies?: unknown;
}

interface V2Entry {
  name?: unknown;
  version?: unknown;
  resolved?: unknown;
  link?: unknown;
  dev?: unknown;
  optional?: unknown;
}

export function readPackageLock(text: string, file: string, shrinkwrap: boolean): LockfileContent {
  const data = parseJson(text, file);
  if (!isObject(data))
    throw new TextError(`${file} is not a package-lock: its top level is not a JSON object`, 1);
  const lockfileVersion = typeof data.lockfileVersion === "number" ? data.lockfileVersion : 1;
  const format = shrinkwrap ? "npm-shrinkwrap" : "package-lock";
  const variant = `lockfileVersion ${lockfileVersion}`;
  const lineAt = lineIndex(text);
  if (isObject(data.packages)) return { format, variant, ...readPackages(text, data.packages, lineAt) };
  if (data.dependencies === undefined || isObject(data.dependencies)) {
    return { format, variant, ...readNested(text, data.dependencies ?? {}, lineAt) };
  }
  throw new TextError(`${file}: "dependencies" is not an object; regenerate the file with npm install`, 1);
}

function readPackages(
  text: string,
  packages: Record<string, unknown>,
  lineAt: (offset: number) => number,
): Pick<LockfileContent, "packages" | "unchecked"> {
  const found: LockedPackage[] = [];
  const unchecked: UncheckedEntry[] = [];
  const section = Math.max(0, text.indexOf('"packages"'));
  for (const [key, value] of Object.entries(packages)) {
    const at = key.lastIndexOf("node_modules/");
    // "" is the project itself; a key without node_modules/ is a workspace folder: the project's own code.
    if (at === -1 || !isObject(value)) continue;
    const entry = value as V2Entry;
    if (entry.link === true) continue;
    const offset = text.indexOf(`${JSON.stringify(key)}:`, section);
    const line = offset === -1 ? undefined : lineAt(offset);
    const name = typeof entry.name === "string" ? entry.name : key.slice(at + "node_modules/".length);
    const version = typeof entry.version === "string" ? entry.version : "";
    const resolved = typeof entry.resolved === "string" ? entry.resolved : "";
    const outcome = classify(name, version, resolved);
    if ("reason" in outcome) unchecked.push({ ...outcome, ...(line ? { line } : {}) });
    else found.push(locked(outcome.name, outcome.version, line, entry.dev === true, entry.optional === true));
  }
  return { packages: found, unchecked };
}

/** Version 1: a tree of `dependencies`, walked in file order with a cursor so each entry finds its own line. */
function readNested(
  text: string,
  root: Record<string, unknown>,
  lineAt: (offset: number) => number,
): Pick<LockfileContent, "packages" | "unchecked"> {
  const found: LockedPackage[] = [];
  const unchecked: UncheckedEntry[] = [];
  let cursor = Math.max(0, text.indexOf('"dependencies"'));
  const visit = (dependencies: Record<string, unknown>, depth: number) => {
    if (depth > 256) throw new TextError("the dependencies are nested more than 256 levels deep");
    for (const [key, value] of Object.entries(dependencies)) {
      if (!isObject(value)) continue;
      const entry = value as V1Entry;
      const offset = findKey(text, key, cursor);
      if (offset !== -1) cursor = offset + key.length;
      const line = offset === -1 ? undefined : lineAt(offset);
      const version = typeof entry.version === "string" ? entry.version : "";
      const resolved = typeof entry.resolved === "string" ? entry.resolved : "";
      const outcome = classify(key, version, resolved);
      if ("reason" in outcome) unchecked.push({ ...outcome, ...(line ? { line } : {}) });
      else
        found.push(locked(outcome.name, outcome.version, line, entry.dev === true, entry.optional === true));
      if (isObject(entry.dependencies)) visit(entry.dependencies, depth + 1);
    }
  };
  visit(root, 0);
  return { packages: found, unchecked };
}

/** The offset of `"key": {` at or after `from`, or -1. */
function findKey(text: string, key: string, from: number): number {
  const quoted = `${JSON.stringify(key)}:`;
  for (let at = text.indexOf(quoted, from); at !== -1; at = text.indexOf(quoted, at + 1)) {
    let next = at + quoted.length;
    while (" \t\r\n".includes(text[next] ?? "x")) next++;
    if (text[next] === "{") return at;
  }
  return -1;
}

/** A registry version (an alias resolved to its real name), or why the entry names none. */
function classify(
  name: string,
  version: string,
  resolved: string,
): { name: string; version: string } | Omit<UncheckedEntry, "line"> {
  const alias = /^npm:((?:@[^/@]+\/)?[^@]+)@(.+)$/.exec(version);
  if (alias) return classify(alias[1]!, alias[2]!, resolved);
  if (/^(?:git\+|git:|github:|gitlab:|bitbucket:|file:|link:)/.test(resolved)) {
    return { name, spec: resolved, reason: "not-from-registry" };
  }
  if (semver.valid(version)) return { name, version };
  // A git, tarball or folder dependency writes its source where a registry version would be.
  const fromRegistry = version !== "" && !/[:/#]/.test(version);
  return {
    name,
    spec: version || resolved || "(no version)",
    reason: fromRegistry ? "invalid-version" : "not-from-registry",
  };
}

function locked(
  name: string,
  version: string,
  line: number | undefined,
  dev: boolean,
  optional: boolean,
): LockedPackage {
  return {
    ecosystem: "npm",
    name,
    version,
    ...(line ? { line } : {}),
    ...(dev ? { dev } : {}),
    ...(optional ? { optional } : {}),
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
