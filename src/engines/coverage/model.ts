// What every coverage format is read into: counts (never a rate alone, so totals add up), per file and in total.

export type CoverageFormat = "lcov" | "cobertura" | "jacoco" | "istanbul-summary" | "istanbul-final" | "go";

export const FORMAT_NAMES: Record<CoverageFormat, string> = {
  lcov: "lcov",
  cobertura: "Cobertura XML",
  jacoco: "JaCoCo XML",
  "istanbul-summary": "Istanbul coverage-summary.json",
  "istanbul-final": "Istanbul coverage-final.json",
  go: "Go coverprofile",
};

export interface Counts {
  valid: number;
  covered: number;
}

export interface FileCoverage {
  file: string;
  lines?: Counts;
  statements?: Counts;
  branches?: Counts;
}

export interface CoverageReport {
  format: CoverageFormat;
  /** The figure judged as line coverage: lines where the format counts them; a Go profile counts statements. */
  primary: "lines" | "statements";
  lines?: Counts;
  statements?: Counts;
  /** Absent when the report does not measure branches at all. */
  branches?: Counts;
  files: FileCoverage[];
  /** Epoch ms at which the report says it was made (Cobertura `timestamp`, JaCoCo session dump), if it says. */
  timestamp?: number;
  /** What the reader noticed and how it dealt with it (a record without end_of_record, a repeated mode line). */
  notes: string[];
}

/** A report in a known format that cannot be read as one: the producer's fault, with the line where it breaks. */
export class CoverageSyntaxError extends Error {
  constructor(
    message: string,
    readonly format: CoverageFormat,
    readonly line?: number,
  ) {
    super(message);
  }
}

export function addCounts(a: Counts | undefined, b: Counts | undefined): Counts | undefined {
  if (!a) return b && { ...b };
  if (!b) return a;
  return { valid: a.valid + b.valid, covered: a.covered + b.covered };
}

/** Percent with two decimals; null for nothing to cover. */
export function percentOf(counts: Counts | undefined): number | null {
  if (!counts || counts.valid <= 0) return null;
  return Math.floor((counts.covered / counts.valid) * 10_000) / 100;
}

/** Sums the files' counts into the report's totals. */
export function totalsOf(
  files: readonly FileCoverage[],
): Pick<CoverageReport, "lines" | "statements" | "branches"> {
  let lines: Counts | undefined;
  let statements: Counts | undefined;
  let branches: Counts | undefined;
  for (const f of files) {
    lines = addCounts(lines, f.lines);
    statements = addCounts(statements, f.statements);
    branches = addCounts(branches, f.branches);
  }
  return {
    ...(lines ? { lines } : {}),
    ...(statements ? { statements } : {}),
    ...(branches ? { branches } : {}),
  };
}
