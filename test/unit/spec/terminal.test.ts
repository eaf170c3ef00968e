// A spec's text never reaches the terminal raw: escape sequences could clear or retitle it, and bidi controls or
// zero-width characters could make a problem line read differently from what it says.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memoryIO } from "../../../src/cli/io.js";
import { renderSummary } from "../../../src/cli/summary.js";
import { terminalText } from "../../../src/cli/terminal.js";
import { validateCommand } from "../../../src/cli/validate.js";
import { printable } from "../../../src/spec/printable.js";
import { formatProblem } from "../../../src/spec/problems.js";
import { sampleAssessment } from "../../fixtures/assessment.js";

/** Anything a terminal would act on or hide: C0/C1 controls, DEL, bidi and zero-width characters, BOM. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/;
const HOSTILE = "a\u001b[2J\u001b]0;owned\u0007b\u009bc\u202egnp.exe\u2066\u200b\ufeffd\r\n\te\u007f";

describe("printable", () => {
  it("escapes controls, escape sequences, bidi and zero-width characters visibly", () => {
    expect(printable(HOSTILE)).toBe(
      "a\\u001b[2J\\u001b]0;owned\\u0007b\\u009bc\\u202egnp.exe\\u2066\\u200b\\ufeffd\\r\\n\\te\\u007f",
    );
  });

  it("leaves ordinary text, accents and emoji alone", () => {
    const text = 'services.api.url: "http://127.0.0.1" — écrit en français ✓ 🚀';
    expect(printable(text)).toBe(text);
    expect(terminalText(text)).toBe(text);
  });
});

describe("problem lines", () => {
  it("formatProblem escapes what the spec put in the message and the fix", () => {
    const line = formatProblem(
      { file: "/w/gauntlet.yaml", line: 3, column: 1, message: `unknown key "${HOSTILE}"`, fix: "x\u202ey" },
      "/w",
    );
    expect(line).not.toMatch(UNSAFE);
    expect(line).toMatch(/^gauntlet\.yaml:3:1: unknown key "a\\u001b\[2J/);
    expect(line).toContain("x\\u202ey");
  });

  describe("gauntlet validate", () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "gauntlet-terminal-"));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it("prints a hostile key escaped on stderr", async () => {
      const file = join(dir, "gauntlet.yaml");
      await writeFile(file, `version: 1\nsystem: { name: s }\n"evil\u001b[31m\u202ekey": 1\n`);
      const io = memoryIO();
      expect(await validateCommand(file, io, {}, [])).toBe(3);
      const text = io.stderr.join("\n");
      expect(text).toContain('unknown key "evil\\u001b[31m\\u202ekey"');
      for (const line of text.split("\n")) expect(line).not.toMatch(UNSAFE);
    });

    it("prints a path with controls escaped on stdout", async () => {
      const weird = join(dir, "sp\u202eec\u001b[2J.yaml");
      await writeFile(weird, "version: 1\nsystem: { name: s }\n");
      const io = memoryIO();
      expect(await validateCommand(weird, io, {}, [])).toBe(0);
      expect(io.stdout[0]).toContain("sp\\u202eec\\u001b[2J.yaml is valid");
      for (const line of io.stdout) expect(line).not.toMatch(UNSAFE);
    });
  });
});

describe("the assessment summary", () => {
  it("escapes conditions, waivers and paths that come from the spec", () => {
    const assessment = sampleAssessment();
    assessment.verdict.conditions.push(`fix \u001b]0;title\u0007 ${HOSTILE}`);
    const waiver = assessment.waivers.find((w) => w.state !== "unused")!;
    waiver.approvedBy = `mallory\u202e\u001b[8m`;
    waiver.subject = "api\u200b";
    const text = renderSummary(assessment, "out/\u001b[2J", ["report.md"]);
    for (const line of text.split("\n")) expect(line).not.toMatch(UNSAFE);
    expect(text).toContain("approved by mallory\\u202e\\u001b[8m");
    expect(text).toContain("Reports in out/\\u001b[2J: report.md");
  });
});
