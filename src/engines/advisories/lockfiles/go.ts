// go.mod and go.sum. Since Go 1.17 go.mod's `require` lists every module of the build at the version the build uses
// (minimal version selection), so it is read as the lockfile, with `replace` applied: a module replaced by another
// is that other module; one replaced by a folder is local code. go.sum alone (no go.mod beside it) lists hashes of
// every module version the build looked at: the highest version of each module with a content hash (`h1:` of the
// module, not only of its go.mod) is the one selected. Go's standard library (`stdlib`) is not a required module and
// is not checked.
import type { LockedPackage, LockfileContent, UncheckedEntry } from "../packages.js";
import { compareParsed, parseVersion } from "../versions.js";

interface Requirement {
  module: string;
  version: string;
  line: number;
}

interface Replacement {
  from: string;
  fromVersion?: string;
  to: string;
  toVersion?: string;
}

export function readGoMod(text: string): LockfileContent {
  const requirements: Requirement[] = [];
  const replacements: Replacement[] = [];
  let block: string | undefined;
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.replace(/\/\/.*$/, "").trim();
    if (!line) continue;
    if (block) {
      if (line === ")") {
        block = undefined;
        continue;
      }
      directive(block, line, index + 1);
      continue;
    }
    const opening = /^(require|replace|exclude|retract)\s*\($/.exec(line);
    if (opening) {
      block = opening[1];
      continue;
    }
    const single = /^(require|replace)\s+(.+)$/.exec(line);
    if (single) directive(single[1]!, single[2]!, index + 1);
  }

  function directive(kind: string, body: string, line: number): void {
    if (kind === "require") {
      const [module, version] = tokens(body);
      if (module && version) requirements.push({ module, version, line });
    } else if (kind === "replace") {
      const [left, right] = body.split("=>").map((side) => tokens(side));
      if (left?.[0] && right?.[0]) {
        replacements.push({
          from: left[0],
          ...(left[1] ? { fromVersion: left[1] } : {}),
          to: right[0],
          ...(right[1] ? { toVersion: right[1] } : {}),
        });
      }
    }
  }

  const packages: LockedPackage[] = [];
  const unchecked: UncheckedEntry[] = [];
  for (const r of requirements) {
    // A replacement for this exact version wins over one for every version of the module.
    const replacement =
      replacements.find((x) => x.from === r.module && x.fromVersion === r.version) ??
      replacements.find((x) => x.from === r.module && x.fromVersion === undefined);
    if (replacement && !replacement.toVersion) {
      unchecked.push({
        name: r.module,
        spec: `replaced by ${replacement.to}`,
        reason: "not-from-registry",
        line: r.line,
      });
      continue;
    }
    const module = replacement ? replacement.to : r.module;
    const version = replacement?.toVersion ?? r.version;
    if (!parseVersion("Go", version)) {
      unchecked.push({ name: module, spec: version, reason: "invalid-version", line: r.line });
      continue;
    }
    packages.push({ ecosystem: "Go", name: module, version, line: r.line });
  }
  return { format: "go-mod", packages, unchecked };
}

export function readGoSum(text: string): LockfileContent {
  const selected = new Map<string, LockedPackage>();
  const unchecked: UncheckedEntry[] = [];
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const [module, version, hash] = raw.trim().split(/\s+/);
    if (!module || !version || !hash || version.endsWith("/go.mod")) continue;
    const parsed = parseVersion("Go", version);
    if (!parsed) {
      unchecked.push({ name: module, spec: version, reason: "invalid-version", line: index + 1 });
      continue;
    }
    const previous = selected.get(module);
    const previousParsed = previous ? parseVersion("Go", previous.version) : null;
    if (!previousParsed || compareParsed(parsed, previousParsed) > 0) {
      selected.set(module, { ecosystem: "Go", name: module, version, line: index + 1 });
    }
  }
  return { format: "go-sum", packages: [...selected.values()], unchecked };
}

/** Whitespace-separated tokens, a Go string literal ("…" or `…`) being one token. */
function tokens(text: string): string[] {
  return [...text.matchAll(/"((?:[^"\\]|\\.)*)"|`([^`]*)`|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
}
