import { afterEach, describe, expect, it } from "vitest";
import check from "../../../src/checks/performance/capacityFound.js";
import { startConcurrencyServer } from "../../fixtures/load/concurrencyServer.js";
import { makeCheckContext } from "../../support/checkContext.js";

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

// Short steps keep the test fast; long enough that one scheduler hiccup on a busy machine does not fail a step.

function specFor(url: string, thresholds: string[], plannedRate?: number) {
  return {
    destructive: true,
    services: { api: { url } },
    performance: {
      target: "api",
      stages: plannedRate ? [{ name: "planned", rate: plannedRate, duration: "1s" }] : [],
      thresholds,
      // Short steps keep the test quick; the search itself is the same.
      capacity: { burst: "400ms", step: "450ms" },
    },
  };
}

describe("capacityFound", () => {
  it("finds a sustained capacity below the burst ceiling, with its evidence", async () => {
    const server = await startConcurrencyServer(1000, 0);
    close = server.close;
    const { ctx, readEvidence } = makeCheckContext(specFor(server.url, ["errors<1%", "p(99)<1s"]));
    const [finding] = await check.run(ctx);
    expect(finding!.status, finding!.message).toBe("PASS");
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
    const server = await startConcurrencyServer(0, 20);
    close = server.close;
    const { ctx } = makeCheckContext(specFor(server.url, ["p(99)<5ms"]));
    const [finding] = await check.run(ctx);
    expect(finding!.status).toBe("FAIL");
    expect(finding!.message).toMatch(
      /not even \d+ req\/s meets the thresholds \(p\(99\)=\d+(\.\d+)?ms ≥ 5ms/,
    );
  });

  it("warns when the stages plan more than the sustained capacity", async () => {
    const server = await startConcurrencyServer(1000, 0);
    close = server.close;
    const { ctx } = makeCheckContext(specFor(server.url, ["errors<1%"], 10_000_000));
    const [finding] = await check.run(ctx);
    expect(finding!.status, finding!.message).toBe("WARN");
    expect(finding!.message).toMatch(/stages plan 10000000 req\/s/);
  });
});
