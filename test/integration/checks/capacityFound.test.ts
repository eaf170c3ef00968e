import { describe, expect, it } from "vitest";
import check from "../../../src/checks/performance/capacityFound.js";
import { startConcurrencyServer } from "../../fixtures/load/concurrencyServer.js";
import { makeCheckContext } from "../../support/checkContext.js";
import { cleanupAfterEach } from "../../support/cleanups.js";

const onCleanup = cleanupAfterEach();

async function server(limit: number, slowMs: number) {
  const started = await startConcurrencyServer(limit, slowMs);
  onCleanup(started.close);
  return started;
}

function specFor(url: string, thresholds: string[], plannedRate?: number) {
  return {
    destructive: true,
    services: { api: { url } },
    performance: {
      target: "api",
      stages: plannedRate ? [{ name: "planned", rate: plannedRate, duration: "1s" }] : [],
      thresholds,
      // Short steps keep the test quick; long enough that one scheduler hiccup on a busy machine does not fail a step.
      capacity: { burst: "400ms", step: "450ms" },
    },
  };
}

describe("capacityFound", () => {
  it("finds a sustained capacity below the burst ceiling, with its evidence", async () => {
    const { url } = await server(1000, 0);
    const { ctx, readEvidence } = makeCheckContext(specFor(url, ["errors<1%", "p(99)<1s"]));
    const [finding] = await check.run(ctx);
    expect([finding!.subject, finding!.status, finding!.messageId], finding!.message).toEqual([
      "api",
      "PASS",
      "capacityFound",
    ]);
    const sustained = finding!.measurements!.find((m) => m.name === "sustained capacity")!.value;
    const burst = finding!.measurements!.find((m) => m.name === "burst capacity")!.value;
    expect(burst).toBeGreaterThan(100);
    expect(sustained).toBeGreaterThanOrEqual(Math.round(burst * 0.25));
    const evidence = JSON.parse(readEvidence(finding!.evidence![0]!));
    expect(evidence.steps.length).toBeGreaterThan(0);
    expect(evidence.steps[0].rate).toBe(Math.max(1, Math.round(burst * 0.25)));
  });

  it("fails when not even the lowest step meets the thresholds", async () => {
    // Every request takes 20 ms; a 5 ms p99 cannot be met at any rate.
    const { url } = await server(0, 20);
    const { ctx } = makeCheckContext(specFor(url, ["p(99)<5ms"]));
    const [finding] = await check.run(ctx);
    expect([finding!.subject, finding!.status, finding!.messageId]).toEqual([
      "api",
      "FAIL",
      "noSustainedRate",
    ]);
    expect(finding!.data?.failure).toMatch(/^p\(99\)=\d+(\.\d+)?ms ≥ 5ms/);
  });

  it("warns when the stages plan more than the sustained capacity", async () => {
    const { url } = await server(1000, 0);
    const { ctx } = makeCheckContext(specFor(url, ["errors<1%"], 10_000_000));
    const [finding] = await check.run(ctx);
    expect([finding!.subject, finding!.status, finding!.messageId], finding!.message).toEqual([
      "api",
      "WARN",
      "belowPlannedRate",
    ]);
    expect(finding!.data?.plannedRate).toBe(10_000_000);
  });

  it("is UNVERIFIED without an http(s) url, and on a threshold that bypassed validation", async () => {
    const ftp = makeCheckContext({
      services: { api: { url: "ftp://127.0.0.1:9" } },
      performance: { target: "api" },
    });
    expect((await check.run(ftp.ctx)).map((f) => [f.subject, f.status, f.messageId])).toEqual([
      ["api", "UNVERIFIED", "notHttp"],
    ]);
    const { ctx } = makeCheckContext(specFor("http://127.0.0.1:9", ["errors<1%"]));
    ctx.spec = { ...ctx.spec, performance: { ...ctx.spec.performance!, thresholds: ["p95<300"] } };
    expect((await check.run(ctx)).map((f) => [f.subject, f.status, f.messageId])).toEqual([
      ["api", "UNVERIFIED", "invalidThreshold"],
    ]);
  });
});
