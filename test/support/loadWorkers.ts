// Real `gauntlet worker` processes (dist/cli/bin.js) for the distributed load tests, each under a key prefix of the
// test's own; the cleanup stops them and deletes every key under the prefix, also when the test fails.
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { BIN } from "./cli.js";
import { type Cleanup, spawnForTest } from "./datastores.js";

export interface LoadWorkerProcess {
  name: string;
  child: ChildProcess;
  /** What it printed on stderr so far. */
  log: () => string;
}

/** A prefix no other test uses, whose keys the cleanup deletes. */
export function testPrefix(onCleanup: Cleanup, redisUrl: string): string {
  const prefix = `gauntlet-test:dist:${randomBytes(5).toString("hex")}`;
  onCleanup(async () => {
    const keys = await keysUnder(redisUrl, prefix);
    if (keys.length > 0) await withRedis(redisUrl, (r) => r.del(...keys));
  });
  return prefix;
}

export async function keysUnder(redisUrl: string, prefix: string): Promise<string[]> {
  return withRedis(redisUrl, async (r) => {
    const keys: string[] = [];
    let cursor = "0";
    do {
      const [next, batch] = await r.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== "0");
    return keys.sort();
  });
}

export async function withRedis<T>(url: string, use: (r: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    return await use(redis);
  } finally {
    redis.disconnect();
  }
}

/** Starts the workers and waits until each has announced itself (its heartbeat key exists). */
export async function startLoadWorkers(
  onCleanup: Cleanup,
  redisUrl: string,
  prefix: string,
  names: string[],
): Promise<LoadWorkerProcess[]> {
  const workers = names.map((name) => {
    const child = spawnForTest(onCleanup, process.execPath, [
      BIN,
      "worker",
      "--redis",
      redisUrl,
      "--redis-prefix",
      prefix,
      "--name",
      name,
    ]);
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    return { name, child, log: () => stderr };
  });
  const deadline = Date.now() + 15_000;
  await withRedis(redisUrl, async (r) => {
    for (;;) {
      const beats = await r.mget(...names.map((n) => `${prefix}:worker:${n}`));
      if (beats.every(Boolean)) return;
      const exited = workers.find((w) => w.child.exitCode !== null);
      if (exited) throw new Error(`worker ${exited.name} exited at start:\n${exited.log()}`);
      if (Date.now() > deadline) {
        throw new Error(
          `workers did not announce themselves within 15 s:\n${workers.map((w) => w.log()).join("\n")}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
  return workers;
}
