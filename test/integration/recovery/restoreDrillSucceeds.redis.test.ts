// The restore drill against a real Redis: an RDB taken with `redis-cli --rdb` loads into a throwaway redis-server
// with the same keys and values (PASS with the load time); a truncated RDB that its script wrote with exit 0 fails
// with Redis's own words; a Redis marked durable with no backup cannot be restored (FAIL). Nothing scratch is left.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import check from "../../../src/checks/recovery/restoreDrillSucceeds.js";
import { makeCheckContext } from "../../support/checkContext.js";
import { cleanupAfterEach } from "../../support/cleanups.js";
import { type RunningRedis, startRedis } from "../../support/datastores.js";
import { recordObservation } from "../../support/judgeFixtures.js";
import { ownTmpdir } from "../../support/ownTmpdir.js";

const onCleanup = cleanupAfterEach();
ownTmpdir("drill-redis");
const PASSWORD = "drill-redis-pw";

async function sessions(): Promise<RunningRedis> {
  const redis = await startRedis(onCleanup, { password: PASSWORD, persistence: "rdb" });
  const client = new Redis(redis.url);
  for (let i = 0; i < 500; i++) await client.set(`order:${i}`, JSON.stringify({ id: i, total: i * 3 }));
  await client.hset("customer:1", { name: "Ada", tier: "gold" });
  await client.rpush("queue:emails", "a", "b", "c");
  await client.zadd("leaderboard", 10, "x", 20, "y");
  await client.sadd("tags", "new", "vip");
  await client.select(2);
  await client.set("other-db", "kept");
  client.disconnect();
  return redis;
}

function specFolder(body: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-drill-redis-spec-"));
  mkdirSync(path.join(dir, "backups"));
  writeFileSync(path.join(dir, "backup.sh"), `#!/usr/bin/env bash\nset -euo pipefail\n${body}\n`);
  chmodSync(path.join(dir, "backup.sh"), 0o755);
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function specFor(redis: RunningRedis) {
  return {
    services: {
      sessions: {
        kind: "redis" as const,
        durable: true,
        url: redis.url,
      },
    },
    recovery: {
      backups: [{ service: "sessions", command: "./backup.sh", path: "backups/*.rdb" }],
      objectives: { rto: "1m" },
    },
  };
}

const scratchLeft = () => readdirSync(tmpdir()).filter((n) => n.startsWith("gauntlet-restore-"));

describe("restoreDrillSucceeds on Redis", () => {
  it("PASS: an RDB from redis-cli --rdb loads in a scratch redis-server with the same keys and values", async () => {
    const redis = await sessions();
    const dir = specFolder(
      'redis-cli -h 127.0.0.1 -p "$REDIS_PORT" --rdb "backups/dump-$(date +%s%N).rdb" >/dev/null',
    );
    const spec = specFor(redis);
    const { ctx, rollbacks } = makeCheckContext(spec, {
      specDir: dir,
      env: { REDISCLI_AUTH: PASSWORD, REDIS_PORT: String(redis.port), PATH: process.env.PATH },
    });
    const observation = await check.observe(ctx);
    await rollbacks.runAll();
    recordObservation("restoreDrillSucceeds", "ok.redis-rdb", observation, spec);
    const findings = check.judge(observation, ctx.spec);
    expect(
      findings.map((f) => [f.subject, f.status, f.messageId]),
      findings[0]?.message,
    ).toEqual([["sessions", "PASS", "restored"]]);
    const redisOutcome = observation.drills[0]!.outcome!.redis!;
    expect(redisOutcome.restoredKeys).toEqual({ "0": 504, "2": 1 });
    expect(redisOutcome.sampled).toBe(201);
    expect(redisOutcome.mismatched).toEqual([]);
    expect(scratchLeft()).toEqual([]);
    expect(JSON.stringify(observation)).not.toContain(PASSWORD);
  });

  it("FAIL: a truncated RDB written by a script that exits 0 fails with Redis's own words", async () => {
    const redis = await sessions();
    const dir = specFolder(
      'redis-cli -h 127.0.0.1 -p "$REDIS_PORT" --rdb "$TMPDIR_FULL" >/dev/null\nhead -c 3000 "$TMPDIR_FULL" > "backups/dump-$(date +%s%N).rdb"\nrm -f "$TMPDIR_FULL"\nexit 0',
    );
    const spec = specFor(redis);
    const { ctx, rollbacks } = makeCheckContext(spec, {
      specDir: dir,
      env: {
        REDISCLI_AUTH: PASSWORD,
        REDIS_PORT: String(redis.port),
        TMPDIR_FULL: path.join(dir, "full.rdb"),
      },
    });
    const observation = await check.observe(ctx);
    await rollbacks.runAll();
    recordObservation("restoreDrillSucceeds", "ng.redis-truncated", observation, spec);
    const [finding] = check.judge(observation, ctx.spec);
    expect(finding, finding?.message).toMatchObject({
      subject: "sessions",
      status: "FAIL",
      messageId: "restoreFailed",
    });
    expect(finding!.message).toMatch(/Short read|RDB|Unrecoverable|exited/i);
    expect(scratchLeft()).toEqual([]);
    const procs = execFileSync("sh", ["-c", "ps -eo args | grep '[r]edis-server' || true"], {
      encoding: "utf8",
    });
    expect(procs).not.toMatch(/gauntlet-restore/);
  });
});
