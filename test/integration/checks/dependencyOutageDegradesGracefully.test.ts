// dependencyOutageDegradesGracefully with a real blackhole: the sturdy API (300 ms Redis timeout) answers 503 fast;
// the fragile one (no timeout) hangs and FAILs. Without a proxy the Redis process itself is frozen (SIGSTOP) and
// resumed. With a static health page that never touches Redis the outage is UNVERIFIED: nothing noticed it. No toxic
// and no paused process is left behind.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import check from "../../../src/checks/resilience/dependencyOutageDegradesGracefully.js";
import { startProxiedSystem, startSystem } from "../../fixtures/services/system.js";
import { makeCheckContext } from "../../support/checkContext.js";
import { cleanupAfterEach } from "../../support/cleanups.js";
import { recordObservation } from "../../support/judgeFixtures.js";

const onCleanup = cleanupAfterEach();

const measurement = (finding: { measurements?: { name: string; value: number }[] }, name: string) =>
  finding.measurements?.find((m) => m.name === name)?.value;

const outage = (duration: string, proxy?: string, token?: string) => ({
  experiments: [
    { name: "cache-outage", target: "cache", fault: "blackhole" as const, duration, recoverWithin: "5s" },
  ],
  ...(proxy ? { proxies: { cache: { api: proxy, token } } } : {}),
});

function processState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0]!;
}

describe("dependencyOutageDegradesGracefully", () => {
  it("PASS: the sturdy API answers fast while Redis is blackholed at the proxy", async () => {
    const setup = await startProxiedSystem("sturdy");
    onCleanup(setup.stop);
    const spec = { ...setup.system.spec, resilience: outage("2s", setup.proxy.apiUrl, setup.proxy.token) };
    const { ctx, rollbacks } = makeCheckContext(spec, { targets: setup.system.targets });
    const observation = await check.observe(ctx);
    await rollbacks.runAll();
    recordObservation("dependencyOutageDegradesGracefully", "ok.fails-fast", observation, spec);
    const [finding] = check.judge(observation, ctx.spec);
    expect(finding, finding?.message).toMatchObject({
      status: "PASS",
      subject: "cache",
      messageId: "degraded",
    });
    expect(measurement(finding!, "hung_probes")).toBe(0);
    expect(measurement(finding!, "slowest_answer_during_outage")).toBeLessThan(2_000);
    expect(measurement(finding!, "time_to_detect")).toBeLessThan(1_000); // health turned 503
    expect(setup.proxy.proxy.toxics()).toEqual([]);
  }, 60_000);

  it("FAIL: the fragile API hangs on the blackholed Redis", async () => {
    const setup = await startProxiedSystem("fragile");
    onCleanup(setup.stop);
    const spec = { ...setup.system.spec, resilience: outage("3s", setup.proxy.apiUrl, setup.proxy.token) };
    const { ctx, rollbacks } = makeCheckContext(spec, { targets: setup.system.targets });
    const observation = await check.observe(ctx);
    await rollbacks.runAll();
    recordObservation("dependencyOutageDegradesGracefully", "ng.hangs", observation, spec);
    const [finding] = check.judge(observation, ctx.spec);
    expect(finding).toMatchObject({ status: "FAIL", subject: "cache", messageId: "hung" });
    expect(finding!.message).toMatch(/hung/);
    expect(measurement(finding!, "hung_probes")).toBeGreaterThanOrEqual(1);
    expect(measurement(finding!, "slowest_answer_during_outage")).toBeGreaterThanOrEqual(2_000);
    expect(setup.proxy.proxy.toxics()).toEqual([]);
  }, 60_000);

  it("without a proxy, freezes the Redis process (SIGSTOP) and resumes it", async () => {
    const system = await startSystem("sturdy");
    onCleanup(() => system.stop());
    const { ctx, rollbacks, readEvidence } = makeCheckContext(
      { ...system.spec, resilience: outage("1s") },
      { targets: system.targets },
    );
    const [finding] = await check.run(ctx);
    await rollbacks.runAll();
    expect(finding, finding?.message).toMatchObject({
      status: "PASS",
      subject: "cache",
      messageId: "degraded",
    });
    expect(finding!.message).toMatch(/process pause/);
    const journal = JSON.parse(readEvidence(finding!.evidence![0]!));
    expect(
      journal.journal.entries.some((e: { phase: string; ok: boolean }) => e.phase === "during" && !e.ok),
    ).toBe(true);
    // Resumed: no process of the group is left stopped (T).
    const pid = (await system.targets.get("cache")!.pid())!;
    expect(processState(pid)).not.toBe("T");
  }, 60_000);

  it("UNVERIFIED, never PASS: a static health page answers the same while Redis is frozen", async () => {
    const system = await startSystem("sturdy", { apiEnv: { HEALTH_STATIC: "1" } });
    onCleanup(() => system.stop());
    const spec = { ...system.spec, resilience: outage("2s") };
    const { ctx, rollbacks } = makeCheckContext(spec, { targets: system.targets });
    const observation = await check.observe(ctx);
    await rollbacks.runAll();
    recordObservation("dependencyOutageDegradesGracefully", "ng.blind-health", observation, spec);
    const [finding] = check.judge(observation, ctx.spec);
    expect(finding, finding?.message).toMatchObject({ status: "UNVERIFIED", messageId: "faultUnobserved" });
    expect(finding!.message).toMatch(/api health/);
  }, 60_000);
});
