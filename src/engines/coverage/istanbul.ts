// Istanbul's JSON reports (nyc, Jest, c8, Vitest): `coverage-summary.json` carries totals per file and a `total`
// entry; `coverage-final.json` carries the raw counters, from which lines, statements and branches are computed as
// istanbul-lib-coverage does (a line is covered when any statement starting on it ran).
import {
  type Counts,
  type CoverageReport,
  CoverageSyntaxError,
  type FileCoverage,
  totalsOf,
} from "./model.js";

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Is this parsed JSON an Istanbul summary (a `total` entry with line counts)? */
export function isIstanbulSummary(value: unknown): boolean {
  return isObject(value) && isObject(value.total) && isObject(value.total.lines);
}

/** Is this parsed JSON an Istanbul coverage map (entries with statementMap and s)? */
export function isIstanbulFinal(value: unknown): boolean {
  if (!isObject(value)) return false;
  const entries = Object.values(value);
  return entries.length > 0 && entries.every((e) => isObject(fileData(e)?.statementMap));
}

function fileData(entry: unknown): Json | undefined {
  if (!isObject(entry)) return undefined;
  // Old Istanbul wrapped each file's data in { data: … }.
  return isObject(entry.data) && !("statementMap" in entry) ? entry.data : entry;
}

export function parseIstanbulSummary(value: unknown): CoverageReport {
  if (!isIstanbulSummary(value)) {
    throw new CoverageSyntaxError("no total.lines entry: not an Istanbul summary", "istanbul-summary");
  }
  const summary = value as Json;
  const files: FileCoverage[] = [];
  for (const [file, entry] of Object.entries(summary)) {
    if (file === "total" || !isObject(entry)) continue;
    files.push(summaryEntry(file, entry));
  }
  const total = summaryEntry("total", summary.total as Json);
  return {
    format: "istanbul-summary",
    primary: "lines",
    lines: total.lines ?? { valid: 0, covered: 0 },
    ...(total.statements ? { statements: total.statements } : {}),
    ...(total.branches ? { branches: total.branches } : {}),
    files,
    notes: [],
  };
}

function summaryEntry(file: string, entry: Json): FileCoverage {
  const result: FileCoverage = { file };
  for (const key of ["lines", "statements", "branches"] as const) {
    const metric = entry[key];
    if (!isObject(metric)) continue;
    const valid = metric.total;
    const covered = metric.covered;
    if (typeof valid !== "number" || typeof covered !== "number" || valid < 0 || covered < 0) {
      throw new CoverageSyntaxError(
        `${file}.${key} needs numeric total and covered (got ${JSON.stringify({ total: valid, covered })})`,
        "istanbul-summary",
      );
    }
    result[key] = { valid, covered: Math.min(covered, valid) };
  }
  return result;
}

export function parseIstanbulFinal(value: unknown): CoverageReport {
  if (!isObject(value)) throw new CoverageSyntaxError("not a JSON object of files", "istanbul-final");
  const files: FileCoverage[] = [];
  for (const [key, entry] of Object.entries(value)) {
    const data = fileData(entry);
    if (!data || !isObject(data.statementMap) || !isObject(data.s)) {
      throw new CoverageSyntaxError(`${key} has no statementMap and s counters`, "istanbul-final");
    }
    files.push(finalEntry(typeof data.path === "string" ? data.path : key, data));
  }
  const totals = totalsOf(files);
  return {
    format: "istanbul-final",
    primary: "lines",
    lines: totals.lines ?? { valid: 0, covered: 0 },
    statements: totals.statements ?? { valid: 0, covered: 0 },
    branches: totals.branches ?? { valid: 0, covered: 0 },
    files,
    notes: [],
  };
}

function finalEntry(file: string, data: Json): FileCoverage {
  const statementMap = data.statementMap as Json;
  const s = data.s as Json;
  const lineHits = new Map<number, number>();
  const statements: Counts = { valid: 0, covered: 0 };
  for (const [id, count] of Object.entries(s)) {
    const location = statementMap[id];
    if (typeof count !== "number" || !isObject(location) || !isObject(location.start)) {
      throw new CoverageSyntaxError(`${file}: statement ${id} has no count or location`, "istanbul-final");
    }
    statements.valid++;
    if (count > 0) statements.covered++;
    const line = location.start.line;
    if (typeof line !== "number") continue;
    lineHits.set(line, Math.max(lineHits.get(line) ?? 0, count));
  }
  let linesCovered = 0;
  for (const hits of lineHits.values()) if (hits > 0) linesCovered++;
  const branches: Counts = { valid: 0, covered: 0 };
  for (const [id, counts] of Object.entries(isObject(data.b) ? data.b : {})) {
    if (!Array.isArray(counts) || counts.some((c) => typeof c !== "number")) {
      throw new CoverageSyntaxError(`${file}: branch ${id} is not a list of counts`, "istanbul-final");
    }
    branches.valid += counts.length;
    branches.covered += counts.filter((c: number) => c > 0).length;
  }
  return { file, lines: { valid: lineHits.size, covered: linesCovered }, statements, branches };
}
