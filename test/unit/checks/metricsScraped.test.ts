// Without a reachable Prometheus the check is UNVERIFIED, never PASS. The real-Prometheus cases are in
// test/integration/observability/prometheus.test.ts.
import { describe, expect, it } from "vitest";
import check from "../../../src/checks/observability/metricsScraped.js";
import { makeCheckContext } from "../../support/checkContext.js";
import { freePort } from "../../support/monitoring.js";

const services = { api: { url: "http://127.0.0.1:1", metrics: "/metrics" } };

describe("metricsScraped", () => {
  it("is N/A when no service declares metrics", () => {
    const { ctx } = makeCheckContext({ services: { api: { url: "http://127.0.0.1:1" } } });
    expect(check.applies(ctx.spec, { allowDestructive: false })).toMatchObject({ applies: false });
  });

  it("is UNVERIFIED when the spec names no Prometheus", async () => {
    const { ctx } = makeCheckContext({ services });
    const findings = await check.run(ctx);
    expect(findings.map((f) => [f.subject, f.status, f.messageId])).toEqual([
      [undefined, "UNVERIFIED", "noPrometheus"],
    ]);
    expect(findings[0]!.toVerify).toContain("monitoring.prometheus");
  });

  it("is UNVERIFIED, saying how to verify, when Prometheus is not reachable", async () => {
    const prometheus = `http://127.0.0.1:${await freePort()}`;
    const { ctx } = makeCheckContext({ services, monitoring: { prometheus } });
    const findings = await check.run(ctx);
    expect(findings.map((f) => [f.subject, f.status, f.messageId])).toEqual([
      ["prometheus", "UNVERIFIED", "prometheusUnreachable"],
    ]);
    expect(findings[0]!.data).toMatchObject({ kind: "unreachable" });
    expect(findings[0]!.message).toContain("connection refused");
    expect(findings[0]!.toVerify).toContain("docs/monitoring-demo.md");
  });
});
