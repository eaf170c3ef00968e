// yarn.lock, classic (v1: `version "1.2.3"`, `resolved "…/-/name-1.2.3.tgz"`) and berry (v2+, YAML with
// `__metadata`, `resolution: "name@npm:1.2.3"`). Both are read line by line: an entry starts at column 0 with its
// descriptors and ends at the next one. Workspaces are the project's own code; patches of npm packages are that
// package at that version.
import semver from "semver";
import type { LockedPackage, LockfileContent, UncheckedEntry } from "../packages.js";

interface Entry {
  descriptors: string[];
  line: number;
  fields: Map<string, string>;
}

export function readYarnLock(text: string): LockfileContent {
  const lines = text.split(/\r?\n/);
  const berry = lines.some((l) => l.startsWith("__metadata:"));
  const entries: Entry[] = [];
  let current: Entry | undefined;
  for (const [index, raw] of lines.entries()) {
    if (raw.trim() === "" || raw.trimStart().startsWith("#")) continue;
    if (!/^\s/.test(raw)) {
      current = undefined;
      if (!raw.endsWith(":")) continue;
      const descriptors = raw
        .slice(0, -1)
        .split(",")
        .map((d) => unquote(d.trim()))
        .filter((d) => d !== "");
      if (descriptors[0] === "__metadata") continue;
      current = { descriptors, line: index + 1, fields: new Map() };
      entries.push(current);
      continue;
    }
    // Fields sit two spaces in; deeper lines are dependency lists.
    const field = /^ {2}([A-Za-z]+):?\s+(.+)$/.exec(raw);
    if (current && field) current.fields.set(field[1]!, unquote(field[2]!.trim()));
  }
  const packages: LockedPackage[] = [];
  const unchecked: UncheckedEntry[] = [];
  for (const entry of entries) {
    const outcome = berry ? fromBerry(entry) : fromClassic(entry);
    if (outcome === "workspace") continue;
    if ("reason" in outcome) unchecked.push({ ...outcome, line: entry.line });
    else packages.push({ ecosystem: "npm", ...outcome, line: entry.line });
  }
  const metadata = /^\s+version:\s*(\S+)/m.exec(text.slice(Math.max(0, text.indexOf("__metadata:"))));
  return {
    format: berry ? "yarn-berry" : "yarn-classic",
    variant: berry ? `berry, lockfile version ${metadata?.[1] ?? "?"}` : "classic v1",
    packages,
    unchecked,
  };
}

type Outcome = { name: string; version: string } | Omit<UncheckedEntry, "line"> | "workspace";

function fromClassic(entry: Entry): Outcome {
  const first = splitDescriptor(entry.descriptors[0] ?? "");
  const version = entry.fields.get("version") ?? "";
  const resolved = entry.fields.get("resolved") ?? "";
  let { name } = first;
  if (first.range.startsWith("npm:")) name = splitDescriptor(first.range.slice(4)).name;
  const registryTarball = /\/-\/[^/]+\.tgz(?:#|$)/.test(resolved);
  const registryRange = resolved === "" && (first.range.startsWith("npm:") || semver.validRange(first.range));
  if (!registryTarball && !registryRange) {
    return { name, spec: resolved || first.range, reason: "not-from-registry" };
  }
  if (!semver.valid(version)) return { name, spec: version || "(no version)", reason: "invalid-version" };
  return { name, version };
}

function fromBerry(entry: Entry): Outcome {
  const resolution = entry.fields.get("resolution") ?? entry.descriptors[0] ?? "";
  return fromResolution(resolution, entry.fields.get("version") ?? "");
}

function fromResolution(resolution: string, version: string): Outcome {
  const { name, range } = splitDescriptor(resolution);
  if (range.startsWith("workspace:")) return "workspace";
  if (range.startsWith("patch:")) {
    // patch:resolve@npm%3A1.22.1#~builtin<compat/resolve>::version=1.22.1&hash=…
    const inner = decodeURIComponent(range.slice("patch:".length).split("#")[0] ?? "");
    return fromResolution(inner, version);
  }
  if (range.startsWith("npm:")) {
    const exact = range.slice(4);
    if (semver.valid(exact)) return { name, version: exact };
    return { name, spec: exact, reason: "invalid-version" };
  }
  return { name, spec: resolution, reason: "not-from-registry" };
}

/** `@scope/name@range` → name and range (the first `@` after the scope's). */
function splitDescriptor(descriptor: string): { name: string; range: string } {
  const at = descriptor.indexOf("@", 1);
  if (at === -1) return { name: descriptor, range: "" };
  return { name: descriptor.slice(0, at), range: descriptor.slice(at + 1) };
}

function unquote(text: string): string {
  return text.length >= 2 && text.startsWith('"') && text.endsWith('"') ? text.slice(1, -1) : text;
}
