// dependencyBlinkSurvived against a real, dedicated redis-server: restarting it is survived by the sturdy API (it
// reconnects; appendonly keeps the canary) and not by the fragile one (it exits; the canary is gone). A blink through
// the fault proxy (a `down` toxic) works without any control over Redis and leaves no toxic behind.
import { describe, expect, it } from "vitest";
import check from "../../../src/checks/resilience/dependencyBlinkSurvived.js";
import { type ControlApi, startControlApi } from "../../../src/engines/faults/proxy/controlApi.js";
import { FaultProxy } from "../../../src/engines/faults/proxy/faultProxy.js";
import { freePort, startSystem, type TestSystem } from "../../fixtures/services/system.js";
import { makeCheckContext } from "../../support/checkContext.js";
import { cleanupAfterEach } from "../../support/cleanups.js";

const onCleanup = cleanupAfterEach();

async function started(flavour: "fragile" | "sturdy", options = {}): Promise<TestSystem> {
  const system = await startSystem(flavour, options);
  onCleanup(() => system.stop());
  return system;
}

const measurement = (finding: { measurements?: { name: string; value: number }[] }, name: string) =>
  finding.measurements?.find((m) => m.name === name)?.value;

describe("dependencyBlinkSurvived", () => {
  it("PASS: the sturdy API reconnects after Redis restarts and the canary survives", async () => {
    const system = await started("sturdy");
    const redisPid = await system.targets.get("cache")!.pid();
    const { ctx, rollbacks } = makeCheckContext(system.spec, { targets: system.targets });
    const findings = await check.run(ctx);
    await rollbacks.runAll();
    const [finding] = findings;
    expect(finding, finding?.message).toMatchObject({ status: "PASS", subject: "cache" });
    expect(measurement(finding!, "canary_intact")).toBe(1);
    expect(measurement(finding!, "time_to_recover")).toBeLessThan(10_000);
    expect(await system.targets.get("cache")!.pid()).not.toBe(redisPid); // it really restarted
  }, 60_000);

  it("FAIL: the fragile API dies with its Redis connection and the in-memory canary is lost", async () => {
    const system = await started("fragile");
    const { ctx, rollbacks, readEvidence } = makeCheckContext(
      {
        ...system.spec,
        resilience: {
          experiments: [{ name: "cache-blink", target: "cache", fault: "restart", recoverWithin: "3s" }],
        },
      },
      { targets: system.targets },
    );
    const findings = await check.run(ctx);
    await rollbacks.runAll();
    const [finding] = findings;
    expect(finding).toMatchObject({ status: "FAIL", subject: "cache" });
    expect(finding!.message).toMatch(/not healthy again within 3\.00 s/);
    expect(finding!.message).toMatch(/canary lost/);
    expect(measurement(finding!, "canary_intact")).toBe(0);
    expect(measurement(finding!, "time_to_detect")).toBeLessThan(3_000);
    expect(measurement(finding!, "recover_limit")).toBe(3_000);
    expect(await system.targets.get("api")!.isRunning()).toBe(false); // it crashed for real
    const evidence = JSON.parse(readEvidence(finding!.evidence![0]!));
    expect(evidence.journal.entries.length).toBeGreaterThan(3);
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
    const { ctx, rollbacks } = makeCheckContext(
      {
        ...system.spec,
        resilience: {
          experiments: [
            { name: "cache-blink", target: "cache", fault: "restart", duration: "1s", recoverWithin: "5s" },
          ],
        },
      },
      { targets },
    );
    // resilience.proxies is the proposed schema key; set it on the parsed spec until the schema has it.
    (ctx.spec.resilience as Record<string, unknown>).proxies = { cache: { api: api.url } };
    const findings = await check.run(ctx);
    await rollbacks.runAll();
    const [finding] = findings;
    expect(finding, finding?.message).toMatchObject({ status: "PASS", subject: "cache" });
    expect(finding!.message).toMatch(/fault proxy down/);
    expect(measurement(finding!, "time_to_detect")).toBeLessThan(1_000);
    expect(measurement(finding!, "canary_intact")).toBe(1);
    expect(proxy.toxics()).toEqual([]);
    expect(proxy.status().connections.total).toBeGreaterThan(1); // the API reconnected through it
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
    expect(finding).toMatchObject({ status: "UNVERIFIED", subject: "cache" });
    expect(finding!.toVerify).toMatch(/resilience\.proxies/);
  });
});
