// codeFreeOfDangerousPatterns without I/O: how suppression comments are read, and how the judge turns matches,
// bandit results and suppressions into findings (the file → service mapping of bind-all-interfaces, bandit merging,
// test code). The rules themselves: test/unit/engines/sast/rules.test.ts; the real scan: the integration test.
import { describe, expect, it } from "vitest";
import check, {
  type DangerousPatternsObservation,
  type ObservedMatch,
} from "../../../src/checks/security/codeFreeOfDangerousPatterns.js";
import { excludeMatcher } from "../../../src/engines/files/scanExclude.js";
import type { BanditResult } from "../../../src/engines/sast/bandit.js";
import { maskQuoted, parseBanditJson } from "../../../src/engines/sast/bandit.js";
import { scanSource } from "../../../src/engines/sast/scan.js";
import { builtFromText, isTestPath } from "../../../src/engines/sast/sourceFiles.js";
import { type SpecInput, specSchema } from "../../../src/spec/schema.js";

function spec(input: Omit<SpecInput, "version" | "system"> = {}) {
  return specSchema.parse({ version: 1, system: { name: "t" }, ...input });
}

function observation(extra: Partial<DangerousPatternsObservation> = {}): DangerousPatternsObservation {
  return {
    repo: ".",
    specDirInRepo: ".",
    roots: [{ path: ".", found: true }],
    languages: {
      javascript: { files: 3, lines: 120, testFiles: 1 },
      python: { files: 2, lines: 40, testFiles: 0 },
    },
    unsupported: {},
    skipped: {},
    parseErrors: { files: 0, first: [] },
    matches: [],
    suppressions: [],
    bandit: {
      status: "notInstalled",
      message: "bandit is not installed",
      files: 2,
      results: [],
      errors: [],
      durationMs: 0,
      exitCodes: [],
    },
    complete: true,
    durationMs: 12,
    evidence: ["codeFreeOfDangerousPatterns/sast-scan.json"],
    ...extra,
  };
}

function match(rule: string, file: string, line: number, extra: Partial<ObservedMatch> = {}): ObservedMatch {
  return { rule, path: file, line, column: 3, endLine: line, endColumn: 20, test: false, ...extra };
}

function bandit(
  testId: string,
  file: string,
  line: number,
  extra: Partial<BanditResult & { test: boolean }> = {},
): BanditResult & { test: boolean } {
  return {
    testId,
    testName: "t",
    path: file,
    line,
    lineRange: [line],
    severity: "MEDIUM",
    confidence: "HIGH",
    text: "text",
    test: false,
    ...extra,
  };
}

const rows = (findings: ReturnType<typeof check.judge>) =>
  findings.map((f) => [f.subject, f.status, f.messageId]);

describe("suppression comments", () => {
  it("covers the rule it names on its own line or the line below, with the reason", () => {
    const scan = scanSource(
      "typescript",
      [
        "eval(a); // gauntlet-ignore: code-eval-dynamic the input is our own template",
        "// gauntlet-ignore: code-eval-dynamic,tls-verification-disabled fixtures for the parser",
        "eval(b);",
        "eval(c); // gauntlet-ignore: sql-built-from-strings names another rule",
        "/* gauntlet-ignore: code-eval-dynamic */ eval(d);",
        "// see the docs for `gauntlet-ignore: code-eval-dynamic <reason>`",
        "eval(e);",
        "eval(f); // nosec",
        "",
      ].join("\n"),
    );
    expect(scan.matches.map((m) => [m.line, m.suppressed?.by ?? null, m.suppressed?.reason ?? null])).toEqual(
      [
        [1, "gauntlet-ignore", "the input is our own template"],
        [3, "gauntlet-ignore", "fixtures for the parser"],
        [4, null, null],
        [5, "gauntlet-ignore", null],
        [7, null, null],
        [8, null, null],
      ],
    );
    expect(scan.suppressions.map((s) => [s.line, s.rules, s.ownLine])).toEqual([
      [1, ["code-eval-dynamic"], false],
      [2, ["code-eval-dynamic", "tls-verification-disabled"], true],
      [4, ["sql-built-from-strings"], false],
      [5, ["code-eval-dynamic"], true],
    ]);
  });

  it("honours bandit's nosec in Python, bare or naming a test id the rule maps to, and a multi-line call", () => {
    const scan = scanSource(
      "python",
      [
        "import os",
        "os.system(cmd)  # nosec",
        "os.system(cmd)  # nosec B605",
        "os.system(cmd)  # nosec B101",
        "subprocess.run(",
        "    cmd,",
        "    shell=True,",
        ")  # gauntlet-ignore: B602 commands come from our own config file",
        "",
      ].join("\n"),
    );
    expect(scan.matches.map((m) => [m.line, m.suppressed?.by ?? null])).toEqual([
      [2, "nosec"],
      [3, "nosec"],
      [4, null],
      [5, "gauntlet-ignore"],
    ]);
  });
});

describe("judge", () => {
  it("passes a clean scan, naming what was scanned and what was not judged", () => {
    const findings = check.judge(
      observation({
        matches: [
          match("code-eval-dynamic", "test/helpers.js", 4, { test: true }),
          match("tls-verification-disabled", "src/probe.js", 9, {
            suppressed: { line: 9, by: "gauntlet-ignore", reason: "probes TLS itself" },
          }),
        ],
        unsupported: { go: 4 },
        parseErrors: { files: 1, first: [{ path: "src/odd.js", line: 3, column: 1 }] },
      }),
      spec(),
    );
    expect(rows(findings)).toEqual([[".", "PASS", "noDangerousPatterns"]]);
    const message = findings[0]!.message;
    expect(message).toContain("3 JavaScript file(s), 120 lines; 2 Python file(s), 40 lines");
    expect(message).toContain("1 suppressed, 1 in test code");
    expect(message).toContain("not covered by the pack: 4 go file(s)");
    expect(message).toContain("1 file(s) with syntax the parser had to recover from");
    expect(message).toContain("bandit was not run");
  });

  it("fails high, warns medium, at file:line:column with the rule, CWE and fix", () => {
    const findings = check.judge(
      observation({
        matches: [
          match("sql-built-from-strings", "src/db.js", 12, { what: "pool.query" }),
          match("pickle-deserialization", "app/cache.py", 3),
        ],
      }),
      spec(),
    );
    expect(rows(findings)).toEqual([
      ["src/db.js", "FAIL", "sql-built-from-strings"],
      ["app/cache.py", "WARN", "pickle-deserialization"],
    ]);
    expect(findings[0]).toMatchObject({
      location: { path: "src/db.js", line: 12, column: 3 },
      data: { rule: "sql-built-from-strings", cwe: "CWE-89", severity: "high", what: "pool.query" },
    });
    expect(findings[0]!.measurements?.map((m) => m.name)).toContain("filesScanned");
  });

  describe("bind-all-interfaces", () => {
    const services = {
      api: {
        url: "http://127.0.0.1:1",
        exposure: "public" as const,
        control: { process: { command: "node services/api.js" } },
      },
      inventory: {
        url: "http://127.0.0.1:2",
        exposure: "internal" as const,
        control: { process: { command: "node inventory.js", cwd: "services" } },
      },
      worker: {
        url: "http://127.0.0.1:3",
        exposure: "internal" as const,
        control: { process: { command: "python main.py", cwd: "worker" } },
      },
      db: { kind: "postgres" as const, url: "postgres://127.0.0.1:5432/x", exposure: "internal" as const },
    };
    const judge = (file: string, input: Parameters<typeof spec>[0] = { services }, specDirInRepo = ".") =>
      check.judge(
        observation({ specDirInRepo, matches: [match("bind-all-interfaces", file, 5)] }),
        spec(input),
      );

    it("warns where the command of an internal service runs the file", () => {
      const findings = judge("services/inventory.js");
      expect(rows(findings)).toEqual([["services/inventory.js", "WARN", "bind-all-interfaces"]]);
      expect(findings[0]!.message).toContain("inventory is exposure: internal");
    });

    it("places cwd and command from the spec's folder inside the repo", () => {
      const findings = judge("examples/shop/services/inventory.js", { services }, "examples/shop");
      expect(findings[0]!.message).toContain("inventory is exposure: internal");
    });

    it("warns for a file in an internal service's folder", () => {
      expect(rows(judge("worker/server.py"))).toEqual([["worker/server.py", "WARN", "bind-all-interfaces"]]);
    });

    it("does not judge the code of a public service: it must listen beyond loopback", () => {
      expect(rows(judge("services/api.js"))).toEqual([[".", "PASS", "noDangerousPatterns"]]);
    });

    it("warns for a file of no known service when the spec has internal ones, naming them", () => {
      const findings = judge("lib/server.js");
      expect(rows(findings)).toEqual([["lib/server.js", "WARN", "bind-all-interfaces"]]);
      expect(findings[0]!.message).toContain("internal services (inventory, worker)");
    });

    it("does not judge when only datastores are internal (their code is not in the repo)", () => {
      expect(rows(judge("lib/server.js", { services: { api: services.api, db: services.db } }))).toEqual([
        [".", "PASS", "noDangerousPatterns"],
      ]);
    });
  });

  describe("bandit", () => {
    it("merges a result of a covered test into the rule's finding at the same lines", () => {
      const findings = check.judge(
        observation({
          bandit: {
            ...observation().bandit,
            status: "ran",
            results: [
              bandit("B602", "app/run.py", 8, { severity: "HIGH", lineRange: [7, 8, 9] }),
              bandit("B307", "app/run.py", 20),
            ],
          },
          matches: [match("shell-command-dynamic", "app/run.py", 7, { endLine: 9 })],
        }),
        spec(),
      );
      expect(rows(findings)).toEqual([["app/run.py", "FAIL", "shell-command-dynamic"]]);
      expect(findings[0]!.data).toMatchObject({ bandit: ["B602"] });
    });

    it("reports tests the pack does not cover by bandit's severity and confidence", () => {
      const findings = check.judge(
        observation({
          bandit: {
            ...observation().bandit,
            status: "ran",
            results: [
              bandit("B701", "app/web.py", 3, { severity: "HIGH", confidence: "HIGH" }),
              bandit("B314", "app/xml.py", 4, { severity: "MEDIUM", confidence: "MEDIUM" }),
              bandit("B311", "app/rand.py", 5, { severity: "LOW", confidence: "HIGH" }),
              bandit("B108", "app/tmp.py", 6, { severity: "MEDIUM", confidence: "LOW" }),
              bandit("B701", "tests/test_web.py", 3, { severity: "HIGH", confidence: "HIGH", test: true }),
              bandit("B314", "app/feed.py", 9),
            ],
          },
          suppressions: [
            {
              path: "app/feed.py",
              line: 9,
              column: 30,
              by: "gauntlet-ignore",
              rules: ["B314"],
              reason: "feeds are defused first",
              ownLine: false,
              test: false,
            },
          ],
        }),
        spec(),
      );
      expect(rows(findings)).toEqual([
        ["app/web.py", "FAIL", "banditFinding"],
        ["app/xml.py", "WARN", "banditFinding"],
      ]);
      expect(findings[0]).toMatchObject({
        location: { path: "app/web.py", line: 3 },
        data: { rule: "B701" },
      });
    });

    it("masks quoted passwords and hands them to the redactor", () => {
      const seen: string[] = [];
      const value = `s3cret-${"x".repeat(12)}`;
      expect(maskQuoted(`Possible hardcoded password: '${value}'`, (v) => seen.push(v))).toBe(
        "Possible hardcoded password: '…xxxx'",
      );
      expect(maskQuoted("Possible hardcoded password: 'short'", (v) => seen.push(v))).toBe(
        "Possible hardcoded password: '…'",
      );
      expect(seen).toEqual([value, "short"]);
      const report = JSON.stringify({
        results: [
          {
            test_id: "B107",
            filename: "./a.py",
            line_number: 2,
            issue_severity: "LOW",
            issue_confidence: "MEDIUM",
            issue_text: `Possible hardcoded password: '${value}'`,
            code: `2 def f(password="${value}"):`,
          },
        ],
        errors: [{ filename: "b.py", reason: "syntax error while parsing AST from file" }],
        metrics: { _totals: { nosec: 3 } },
      });
      const parsed = parseBanditJson(report, () => {})!;
      expect(JSON.stringify(parsed)).not.toContain(value);
      expect(parsed).toMatchObject({
        nosec: 3,
        errors: [{ path: "b.py" }],
        results: [{ path: "a.py", line: 2 }],
      });
      expect(parseBanditJson("Traceback (most recent call last):", () => {})).toBeNull();
    });
  });

  it("warns about a suppression without a reason and one naming no rule, outside test code", () => {
    const suppression = { line: 2, column: 1, by: "gauntlet-ignore" as const, ownLine: true, test: false };
    const findings = check.judge(
      observation({
        suppressions: [
          { ...suppression, path: "src/a.js", rules: ["code-eval-dynamic"] },
          { ...suppression, path: "src/b.js", rules: ["no-eval"], reason: "eslint's name" },
          { ...suppression, path: "test/c.js", rules: ["no-eval"], test: true },
          { ...suppression, path: "src/d.py", by: "nosec", rules: [] },
        ],
      }),
      spec(),
    );
    expect(rows(findings)).toEqual([
      ["src/a.js", "WARN", "suppressionWithoutReason"],
      ["src/b.js", "WARN", "suppressionUnknownRule"],
    ]);
  });

  it("is UNVERIFIED when the scan stopped early, whatever it found", () => {
    const findings = check.judge(observation({ complete: false }), spec());
    expect(rows(findings)).toEqual([[".", "UNVERIFIED", "scanIncomplete"]]);
    expect(findings[0]!.toVerify).toContain("security.scan.exclude");
  });
});

describe("what is scanned", () => {
  it("tells test code by folder and name", () => {
    expect(
      [
        "test/a.ts",
        "src/__tests__/b.js",
        "src/c.test.ts",
        "web/d.spec.tsx",
        "app/test_e.py",
        "app/f_test.py",
        "conftest.py",
        "src/spec/schema.ts",
        "src/testing.ts",
        "latest/x.js",
      ].filter(isTestPath),
    ).toEqual([
      "test/a.ts",
      "src/__tests__/b.js",
      "src/c.test.ts",
      "web/d.spec.tsx",
      "app/test_e.py",
      "app/f_test.py",
      "conftest.py",
    ]);
  });

  it("reads security.scan.exclude as paths and repo-anchored globs, a folder's match covering what it holds", () => {
    const excluded = excludeMatcher([
      "legacy/",
      "./tools/gen.js",
      "src/**/fixtures/*",
      "*.generated.ts",
      "web/**",
    ]);
    expect(
      [
        "legacy/old.js",
        "legacy",
        "legacyCode/a.js",
        "tools/gen.js",
        "tools/gen.jsx",
        "src/a/b/fixtures/x/y.ts",
        "api.generated.ts",
        "src/api.generated.ts",
        "web/index.ts",
        "webapp/index.ts",
      ].filter(excluded),
    ).toEqual([
      "legacy/old.js",
      "legacy",
      "tools/gen.js",
      "src/a/b/fixtures/x/y.ts",
      "api.generated.ts",
      "web/index.ts",
    ]);
  });

  it("tells built files by their text: a source map reference or minified lines", () => {
    expect(builtFromText("export const a = 1;\n//# sourceMappingURL=a.js.map\n")).toBe("generated");
    expect(builtFromText(`var a=1;${"b();".repeat(2_000)}\n`)).toBe("minified");
    expect(builtFromText("const a = 1;\n".repeat(1_000))).toBeNull();
  });
});
