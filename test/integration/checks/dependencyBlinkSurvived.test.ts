// dependencyBlinkSurvived against a real, dedicated redis-server: restarting it is survived by the sturdy API (it
// reconnects; its health pings Redis, so the blink is seen) and not by the fragile one (it exits). With a static health
// page that never touches Redis — the blind probe real systems have — the blink is UNVERIFIED, never PASS: no probe
// noticed it and a short freeze shows none uses Redis. A blink through the fault proxy (a `down` toxic) works without
// any control over Redis and leaves no toxic behind; a proxy no traffic goes through proves nothing.
import { describe, expect, it } from "vitest";
import check from "../../../src/checks/resilience/dependencyBlinkSurvived.js";
import { type ControlApi, startControlApi } from "../../../src/engines/faults/proxy/controlApi.js";
import { FaultProxy } from "../../../src/engines/faults/proxy/faultProxy.js";
import { freePort, startSystem, type TestSystem } from "../../fixtures/services/system.js";
import { makeCheckContext } from "../../support/checkContext.js";
import { cleanupAfterEach } from "../../support/cleanups.js";
import { recordObservation } from "../../support/judgeFixtures.js";

const onCleanup = cleanupAfterEach();

async function started(flavour: "fragile" | "sturdy", options = {}): Promise<TestSystem> {
  const system = await startSystem(flavour, options);
  onCleanup(() => system.stop());
  return system;
}

const measurement = (finding: { measurements?: { name: string; value: number }[] }, name: string) =>
  finding.measurements?.find((m) => m.name === name)?.value;

describe("dependencyBlinkSurvived", () => {
  it("PASS: the sturdy API reconnects after Redis restarts, and its health noticed the blink", async () => {
    const system = await started("sturdy");
    const redisPid = await system.targets.get("cache")!.pid();
    const { ctx, rollbacks } = makeCheckContext(system.spec, { targets: system.targets });
    const observation = await check.observe(ctx);
    await rollbacks.runAll();
    recordObservation("dependencyBlinkSurvived", "ok.sturdy-reconnects", observation, system.spec);
    const [finding] = check.judge(observation, ctx.spec);
    expect(finding, finding?.message).toMatchObject({
      status: "PASS",
      subject: "cache",
      messageId: "survived",
    });
    expect(finding!.message).toMatch(/noticed by api health/);
    expect(measurement(finding!, "time_to_recover")).toBeLessThan(10_000);
    expect(await system.targets.get("cache")!.pid()).not.toBe(redisPid); // it really restarted
  }, 60_000);

  it("FAIL: the fragile API dies with its Redis connection", async () => {
    const system = await started("fragile");
    const spec = {
      ...system.spec,
      resilience: {
        experiments: [
          { name: "cache-blink", target: "cache", fault: "restart" as const, recoverWithin: "3s" },
        ],
      },
    };
    const { ctx, rollbacks } = makeCheckContext(spec, { targets: system.targets });
    const observation = await check.observe(ctx);
    await rollbacks.runAll();
    recordObservation("dependencyBlinkSurvived", "ng.fragile-dies", observation, spec);
    const [finding] = check.judge(observation, ctx.spec);
    expect(finding).toMatchObject({ status: "FAIL", subject: "cache", messageId: "notRecovered" });
    expect(finding!.message).toMatch(/not healthy again within 3\.00 s/);
    expect(measurement(finding!, "time_to_detect")).toBeLessThan(3_000);
    expect(await system.targets.get("api")!.isRunning()).toBe(false); // it crashed for real
  }, 60_000);

  it("UNVERIFIED, never PASS: a static health page stays 200 through the blink and through a freeze", async () => {
    const system = await started("sturdy", { apiEnv: { HEALTH_STATIC: "1" } });
    const { ctx, rollbacks, readEvidence } = makeCheckContext(system.spec, { targets: system.targets });
    const observation = await check.observe(ctx);
    await rollbacks.runAll();
    recordObservation("dependencyBlinkSurvived", "ng.blind-health", observation, system.spec);
    const [finding] = check.judge(observation, ctx.spec);
    expect(finding, finding?.message).toMatchObject({
      status: "UNVERIFIED",
      subject: "cache",
      messageId: "faultUnobserved",
    });
    expect(finding!.message).toMatch(/api health/);
    expect(finding!.toVerify).toMatch(/performance\.requests|probes|steadyState/);
    expect(observation.records[0]!.sensitivity?.method).toMatch(/freeze/);
    expect(JSON.parse(readEvidence(finding!.evidence![0]!)).journal.entries.length).toBeGreaterThan(3);
    expect(await system.targets.get("cache")!.isRunning()).toBe(true); // the freeze was undone
  }, 60_000);

  it("PASS with the same blind health once a request that uses Redis is probed", async () => {
    const system = await started("sturdy", { apiEnv: { HEALTH_STATIC: "1" } });
    const spec = {
      ...system.spec,
      resilience: {
        experiments: [
          {
            name: "cache-blink",
            target: "cache",
            fault: "restart" as const,
            probes: [{ service: "api", path: "/api/items" }],
          },
        ],
      },
    };
    const { ctx, rollbacks } = makeCheckContext(spec, { targets: system.targets });
    const [finding] = await check.run(ctx);
    await rollbacks.runAll();
    // /api/items serves degraded data (hits: null) while Redis is away: its answer changes, so the blink was seen.
    expect(finding, finding?.message).toMatchObject({ status: "PASS", messageId: "survived" });
    expect(finding!.message).toMatch(/api GET \/api\/items/);
  }, 60_000);

  it("through a fault proxy: a down toxic blinks Redis for the sturdy API, and no toxic is left", async () => {
    const redisPort = await freePort();
    const proxy = new FaultProxy({
      listen: { host: "127.0.0.1", port: 0 },
      upstream: { host: "127.0.0.1", port: redisPort },
    });
    await proxy.start();
    const api: ControlApi = await startControlApi(proxy, "127.0.0.1", 0);
    onCleanup(async () => {
      await api.close();
      await proxy.close();
    });
    const system = await started("sturdy", {
      redisPort,
      redisUrl: `redis://127.0.0.1:${proxy.listenAddress.port}`,
    });
    // Redis itself is out of Gauntlet's control here: only the API has a target.
    const targets = { get: (name: string) => (name === "api" ? system.targets.get("api") : undefined) };
    const spec = {
      ...system.spec,
      resilience: {
        proxies: { cache: { api: api.url, token: api.token } },
        experiments: [
          {
            name: "cache-blink",
            target: "cache",
            fault: "restart" as const,
            duration: "1s",
            recoverWithin: "5s",
          },
        ],
      },
    };
    const { ctx, rollbacks } = makeCheckContext(spec, { targets });
    const [finding] = await check.run(ctx);
    await rollbacks.runAll();
    expect(finding, finding?.message).toMatchObject({
      status: "PASS",
      subject: "cache",
      messageId: "survived",
    });
    expect(finding!.message).toMatch(/fault proxy down/);
    expect(measurement(finding!, "time_to_detect")).toBeLessThan(1_000);
    expect(proxy.toxics()).toEqual([]);
    expect(proxy.status().connections.total).toBeGreaterThan(1); // the API reconnected through it
  }, 60_000);

  it("UNVERIFIED when no traffic goes through the named fault proxy", async () => {
    const system = await started("sturdy");
    const idle = new FaultProxy({
      listen: { host: "127.0.0.1", port: 0 },
      upstream: { host: "127.0.0.1", port: system.redisPort },
    });
    await idle.start();
    const api = await startControlApi(idle, "127.0.0.1", 0);
    onCleanup(async () => {
      await api.close();
      await idle.close();
    });
    // The API talks to Redis directly; the proxy named in the spec carries nothing.
    const targets = { get: (name: string) => (name === "api" ? system.targets.get("api") : undefined) };
    const spec = { ...system.spec, resilience: { proxies: { cache: { api: api.url, token: api.token } } } };
    const { ctx, rollbacks } = makeCheckContext(spec, { targets });
    const [finding] = await check.run(ctx);
    await rollbacks.runAll();
    expect(finding, finding?.message).toMatchObject({ status: "UNVERIFIED", messageId: "noTraffic" });
  }, 60_000);

  it("UNVERIFIED when Redis can be neither restarted nor cut off", async () => {
    const { ctx } = makeCheckContext({
      destructive: true,
      services: {
        cache: { kind: "redis", url: "redis://127.0.0.1:1" },
        api: { url: "http://127.0.0.1:1", health: "/healthz", dependsOn: ["cache"] },
      },
    });
    const [finding] = await check.run(ctx);
    expect(finding).toMatchObject({ status: "UNVERIFIED", subject: "cache", messageId: "noMethod" });
    expect(finding!.toVerify).toMatch(/resilience\.proxies/);
  });
});
