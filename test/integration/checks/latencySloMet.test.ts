import { afterEach, describe, expect, it } from "vitest";
import latencySloMet from "../../../src/checks/performance/latencySloMet.js";
import loadStagesWithinThresholds from "../../../src/checks/performance/loadStagesWithinThresholds.js";
import { startConcurrencyServer } from "../../fixtures/load/concurrencyServer.js";
import { makeCheckContext } from "../../support/checkContext.js";

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

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

describe("latencySloMet", () => {
  it("judges latency and availability SLOs on the load run it shares with loadStagesWithinThresholds", async () => {
    // Every request takes ~30 ms: a 10 ms latency SLO cannot hold, availability does.
    const server = await startConcurrencyServer(0, 30);
    close = server.close;
    const { ctx } = makeCheckContext(
      specFor(server.url, [
        { name: "fast", objective: "99%", latency: "10ms" },
        { name: "relaxed", objective: "95%", latency: "500ms" },
        { name: "up", objective: "99.9%" },
      ]),
    );
    const stages = await loadStagesWithinThresholds.run(ctx);
    expect(stages[0]!.status).toBe("PASS");
    const received = server.received();
    expect(received).toBeGreaterThan(20);

    const findings = await latencySloMet.run(ctx);
    expect(server.received()).toBe(received); // the load was not run a second time
    const byName = Object.fromEntries(findings.map((f) => [f.data!.slo, f]));
    expect(byName.fast!.status).toBe("FAIL");
    expect(byName.fast!.message).toMatch(/^SLO fast: p\(99\)=\d+(\.\d+)?ms > 10ms/);
    expect(byName.fast!.measurements![0]!.value).toBeGreaterThanOrEqual(25);
    expect(byName.relaxed!.status).toBe("PASS");
    expect(byName.up!.status).toBe("PASS");
    expect(byName.up!.measurements![0]).toMatchObject({ name: "up availability", value: 100, unit: "%" });
  });

  it("fails an availability SLO when the service answers errors", async () => {
    const server = await startConcurrencyServer(0, 0);
    await server.close();
    const { ctx } = makeCheckContext(specFor(server.url, [{ name: "up", objective: "99%" }]));
    const [finding] = await latencySloMet.run(ctx);
    expect(finding!.status).toBe("FAIL");
    expect(finding!.message).toMatch(/^SLO up: 0% successful < 99%/);
  });

  it("is UNVERIFIED when the SLO's service cannot be loaded", async () => {
    const { ctx } = makeCheckContext({
      services: { other: { url: "ftp://127.0.0.1:9" } },
      slos: [{ name: "x", service: "other", objective: "99%", window: "30d" }],
    });
    const [finding] = await latencySloMet.run(ctx);
    expect(finding!.status).toBe("UNVERIFIED");
    expect(finding!.toVerify).toMatch(/services\.other\.url/);
  });
});
