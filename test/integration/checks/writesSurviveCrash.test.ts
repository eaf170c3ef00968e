// writesSurviveCrash against real datastores: a Redis that fsyncs every write (appendonly, always) keeps the canary
// through SIGKILL; a memory-only Redis loses it — FAIL when the spec calls it durable, reported (N/A) when it says
// `durable: false`; a Redis with RDB snapshots only survives a graceful restart (it saves on shutdown) but loses the
// write to a crash, which is why a restart-only control is a WARN; PostgreSQL (control.commands, pg_ctl) keeps its
// committed row through a SIGKILL of the postmaster and crash recovery.
import { describe, expect, it } from "vitest";
import check from "../../../src/checks/resilience/writesSurviveCrash.js";
import { buildTargets } from "../../../src/engines/faults/targets/registry.js";
import { NO_TARGETS } from "../../../src/engines/faults/targets/target.js";
import { type SpecInput, specSchema } from "../../../src/spec/schema.js";
import { startSystem } from "../../fixtures/services/system.js";
import { makeCheckContext } from "../../support/checkContext.js";
import { cleanupAfterEach } from "../../support/cleanups.js";
import { startPostgres, startRedis } from "../../support/datastores.js";
import { recordObservation } from "../../support/judgeFixtures.js";

const onCleanup = cleanupAfterEach();

function commandsTargets(input: Omit<SpecInput, "version" | "system">) {
  const spec = specSchema.parse({ version: 1, system: { name: "t" }, ...input });
  return buildTargets(spec, "/tmp", NO_TARGETS);
}

describe("writesSurviveCrash", () => {
  it("PASS: a Redis that fsyncs every write keeps the canary through SIGKILL", async () => {
    const system = await startSystem("sturdy");
    onCleanup(() => system.stop());
    const spec = {
      ...system.spec,
      resilience: {
        experiments: [{ name: "cache-crash", target: "cache", fault: "kill" as const, recoverWithin: "10s" }],
      },
    };
    const { ctx, rollbacks } = makeCheckContext(spec, { targets: system.targets });
    const observation = await check.observe(ctx);
    await rollbacks.runAll();
    recordObservation("writesSurviveCrash", "ok.redis-appendonly", observation, spec);
    const [finding] = check.judge(observation, ctx.spec);
    expect(finding, finding?.message).toMatchObject({ status: "PASS", subject: "cache", messageId: "kept" });
    expect(finding!.message).toMatch(/started again by Gauntlet/); // restart: never — nothing else brings it back
  }, 60_000);

  it("FAIL for a memory-only Redis the spec calls durable; N/A (reported) when it says durable: false", async () => {
    const system = await startSystem("fragile");
    onCleanup(() => system.stop());
    const durable = makeCheckContext(system.spec, { targets: system.targets });
    const lost = await check.observe(durable.ctx);
    await durable.rollbacks.runAll();
    recordObservation("writesSurviveCrash", "ng.memory-only-durable", lost, system.spec);
    expect(check.judge(lost, durable.ctx.spec).map((f) => [f.subject, f.status, f.messageId])).toEqual([
      ["cache", "FAIL", "lost"],
    ]);

    const cacheSpec = {
      ...system.spec,
      services: { ...system.spec.services, cache: { ...system.spec.services!.cache!, durable: false } },
    };
    const cache = makeCheckContext(cacheSpec, { targets: system.targets });
    const [finding] = await check.run(cache.ctx);
    await cache.rollbacks.runAll();
    expect(finding, finding?.message).toMatchObject({
      status: "NA",
      subject: "cache",
      messageId: "cacheLost",
    });
    expect(finding!.measurements).toContainEqual(
      expect.objectContaining({ name: "canary_intact", value: 0 }),
    );
  }, 60_000);

  it("RDB snapshots: a graceful restart keeps the write (WARN: a crash was not tested), a crash loses it", async () => {
    const redis = await startRedis(onCleanup, { persistence: "rdb" });
    const { kill, pid, ...restartOnly } = redis.commands;
    const graceful = {
      services: { cache: { kind: "redis" as const, url: redis.url, control: { commands: restartOnly } } },
    };
    const g = makeCheckContext({ destructive: true, ...graceful }, { targets: commandsTargets(graceful) });
    const [warned] = await check.run(g.ctx);
    await g.rollbacks.runAll();
    expect(warned, warned?.message).toMatchObject({ status: "WARN", messageId: "keptGracefulOnly" });

    const crashable = {
      services: { cache: { kind: "redis" as const, url: redis.url, control: { commands: redis.commands } } },
    };
    const c = makeCheckContext({ destructive: true, ...crashable }, { targets: commandsTargets(crashable) });
    const observation = await check.observe(c.ctx);
    await c.rollbacks.runAll();
    recordObservation("writesSurviveCrash", "ng.rdb-only-crash", observation, crashable);
    const [failed] = check.judge(observation, c.ctx.spec);
    expect(failed, failed?.message).toMatchObject({ status: "FAIL", messageId: "lost" });
    expect(failed!.message).toMatch(/started again by Gauntlet/);
  }, 60_000);

  it("PASS: PostgreSQL keeps a committed row through SIGKILL of the postmaster and crash recovery", async () => {
    const pg = await startPostgres(onCleanup);
    const input = {
      services: { db: { kind: "postgres" as const, url: pg.url, control: { commands: pg.commands } } },
    };
    const { ctx, rollbacks } = makeCheckContext(
      { destructive: true, ...input },
      { targets: commandsTargets(input) },
    );
    const observation = await check.observe(ctx);
    await rollbacks.runAll();
    recordObservation("writesSurviveCrash", "ok.postgres-crash-recovery", observation, input);
    const [finding] = check.judge(observation, ctx.spec);
    expect(finding, finding?.message).toMatchObject({ status: "PASS", subject: "db", messageId: "kept" });
    expect(observation.records[0]!.delivered?.before).not.toBe(observation.records[0]!.delivered?.after);
  }, 120_000);

  it("N/A for PgBouncer (no data of its own); UNVERIFIED for a kind without a canary or without control", async () => {
    const { ctx } = makeCheckContext({
      destructive: true,
      services: {
        pool: { kind: "pgbouncer", url: "postgres://app@127.0.0.1:1/app" },
        mongo: { kind: "mongodb", url: "mongodb://127.0.0.1:1" },
        cache: { kind: "redis", url: "redis://127.0.0.1:1" },
      },
    });
    const findings = await check.run(ctx);
    expect(findings.map((f) => [f.subject, f.status, f.messageId])).toEqual([
      ["pool", "NA", "noDataOfItsOwn"],
      ["mongo", "UNVERIFIED", "noCanary"],
      ["cache", "UNVERIFIED", "noMethod"],
    ]);
  });
});
