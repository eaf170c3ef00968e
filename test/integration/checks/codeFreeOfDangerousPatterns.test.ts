// codeFreeOfDangerousPatterns for real: a temporary repository with JavaScript, TypeScript and Python code, the folders
// a scan must leave out, suppressions, test code, and bandit (installed by scripts/install-test-deps.sh; this test fails
// without it rather than skipping). Then Gauntlet's own src/, which must hold no high finding.
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import check from "../../../src/checks/security/codeFreeOfDangerousPatterns.js";
import { which } from "../../../src/engines/shell/run.js";
import { makeCheckContext } from "../../support/checkContext.js";

const ROOT = path.resolve(import.meta.dirname, "../../..");

function write(dir: string, file: string, text: string | Buffer): void {
  mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
  writeFileSync(path.join(dir, file), text);
}

function allEvidence(dir: string): string {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(path.join(e.parentPath, e.name), "utf8"))
    .join("\n");
}

/** A repository with one of everything the scan must find, leave out or not judge. */
function plantRepository(dir: string, password: string): void {
  write(dir, ".gitignore", "ignored/\n");
  write(
    dir,
    "src/server.js",
    [
      'const { exec } = require("node:child_process");',
      "const http = require('node:http');",
      "function archive(dir) {",
      `  exec(\`tar czf /tmp/backup.tgz \${dir}\`);`,
      "}",
      "http.createServer().listen(8080, '0.0.0.0');",
      "module.exports = { archive };",
      "",
    ].join("\n"),
  );
  write(
    dir,
    "src/db.ts",
    [
      'import type { Pool } from "pg";',
      "export async function find(pool: Pool, id: string): Promise<unknown> {",
      "  // gauntlet-ignore: code-eval-dynamic",
      "  eval(id);",
      "  const agent = { rejectUnauthorized: false }; // gauntlet-ignore: tls-verification-disabled probes the TLS setup itself, never trusts it",
      "  // gauntlet-ignore: sql-injection this id names no rule",
      '  return pool.query("SELECT * FROM users WHERE id = " + id, [agent]);',
      "}",
      "",
    ].join("\n"),
  );
  write(
    dir,
    "app/main.py",
    [
      "import subprocess",
      "import xml.etree.ElementTree as ET",
      "import yaml",
      "",
      "",
      `def login(user, password="${password}"):`,
      "    return user",
      "",
      "",
      "def run(cmd, stream, doc):",
      "    subprocess.run(cmd, shell=True)",
      "    config = yaml.load(stream)",
      "    tree = ET.parse(doc)",
      '    two = eval("1 + 1")',
      "    return config, tree, two",
      "",
    ].join("\n"),
  );
  write(dir, "bin/tool", "#!/usr/bin/env node\neval(process.argv[2]);\n");
  write(dir, "tests/test_app.py", "import pickle\n\n\ndef test_load(blob):\n    assert pickle.loads(blob)\n");
  write(dir, "src/server.test.js", "eval(process.env.SNIPPET);\n");
  write(dir, "node_modules/lib/index.js", "eval(x);\n");
  write(dir, "dist/bundle.js", "eval(x);\n");
  write(dir, "public/app.min.js", "eval(x);\n");
  write(dir, "src/compiled.js", "eval(x);\n//# sourceMappingURL=compiled.js.map\n");
  write(dir, "src/huge.js", `eval(x);\n${"// padding\n".repeat(120_000)}`);
  write(dir, "ignored/secret.js", "eval(x);\n");
  write(dir, "legacy/old.js", "eval(x);\n");
  write(dir, "types/index.d.ts", "export declare function f(): void;\n");
  write(dir, "cmd/main.go", "package main\n\nfunc main() {}\n");
}

describe("codeFreeOfDangerousPatterns", () => {
  it("finds each planted pattern at its file:line, leaves out what is not the system's code, and merges bandit", async () => {
    const bandit = await which("bandit");
    expect(
      bandit,
      "bandit is not installed: run scripts/install-test-deps.sh (Debian package bandit)",
    ).not.toBeNull();
    const password = `pw-${randomBytes(12).toString("hex")}`;
    const { ctx, evidenceDir, logs } = makeCheckContext(
      {
        services: {
          api: {
            url: "http://127.0.0.1:1",
            exposure: "internal",
            control: { process: { command: "node src/server.js" } },
          },
          db: { kind: "postgres", url: "postgres://127.0.0.1:5432/app", exposure: "internal" },
        },
        security: { scan: { paths: ["."], exclude: ["legacy/"] } },
      },
      { env: { PATH: process.env.PATH } },
    );
    plantRepository(ctx.specDir, password);

    const observation = await check.observe(ctx);
    const findings = check.judge(observation, ctx.spec);
    const rows = findings.map((f) => [f.subject, f.status, f.messageId, f.location?.line ?? null]);
    expect(rows).toEqual([
      ["app/main.py", "FAIL", "shell-command-dynamic", 11],
      ["app/main.py", "WARN", "yaml-unsafe-load", 12],
      ["bin/tool", "FAIL", "code-eval-dynamic", 2],
      ["src/db.ts", "FAIL", "sql-built-from-strings", 7],
      ["src/server.js", "FAIL", "shell-command-dynamic", 4],
      ["src/server.js", "WARN", "bind-all-interfaces", 6],
      ["app/main.py", "WARN", "banditFinding", 13],
      ["src/db.ts", "WARN", "suppressionWithoutReason", 3],
      ["src/db.ts", "WARN", "suppressionUnknownRule", 6],
    ]);
    const byRule = (id: string) => findings.find((f) => f.messageId === id)!;
    expect(byRule("sql-built-from-strings").location).toEqual({ path: "src/db.ts", line: 7, column: 10 });
    const server = findings.find(
      (f) => f.subject === "src/server.js" && f.messageId === "shell-command-dynamic",
    );
    expect(server!.data).toMatchObject({ cwe: "CWE-78", what: "exec", severity: "high" });
    expect(byRule("bind-all-interfaces").message).toContain("api is exposure: internal");
    // bandit's B602 and B506 at the same lines are merged into the pack's findings, not reported twice.
    expect(
      findings.find((f) => f.subject === "app/main.py" && f.messageId === "shell-command-dynamic")!.data,
    ).toMatchObject({ bandit: ["B602"] });
    expect(byRule("yaml-unsafe-load").data).toMatchObject({ bandit: ["B506"] });
    expect(byRule("banditFinding").data).toMatchObject({
      rule: "B314",
      severity: "MEDIUM",
      confidence: "HIGH",
    });

    expect(observation.languages).toEqual({
      javascript: { files: 3, lines: 10, testFiles: 1 },
      typescript: { files: 1, lines: 8, testFiles: 0 },
      python: { files: 2, lines: 20, testFiles: 1 },
    });
    expect(observation.skipped).toEqual({
      buildOutput: 1,
      declarations: 1,
      dependencies: 1,
      excluded: 1,
      generated: 1,
      gitignore: 1,
      minified: 1,
      tooLarge: 1,
    });
    expect(observation.unsupported).toEqual({ go: 1 });
    // Test code is scanned but not judged; the suppressed match is counted.
    expect(observation.matches.filter((m) => m.test).map((m) => [m.path, m.rule])).toEqual([
      ["src/server.test.js", "code-eval-dynamic"],
      ["tests/test_app.py", "pickle-deserialization"],
    ]);
    expect(observation.matches.filter((m) => m.suppressed).map((m) => [m.path, m.line, m.rule])).toEqual([
      ["src/db.ts", 4, "code-eval-dynamic"],
      ["src/db.ts", 5, "tls-verification-disabled"],
    ]);
    expect(observation.bandit).toMatchObject({ status: "ran", files: 1 });
    expect(observation.bandit.version).toMatch(/^\d+\.\d+/);
    // The eval of a literal: bandit's B307 is covered by the pack's rule, which judged it safe.
    expect(observation.bandit.results.map((r) => r.testId)).toContain("B307");
    expect(findings.some((f) => f.data?.rule === "B307")).toBe(false);

    // No source text and no secret anywhere: bandit's quoted password is masked and registered.
    const output = [
      JSON.stringify(observation),
      JSON.stringify(findings),
      allEvidence(evidenceDir),
      logs.join("\n"),
    ];
    for (const text of output) {
      expect(text).not.toContain(password);
      expect(text).not.toContain("tar czf");
    }
    expect(observation.bandit.results.find((r) => r.testId === "B107")?.text).toContain("'…");
    expect(ctx.secrets.redact(`x ${password} y`)).not.toContain(password);
    expect(observation.evidence).toHaveLength(2);
  });

  it("says bandit was not run when it is not installed, and judges by the pack alone", async () => {
    const { ctx } = makeCheckContext({}, { env: { PATH: "/nonexistent" } });
    write(ctx.specDir, "app.py", "import json\n\n\ndef load(blob):\n    return json.loads(blob)\n");
    write(ctx.specDir, "web/index.ts", "export const answer: number = 42;\n");
    const observation = await check.observe(ctx);
    const findings = check.judge(observation, ctx.spec);
    expect(findings.map((f) => [f.subject, f.status, f.messageId])).toEqual([
      [".", "PASS", "noDangerousPatterns"],
    ]);
    expect(observation.bandit.status).toBe("notInstalled");
    expect(findings[0]!.message).toContain("bandit was not run: bandit is not installed");
    expect(findings[0]!.message).toContain("1 TypeScript file(s), 1 lines");
    expect(findings[0]!.measurements?.find((m) => m.name === "filesScanned")?.value).toBe(2);
  });

  it("is UNVERIFIED for sources the pack cannot read, N/A without code, UNVERIFIED for a missing path", async () => {
    const go = makeCheckContext({});
    write(go.ctx.specDir, "main.go", "package main\n");
    write(go.ctx.specDir, "Dockerfile", "FROM scratch\n");
    const goFindings = check.judge(await check.observe(go.ctx), go.ctx.spec);
    expect(goFindings.map((f) => [f.status, f.messageId])).toEqual([
      ["UNVERIFIED", "unsupportedLanguagesOnly"],
    ]);
    expect(goFindings[0]!.toVerify).toContain("go");

    const empty = makeCheckContext({});
    write(empty.ctx.specDir, "README.md", "# docs only\n");
    const emptyFindings = check.judge(await check.observe(empty.ctx), empty.ctx.spec);
    expect(emptyFindings.map((f) => [f.status, f.messageId])).toEqual([["NA", "noSourceCode"]]);

    const missing = makeCheckContext({ security: { scan: { paths: ["srcs"] } } });
    const missingFindings = check.judge(await check.observe(missing.ctx), missing.ctx.spec);
    expect(missingFindings.map((f) => [f.subject, f.status, f.messageId])).toEqual([
      ["srcs", "UNVERIFIED", "scanPathMissing"],
    ]);
  });

  it("finds no high-severity pattern in Gauntlet's own src/, in a few seconds", async () => {
    const { ctx } = makeCheckContext(
      { system: { name: "gauntlet", repo: ROOT }, security: { scan: { paths: ["src"] } } },
      { env: { PATH: process.env.PATH } },
    );
    const started = Date.now();
    const observation = await check.observe(ctx);
    const elapsed = Date.now() - started;
    const findings = check.judge(observation, ctx.spec);
    const problems = findings.filter((f) => f.status !== "PASS").map((f) => f.message);
    console.log(`Gauntlet src/: ${observation.languages.typescript?.files} files in ${elapsed} ms`, problems);
    expect(observation.languages.typescript?.files ?? 0).toBeGreaterThan(150);
    expect(findings.filter((f) => f.status === "FAIL").map((f) => f.message)).toEqual([]);
    expect(elapsed).toBeLessThan(15_000);
  });
});
