// Coverage against real rule files: complete, missing a latency alert, and alerts without a runbook.
import path from "node:path";
import { describe, expect, it } from "vitest";
import check from "../../../src/checks/observability/alertRulesCoverGoldenSignals.js";
import { makeCheckContext } from "../../support/checkContext.js";
import { verdictsWithoutEvidence } from "../../support/monitoring.js";

const fixtures = path.resolve(import.meta.dirname, "../../fixtures/monitoring");
const services = {
  api: { url: "http://127.0.0.1:1", metrics: "/metrics" },
  inventory: { url: "http://127.0.0.1:2" },
};

async function run(rules: string[], runbooks?: string) {
  const { ctx, readEvidence } = makeCheckContext(
    { services, monitoring: { rules }, ...(runbooks ? { operations: { runbooks } } : {}) },
    { specDir: fixtures },
  );
  const findings = await check.run(ctx);
  expect(verdictsWithoutEvidence(findings)).toEqual([]);
  return { findings, readEvidence };
}

describe("alertRulesCoverGoldenSignals", () => {
  it("is N/A when no service declares metrics", () => {
    const { ctx } = makeCheckContext({
      services: { a: { url: "http://x" } },
      monitoring: { rules: ["r.yml"] },
    });
    expect(check.applies(ctx.spec, { allowDestructive: false })).toMatchObject({ applies: false });
  });

  it("passes complete, actionable coverage (runbook file found under operations.runbooks)", async () => {
    const { findings, readEvidence } = await run(["rules/golden-signals.yml"], "runbooks");
    expect(findings.map((f) => [f.status, f.subject])).toEqual([["PASS", "api"]]);
    const coverage = JSON.parse(readEvidence(findings[0]!.evidence![0]!));
    expect(coverage.servicesWithoutMetrics).toEqual(["inventory"]);
    const byName = Object.fromEntries(
      coverage.alerts.map((a: { alert: string; signals: string[] }) => [a.alert, a.signals]),
    );
    expect(byName).toMatchObject({
      ApiDown: ["down"],
      ApiHighErrorRate: ["errors"],
      ApiHighLatency: ["latency"],
      ApiSaturated: ["saturation"],
    });
  });

  it("names the service and the missing signal when a latency alert is missing", async () => {
    const { findings } = await run(["rules/missing-latency.yml"]);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      status: "FAIL",
      subject: "api",
      data: { missingSignals: ["latency"] },
    });
    expect(findings[0]!.message).toContain("latency");
  });

  it("warns, at the alert's line, about an alert without a runbook", async () => {
    const { findings } = await run(["rules/golden-signals.yml"]);
    expect(findings.map((f) => [f.status, f.data?.alert, f.location?.line])).toEqual([
      ["WARN", "ApiHighLatency", 21],
    ]);
  });

  it("does not count alerts scoped to another job", async () => {
    const { ctx } = makeCheckContext(
      {
        services: { billing: { url: "http://127.0.0.1:3", metrics: "/metrics" } },
        monitoring: { rules: ["rules/golden-signals.yml"] },
      },
      { specDir: fixtures },
    );
    const findings = await check.run(ctx);
    expect(findings[0]).toMatchObject({
      status: "FAIL",
      subject: "billing",
      data: { missingSignals: ["down", "errors", "latency", "saturation"] },
    });
  });
});
