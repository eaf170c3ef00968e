// Flags and spec values that must be refused before a run starts, not minutes into it: a report format that only
// looks valid to `in` ("constructor"), and a performance threshold with a typo. And --no-store keeps nothing under
// .gauntlet/: no history row and no run folder.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { assess } from "../../../src/assess/assess.js";
import { assessCommand } from "../../../src/cli/assess.js";
import { memoryIO, UserError } from "../../../src/cli/io.js";
import { validateCommand } from "../../../src/cli/validate.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function workdir(spec: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-cli-"));
  dirs.push(dir);
  writeFileSync(path.join(dir, "gauntlet.yaml"), spec);
  return dir;
}

describe("assess refuses before running", () => {
  for (const format of ["constructor", "toString", "__proto__", "pdf"]) {
    it(`--format ${format} is a usage error naming the formats`, async () => {
      const dir = workdir("version: 1\nsystem: { name: x }\n");
      const error = await assessCommand(
        path.join(dir, "gauntlet.yaml"),
        { format: [format] },
        memoryIO(),
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UserError);
      expect((error as Error).message).toMatch(/unknown report format .* use md, json, junit, sarif/);
      expect(existsSync(path.join(dir, ".gauntlet"))).toBe(false); // nothing ran
    });
  }

  it("validate reports a threshold typo at its line and column", async () => {
    const dir = workdir(
      [
        "version: 1",
        "system: { name: x }",
        "services: { api: { url: 'http://127.0.0.1:1' } }",
        "performance:",
        "  target: api",
        '  thresholds: ["p(95)<300ms", "p95<300", "p(200)<1s"]',
        "",
      ].join("\n"),
    );
    const io = memoryIO();
    expect(await validateCommand(path.join(dir, "gauntlet.yaml"), io, {}, [])).toBe(3);
    const text = io.stderr.join("\n");
    expect(text).toMatch(/gauntlet\.yaml:6:31: .*threshold "p95<300" is not understood/);
    expect(text).toMatch(/gauntlet\.yaml:6:42: .*p\(200\) is not a percentile/);
  });
});

describe("assess --no-store", () => {
  it("writes the reports to --out (default gauntlet-out/) and nothing under .gauntlet/", async () => {
    const dir = workdir("version: 1\nsystem: { name: nostore }\n");
    const outcome = await assess({
      specPath: path.join(dir, "gauntlet.yaml"),
      cwd: dir,
      store: false,
      checks: [],
    });
    expect(outcome.outDir).toBe(path.join(dir, "gauntlet-out"));
    expect(readdirSync(outcome.outDir)).toEqual(
      expect.arrayContaining(["report.md", "report.json", "certificate.dsse.json", "evidence"]),
    );
    expect(existsSync(path.join(dir, ".gauntlet"))).toBe(false);
  });

  it("with history, the run folder is under .gauntlet/runs/ and --out is a copy", async () => {
    const dir = workdir("version: 1\nsystem: { name: withstore }\n");
    const outcome = await assess({
      specPath: path.join(dir, "gauntlet.yaml"),
      cwd: dir,
      outDir: "out",
      checks: [],
    });
    expect(outcome.runDir.startsWith(path.join(dir, ".gauntlet", "runs"))).toBe(true);
    expect(existsSync(path.join(dir, ".gauntlet", "history.db"))).toBe(true);
    expect(existsSync(path.join(dir, "out", "report.md"))).toBe(true);
  });
});
