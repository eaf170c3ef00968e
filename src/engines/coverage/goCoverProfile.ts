// Go coverage profiles (`go test -coverprofile`): a `mode:` line, then `file:startLine.startCol,endLine.endCol
// numStmt count` per block. A block listed more than once (each test binary of a -coverpkg run writes every block) is
// merged as `go tool cover` merges it — counts OR-ed in set mode, added otherwise — so the total is the one
// `go tool cover -func` prints: statements in blocks that ran, over all statements. Go counts statements, not lines.
import { type CoverageReport, CoverageSyntaxError, type FileCoverage, totalsOf } from "./model.js";

const BLOCK = /^(.+):(\d+)\.(\d+),(\d+)\.(\d+) (\d+) (\d+)$/;
const MODE = /^mode: (set|count|atomic)$/;

export function parseGoCoverProfile(text: string): CoverageReport {
  const lines = text.split(/\r?\n/);
  let index = lines.findIndex((l) => l.trim() !== "");
  const first = lines[index]?.trim() ?? "";
  const mode = MODE.exec(first)?.[1];
  if (!mode) {
    throw new CoverageSyntaxError(
      `the first line must be "mode: set|count|atomic", not ${JSON.stringify(first.slice(0, 60))}`,
      "go",
      index + 1,
    );
  }
  const notes: string[] = [];
  const blocks = new Map<string, { file: string; statements: number; count: number }>();
  for (index++; index < lines.length; index++) {
    const line = lines[index]!.trim();
    if (line === "") continue;
    if (line.startsWith("mode:")) {
      // Profiles joined with `cat` repeat the mode line; go tool cover refuses them, a merge tool would not.
      if (line !== first) {
        throw new CoverageSyntaxError(
          `a second mode line "${line}" differs from "${first}"`,
          "go",
          index + 1,
        );
      }
      if (!notes.some((n) => n.startsWith("repeated mode")))
        notes.push("repeated mode line (joined profiles)");
      continue;
    }
    const match = BLOCK.exec(line);
    if (!match) {
      throw new CoverageSyntaxError(
        `not a coverprofile block (file:line.col,line.col statements count): ${JSON.stringify(line.slice(0, 80))}`,
        "go",
        index + 1,
      );
    }
    const [, file, startLine, startCol, endLine, endCol, numStmt, countText] = match;
    const statements = Number(numStmt);
    const count = Number(countText);
    const key = `${file}:${startLine}.${startCol},${endLine}.${endCol}`;
    const seen = blocks.get(key);
    if (!seen) {
      blocks.set(key, { file: file!, statements, count });
      continue;
    }
    if (seen.statements !== statements) {
      throw new CoverageSyntaxError(
        `${key} is listed with ${seen.statements} and ${statements} statements (inconsistent NumStmt, as go tool cover says)`,
        "go",
        index + 1,
      );
    }
    seen.count = mode === "set" ? seen.count | count : seen.count + count;
  }
  const byFile = new Map<string, FileCoverage & { statements: { valid: number; covered: number } }>();
  for (const b of blocks.values()) {
    const entry = byFile.get(b.file) ?? { file: b.file, statements: { valid: 0, covered: 0 } };
    entry.statements.valid += b.statements;
    if (b.count > 0) entry.statements.covered += b.statements;
    byFile.set(b.file, entry);
  }
  const files = [...byFile.values()];
  return {
    format: "go",
    primary: "statements",
    statements: totalsOf(files).statements ?? { valid: 0, covered: 0 },
    files,
    notes,
  };
}
