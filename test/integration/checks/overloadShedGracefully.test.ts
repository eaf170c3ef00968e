// overloadShedGracefully with real load: the sturdy API sheds with 503 beyond its in-flight limit and stays healthy;
// the fragile one dies when too many requests pile up (its stand-in for running out of memory) and FAILs. A load the
// service absorbs without shedding or queueing proves nothing about overload: UNVERIFIED, never PASS.
import { afterEach, describe, expect, it } from "vitest";
import check from "../../../src/checks/resilience/overloadShedGracefully.js";
import { startSystem, type TestSystem } from "../../fixtures/services/system.js";
import { makeCheckContext } from "../../support/checkContext.js";
import { recordObservation } from "../../support/judgeFixtures.js";

let system: TestSystem | undefined;
afterEach(async () => {
  await system?.stop();
  system = undefined;
});

const overload = {
  experiments: [
    { name: "api-overload", target: "api", fault: "overload" as const, duration: "2s", recoverWithin: "3s" },
  ],
};
const measurement = (finding: { measurements?: { name: string; value: number }[] }, name: string) =>
  finding.measurements?.find((m) => m.name === name)?.value;

describe("overloadShedGracefully", () => {
  it("PASS: the sturdy API sheds with 503 and stays healthy", async () => {
    system = await startSystem("sturdy", { apiEnv: { MAX_IN_FLIGHT: "8" } });
    const spec = { ...system.spec, resilience: overload };
    const { ctx, rollbacks } = makeCheckContext(spec, { targets: system.targets });
    const observation = await check.observe(ctx);
    await rollbacks.runAll();
    recordObservation("overloadShedGracefully", "ok.sheds", observation, spec);
    const [finding] = check.judge(observation, ctx.spec);
    expect(finding, finding?.message).toMatchObject({
      status: "PASS",
      subject: "api",
      messageId: "shedGracefully",
    });
    expect(measurement(finding!, "requests")).toBeGreaterThan(100);
    expect(measurement(finding!, "shed")).toBeGreaterThan(0);
    expect(measurement(finding!, "error_ratio")).toBeLessThanOrEqual(5);
  }, 60_000);

  it("FAIL: the fragile API crashes under the load", async () => {
    system = await startSystem("fragile", { apiEnv: { CRASH_ABOVE_IN_FLIGHT: "32" } });
    const spec = { ...system.spec, resilience: overload };
    const { ctx, rollbacks } = makeCheckContext(spec, { targets: system.targets });
    const observation = await check.observe(ctx);
    await rollbacks.runAll();
    recordObservation("overloadShedGracefully", "ng.crashes", observation, spec);
    const [finding] = check.judge(observation, ctx.spec);
    expect(finding).toMatchObject({ status: "FAIL", subject: "api", messageId: "crashed" });
    expect(finding!.message).toMatch(/crashed/);
    expect(measurement(finding!, "error_ratio")).toBeGreaterThan(5);
  }, 60_000);

  it("UNVERIFIED, never PASS: one client does not overload it, so 0 % errors proves nothing", async () => {
    system = await startSystem("sturdy", { apiEnv: { MAX_IN_FLIGHT: "1000" } });
    const spec = {
      ...system.spec,
      resilience: {
        experiments: [
          { name: "api-overload", target: "api", fault: "overload" as const, duration: "2s", concurrency: 1 },
        ],
      },
    };
    const { ctx, rollbacks } = makeCheckContext(spec, { targets: system.targets });
    const observation = await check.observe(ctx);
    await rollbacks.runAll();
    recordObservation("overloadShedGracefully", "ng.not-saturated", observation, spec);
    const [finding] = check.judge(observation, ctx.spec);
    expect(finding, finding?.message).toMatchObject({ status: "UNVERIFIED", messageId: "notSaturated" });
    expect(finding!.toVerify).toMatch(/concurrency: 4/);
    expect(measurement(finding!, "unloaded_p50")).toBeGreaterThan(0);
  }, 60_000);
});
