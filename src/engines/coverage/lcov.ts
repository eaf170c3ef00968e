// lcov tracefiles (`lcov.info`): SF … end_of_record per source file. Like lcov itself, the per-line DA and per-branch
// BRDA records are the data and LF/LH, BRF/BRH only their summary, used when a record has no DA/BRDA lines; records
// of the same file (one per test name, TN) are merged line by line, so a file tested twice is not counted twice.
import {
  type Counts,
  type CoverageReport,
  CoverageSyntaxError,
  type FileCoverage,
  totalsOf,
} from "./model.js";

interface Record {
  lines: Map<number, number>;
  branches: Map<string, number>;
  lf?: number;
  lh?: number;
  brf?: number;
  brh?: number;
  records: number;
}

export function parseLcov(text: string): CoverageReport {
  const files = new Map<string, Record>();
  const notes: string[] = [];
  let current: Record | null = null;
  let currentName = "";
  let sawBranchData = false;
  const lines = text.split(/\r?\n/);
  const integer = (value: string | undefined, lineNo: number, what: string): number => {
    const n = Number(value);
    if (value === undefined || value === "" || !Number.isInteger(n) || n < 0) {
      throw new CoverageSyntaxError(`${what} is not a count: ${JSON.stringify(value ?? "")}`, "lcov", lineNo);
    }
    return n;
  };

  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = lines[i]!.trim();
    if (line === "" || line.startsWith("#")) continue;
    if (line === "end_of_record") {
      if (!current)
        throw new CoverageSyntaxError("end_of_record without a record (no SF: before it)", "lcov", lineNo);
      current = null;
      continue;
    }
    const colon = line.indexOf(":");
    const key = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1);
    if (key === "SF") {
      if (current)
        notes.push(`the record of ${currentName} has no end_of_record; it ends where ${value} starts`);
      currentName = value;
      current = files.get(value) ?? { lines: new Map(), branches: new Map(), records: 0 };
      current.records++;
      files.set(value, current);
      continue;
    }
    if (key === "TN" || key === "VER") continue;
    if (!current) {
      if (["DA", "BRDA", "LF", "LH", "BRF", "BRH", "FN", "FNDA", "FNF", "FNH"].includes(key)) {
        throw new CoverageSyntaxError(`${key}: outside a record (no SF: line before it)`, "lcov", lineNo);
      }
      throw new CoverageSyntaxError(`not an lcov line: ${JSON.stringify(line.slice(0, 80))}`, "lcov", lineNo);
    }
    switch (key) {
      case "DA": {
        const [lineNumber, count] = value.split(",");
        const n = integer(lineNumber, lineNo, "DA line number");
        current.lines.set(n, (current.lines.get(n) ?? 0) + integer(count, lineNo, "DA hit count"));
        break;
      }
      case "BRDA": {
        // BRDA:<line>,[<exception>]<block>,<branch>,<taken>; taken is "-" when the line never ran. Newer lcov
        // writes the branch as an expression that may hold commas, so the count is after the last one.
        const last = value.lastIndexOf(",");
        const id = value.slice(0, last);
        const taken = value.slice(last + 1);
        if (last < 0 || id.split(",").length < 3) {
          throw new CoverageSyntaxError(
            `BRDA needs line,block,branch,taken: ${JSON.stringify(value)}`,
            "lcov",
            lineNo,
          );
        }
        const count = taken === "-" ? 0 : integer(taken, lineNo, "BRDA taken count");
        current.branches.set(id, (current.branches.get(id) ?? 0) + count);
        sawBranchData = true;
        break;
      }
      case "LF":
        current.lf = integer(value, lineNo, "LF");
        break;
      case "LH":
        current.lh = integer(value, lineNo, "LH");
        break;
      case "BRF":
        current.brf = integer(value, lineNo, "BRF");
        sawBranchData = true;
        break;
      case "BRH":
        current.brh = integer(value, lineNo, "BRH");
        break;
      default:
        // FN, FNDA, FNF, FNH, FNL, FNA and whatever a newer lcov adds: functions are not judged.
        if (!/^[A-Z]+$/.test(key)) {
          throw new CoverageSyntaxError(
            `not an lcov line: ${JSON.stringify(line.slice(0, 80))}`,
            "lcov",
            lineNo,
          );
        }
    }
  }
  if (current) notes.push(`the last record (${currentName}) has no end_of_record: the file may be cut off`);
  if (files.size === 0) throw new CoverageSyntaxError("no SF: record: not an lcov tracefile", "lcov");

  const fileList: FileCoverage[] = [...files].map(([file, r]) => {
    const entry: FileCoverage = { file };
    const lines = linesOf(r);
    if (lines) entry.lines = lines;
    const branches = branchesOf(r);
    if (branches && sawBranchData) entry.branches = branches;
    return entry;
  });
  const totals = totalsOf(fileList);
  return {
    format: "lcov",
    primary: "lines",
    lines: totals.lines ?? { valid: 0, covered: 0 },
    ...(sawBranchData && totals.branches ? { branches: totals.branches } : {}),
    files: fileList,
    notes,
  };
}

function linesOf(r: Record): Counts | undefined {
  if (r.lines.size > 0) {
    let covered = 0;
    for (const count of r.lines.values()) if (count > 0) covered++;
    return { valid: r.lines.size, covered };
  }
  if (r.lf === undefined) return { valid: 0, covered: 0 };
  return { valid: r.lf, covered: Math.min(r.lh ?? 0, r.lf) };
}

function branchesOf(r: Record): Counts | undefined {
  if (r.branches.size > 0) {
    let covered = 0;
    for (const count of r.branches.values()) if (count > 0) covered++;
    return { valid: r.branches.size, covered };
  }
  if (r.brf === undefined) return undefined;
  return { valid: r.brf, covered: Math.min(r.brh ?? 0, r.brf) };
}
