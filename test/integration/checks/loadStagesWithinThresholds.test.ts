import { describe, expect, it } from "vitest";
import check from "../../../src/checks/performance/loadStagesWithinThresholds.js";
import type { FindingInput } from "../../../src/core/types.js";
import { startConcurrencyServer } from "../../fixtures/load/concurrencyServer.js";
import { makeCheckContext } from "../../support/checkContext.js";
import { cleanupAfterEach } from "../../support/cleanups.js";

const onCleanup = cleanupAfterEach();

async function server(limit: number, slowMs: number) {
  const started = await startConcurrencyServer(limit, slowMs);
  onCleanup(started.close);
  return started;
}

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

const verdicts = (findings: FindingInput[]) =>
  findings.map((f) => [f.subject, f.data?.stage, f.status, f.messageId]);

describe("loadStagesWithinThresholds", () => {
  it("fails the stage that exceeds its threshold and names the figure", async () => {
    const { url } = await server(4, 40);
    const { ctx, readEvidence } = makeCheckContext(specFor(url, ["p(95)<20ms", "errors<1%"]));
    const findings = await check.run(ctx);
    expect(verdicts(findings)).toEqual([
      ["api", "baseline", "PASS", "withinThresholds"],
      ["api", "high", "FAIL", "thresholdMissed"],
    ]);
    const high = findings[1]!;
    expect(high.data?.failure).toMatch(/^p\(95\)=\d+(\.\d+)?ms ≥ 20ms/);
    const p95 = high.measurements!.find((m) => m.name === "high p95")!.value;
    expect(p95).toBeGreaterThanOrEqual(20);
    const evidence = JSON.parse(readEvidence(high.evidence![0]!));
    expect(evidence.requests).toBeGreaterThan(0);
    expect(evidence.status["200"]).toBe(evidence.requests);
    expect(typeof evidence.histogram).toBe("string");
    expect(evidence.timeline.length).toBeGreaterThan(0);
  });

  it("passes every stage when the thresholds hold, and counts what the server received", async () => {
    const started = await server(100, 0);
    const { ctx, readEvidence } = makeCheckContext(specFor(started.url, ["p(95)<500ms", "errors<1%"]));
    const findings = await check.run(ctx);
    expect(verdicts(findings)).toEqual([
      ["api", "baseline", "PASS", "withinThresholds"],
      ["api", "high", "PASS", "withinThresholds"],
    ]);
    const total = findings.reduce((n, f) => n + JSON.parse(readEvidence(f.evidence![0]!)).requests, 0);
    expect(total).toBe(started.received());
  });

  it("fails when the target refuses connections", async () => {
    const started = await startConcurrencyServer(100, 0);
    await started.close();
    const { ctx } = makeCheckContext(specFor(started.url, ["p(95)<500ms"]));
    const findings = await check.run(ctx);
    expect(verdicts(findings)).toEqual([
      ["api", "baseline", "FAIL", "noAnswers"],
      ["api", "high", "FAIL", "noAnswers"],
    ]);
    expect(findings[0]!.data?.failure).toBe("no request answered");
    expect(findings[0]!.data).toMatchObject({ errors: { refused: expect.any(Number) } });
    expect((findings[0]!.data!.errors as { refused: number }).refused).toBeGreaterThan(0);
  });

  it("is UNVERIFIED on a threshold that bypassed validation, and N/A without stages", async () => {
    const { ctx } = makeCheckContext(specFor("http://127.0.0.1:9", ["p(95)<300ms"]));
    // The schema rejects "p95<300"; a spec built in code may still carry it.
    ctx.spec = { ...ctx.spec, performance: { ...ctx.spec.performance!, thresholds: ["p95<300"] } };
    const findings = await check.run(ctx);
    expect(verdicts(findings)).toEqual([["api", undefined, "UNVERIFIED", "invalidThreshold"]]);
    const spec = makeCheckContext({ services: { api: { url: "http://127.0.0.1:9" } } }).ctx.spec;
    expect(check.applies(spec, { allowDestructive: true })).toEqual({
      applies: false,
      reason: "no performance section in the spec",
    });
  });
});
