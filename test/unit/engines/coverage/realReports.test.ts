// Each parser reads reports written by the real tools (test/fixtures/coverage/README.md says which and how) and must
// agree with the figures the tool itself printed for the same run — not with numbers written into this test.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseCobertura } from "../../../../src/engines/coverage/cobertura.js";
import { parseGoCoverProfile } from "../../../../src/engines/coverage/goCoverProfile.js";
import { parseIstanbulFinal, parseIstanbulSummary } from "../../../../src/engines/coverage/istanbul.js";
import { parseJacoco } from "../../../../src/engines/coverage/jacoco.js";
import { parseLcov } from "../../../../src/engines/coverage/lcov.js";
import { type Counts, percentOf } from "../../../../src/engines/coverage/model.js";

const FIXTURES = path.resolve(import.meta.dirname, "../../../fixtures/coverage");
const read = (file: string) => readFileSync(path.join(FIXTURES, file), "utf8");
const pct1 = (c: Counts | undefined) => Math.round((c!.covered / c!.valid) * 1000) / 10;

/** nyc's text-summary: `Lines        : 58.33% ( 7/12 )` → { covered, valid }. */
function nycSummary(): Record<string, Counts> {
  const out: Record<string, Counts> = {};
  for (const m of read("nyc/text-summary.txt").matchAll(/^(\w+)\s*:\s*[\d.]+%\s*\(\s*(\d+)\/(\d+)\s*\)/gm)) {
    out[m[1]!.toLowerCase()] = { covered: Number(m[2]), valid: Number(m[3]) };
  }
  return out;
}

describe("lcov", () => {
  it("reads Node's own lcov as Node's coverage table reports it, file by file", () => {
    const report = parseLcov(read("node-test/lcov.info"));
    const table = [
      ...read("node-test/summary.txt").matchAll(/^ℹ (all files|\S+)\s*\|\s*([\d.]+)\s*\|\s*([\d.]+)\s*\|/gm),
    ];
    expect(table.length).toBeGreaterThanOrEqual(3);
    for (const [, file, linePct, branchPct] of table) {
      const counts =
        file === "all files"
          ? { lines: report.lines, branches: report.branches }
          : report.files.find((f) => f.file === file);
      expect(counts, file).toBeDefined();
      expect(percentOf(counts!.lines)!.toFixed(1), `${file} lines`).toBe(Number(linePct).toFixed(1));
      expect(percentOf(counts!.branches)!.toFixed(1), `${file} branches`).toBe(Number(branchPct).toFixed(1));
    }
    expect(report.notes).toEqual([]);
  });

  it("reads nyc's lcov with nyc's own line and branch totals", () => {
    const report = parseLcov(read("nyc/lcov.info"));
    const nyc = nycSummary();
    expect(report.lines).toEqual(nyc.lines);
    expect(report.branches).toEqual(nyc.branches);
  });

  it("computes the same figures from DA/BRDA when a report has no LF/LH/BRF/BRH", () => {
    const full = parseLcov(read("node-test/lcov.info"));
    const stripped = read("node-test/lcov.info").replace(/^(LF|LH|BRF|BRH):.*\n/gm, "");
    expect(stripped).not.toMatch(/^LF:/m);
    const computed = parseLcov(stripped);
    expect(computed.lines).toEqual(full.lines);
    expect(computed.branches).toEqual(full.branches);
  });

  it("counts a file recorded twice (two test names) once, line by line", () => {
    const text = read("nyc/lcov.info");
    const twice = `${text}\n${text.replace(/^TN:.*$/m, "TN:second-run")}`;
    const report = parseLcov(twice);
    expect(report.files).toHaveLength(1);
    expect(report.lines).toEqual(nycSummary().lines);
  });
});

describe("Cobertura", () => {
  it("reads coverage.py's report with coverage.py's own statement and miss counts", () => {
    const report = parseCobertura(read("coveragepy/coverage.xml"));
    const total = /^TOTAL\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(read("coveragepy/report.txt"))!;
    const [stmts, miss] = [Number(total[1]), Number(total[2])];
    expect(report.lines).toEqual({ valid: stmts, covered: stmts - miss });
    expect(report.branches?.valid).toBe(Number(total[3]));
    expect(report.files.map((f) => f.file)).toEqual(["pricing.py"]);
    // coverage.py writes epoch milliseconds; the report was made when make-reports.sh ran, after 2024.
    expect(report.timestamp).toBeGreaterThan(Date.parse("2024-01-01"));
  });

  it("counts the same totals from the <line> elements when the root has no counts (old Cobertura)", () => {
    for (const file of ["coveragepy/coverage.xml", "nyc/cobertura-coverage.xml"]) {
      const full = parseCobertura(read(file));
      const stripped = read(file).replace(/\s(lines|branches)-(valid|covered)="\d+"/g, "");
      expect(stripped).not.toMatch(/lines-valid/);
      const counted = parseCobertura(stripped);
      expect(counted.lines, file).toEqual(full.lines);
      expect(counted.branches, file).toEqual(full.branches);
    }
  });

  it("reads nyc's Cobertura with nyc's own line totals, not counting <method> lines twice", () => {
    const report = parseCobertura(read("nyc/cobertura-coverage.xml"));
    expect(read("nyc/cobertura-coverage.xml")).toMatch(/<method /);
    expect(report.lines).toEqual(nycSummary().lines);
    expect(report.branches).toEqual(nycSummary().branches);
  });
});

describe("Istanbul", () => {
  it("computes lines, statements and branches from coverage-final.json as nyc reports them", () => {
    const report = parseIstanbulFinal(JSON.parse(read("nyc/coverage-final.json")));
    const nyc = nycSummary();
    expect(report.lines).toEqual(nyc.lines);
    expect(report.statements).toEqual(nyc.statements);
    expect(report.branches).toEqual(nyc.branches);
    expect(report.files.map((f) => path.basename(f.file))).toEqual(["pricing.js"]);
  });

  it("reads coverage-summary.json's totals and files", () => {
    const report = parseIstanbulSummary(JSON.parse(read("nyc/coverage-summary.json")));
    const nyc = nycSummary();
    expect(report.lines).toEqual(nyc.lines);
    expect(report.statements).toEqual(nyc.statements);
    expect(report.branches).toEqual(nyc.branches);
    expect(report.files).toHaveLength(1);
  });
});

describe("Go coverprofile", () => {
  it("merges the blocks a -coverpkg run repeats, to go tool cover's total", () => {
    const text = read("go/coverage.out");
    const report = parseGoCoverProfile(text);
    const total = Number(/^total:\s+\(statements\)\s+([\d.]+)%/m.exec(read("go/func.txt"))![1]);
    expect(pct1(report.statements)).toBe(total);
    expect(report.primary).toBe("statements");
    // The profile does repeat blocks: adding them up instead of merging gives another figure.
    const blocks = text.split("\n").filter((l) => /^\S+\.go:/.test(l));
    const distinct = new Set(blocks.map((l) => l.split(" ")[0]));
    expect(distinct.size).toBeLessThan(blocks.length);
    const summed = blocks.reduce(
      (acc, l) => {
        const [, n, c] = l.split(" ").map(Number);
        return { valid: acc.valid + n!, covered: acc.covered + (c! > 0 ? n! : 0) };
      },
      { valid: 0, covered: 0 },
    );
    expect(pct1(summed)).not.toBe(total);
    expect(report.files.map((f) => path.basename(f.file)).sort()).toEqual(["pricing.go", "shipping.go"]);
  });

  it("reads a set-mode profile to go tool cover's total", () => {
    const report = parseGoCoverProfile(read("go/coverage-set.out"));
    const total = Number(/^total:\s+\(statements\)\s+([\d.]+)%/m.exec(read("go/func-set.txt"))![1]);
    expect(pct1(report.statements)).toBe(total);
  });
});

describe("JaCoCo", () => {
  it("reads the report's LINE and BRANCH counters as JaCoCo's CSV report of the same run adds up", () => {
    const report = parseJacoco(read("jacoco/jacoco.xml"));
    const [header, ...rows] = read("jacoco/jacoco.csv").trim().split("\n");
    const columns = header!.split(",");
    const sum = (name: string) =>
      rows.reduce((n, row) => n + Number(row.split(",")[columns.indexOf(name)]), 0);
    expect(report.lines).toEqual({
      valid: sum("LINE_MISSED") + sum("LINE_COVERED"),
      covered: sum("LINE_COVERED"),
    });
    expect(report.branches).toEqual({
      valid: sum("BRANCH_MISSED") + sum("BRANCH_COVERED"),
      covered: sum("BRANCH_COVERED"),
    });
    expect(report.files.map((f) => f.file).sort()).toEqual(["shop/Main.java", "shop/Pricing.java"]);
    expect(report.timestamp).toBeGreaterThan(Date.parse("2024-01-01"));
  });
});
