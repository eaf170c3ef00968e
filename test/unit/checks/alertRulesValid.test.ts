// Real rule files from test/fixtures/monitoring/rules, real parser, real promtool when installed.
import path from "node:path";
import { describe, expect, it } from "vitest";
import check from "../../../src/checks/observability/alertRulesValid.js";
import { which } from "../../../src/engines/shell/run.js";
import { makeCheckContext } from "../../support/checkContext.js";
import { verdictsWithoutEvidence } from "../../support/monitoring.js";

const fixtures = path.resolve(import.meta.dirname, "../../fixtures/monitoring");

async function run(rules: string[]) {
  const { ctx, readEvidence } = makeCheckContext({ monitoring: { rules } }, { specDir: fixtures });
  const findings = await check.run(ctx);
  expect(verdictsWithoutEvidence(findings)).toEqual([]);
  return { findings, readEvidence };
}

describe("alertRulesValid", () => {
  it("is N/A without monitoring.rules", () => {
    const { ctx } = makeCheckContext({});
    expect(check.applies(ctx.spec, { allowDestructive: false })).toMatchObject({ applies: false });
  });

  it("passes a valid rule file", async () => {
    const { findings } = await run(["rules/golden-signals.yml"]);
    expect(findings.map((f) => f.status)).toEqual(["PASS"]);
    expect(findings[0]!.data).toMatchObject({ groups: 2, rules: 5 });
  });

  it("gives exactly one FAIL, at the broken expression's line, for one broken expression", async () => {
    const { findings } = await run(["rules/broken-expression.yml"]);
    expect(findings).toHaveLength(1);
    const [finding] = findings;
    expect(finding!.status).toBe("FAIL");
    expect(finding!.location).toMatchObject({ path: "rules/broken-expression.yml", line: 12 });
    expect(finding!.location!.column).toBeGreaterThan(10);
    expect(finding!.data).toMatchObject({ kind: "promql", rule: "ApiHighErrorRate", group: "api" });
  });

  it("reports rule format problems with their lines", async () => {
    const { findings } = await run(["rules/format-errors.yml"]);
    const lines = findings.map((f) => [f.status, f.location?.line]);
    expect(lines).toEqual([
      ["FAIL", 4],
      ["FAIL", 9],
      ["FAIL", 10],
      ["FAIL", 14],
    ]);
  });

  it("fails a pattern that matches nothing and still checks the others", async () => {
    const { findings } = await run(["rules/nothing-*.yml", "rules/golden-signals.yml"]);
    expect(findings.map((f) => [f.status, f.subject])).toEqual([
      ["FAIL", "rules/nothing-*.yml"],
      ["PASS", "rules/golden-signals.yml"],
    ]);
  });

  it("records promtool's verdict, and fails a type error only promtool catches", async () => {
    const { findings, readEvidence } = await run(["rules/type-error.yml"]);
    if (!(await which("promtool"))) {
      expect(findings.map((f) => f.status)).toEqual(["PASS"]);
      return;
    }
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      status: "FAIL",
      data: { kind: "promtool" },
      location: { path: "rules/type-error.yml", line: 6 },
    });
    const verdict = JSON.parse(readEvidence(findings[0]!.evidence!.find((e) => e.includes("promtool"))!));
    expect(verdict.files[0]).toMatchObject({ file: "rules/type-error.yml", ok: false });
  });
});
