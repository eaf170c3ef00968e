// Python's pins: requirements files (only an exact `==` / `===` pin is a version; anything else cannot be checked),
// poetry.lock (TOML) and Pipfile.lock (JSON). Names are normalised per PEP 503, as OSV's PyPI advisories are matched.
import { parse as parseToml } from "smol-toml";
import { lineIndex, parseJson, TextError } from "../jsonText.js";
import {
  type LockedPackage,
  type LockfileContent,
  normalizePypiName,
  type UncheckedEntry,
} from "../packages.js";

const NAME = /^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[[^\]]*\])?\s*(.*)$/;

export interface RequirementsContent extends LockfileContent {
  /** Files named by `-r` / `-c` lines, relative to this file's folder: read as requirements files too. */
  includes: string[];
}

export function readRequirements(text: string): RequirementsContent {
  const packages: LockedPackage[] = [];
  const unchecked: UncheckedEntry[] = [];
  const includes: string[] = [];
  for (const { line, content } of logicalLines(text)) {
    const include = /^(?:-r|--requirement|-c|--constraint)(?:\s+|=)(\S+)/.exec(content);
    if (include) {
      includes.push(include[1]!);
      continue;
    }
    const editable = /^(?:-e|--editable)(?:\s+|=)(\S+)/.exec(content);
    if (editable) {
      unchecked.push({ name: editable[1]!, spec: content, reason: "not-from-registry", line });
      continue;
    }
    if (content.startsWith("-")) continue; // --index-url, --hash on its own, -f …: options, not requirements
    // A URL, path or archive instead of a name: code from somewhere other than the index.
    if (/^(?:[a-z+]+:\/\/|\.{0,2}\/|[^\s;]+\.(?:whl|zip|tar\.gz)\b)/i.test(content)) {
      const egg = /#egg=([A-Za-z0-9._-]+)/.exec(content)?.[1];
      const name = egg ? normalizePypiName(egg) : content.split(/[\s;#]/)[0]!;
      unchecked.push({ name, spec: content, reason: "not-from-registry", line });
      continue;
    }
    const requirement = content.replace(/\s--\S+(?:[= ]\S+)?/g, "").trim();
    const match = NAME.exec(requirement);
    if (!match) continue;
    const name = normalizePypiName(match[1]!);
    const rest = match[2]!.split(";")[0]!.trim();
    if (rest.startsWith("@")) {
      unchecked.push({ name, spec: rest, reason: "not-from-registry", line });
      continue;
    }
    const exact = /^===?\s*([^\s,*]+)$/.exec(rest);
    if (exact) packages.push({ ecosystem: "PyPI", name, version: exact[1]!, line });
    else unchecked.push({ name, spec: rest || "(no version)", reason: "unpinned", line });
  }
  return { format: "requirements", packages, unchecked, includes };
}

/** Lines with `\` continuations joined and comments removed, each with the line it starts on. */
function logicalLines(text: string): { line: number; content: string }[] {
  const out: { line: number; content: string }[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let content = lines[i]!;
    while (content.endsWith("\\") && i + 1 < lines.length) content = content.slice(0, -1) + lines[++i]!;
    content = content.replace(/(?:^|\s)#.*$/, "").trim();
    if (content) out.push({ line: start + 1, content });
  }
  return out;
}

export function readPoetryLock(text: string, file: string): LockfileContent {
  const data = parseTomlText(text, file);
  const entries = Array.isArray(data.package) ? data.package : [];
  const headers = tableHeaderLines(text, "package");
  const packages: LockedPackage[] = [];
  const unchecked: UncheckedEntry[] = [];
  for (const [index, raw] of entries.entries()) {
    if (!isDict(raw) || typeof raw.name !== "string") continue;
    const name = normalizePypiName(raw.name);
    const line = headers[index];
    const source = isDict(raw.source) ? raw.source : undefined;
    const version = typeof raw.version === "string" ? raw.version : "";
    if (source && typeof source.type === "string" && source.type !== "legacy") {
      const where = typeof source.url === "string" ? source.url : source.type;
      unchecked.push({ name, spec: `${source.type}: ${where}`, reason: "not-from-registry", ...at(line) });
      continue;
    }
    // Poetry < 1.5 writes category = "dev"; 2.x writes the groups that need the package.
    const groups = Array.isArray(raw.groups) ? raw.groups : undefined;
    const dev = raw.category === "dev" || (groups !== undefined && !groups.includes("main"));
    packages.push({
      ecosystem: "PyPI",
      name,
      version,
      ...at(line),
      ...(dev ? { dev } : {}),
      ...(raw.optional === true ? { optional: true } : {}),
    });
  }
  const lockVersion = isDict(data.metadata) ? data.metadata["lock-version"] : undefined;
  return {
    format: "poetry-lock",
    ...(lockVersion ? { variant: `lock-version ${String(lockVersion)}` } : {}),
    packages,
    unchecked,
  };
}

export function readPipfileLock(text: string, file: string): LockfileContent {
  const data = parseJson(text, file);
  if (!isDict(data))
    throw new TextError(`${file} is not a Pipfile.lock: its top level is not a JSON object`, 1);
  const lineAt = lineIndex(text);
  const packages: LockedPackage[] = [];
  const unchecked: UncheckedEntry[] = [];
  for (const section of ["default", "develop"] as const) {
    const entries = data[section];
    if (!isDict(entries)) continue;
    const sectionAt = text.indexOf(`"${section}"`);
    for (const [rawName, value] of Object.entries(entries)) {
      if (!isDict(value)) continue;
      const name = normalizePypiName(rawName);
      const offset = text.indexOf(`${JSON.stringify(rawName)}:`, Math.max(0, sectionAt));
      const line = offset === -1 ? undefined : lineAt(offset);
      const source = ["git", "path", "file", "editable"].find((k) => k in value);
      if (source && !(source === "editable" && value.editable === false)) {
        const spec = typeof value[source] === "string" ? `${source}: ${String(value[source])}` : source;
        unchecked.push({ name, spec, reason: "not-from-registry", ...at(line) });
        continue;
      }
      const exact = typeof value.version === "string" ? /^===?\s*(\S+)$/.exec(value.version) : null;
      if (!exact) {
        unchecked.push({
          name,
          spec: String(value.version ?? "(no version)"),
          reason: "unpinned",
          ...at(line),
        });
        continue;
      }
      packages.push({
        ecosystem: "PyPI",
        name,
        version: exact[1]!,
        ...at(line),
        ...(section === "develop" ? { dev: true } : {}),
      });
    }
  }
  return { format: "pipfile-lock", packages, unchecked };
}

/** smol-toml's error, with the line it names. */
export function parseTomlText(text: string, file: string): Record<string, unknown> {
  try {
    return parseToml(text) as Record<string, unknown>;
  } catch (error) {
    const e = error as Error & { line?: number; column?: number };
    const line = typeof e.line === "number" ? e.line : undefined;
    const where = line ? ` at line ${line}${e.column ? `, column ${e.column}` : ""}` : "";
    throw new TextError(`${file} is not valid TOML${where}: ${e.message.split("\n")[0]}`, line, e.column);
  }
}

/** 1-based lines of each `[[name]]` header, in order: the n-th one starts the n-th entry of that array. */
export function tableHeaderLines(text: string, name: string): number[] {
  const lines: number[] = [];
  const header = new RegExp(`^\\s*\\[\\[\\s*${name.replace(/[.]/g, "\\.")}\\s*\\]\\]\\s*(?:#.*)?$`);
  for (const [index, line] of text.split(/\r?\n/).entries()) if (header.test(line)) lines.push(index + 1);
  return lines;
}

function at(line: number | undefined): { line?: number } {
  return line ? { line } : {};
}

function isDict(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
