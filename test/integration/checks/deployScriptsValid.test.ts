// Real bash -n and real shellcheck on the fixture scripts, copied into a temporary spec folder so the executable bits
// are set here (git may not have kept them) without touching the checkout.
import { chmodSync, cpSync, mkdirSync, mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import check from "../../../src/checks/deployment/deployScriptsValid.js";
import type { FindingInput } from "../../../src/core/types.js";
import { which } from "../../../src/engines/shell/run.js";
import { makeCheckContext } from "../../support/checkContext.js";

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

const bash = await which("bash");
const shellcheck = await which("shellcheck");
let specDir: string;

beforeAll(() => {
  specDir = mkdtempSync(path.join(tmpdir(), "gauntlet-deploy-"));
  cpSync(fixtures, path.join(specDir, "scripts"), { recursive: true });
  for (const name of scripts.filter((s) => s !== "missing.sh"))
    chmodSync(path.join(specDir, "scripts", name), 0o755);
  chmodSync(path.join(specDir, "scripts", "not-executable.sh"), 0o644);
});

function spec() {
  return { deployment: { scripts: scripts.map((s) => `scripts/${s}`) } };
}

const of = (findings: FindingInput[], file: string) =>
  findings.filter((f) => f.subject === `scripts/${file}`);
const part = (findings: FindingInput[], file: string, name: string) =>
  of(findings, file).filter((f) => f.data?.part === name);

it("has bash and shellcheck to test with (apt-get install shellcheck)", () => {
  expect(bash).not.toBeNull();
  expect(shellcheck).not.toBeNull();
});

describe.skipIf(!bash || !shellcheck)("deployScriptsValid with bash and shellcheck", () => {
  let findings: FindingInput[];
  let readEvidence: (relative: string) => string;

  beforeAll(async () => {
    const context = makeCheckContext(spec(), { specDir, env: { PATH: process.env.PATH } });
    readEvidence = context.readEvidence;
    findings = await check.run(context.ctx);
  });

  it("passes a clean script on every part", () => {
    const ok = of(findings, "ok.sh");
    expect(ok.map((f) => [f.data?.part, f.status])).toEqual([
      ["syntax", "PASS"],
      ["lint", "PASS"],
    ]);
    const lint = part(findings, "ok.sh", "lint")[0]!;
    expect(lint.measurements?.find((m) => m.name === "shellcheck.error")?.value).toBe(0);
  });

  it("fails a syntax error at the line bash names", () => {
    const [syntax] = part(findings, "syntax-error.sh", "syntax");
    expect(syntax).toMatchObject({ status: "FAIL", location: { path: "scripts/syntax-error.sh", line: 10 } });
    expect(String(syntax!.data?.error)).toMatch(/syntax error/);
  });

  it("fails once per ShellCheck error with file, line, column and SC code; info notes are evidence only", () => {
    const lint = part(findings, "lint-error.sh", "lint");
    expect(lint.map((f) => [f.status, f.data?.code, f.location?.line, f.location?.column])).toEqual([
      ["FAIL", "SC2045", 7, 16],
      ["FAIL", "SC2078", 10, 6],
    ]);
    expect(lint.every((f) => f.location?.path === "scripts/lint-error.sh")).toBe(true);
    expect(part(findings, "lint-error.sh", "syntax")[0]!.status).toBe("PASS");
    const evidence = JSON.parse(readEvidence(lint[0]!.evidence![0]!));
    expect(evidence.shellcheck.version).toMatch(/^\d+\.\d+/);
    expect(evidence.shellcheck.comments.map((c: { code: number }) => c.code)).toContain(2086);
    expect(lint[0]!.measurements?.find((m) => m.name === "shellcheck.info")?.value).toBe(1);
  });

  it("warns for ShellCheck warnings", () => {
    const lint = part(findings, "lint-warning.sh", "lint");
    expect(lint.map((f) => [f.status, f.data?.code])).toEqual([
      ["WARN", "SC2034"],
      ["WARN", "SC2164"],
    ]);
  });

  it("fails a script without the executable bit but still checks its contents", () => {
    const findingsOf = of(findings, "not-executable.sh");
    expect(findingsOf.map((f) => [f.data?.part, f.status])).toEqual([
      ["file", "FAIL"],
      ["syntax", "PASS"],
      ["lint", "PASS"],
    ]);
  });

  it("fails a missing script with a single finding", () => {
    expect(of(findings, "missing.sh").map((f) => f.status)).toEqual(["FAIL"]);
  });

  it("does not judge a script in another language as shell", () => {
    const migrate = of(findings, "migrate.py");
    expect(migrate.map((f) => f.status)).toEqual(["UNVERIFIED"]);
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
    if (!bash) throw new Error("bash is needed for this test");
    const bin = mkdtempSync(path.join(tmpdir(), "gauntlet-path-"));
    mkdirSync(bin, { recursive: true });
    symlinkSync(bash, path.join(bin, "bash"));
    const { ctx, readEvidence } = makeCheckContext(
      { deployment: { scripts: ["scripts/ok.sh", "scripts/syntax-error.sh"] } },
      { specDir, env: { PATH: bin } },
    );
    const findings = await check.run(ctx);
    expect(findings.map((f) => [f.subject, f.data?.part, f.status])).toEqual([
      ["scripts/ok.sh", "syntax", "PASS"],
      ["scripts/ok.sh", "lint", "UNVERIFIED"],
      ["scripts/syntax-error.sh", "syntax", "FAIL"],
      ["scripts/syntax-error.sh", "lint", "UNVERIFIED"],
    ]);
    expect(findings[1]!.toVerify).toContain("shellcheck");
    expect(JSON.parse(readEvidence(findings[1]!.evidence![0]!)).shellcheck).toMatchObject({ checked: false });
  });
});
