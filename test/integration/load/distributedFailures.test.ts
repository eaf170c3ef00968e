// A distributed run never shrinks: a worker killed mid-run fails it by name within seconds (and the others stop),
// and too few live workers is an error that names the counts and the Redis without its password.
import { describe, expect, it } from "vitest";
import { runDistributedStage } from "../../../src/engines/load/distributed/coordinator.js";
import type { StagePlan } from "../../../src/engines/load/loadLoop.js";
import { buildMix, parseEndpoint } from "../../../src/engines/load/requests.js";
import { Redactor } from "../../../src/secrets/redactor.js";
import { type CountingServer, startCountingServer } from "../../fixtures/load/servers.js";
import { cleanupAfterEach } from "../../support/cleanups.js";
import { runCli } from "../../support/cli.js";
import { startRedis } from "../../support/datastores.js";
import { keysUnder, startLoadWorkers, testPrefix, withRedis } from "../../support/loadWorkers.js";
import { sharedRedisUrl } from "../../support/services.js";

const onCleanup = cleanupAfterEach();

async function countingServer(): Promise<CountingServer> {
  const server = await startCountingServer();
  onCleanup(() => server.close());
  return server;
}

function stage(
  server: CountingServer,
  plan: StagePlan,
  distributed: { redis: string; workers: number; prefix: string; waitMs?: number },
  onSnapshot?: (worker: string) => void,
) {
  const secrets = new Redactor();
  const endpoint = parseEndpoint(server.url, secrets);
  return runDistributedStage({
    endpoint,
    mix: buildMix(endpoint, [], {}, secrets),
    plan,
    distributed,
    ...(onSnapshot ? { onSnapshot } : {}),
  });
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("the run succeeded; it should have failed");
}

describe("a worker lost mid-run", () => {
  for (const signal of ["SIGKILL", "SIGTERM"] as const) {
    it(`${signal} to one worker fails the run naming it, within seconds, and stops the others`, async () => {
      const redis = sharedRedisUrl();
      const server = await countingServer();
      const prefix = testPrefix(onCleanup, redis);
      const workers = await startLoadWorkers(onCleanup, redis, prefix, ["w1", "w2", "w3"]);
      const ticked = new Set<string>();
      let killedAt = 0;
      const run = stage(
        server,
        { name: "long", connections: 3, durationMs: 30_000 },
        { redis, workers: 3, prefix },
        (worker) => {
          ticked.add(worker);
          if (ticked.size === 3 && killedAt === 0) {
            killedAt = Date.now();
            workers[1]!.child.kill(signal);
          }
        },
      );
      const error = await rejection(run);
      const after = Date.now() - killedAt;
      console.log(`${signal}: failed ${after} ms after the kill: ${error.message}`);
      expect(killedAt).toBeGreaterThan(0);
      expect(error.message).toMatch(/^load worker w2 stopped mid-run: /);
      expect(error.message).toContain("aborted on all 3 workers");
      if (signal === "SIGTERM") expect(error.message).toContain("w2 was stopped by SIGTERM");
      expect(after).toBeLessThan(signal === "SIGKILL" ? 5_000 : 1_500);
      // The others were told to stop: the server stops receiving requests.
      const count = server.received();
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(server.received()).toBe(count);
      for (const w of [workers[0]!, workers[2]!])
        expect(w.log()).toContain("aborted (load worker w2 stopped");
      // The run's keys and claims are gone; w1 and w3 are idle and free again (w2's heartbeat is gone too).
      const beats = await withRedis(redis, (r) => r.mget(`${prefix}:worker:w1`, `${prefix}:worker:w3`));
      for (const beat of beats) expect(JSON.parse(beat!).state).toBe("idle");
      expect(await keysUnder(redis, prefix)).toEqual([`${prefix}:worker:w1`, `${prefix}:worker:w3`]);
    }, 60_000);
  }
});

describe("too few workers", () => {
  it("names how many it saw of how many it needed, releases them, and they serve the next run", async () => {
    const redis = sharedRedisUrl();
    const server = await countingServer();
    const prefix = testPrefix(onCleanup, redis);
    await startLoadWorkers(onCleanup, redis, prefix, ["w1", "w2"]);
    const started = Date.now();
    const error = await rejection(
      stage(
        server,
        { name: "s", connections: 3, durationMs: 1_000 },
        { redis, workers: 3, prefix, waitMs: 1_500 },
      ),
    );
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(error.message).toMatch(
      new RegExp(
        `^waited 1\\.5 s for 3 load workers on redis://127\\.0\\.0\\.1:\\d+ \\(prefix ${prefix}\\): saw 2 live \\(w1, w2\\), 2 of them free, 3 needed; start 1 more`,
      ),
    );
    expect(server.received()).toBe(0);
    expect(await keysUnder(redis, prefix)).toEqual([`${prefix}:worker:w1`, `${prefix}:worker:w2`]);
    const next = await stage(
      server,
      { name: "t", connections: 2, durationMs: 500 },
      { redis, workers: 2, prefix },
    );
    expect(next.perWorker?.map((w) => w.name)).toEqual(["w1", "w2"]);
    expect(next.requests).toBe(server.received());
  }, 60_000);

  it("never prints the Redis password, in the engine's error or the CLI's", async () => {
    const password = "distributed-pw-0451";
    const own = await startRedis(onCleanup, { password });
    const server = await countingServer();
    const error = await rejection(
      stage(
        server,
        { name: "s", connections: 2, durationMs: 500 },
        { redis: own.url, workers: 2, prefix: "gauntlet-test:pw", waitMs: 500 },
      ),
    );
    expect(error.message).toContain(`redis://:***@127.0.0.1:${own.port}`);
    expect(error.message).toContain("saw 0 live, 0 of them free, 2 needed");
    expect(error.message).not.toContain(password);
    const cli = await runCli([
      "load",
      server.url,
      "-c",
      "2",
      "-d",
      "1s",
      "--workers",
      "2",
      "--redis",
      own.url,
      "--worker-wait",
      "500ms",
    ]);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(
      /^error: waited 0\.5 s for 2 load workers on redis:\/\/:\S+@127\.0\.0\.1:\d+ /,
    );
    expect(`${cli.stdout}${cli.stderr}`).not.toContain(password);
    // A wrong password is a clear error too, still without the password.
    const wrong = await runCli(["worker", "--redis", `redis://:not-${password}@127.0.0.1:${own.port}`]);
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toMatch(/^error: cannot reach Redis at redis:\/\/:\S+@127\.0\.0\.1:\d+: WRONGPASS/);
    expect(wrong.stderr).not.toContain(password);
  }, 60_000);
});
