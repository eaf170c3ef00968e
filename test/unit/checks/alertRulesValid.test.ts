// Real rule files, the real parser and the real promtool (required: a missing promtool fails these tests). A
// stand-in promtool that hangs or crashes is used only where the real one cannot be made to: to show that an overrun
// or a broken promtool leaves the built-in findings standing, with promtool's part UNVERIFIED.
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { describe, expect, it } from "vitest";
import check, { type AlertRulesValidObservation } from "../../../src/checks/observability/alertRulesValid.js";
import type { FindingInput } from "../../../src/core/types.js";
import { makeCheckContext } from "../../support/checkContext.js";
import { verdictsWithoutEvidence } from "../../support/monitoring.js";
import { requireTool } from "../../support/services.js";

const fixtures = path.resolve(import.meta.dirname, "../../fixtures/monitoring");
const awesome = path.join(fixtures, "awesome-prometheus-alerts");
requireTool("promtool", "prometheus");

const rows = (findings: FindingInput[]) => findings.map((f) => [f.subject, f.status, f.messageId]);

async function run(rules: string[], specDir = fixtures) {
  const context = makeCheckContext({ monitoring: { rules } }, { specDir });
  const findings = await check.run(context.ctx);
  expect(verdictsWithoutEvidence(findings)).toEqual([]);
  return { findings, ...context };
}

/** A spec folder (removed after the test) holding `files` (relative name → text). */
function specFolder(files: Record<string, string>) {
  const context = makeCheckContext({});
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(context.ctx.specDir, name)), { recursive: true });
    writeFileSync(path.join(context.ctx.specDir, name), text);
  }
  return context.ctx.specDir;
}

/** A stand-in promtool on its own PATH: `script` is the shell body. */
function fakePromtool(script: string): string {
  const dir = specFolder({ "bin/promtool": `#!/bin/sh\n${script}\n` });
  chmodSync(path.join(dir, "bin/promtool"), 0o755);
  return path.join(dir, "bin");
}

const VALID = "groups:\n  - name: g\n    rules:\n      - alert: Down\n        expr: up == 0\n";

describe("alertRulesValid", () => {
  it("is N/A without monitoring.rules", () => {
    const { ctx } = makeCheckContext({});
    expect(check.applies(ctx.spec, { allowDestructive: false })).toMatchObject({ applies: false });
  });

  it("passes a valid rule file, judged by the built-in validator and promtool", async () => {
    const { findings } = await run(["rules/golden-signals.yml"]);
    expect(rows(findings)).toEqual([["rules/golden-signals.yml", "PASS", "valid"]]);
    expect(findings[0]!.data).toMatchObject({ groups: 2, rules: 5, promtool: true });
  });

  it("gives exactly one FAIL, at the broken expression's line, for one broken expression", async () => {
    const { findings } = await run(["rules/broken-expression.yml"]);
    expect(rows(findings)).toEqual([["rules/broken-expression.yml", "FAIL", "invalidPromql"]]);
    expect(findings[0]!.location).toMatchObject({ path: "rules/broken-expression.yml", line: 12 });
    expect(findings[0]!.location!.column).toBeGreaterThan(10);
    expect(findings[0]!.data).toMatchObject({ kind: "promql", rule: "ApiHighErrorRate", group: "api" });
  });

  it("reports rule format problems with their lines", async () => {
    const { findings } = await run(["rules/format-errors.yml"]);
    expect(findings.map((f) => [f.status, f.messageId, f.location?.line])).toEqual([
      ["FAIL", "ruleFormat", 4],
      ["FAIL", "ruleFormat", 9],
      ["FAIL", "ruleFormat", 10],
      ["FAIL", "ruleFormat", 14],
    ]);
  });

  it("fails a pattern that matches nothing and still checks the others", async () => {
    const { findings } = await run(["rules/nothing-*.yml", "rules/golden-signals.yml"]);
    expect(rows(findings)).toEqual([
      ["rules/nothing-*.yml", "FAIL", "patternUnmatched"],
      ["rules/golden-signals.yml", "PASS", "valid"],
    ]);
  });

  it("fails rate() of an instant vector itself, where promtool agrees, at the argument's column", async () => {
    const { findings, readEvidence } = await run(["rules/type-error.yml"]);
    expect(rows(findings)).toEqual([["rules/type-error.yml", "FAIL", "invalidPromql"]]);
    expect(findings[0]!.location).toEqual({ path: "rules/type-error.yml", line: 6, column: 20 });
    const verdict = JSON.parse(readEvidence(findings[0]!.evidence!.find((e) => e.includes("promtool"))!));
    expect(verdict.files).toMatchObject([{ file: "rules/type-error.yml", judged: true }]);
    expect(verdict.files[0].problems[0].message).toMatch(/expected type range vector/);
  });

  it("fails a file only promtool rejects (a broken template), at promtool's line", async () => {
    const broken = `${VALID}        annotations:\n          summary: "{{ $value | humanize }"\n`;
    const dir = specFolder({ "rules/template.yml": broken, "rules/ok.yml": VALID });
    const { findings } = await run(["rules/*.yml"], dir);
    expect(rows(findings)).toEqual([
      ["rules/ok.yml", "PASS", "valid"],
      ["rules/template.yml", "FAIL", "promtoolRejects"],
    ]);
    expect(findings[1]!.data).toMatchObject({ rule: "Down", group: "g" });
    expect(findings[1]!.message).toMatch(/annotation "summary": template/);
  });

  it("passes a group whose rules: is empty, as promtool does", async () => {
    const dir = specFolder({ "rules/empty.yml": "groups:\n  - name: later\n    rules:\n" });
    const { findings } = await run(["rules/empty.yml"], dir);
    expect(rows(findings)).toEqual([["rules/empty.yml", "PASS", "valid"]]);
    expect(findings[0]!.data).toMatchObject({ rules: 0, promtool: true });
  });

  it("keeps the built-in findings and says UNVERIFIED when promtool overruns its time budget", async () => {
    const dir = specFolder({
      "rules/ok.yml": VALID,
      "rules/bad.yml": VALID.replace("up == 0", "rate(up) > 0"),
    });
    const context = makeCheckContext(
      { monitoring: { rules: ["rules/*.yml"] } },
      { specDir: dir, env: { PATH: fakePromtool("sleep 30") } },
    );
    context.ctx.deadline = Date.now() + 3_500; // 1.5 s for promtool after the 2 s kept for judging
    let kept: unknown;
    context.ctx.keepPartial = (observation) => {
      kept = observation;
    };
    const started = performance.now();
    const findings = await check.run(context.ctx);
    expect(performance.now() - started).toBeLessThan(3_500);
    expect(rows(findings)).toEqual([
      ["rules/bad.yml", "FAIL", "invalidPromql"],
      ["rules/ok.yml", "PASS", "valid"],
      ["promtool", "UNVERIFIED", "promtoolTimedOut"],
    ]);
    expect(findings[2]!.data).toMatchObject({ unjudged: 2, total: 2 });
    // What was kept before promtool ran judges to the same built-in findings if the runner stops the check.
    expect(rows(check.judge(kept as AlertRulesValidObservation, context.ctx.spec))).toEqual(rows(findings));
  });

  it("keeps the built-in findings and says UNVERIFIED when promtool cannot run", async () => {
    const dir = specFolder({ "rules/ok.yml": VALID });
    const context = makeCheckContext(
      { monitoring: { rules: ["rules/*.yml"] } },
      { specDir: dir, env: { PATH: fakePromtool('echo "panic: runtime error" >&2; exit 2') } },
    );
    const findings = await check.run(context.ctx);
    expect(rows(findings)).toEqual([
      ["rules/ok.yml", "PASS", "valid"],
      ["promtool", "UNVERIFIED", "promtoolFailed"],
    ]);
    expect(findings[1]!.message).toMatch(/exited with code 2/);
  });

  it("judges 336 real rule files well within its timeout, running promtool once over all of them", async () => {
    const sources = readdirSync(awesome, { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith(".yml"))
      .sort()
      .map((f) => readFileSync(path.join(awesome, f), "utf8"));
    expect(sources.length).toBeGreaterThanOrEqual(8);
    const files: Record<string, string> = {};
    for (let i = 0; i < 336; i++) {
      // Distinct group names, as 336 files loaded into one Prometheus would need.
      files[`rules/${String(i).padStart(3, "0")}.yml`] = sources[i % sources.length]!.replace(
        /^(\s*- name:\s*)(\S.*)$/gm,
        `$1$2-copy${i}`,
      );
    }
    const context = makeCheckContext(
      { monitoring: { rules: ["rules/*.yml"] } },
      { specDir: specFolder(files) },
    );
    const timeoutMs = check.meta.timeoutMs!;
    context.ctx.deadline = Date.now() + timeoutMs;
    const started = performance.now();
    const findings = await check.run(context.ctx);
    const elapsed = performance.now() - started;
    console.log(`alertRulesValid: 336 files judged in ${Math.round(elapsed)} ms (timeout ${timeoutMs} ms)`);
    expect(elapsed).toBeLessThan(timeoutMs / 3);
    expect(findings).toHaveLength(336);
    expect(findings.every((f) => f.status === "PASS" && f.data?.promtool === true)).toBe(true);
    const promtoolEvidence = findings[0]!.evidence!.find((e) => e.includes("promtool"))!;
    const verdict = JSON.parse(context.readEvidence(promtoolEvidence));
    expect(verdict.command.split(" ").filter((a: string) => a.endsWith(".yml"))).toHaveLength(336);
    expect(verdict.files.filter((f: { judged: boolean }) => f.judged)).toHaveLength(336);
  });
});
