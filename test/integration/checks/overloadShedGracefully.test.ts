// overloadShedGracefully with real load: the sturdy API sheds with 503 beyond its in-flight limit and stays healthy;
// the fragile one dies when too many requests pile up (its stand-in for running out of memory) and FAILs.
import { afterEach, describe, expect, it } from "vitest";
import check from "../../../src/checks/resilience/overloadShedGracefully.js";
import { startSystem, type TestSystem } from "../../fixtures/services/system.js";
import { makeCheckContext } from "../../support/checkContext.js";

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
    const { ctx, rollbacks } = makeCheckContext(
      { ...system.spec, resilience: overload },
      { targets: system.targets },
    );
    const [finding] = await check.run(ctx);
    await rollbacks.runAll();
    expect(finding, finding?.message).toMatchObject({ status: "PASS", subject: "api" });
    expect(measurement(finding!, "requests")).toBeGreaterThan(100);
    expect(measurement(finding!, "shed")).toBeGreaterThan(0);
    expect(measurement(finding!, "error_ratio")).toBeLessThanOrEqual(5);
  }, 60_000);

  it("FAIL: the fragile API crashes under the load", async () => {
    system = await startSystem("fragile", { apiEnv: { CRASH_ABOVE_IN_FLIGHT: "32" } });
    const { ctx, rollbacks } = makeCheckContext(
      { ...system.spec, resilience: overload },
      { targets: system.targets },
    );
    const [finding] = await check.run(ctx);
    await rollbacks.runAll();
    expect(finding).toMatchObject({ status: "FAIL", subject: "api" });
    expect(finding!.message).toMatch(/crashed/);
    expect(measurement(finding!, "error_ratio")).toBeGreaterThan(5);
  }, 60_000);
});
