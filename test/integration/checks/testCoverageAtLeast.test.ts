// testCoverageAtLeast through its observe, on temporary git repositories (real git) whose reports are written by
// really running their tests under Node's test runner with coverage: a suite that exercises a sliver of the code
// fails, one that exercises most of it passes, a report older than the last commit is stale.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it, onTestFinished } from "vitest";
import check from "../../../src/checks/operations/testCoverageAtLeast.js";
import type { SpecInput } from "../../../src/spec/schema.js";
import { makeCheckContext } from "../../support/checkContext.js";

function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: "Gauntlet Test",
  GIT_AUTHOR_EMAIL: "test@gauntlet.invalid",
  GIT_COMMITTER_NAME: "Gauntlet Test",
  GIT_COMMITTER_EMAIL: "test@gauntlet.invalid",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
};

function git(dir: string, ...args: string[]): string {
  return execFileSync("git", ["-C", dir, ...args], { env: GIT_ENV, encoding: "utf8" });
}

function commitAll(dir: string, message: string): void {
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", message);
}

/**
 * A small Node project: `used` short functions its test calls, and `unused` longer ones (an invoice built line by
 * line) it never calls. Which share of the lines runs is decided by what the test calls, as in any real suite; Node
 * counts the head line of a function that never ran as covered, so the long ones keep that share small.
 */
function writeProject(dir: string, used: number, unused: number): void {
  const priced = (name: string) =>
    `export function ${name}(order) {\n  const total = order.quantity * order.unitCents;\n  if (total > 10_000) return total - 500;\n  return total;\n}\n`;
  const invoice = (name: string) =>
    `export function ${name}(order) {\n  const lines = [];\n${Array.from({ length: 30 }, (_, i) => `  lines.push(\`item ${i}: \${order.lines[${i}]?.sku ?? "-"}\`);\n`).join("")}  return lines.join("\\n");\n}\n`;
  const names = Array.from({ length: used }, (_, i) => `priced${i}`);
  const untested = Array.from({ length: unused }, (_, i) => `invoice${i}`);
  writeFileSync(path.join(dir, "package.json"), '{ "name": "shop", "type": "module" }\n');
  mkdirSync(path.join(dir, "src"), { recursive: true });
  writeFileSync(path.join(dir, "src/orders.mjs"), [...names.map(priced), ...untested.map(invoice)].join(""));
  const calls = names.map((n) => `  assert.equal(${n}({ quantity: 2, unitCents: 300 }), 600);`).join("\n");
  writeFileSync(
    path.join(dir, "src/orders.test.mjs"),
    `import assert from "node:assert/strict";\nimport { test } from "node:test";\nimport { ${names.join(", ")} } from "./orders.mjs";\n\ntest("prices", () => {\n${calls}\n});\n`,
  );
}

/** Runs the project's tests for real and writes coverage/lcov.info with Node's lcov reporter. */
function runTestsWithCoverage(dir: string): void {
  mkdirSync(path.join(dir, "coverage"), { recursive: true });
  execFileSync(
    process.execPath,
    [
      "--test",
      "--experimental-test-coverage",
      "--test-reporter=lcov",
      "--test-reporter-destination=coverage/lcov.info",
      "src/orders.test.mjs",
    ],
    { cwd: dir, stdio: "ignore" },
  );
}

function newRepo(used: number, unused: number): string {
  const dir = tempDir("gauntlet-coverage-repo-");
  git(dir, "init", "-q");
  writeFileSync(path.join(dir, ".gitignore"), "coverage/\n");
  writeProject(dir, used, unused);
  commitAll(dir, "shop");
  return dir;
}

async function assess(dir: string, operations: SpecInput["operations"]) {
  const { ctx, readEvidence } = makeCheckContext(
    { system: { name: "shop", repo: "." }, ...(operations ? { operations } : {}) },
    { specDir: dir },
  );
  const observation = await check.observe(ctx);
  const findings = check.judge(observation, ctx.spec);
  return {
    observation,
    findings,
    readEvidence,
    rows: findings.map((f) => [f.subject, f.status, f.messageId]),
  };
}

const percentOf = (f: { measurements?: { name: string; value: number }[] }) =>
  f.measurements?.find((m) => m.name === "line coverage")?.value;

describe("testCoverageAtLeast on real test runs", () => {
  it("a suite that exercises a sliver of the code (about 6 %) is a FAIL against 80 %", async () => {
    const dir = newRepo(1, 10);
    runTestsWithCoverage(dir);
    const { findings, rows, readEvidence } = await assess(dir, { coverage: "coverage/lcov.info" });
    expect(rows).toEqual([["coverage/lcov.info", "FAIL", "belowMinimum"]]);
    const percent = percentOf(findings[0]!)!;
    expect(percent).toBeGreaterThan(3);
    expect(percent).toBeLessThan(10);
    expect(findings[0]!.data).toMatchObject({ minimum: 80, format: "lcov", files: 2 });
    expect(findings[0]!.location).toEqual({ path: "coverage/lcov.info" });
    // The least-covered files are evidence, lowest first.
    const evidence = JSON.parse(readEvidence(findings[0]!.evidence![0]!));
    expect(evidence.report.lowest[0]).toMatchObject({ file: "src/orders.mjs" });
    expect(evidence.report.lowest[0].percent).toBeLessThan(percent);
  });

  it("a suite that exercises most of it (≥ 85 %) passes, and a fresh report is not stale", async () => {
    const dir = newRepo(36, 1);
    runTestsWithCoverage(dir);
    const { findings, rows, observation } = await assess(dir, {
      coverage: { report: "coverage/lcov.info", minimum: "80%" },
    });
    expect(rows).toEqual([["coverage/lcov.info", "PASS", "atLeastMinimum"]]);
    expect(percentOf(findings[0]!)).toBeGreaterThanOrEqual(85);
    expect(observation.git).toMatchObject({ state: "ok", report: { tracked: false } });
    expect(findings[0]!.data).toMatchObject({ reportTimeSource: "mtime", ageNotCompared: null });
  });

  it("the same report is stale once a later commit changes the code, and fresh again when regenerated", async () => {
    const dir = newRepo(36, 1);
    runTestsWithCoverage(dir);
    // Commit times are whole seconds: a report from an earlier second than the commit is older than it.
    await sleep(1100);
    writeFileSync(path.join(dir, "src/refunds.mjs"), "export const refund = (cents) => -cents;\n");
    commitAll(dir, "refunds");
    const stale = await assess(dir, { coverage: "coverage/lcov.info" });
    expect(stale.rows).toEqual([
      ["coverage/lcov.info", "PASS", "atLeastMinimum"],
      ["coverage/lcov.info", "WARN", "stale"],
    ]);
    const head = git(dir, "log", "-1", "--format=%H").trim();
    expect(stale.findings[1]!.data).toMatchObject({ commit: head, reportTimeSource: "mtime" });
    expect(stale.findings[1]!.message).toMatch(/made \d{4}-\d\d-\d\dT.*before the last commit .* at \d{4}-/);

    runTestsWithCoverage(dir);
    const fresh = await assess(dir, { coverage: "coverage/lcov.info" });
    expect(fresh.rows).toEqual([["coverage/lcov.info", "PASS", "atLeastMinimum"]]);
  });

  it("a committed report is as old as its commit, whatever mtime the checkout gave it", async () => {
    const dir = newRepo(36, 1);
    runTestsWithCoverage(dir);
    writeFileSync(path.join(dir, ".gitignore"), "");
    commitAll(dir, "commit the coverage report");
    await sleep(1100);
    writeFileSync(path.join(dir, "src/refunds.mjs"), "export const refund = (cents) => -cents;\n");
    commitAll(dir, "refunds");
    // As a fresh clone would: the file is touched now, later than every commit.
    const now = new Date();
    utimesSync(path.join(dir, "coverage/lcov.info"), now, now);
    const { rows, findings } = await assess(dir, { coverage: "coverage/lcov.info" });
    expect(rows).toEqual([
      ["coverage/lcov.info", "PASS", "atLeastMinimum"],
      ["coverage/lcov.info", "WARN", "stale"],
    ]);
    expect(findings[1]!.data).toMatchObject({ reportTimeSource: "commit" });
  });

  it("a branch minimum is judged on the report's branches", async () => {
    const dir = newRepo(36, 1);
    runTestsWithCoverage(dir);
    const { rows, findings } = await assess(dir, {
      coverage: { report: "coverage/lcov.info", minimum: "50%", branchMinimum: "95%" },
    });
    // Each priced function's `total > 10_000` branch is never taken by the test: branch coverage is well below 95 %.
    expect(rows).toEqual([
      ["coverage/lcov.info", "PASS", "atLeastMinimum"],
      ["coverage/lcov.info", "FAIL", "branchesBelowMinimum"],
    ]);
    expect(findings[1]!.measurements?.[0]?.value).toBeLessThan(95);
  });

  it("no coverage declared on a repository with code is a FAIL that names the report it found", async () => {
    const dir = newRepo(36, 1);
    runTestsWithCoverage(dir);
    const { rows, findings } = await assess(dir, undefined);
    expect(rows).toEqual([["operations.coverage", "FAIL", "notDeclared"]]);
    expect(findings[0]!.data).toMatchObject({
      manifests: ["package.json"],
      candidates: ["coverage/lcov.info"],
    });
    expect(findings[0]!.message).toMatch(/coverage\/lcov\.info exists: declare it/);
  });

  it("a declared report that no test run wrote is a FAIL with its path", async () => {
    const dir = newRepo(36, 1);
    const { rows, findings } = await assess(dir, { coverage: "coverage/lcov.info" });
    expect(rows).toEqual([["coverage/lcov.info", "FAIL", "reportMissing"]]);
    expect(findings[0]!.message).toMatch(/coverage\/lcov\.info, which does not exist/);
  });

  it("outside git the age is evidence only, never a verdict", async () => {
    const dir = tempDir("gauntlet-coverage-nogit-");
    writeProject(dir, 36, 1);
    runTestsWithCoverage(dir);
    const { rows, findings } = await assess(dir, { coverage: "coverage/lcov.info" });
    expect(rows).toEqual([["coverage/lcov.info", "PASS", "atLeastMinimum"]]);
    expect(findings[0]!.data).toMatchObject({
      ageNotCompared: "not a git repository",
      reportTimeSource: "mtime",
    });
    expect(findings[0]!.message).toMatch(/not compared with the code \(not a git repository\)/);
  });

  it("a service Gauntlet runs from code makes coverage due, even with no manifest", async () => {
    const dir = tempDir("gauntlet-coverage-process-");
    const { ctx } = makeCheckContext(
      {
        system: { name: "api", repo: "." },
        services: {
          api: { url: "http://127.0.0.1:1", control: { process: { command: "node server.mjs" } } },
        },
      },
      { specDir: dir },
    );
    const findings = check.judge(await check.observe(ctx), ctx.spec);
    expect(findings.map((f) => [f.subject, f.status, f.messageId])).toEqual([
      ["operations.coverage", "FAIL", "notDeclared"],
    ]);
    expect(findings[0]!.data).toMatchObject({ services: ["api"], manifests: [] });
  });

  it("a system with no code of its own is N/A: remote URLs, and a datastore Gauntlet only starts", async () => {
    const dir = tempDir("gauntlet-coverage-nocode-");
    const { ctx } = makeCheckContext(
      {
        system: { name: "remote", repo: "." },
        services: {
          api: { url: "https://api.example.com" },
          cache: {
            kind: "redis",
            url: "redis://127.0.0.1:1",
            control: { process: { command: "redis-server --port 1" } },
          },
        },
      },
      { specDir: dir },
    );
    const findings = check.judge(await check.observe(ctx), ctx.spec);
    expect(findings.map((f) => [f.subject, f.status, f.messageId])).toEqual([
      ["operations.coverage", "NA", "noCode"],
    ]);
  });
});
