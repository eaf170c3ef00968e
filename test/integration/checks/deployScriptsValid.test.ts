// Real bash -n and real shellcheck on the fixture scripts, copied into a temporary spec folder so the executable bits
// are set here (git may not have kept them) without touching the checkout. Without bash or shellcheck the tests fail
// and say how to install them: a lint that never ran would prove nothing.
import { chmodSync, cpSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import check from "../../../src/checks/deployment/deployScriptsValid.js";
import type { FindingInput } from "../../../src/core/types.js";
import { makeCheckContext } from "../../support/checkContext.js";
import { requireTool } from "../../support/services.js";

const fixtures = path.resolve(import.meta.dirname, "../../fixtures/scripts");
const scripts = [
  "ok.sh",
  "syntax-error.sh",
  "lint-error.sh",
  "lint-warning.sh",
  "not-executable.sh",
  "migrate.py",
  "missing.sh",
];

const temporary: string[] = [];
let specDir: string;

beforeAll(() => {
  specDir = mkdtempSync(path.join(tmpdir(), "gauntlet-deploy-"));
  temporary.push(specDir);
  cpSync(fixtures, path.join(specDir, "scripts"), { recursive: true });
  for (const name of scripts.filter((s) => s !== "missing.sh"))
    chmodSync(path.join(specDir, "scripts", name), 0o755);
  chmodSync(path.join(specDir, "scripts", "not-executable.sh"), 0o644);
});

afterAll(() => {
  for (const dir of temporary.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function spec() {
  return { deployment: { scripts: scripts.map((s) => `scripts/${s}`) } };
}

const of = (findings: FindingInput[], file: string) =>
  findings.filter((f) => f.subject === `scripts/${file}`);
const part = (findings: FindingInput[], file: string, name: string) =>
  of(findings, file).filter((f) => f.data?.part === name);
const verdicts = (findings: FindingInput[]) => findings.map((f) => [f.data?.part, f.status, f.messageId]);

describe("deployScriptsValid with bash and shellcheck", () => {
  let findings: FindingInput[];
  let readEvidence: (relative: string) => string;

  beforeAll(async () => {
    requireTool("bash");
    requireTool("shellcheck");
    const context = makeCheckContext(spec(), { specDir, env: { PATH: process.env.PATH } });
    readEvidence = context.readEvidence;
    findings = await check.run(context.ctx);
  });

  it("passes a clean script on every part", () => {
    expect(verdicts(of(findings, "ok.sh"))).toEqual([
      ["syntax", "PASS", "parses"],
      ["lint", "PASS", "lintClean"],
    ]);
    const lint = part(findings, "ok.sh", "lint")[0]!;
    expect(lint.measurements?.find((m) => m.name === "shellcheck.error")?.value).toBe(0);
  });

  it("fails a syntax error at the line bash names", () => {
    const [syntax] = part(findings, "syntax-error.sh", "syntax");
    expect(syntax).toMatchObject({
      status: "FAIL",
      messageId: "syntaxError",
      location: { path: "scripts/syntax-error.sh", line: 10 },
    });
    expect(String(syntax!.data?.error)).toMatch(/syntax error/);
  });

  it("fails once per ShellCheck error with file, line, column and SC code; info notes are evidence only", () => {
    const lint = part(findings, "lint-error.sh", "lint");
    expect(
      lint.map((f) => [f.status, f.messageId, f.data?.code, f.location?.line, f.location?.column]),
    ).toEqual([
      ["FAIL", "lintError", "SC2045", 7, 16],
      ["FAIL", "lintError", "SC2078", 10, 6],
    ]);
    expect(lint.every((f) => f.location?.path === "scripts/lint-error.sh")).toBe(true);
    expect(part(findings, "lint-error.sh", "syntax")[0]!.messageId).toBe("parses");
    const evidence = JSON.parse(readEvidence(lint[0]!.evidence![0]!));
    expect(evidence.shellcheck.version).toMatch(/^\d+\.\d+/);
    expect(evidence.shellcheck.comments.map((c: { code: number }) => c.code)).toContain(2086);
    expect(lint[0]!.measurements?.find((m) => m.name === "shellcheck.info")?.value).toBe(1);
  });

  it("warns for ShellCheck warnings", () => {
    const lint = part(findings, "lint-warning.sh", "lint");
    expect(lint.map((f) => [f.status, f.messageId, f.data?.code])).toEqual([
      ["WARN", "lintWarning", "SC2034"],
      ["WARN", "lintWarning", "SC2164"],
    ]);
  });

  it("fails a script without the executable bit but still checks its contents", () => {
    expect(verdicts(of(findings, "not-executable.sh"))).toEqual([
      ["file", "FAIL", "notExecutable"],
      ["syntax", "PASS", "parses"],
      ["lint", "PASS", "lintClean"],
    ]);
  });

  it("fails a missing script with a single finding", () => {
    expect(verdicts(of(findings, "missing.sh"))).toEqual([["file", "FAIL", "missing"]]);
  });

  it("does not judge a script in another language as shell", () => {
    const migrate = of(findings, "migrate.py");
    expect(verdicts(migrate)).toEqual([["file", "UNVERIFIED", "notShell"]]);
    expect(migrate[0]!.toVerify).toBeTruthy();
  });

  it("lists evidence and a subject on every finding", () => {
    for (const finding of findings) {
      expect(finding.subject).toBeTruthy();
      expect(finding.evidence?.length).toBeGreaterThan(0);
    }
  });
});

describe("deployScriptsValid without shellcheck on PATH", () => {
  it("reports the lint part UNVERIFIED, never PASS, and still runs bash -n", async () => {
    const bash = requireTool("bash");
    const bin = mkdtempSync(path.join(tmpdir(), "gauntlet-path-"));
    temporary.push(bin);
    symlinkSync(bash, path.join(bin, "bash"));
    const { ctx, readEvidence } = makeCheckContext(
      { deployment: { scripts: ["scripts/ok.sh", "scripts/syntax-error.sh"] } },
      { specDir, env: { PATH: bin } },
    );
    const findings = await check.run(ctx);
    expect(findings.map((f) => [f.subject, f.data?.part, f.status, f.messageId])).toEqual([
      ["scripts/ok.sh", "syntax", "PASS", "parses"],
      ["scripts/ok.sh", "lint", "UNVERIFIED", "shellcheckMissing"],
      ["scripts/syntax-error.sh", "syntax", "FAIL", "syntaxError"],
      ["scripts/syntax-error.sh", "lint", "UNVERIFIED", "shellcheckMissing"],
    ]);
    expect(findings[1]!.toVerify).toContain("shellcheck");
    expect(JSON.parse(readEvidence(findings[1]!.evidence![0]!)).shellcheck).toMatchObject({ found: false });
  });
});
