// Without a reachable Prometheus the check is UNVERIFIED. The real-Prometheus cases are in
// test/integration/observability/prometheus.test.ts.
import path from "node:path";
import { describe, expect, it } from "vitest";
import check from "../../../src/checks/observability/alertRulesLoaded.js";
import { makeCheckContext } from "../../support/checkContext.js";
import { freePort } from "../../support/monitoring.js";

const fixtures = path.resolve(import.meta.dirname, "../../fixtures/monitoring");

describe("alertRulesLoaded", () => {
  it("is N/A without rule files", () => {
    const { ctx } = makeCheckContext({ monitoring: { prometheus: "http://127.0.0.1:9090" } });
    expect(check.applies(ctx.spec, { allowDestructive: false })).toMatchObject({ applies: false });
  });

  it("is UNVERIFIED without a Prometheus URL or with an unreachable one", async () => {
    const rules = ["rules/golden-signals.yml"];
    const none = makeCheckContext({ monitoring: { rules } }, { specDir: fixtures });
    expect((await check.run(none.ctx)).map((f) => [f.subject, f.status, f.messageId])).toEqual([
      [undefined, "UNVERIFIED", "noPrometheus"],
    ]);
    const prometheus = `http://127.0.0.1:${await freePort()}`;
    const down = makeCheckContext({ monitoring: { rules, prometheus } }, { specDir: fixtures });
    const findings = await check.run(down.ctx);
    expect(findings.map((f) => [f.subject, f.status, f.messageId])).toEqual([
      ["prometheus", "UNVERIFIED", "prometheusUnreachable"],
    ]);
    expect(findings[0]!.toVerify).toBeTruthy();
  });
});
