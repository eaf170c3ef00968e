// Cobertura XML (coverage.py, Istanbul/nyc, gcovr, cobertura itself, and the converters of most other tools). The
// root's lines-valid/lines-covered and branches-valid/branches-covered are the totals when written; otherwise the
// totals are counted from the <line> elements of each <class> (not those under <method>, which repeat them). A file
// split over several <class> elements (inner classes) is counted once per line.
import {
  type Counts,
  type CoverageReport,
  CoverageSyntaxError,
  type FileCoverage,
  totalsOf,
} from "./model.js";
import { XmlSyntaxError, xmlTags } from "./xmlTags.js";

interface FileLines {
  hits: Map<number, number>;
  branches: Map<number, Counts>;
}

export function parseCobertura(text: string): CoverageReport {
  let root: Record<string, string> | null = null;
  const files = new Map<string, FileLines>();
  let currentFile: FileLines | null = null;
  try {
    for (const tag of xmlTags(text)) {
      if (!root) {
        if (tag.name !== "coverage") {
          throw new CoverageSyntaxError(
            `the root element is <${tag.name}>, not <coverage>`,
            "cobertura",
            tag.line,
          );
        }
        root = tag.attributes;
        continue;
      }
      if (tag.name === "class" && tag.kind !== "close") {
        const name = tag.attributes.filename ?? tag.attributes.name ?? "";
        currentFile = files.get(name) ?? { hits: new Map(), branches: new Map() };
        files.set(name, currentFile);
        continue;
      }
      if (tag.name === "class" && tag.kind === "close") {
        currentFile = null;
        continue;
      }
      if (tag.name !== "line" || tag.kind === "close" || !currentFile) continue;
      // Only <class><lines><line>: the <line>s under <methods><method><lines> are the same lines again.
      if (tag.ancestors.at(-1) !== "lines" || tag.ancestors.at(-2) !== "class") continue;
      const number = Number(tag.attributes.number);
      const hits = Number(tag.attributes.hits);
      if (!Number.isInteger(number) || !Number.isFinite(hits)) {
        throw new CoverageSyntaxError(
          `<line> needs a numeric number and hits (number="${tag.attributes.number ?? ""}" hits="${tag.attributes.hits ?? ""}")`,
          "cobertura",
          tag.line,
        );
      }
      currentFile.hits.set(number, Math.max(currentFile.hits.get(number) ?? 0, hits));
      const condition = /\((\d+)\/(\d+)\)/.exec(tag.attributes["condition-coverage"] ?? "");
      if (tag.attributes.branch === "true" && condition) {
        const branch = { covered: Number(condition[1]), valid: Number(condition[2]) };
        const seen = currentFile.branches.get(number);
        if (!seen || branch.covered > seen.covered) currentFile.branches.set(number, branch);
      }
    }
  } catch (error) {
    if (error instanceof XmlSyntaxError)
      throw new CoverageSyntaxError(error.message, "cobertura", error.line);
    throw error;
  }
  if (!root) throw new CoverageSyntaxError("no <coverage> element: not a Cobertura report", "cobertura");

  const fileList: FileCoverage[] = [...files].map(([file, f]) => {
    let covered = 0;
    for (const hits of f.hits.values()) if (hits > 0) covered++;
    const entry: FileCoverage = { file, lines: { valid: f.hits.size, covered } };
    if (f.branches.size > 0) {
      let valid = 0;
      let branchesCovered = 0;
      for (const b of f.branches.values()) {
        valid += b.valid;
        branchesCovered += b.covered;
      }
      entry.branches = { valid, covered: branchesCovered };
    }
    return entry;
  });
  const counted = totalsOf(fileList);
  const notes: string[] = [];
  const lines = countsFrom(root, "lines") ?? counted.lines ?? { valid: 0, covered: 0 };
  if (!countsFrom(root, "lines") && fileList.length === 0 && root["line-rate"] !== undefined) {
    notes.push(
      `line-rate="${root["line-rate"]}" is written without lines-valid or any <line>: nothing to count`,
    );
  }
  const branches = countsFrom(root, "branches") ?? counted.branches;
  const timestamp = timestampOf(root.timestamp);
  return {
    format: "cobertura",
    primary: "lines",
    lines,
    ...(branches ? { branches } : {}),
    files: fileList,
    ...(timestamp !== undefined ? { timestamp } : {}),
    notes,
  };
}

function countsFrom(root: Record<string, string>, what: "lines" | "branches"): Counts | undefined {
  const valid = Number(root[`${what}-valid`]);
  const covered = Number(root[`${what}-covered`]);
  if (root[`${what}-valid`] === undefined || !Number.isFinite(valid) || !Number.isFinite(covered))
    return undefined;
  return { valid, covered: Math.min(covered, valid) };
}

/** Cobertura's timestamp is epoch milliseconds (Java, coverage.py, nyc); some converters write seconds. */
export function timestampOf(value: string | undefined): number | undefined {
  const n = Number(value);
  if (value === undefined || value === "" || !Number.isFinite(n) || n <= 0) return undefined;
  return n < 1e11 ? n * 1000 : n;
}
