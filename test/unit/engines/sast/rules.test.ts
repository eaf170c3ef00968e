// The rule pack, rule by rule, from test/fixtures/sast/<rule id>/: positive.* and negative.* files in every language
// the rule has a matcher for. A `ruleid: <id>` comment marks the next line as one the rule must fire on (semgrep's
// convention); every other line must stay quiet, for every rule of the pack, so a negative file doubles as a check
// that no other rule fires on the safe variants either. Both scan paths (one text, and ast-grep's parallel file
// scan) must agree.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { familyOf, SAST_RULES } from "../../../../src/engines/sast/rules.js";
import { scanFiles, scanSource } from "../../../../src/engines/sast/scan.js";
import { languageOf } from "../../../../src/engines/sast/sourceFiles.js";

const ROOT = path.resolve(import.meta.dirname, "../../../fixtures/sast");

function expectedLines(source: string): string[] {
  const lines = source.split("\n");
  const out: string[] = [];
  lines.forEach((line, i) => {
    const match = /(?:\/\/|#)\s*ruleid:\s*([a-z0-9-]+)/.exec(line);
    if (match) out.push(`${i + 2} ${match[1]}`);
  });
  return out.sort();
}

function firedLines(matches: { line: number; rule: string; suppressed?: unknown }[]): string[] {
  return [...new Set(matches.filter((m) => !m.suppressed).map((m) => `${m.line} ${m.rule}`))].sort();
}

const folders = readdirSync(ROOT, { withFileTypes: true }).filter((e) => e.isDirectory());

describe("SAST rule pack", () => {
  it("has a fixture folder for every rule, and a rule for every folder", () => {
    expect(folders.map((f) => f.name).sort()).toEqual(SAST_RULES.map((r) => r.id).sort());
  });

  it("gives every rule an id, CWE, severity, title and fix", () => {
    for (const rule of SAST_RULES) {
      expect(rule.id, rule.id).toMatch(/^[a-z]+(-[a-z]+)+$/);
      expect(rule.cwe, rule.id).toMatch(/^CWE-\d+$/);
      expect(["high", "medium", "low"], rule.id).toContain(rule.severity);
      expect(rule.title.length, rule.id).toBeGreaterThan(10);
      expect(rule.fix.length, rule.id).toBeGreaterThan(10);
      for (const id of rule.bandit ?? []) expect(id, rule.id).toMatch(/^B\d{3}$/);
    }
  });

  for (const rule of SAST_RULES) {
    describe(rule.id, () => {
      const dir = path.join(ROOT, rule.id);
      const files = readdirSync(dir).sort();

      it("has a positive and a negative file for each language family it covers", () => {
        for (const family of Object.keys(rule.matchers)) {
          for (const kind of ["positive", "negative"]) {
            const found = files.filter((f) => f.startsWith(`${kind}.`)).map((f) => languageOf(f)!);
            expect(
              found.some((language) => familyOf(language) === family),
              `${rule.id}: ${kind} file for ${family}`,
            ).toBe(true);
          }
        }
      });

      for (const file of files) {
        it(`fires exactly on the marked lines of ${file}`, async () => {
          const language = languageOf(file);
          expect(language, `${file} has a language`).not.toBeNull();
          const absolute = path.join(dir, file);
          const source = readFileSync(absolute, "utf8");
          const expected = expectedLines(source);
          if (file.startsWith("positive.")) {
            expect(expected.length, `${file} marks at least one line`).toBeGreaterThan(0);
            expect(expected.every((e) => e.endsWith(` ${rule.id}`))).toBe(true);
          } else {
            expect(expected, `${file} is a negative file: it marks no line`).toEqual([]);
          }
          const one = scanSource(language!, source);
          expect(one.parseErrorCount, `${file} parses`).toBe(0);
          expect(firedLines(one.matches)).toEqual(expected);
          const many = await scanFiles([{ absolute, language: language!, source, utf8: true }]);
          expect(many.get(absolute)).toEqual(one);
        });
      }
    });
  }

  it("reports 1-based lines and columns in UTF-16 code units after non-ASCII text", () => {
    const scan = scanSource("javascript", 'const ü = "ééé"; eval(input);\n');
    expect(scan.matches).toMatchObject([{ rule: "code-eval-dynamic", line: 1, column: 18, what: "eval" }]);
  });

  it("names what it matched by code shape only, never by the data in it", () => {
    const token = `tok_${"q".repeat(24)}`;
    const scan = scanSource(
      "javascript",
      [
        `db.query("SELECT * FROM t WHERE key = '${token}' AND id = " + id);`,
        "tls.connect({ checkServerIdentity: () => undefined });",
        `require("child_process").exec("curl -H ${token} " + url);`,
        "",
      ].join("\n"),
    );
    expect(scan.matches.map((m) => [m.line, m.rule, m.what ?? null])).toEqual([
      [1, "sql-built-from-strings", "db.query"],
      [2, "tls-verification-disabled", "checkServerIdentity: () => undefined"],
      [3, "shell-command-dynamic", null],
    ]);
    expect(JSON.stringify(scan)).not.toContain(token);
  });

  it("scans a whole file set in one call, each file in its own language", async () => {
    const inputs = folders.flatMap((folder) =>
      readdirSync(path.join(ROOT, folder.name)).map((file) => {
        const absolute = path.join(ROOT, folder.name, file);
        return { absolute, language: languageOf(file)!, source: readFileSync(absolute, "utf8"), utf8: true };
      }),
    );
    const scans = await scanFiles(inputs);
    expect(scans.size).toBe(inputs.length);
    for (const input of inputs) {
      expect(firedLines(scans.get(input.absolute)!.matches), input.absolute).toEqual(
        expectedLines(input.source),
      );
    }
  });
});
