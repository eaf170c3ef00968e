import { afterEach, describe, expect, it } from "vitest";
import check from "../../../src/checks/performance/loadStagesWithinThresholds.js";
import { startConcurrencyServer } from "../../fixtures/load/concurrencyServer.js";
import { makeCheckContext } from "../../support/checkContext.js";

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

function specFor(url: string, thresholds: string[]) {
  return {
    destructive: true,
    services: { api: { url } },
    performance: {
      target: "api",
      requests: [{ method: "GET" as const, path: "/api/items" }],
      stages: [
        { name: "baseline", connections: 1, duration: "700ms" },
        { name: "high", connections: 12, duration: "700ms" },
      ],
      thresholds,
    },
  };
}

describe("loadStagesWithinThresholds", () => {
  it("fails the stage that exceeds its threshold and names the figure", async () => {
    const server = await startConcurrencyServer(4, 40);
    close = server.close;
    const { ctx, readEvidence } = makeCheckContext(specFor(server.url, ["p(95)<20ms", "errors<1%"]));
    const findings = await check.run(ctx);
    const baseline = findings.find((f) => f.data?.stage === "baseline")!;
    const high = findings.find((f) => f.data?.stage === "high")!;
    expect(baseline.status).toBe("PASS");
    expect(high.status).toBe("FAIL");
    expect(high.message).toMatch(/^stage high: p\(95\)=\d+(\.\d+)?ms ≥ 20ms/);
    const p95 = high.measurements!.find((m) => m.name === "high p95")!.value;
    expect(p95).toBeGreaterThanOrEqual(20);
    const evidence = JSON.parse(readEvidence(high.evidence![0]!));
    expect(evidence.requests).toBeGreaterThan(0);
    expect(evidence.status["200"]).toBe(evidence.requests);
    expect(typeof evidence.histogram).toBe("string");
    expect(evidence.timeline.length).toBeGreaterThan(0);
  });

  it("passes every stage when the thresholds hold, and counts what the server received", async () => {
    const server = await startConcurrencyServer(100, 0);
    close = server.close;
    const { ctx, readEvidence } = makeCheckContext(specFor(server.url, ["p(95)<500ms", "errors<1%"]));
    const findings = await check.run(ctx);
    expect(findings.map((f) => f.status)).toEqual(["PASS", "PASS"]);
    const total = findings.reduce((n, f) => n + JSON.parse(readEvidence(f.evidence![0]!)).requests, 0);
    expect(total).toBe(server.received());
  });

  it("fails when the target refuses connections", async () => {
    const server = await startConcurrencyServer(100, 0);
    await server.close();
    const { ctx } = makeCheckContext(specFor(server.url, ["p(95)<500ms"]));
    const findings = await check.run(ctx);
    expect(findings[0]!.status).toBe("FAIL");
    expect(findings[0]!.message).toMatch(/no request was answered \(refused [1-9]/);
  });

  it("is UNVERIFIED on a bad threshold expression, and N/A without stages", async () => {
    const { ctx } = makeCheckContext(specFor("http://127.0.0.1:9", ["p95<300"]));
    const [finding] = await check.run(ctx);
    expect(finding!.status).toBe("UNVERIFIED");
    expect(finding!.message).toMatch(/not understood/);
    const spec = makeCheckContext({ services: { api: { url: "http://127.0.0.1:9" } } }).ctx.spec;
    expect(check.applies(spec, { allowDestructive: true })).toEqual({
      applies: false,
      reason: "no performance section in the spec",
    });
  });
});
