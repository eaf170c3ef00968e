import { afterEach, describe, expect, it } from "vitest";
import { runLoad } from "../../../src/engines/load/run.js";
import { Redactor } from "../../../src/secrets/redactor.js";
import { type CountingServer, startCountingServer } from "../../fixtures/load/servers.js";

let server: CountingServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("runLoad", () => {
  it("judges thresholds per stage and overall, and stops at an abortOnFail failure", async () => {
    server = await startCountingServer({ delayMs: () => 5 });
    const result = await runLoad({
      url: server.url,
      secrets: new Redactor(),
      stages: [
        { name: "one", connections: 2, duration: 400 },
        { name: "two", connections: 2, duration: 400 },
      ],
      thresholds: ["errors<1%", "p(50)<1ms abortOnFail"],
      env: {},
    });
    expect(result.stages.map((s) => s.name)).toEqual(["one"]);
    expect(result.passed).toBe(false);
    expect(result.abortedBy).toMatch(/^stage one: p\(50\)=\d+(\.\d+)?ms ≥ 1ms$/);
    expect(result.stages[0]!.thresholds.map((t) => t.passed)).toEqual([true, false]);
    expect(result.overall.requests).toBe(server.received());
    expect(result.overall.thresholds).toHaveLength(2);
  });

  it("runs every stage when nothing aborts, combining the histograms exactly", async () => {
    server = await startCountingServer();
    const result = await runLoad({
      url: server.url,
      secrets: new Redactor(),
      stages: [
        { name: "closed", connections: 2, duration: 300 },
        { name: "open", rate: 100, duration: 300 },
      ],
      thresholds: ["errors<1%"],
      env: {},
    });
    expect(result.passed).toBe(true);
    expect(result.stages.map((s) => s.model)).toEqual(["closed", "open"]);
    expect(result.overall.histogram.totalCount).toBe(result.stages[0]!.requests + result.stages[1]!.requests);
    expect(result.overall.requests).toBe(server.received());
  });
});
