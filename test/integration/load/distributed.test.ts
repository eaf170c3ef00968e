// Distributed load over three real `gauntlet worker` processes and the shared Redis: the merged figures are the sum
// of the workers' and match what the server itself answered; the per-second snapshots add up to the final results.
import { describe, expect, it } from "vitest";
import { runDistributedStage } from "../../../src/engines/load/distributed/coordinator.js";
import { createHistogram, percentileMs } from "../../../src/engines/load/histogram.js";
import type { StagePlan } from "../../../src/engines/load/loadLoop.js";
import { buildMix, parseEndpoint } from "../../../src/engines/load/requests.js";
import { Redactor } from "../../../src/secrets/redactor.js";
import { type CountingServer, startCountingServer } from "../../fixtures/load/servers.js";
import { cleanupAfterEach } from "../../support/cleanups.js";
import { runCli } from "../../support/cli.js";
import { keysUnder, startLoadWorkers, testPrefix } from "../../support/loadWorkers.js";
import { sharedRedisUrl } from "../../support/services.js";

const onCleanup = cleanupAfterEach();
const NAMES = ["w1", "w2", "w3"];

async function setUp(): Promise<{ server: CountingServer; prefix: string; redis: string }> {
  const redis = sharedRedisUrl();
  const server = await startCountingServer();
  onCleanup(() => server.close());
  const prefix = testPrefix(onCleanup, redis);
  await startLoadWorkers(onCleanup, redis, prefix, NAMES);
  return { server, prefix, redis };
}

function stageFor(server: CountingServer, plan: StagePlan, redis: string, prefix: string) {
  const secrets = new Redactor();
  const endpoint = parseEndpoint(server.url, secrets);
  const mix = buildMix(endpoint, [{ path: "/d" }], {}, secrets);
  const snapshots: { worker: string; requests: number; count: number }[] = [];
  const union = createHistogram();
  const run = runDistributedStage({
    endpoint,
    mix,
    plan,
    distributed: { redis, workers: 3, prefix, waitMs: 10_000 },
    onSnapshot: (worker, tick) => {
      snapshots.push({ worker, requests: tick.requests, count: tick.histogram.totalCount });
      union.add(tick.histogram);
    },
  });
  return { run, snapshots, union };
}

describe("runDistributedStage over three worker processes", () => {
  it("closed model: merged requests = the sum of the workers' = what the server answered", async () => {
    const { server, prefix, redis } = await setUp();
    const { run, snapshots, union } = stageFor(
      server,
      { name: "closed", connections: 6, durationMs: 2_500 },
      redis,
      prefix,
    );
    const result = await run;
    const perWorker = result.perWorker ?? [];
    console.log(
      `closed: merged ${result.requests}, per worker ${perWorker.map((w) => `${w.name} ${w.requests}`).join(", ")}, server ${server.received()}`,
    );
    expect(perWorker.map((w) => w.name)).toEqual(NAMES);
    expect(perWorker.map((w) => w.connections)).toEqual([2, 2, 2]);
    for (const w of perWorker) expect(w.requests).toBeGreaterThan(100);
    expect(result.workers).toBe(3);
    expect(result.requests).toBe(perWorker.reduce((sum, w) => sum + w.requests, 0));
    expect(result.requests).toBe(server.received());
    expect(server.byPath.get("GET /d")).toBe(result.requests);
    expect(result.status["200"]).toBe(result.requests);
    expect(result.errors.total).toBe(0);
    expect(result.aborted).toBe(false);
    expect(result.timeline.length).toBeGreaterThanOrEqual(2);

    // (b) Every sample reached the coordinator twice, per second and in the final result; both sums agree exactly.
    expect(union.totalCount).toBe(result.histogram.totalCount);
    expect(union.totalCount).toBe(result.requests);
    const unionP99 = percentileMs(union, 99);
    console.log(`closed: merged p99 ${result.latency.p99} ms, union of snapshots p99 ${unionP99} ms`);
    expect(Math.abs(result.latency.p99 - unionP99)).toBeLessThanOrEqual(unionP99 * 0.01);
    expect(result.latency.p50).toBe(percentileMs(union, 50));
    for (const w of perWorker) {
      const own = snapshots.filter((s) => s.worker === w.name);
      expect(own.length).toBe(w.snapshots);
      expect(own.reduce((sum, s) => sum + s.requests, 0)).toBe(w.requests);
    }
    // The run's keys are gone; the workers' heartbeats (they are still up) are all that is left.
    expect(await keysUnder(redis, prefix)).toEqual(NAMES.map((n) => `${prefix}:worker:${n}`));
  }, 60_000);

  it("open model: the rate is shared exactly and every arrival is counted once", async () => {
    const { server, prefix, redis } = await setUp();
    const { run, union } = stageFor(
      server,
      { name: "open", connections: 6, rate: 300, durationMs: 2_000 },
      redis,
      prefix,
    );
    const result = await run;
    const perWorker = result.perWorker ?? [];
    console.log(
      `open: merged ${result.requests}, per worker ${perWorker.map((w) => `${w.name} ${w.requests}`).join(", ")}, server ${server.received()}, dropped ${result.dropped}`,
    );
    expect(result.model).toBe("open");
    expect(perWorker.map((w) => w.rate)).toEqual([100, 100, 100]);
    expect(result.requests).toBe(perWorker.reduce((sum, w) => sum + w.requests, 0));
    expect(result.requests).toBe(server.received());
    expect(result.dropped).toBe(0);
    // 300/s for 2 s, started together at the barrier: 600 arrivals (each worker's first is due at 0).
    expect(result.requests).toBeGreaterThanOrEqual(594);
    expect(result.requests).toBeLessThanOrEqual(606);
    expect(result.lateness?.count).toBe(result.requests);
    expect(union.totalCount).toBe(result.histogram.totalCount);
    expect(await keysUnder(redis, prefix)).toEqual(NAMES.map((n) => `${prefix}:worker:${n}`));
  }, 60_000);

  it("gauntlet load --workers 3 --redis: JSON with perWorker, table with a line per worker", async () => {
    const { server, prefix, redis } = await setUp();
    const args = [
      server.url,
      "-c",
      "3",
      "-d",
      "1s",
      "--workers",
      "3",
      "--redis",
      redis,
      "--redis-prefix",
      prefix,
    ];
    const json = await runCli(["load", ...args, "--json"]);
    expect(json.stderr).toBe("");
    expect(json.code).toBe(0);
    const out = JSON.parse(json.stdout);
    expect(out.distributed).toBe(true);
    expect(out.workers).toBe(3);
    expect(out.perWorker.map((w: { name: string }) => w.name)).toEqual(NAMES);
    expect(out.requests).toBe(
      out.perWorker.reduce((sum: number, w: { requests: number }) => sum + w.requests, 0),
    );
    const table = await runCli(["load", ...args]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^worker\s+requests\s+rate\s+errors\s+p50\s+p99\s+clock vs Redis$/m);
    for (const name of NAMES) expect(table.stdout).toMatch(new RegExp(`^${name}\\s+\\d+\\s+`, "m"));
    expect(out.requests + Number(/^requests\s+(\d+)/m.exec(table.stdout)?.[1])).toBe(server.received());
  }, 60_000);
});
