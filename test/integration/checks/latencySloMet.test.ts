import { describe, expect, it } from "vitest";
import latencySloMet from "../../../src/checks/performance/latencySloMet.js";
import loadStagesWithinThresholds from "../../../src/checks/performance/loadStagesWithinThresholds.js";
import type { FindingInput } from "../../../src/core/types.js";
import { startConcurrencyServer } from "../../fixtures/load/concurrencyServer.js";
import { makeCheckContext } from "../../support/checkContext.js";
import { cleanupAfterEach } from "../../support/cleanups.js";

const onCleanup = cleanupAfterEach();

function specFor(url: string, slos: { name: string; objective: string; latency?: string }[]) {
  return {
    destructive: true,
    services: { api: { url }, other: { url: "ftp://127.0.0.1:9" } },
    performance: {
      target: "api",
      stages: [{ name: "steady", connections: 4, duration: "800ms" }],
      thresholds: ["errors<1%"],
    },
    slos: slos.map((s) => ({ ...s, service: "api", window: "30d" })),
  };
}

const verdicts = (findings: FindingInput[]) =>
  findings.map((f) => [f.subject, f.data?.slo, f.status, f.messageId]);

describe("latencySloMet", () => {
  it("judges latency and availability SLOs on the load run it shares with loadStagesWithinThresholds", async () => {
    // Every request takes ~30 ms: a 10 ms latency SLO cannot hold, availability does.
    const server = await startConcurrencyServer(0, 30);
    onCleanup(server.close);
    const { ctx } = makeCheckContext(
      specFor(server.url, [
        { name: "fast", objective: "99%", latency: "10ms" },
        { name: "relaxed", objective: "95%", latency: "500ms" },
        { name: "up", objective: "99.9%" },
      ]),
    );
    const stages = await loadStagesWithinThresholds.run(ctx);
    expect(stages.map((f) => [f.status, f.messageId])).toEqual([["PASS", "withinThresholds"]]);
    const received = server.received();
    expect(received).toBeGreaterThan(20);

    const findings = await latencySloMet.run(ctx);
    expect(server.received()).toBe(received); // the load was not run a second time
    expect(verdicts(findings)).toEqual([
      ["api", "fast", "FAIL", "tooSlow"],
      ["api", "relaxed", "PASS", "met"],
      ["api", "up", "PASS", "met"],
    ]);
    expect(findings[0]!.data?.failure).toMatch(/^p\(99\)=\d+(\.\d+)?ms > 10ms/);
    expect(findings[0]!.measurements![0]!.value).toBeGreaterThanOrEqual(25);
    expect(findings[2]!.measurements![0]).toMatchObject({ name: "up availability", value: 100, unit: "%" });
  });

  it("fails an availability SLO when the service answers errors", async () => {
    const server = await startConcurrencyServer(0, 0);
    await server.close();
    const { ctx } = makeCheckContext(specFor(server.url, [{ name: "up", objective: "99%" }]));
    const findings = await latencySloMet.run(ctx);
    expect(verdicts(findings)).toEqual([["api", "up", "FAIL", "availabilityMissed"]]);
    expect(findings[0]!.data?.failure).toBe("0% successful < 99%");
  });

  it("is UNVERIFIED when the SLO's service cannot be loaded, and N/A when every SLO is about a datastore", async () => {
    const { ctx } = makeCheckContext({
      services: { other: { url: "ftp://127.0.0.1:9" } },
      slos: [{ name: "x", service: "other", objective: "99%", window: "30d" }],
    });
    const findings = await latencySloMet.run(ctx);
    expect(verdicts(findings)).toEqual([["other", "x", "UNVERIFIED", "notHttp"]]);
    expect(findings[0]!.toVerify).toMatch(/services\.other\.url/);

    const stores = makeCheckContext({
      services: { db: { kind: "postgres", url: "postgres://127.0.0.1:5432/app" } },
      slos: [{ name: "db-up", service: "db", objective: "99%", window: "30d" }],
    }).ctx.spec;
    expect(latencySloMet.applies(stores, { allowDestructive: true })).toEqual({
      applies: false,
      reason: "every SLO is about a datastore",
    });
  });
});
