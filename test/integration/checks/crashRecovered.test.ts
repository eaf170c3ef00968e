// crashRecovered against real processes: the sturdy API runs under a restarting supervisor and comes back after
// SIGKILL; the fragile one has none and stays down — FAIL with the measured figures — and the rollback restarts it.
import { afterAll, afterEach, describe, expect, it } from "vitest";
import check from "../../../src/checks/resilience/crashRecovered.js";
import { buildTargets } from "../../../src/engines/faults/targets/registry.js";
import { NO_TARGETS } from "../../../src/engines/faults/targets/target.js";
import { specSchema } from "../../../src/spec/schema.js";
import { freePort, startSystem, type TestSystem } from "../../fixtures/services/system.js";
import { makeCheckContext } from "../../support/checkContext.js";
import { httpContainer, podman } from "../../support/podman.js";

let system: TestSystem | undefined;
afterEach(async () => {
  await system?.stop();
  system = undefined;
});

const measurement = (finding: { measurements?: { name: string; value: number }[] }, name: string) =>
  finding.measurements?.find((m) => m.name === name)?.value;

describe("crashRecovered", () => {
  it("PASS: the supervised sturdy API is healthy again within the limit", async () => {
    system = await startSystem("sturdy");
    const pidBefore = await system.targets.get("api")!.pid();
    const { ctx, rollbacks, readEvidence } = makeCheckContext(system.spec, { targets: system.targets });
    const findings = await check.run(ctx);
    await rollbacks.runAll();
    expect(findings).toHaveLength(1);
    const [finding] = findings;
    expect(finding).toMatchObject({ status: "PASS", subject: "api" });
    const recover = measurement(finding!, "time_to_recover")!;
    expect(recover).toBeGreaterThan(0);
    expect(recover).toBeLessThan(10_000);
    expect(measurement(finding!, "time_to_detect")).toBeGreaterThanOrEqual(0);
    expect(await system.targets.get("api")!.pid()).not.toBe(pidBefore);
    const journal = JSON.parse(readEvidence(finding!.evidence![0]!));
    expect(journal.journal.entries.some((e: { ok: boolean }) => !e.ok)).toBe(true);
  }, 60_000);

  it("FAIL: the unsupervised fragile API stays down; the rollback starts it again", async () => {
    system = await startSystem("fragile");
    const { ctx, rollbacks } = makeCheckContext(
      {
        ...system.spec,
        resilience: {
          experiments: [{ name: "api-crash", target: "api", fault: "kill", recoverWithin: "2s" }],
        },
      },
      { targets: system.targets },
    );
    const findings = await check.run(ctx);
    const [finding] = findings;
    expect(finding).toMatchObject({ status: "FAIL", subject: "api" });
    expect(finding!.message).toMatch(/not healthy again within 2\.00 s/);
    expect(measurement(finding!, "time_to_detect")).toBeLessThan(1_000);
    expect(measurement(finding!, "time_to_recover")).toBeUndefined();
    expect(measurement(finding!, "recover_limit")).toBe(2_000);
    // The check already ran its rollback: the service is running again.
    expect(await system.targets.get("api")!.isRunning()).toBe(true);
    expect(rollbacks.pending).toBe(0);
  }, 60_000);

  it("UNVERIFIED without a way to kill the service", async () => {
    const { ctx } = makeCheckContext({
      destructive: true,
      services: { api: { url: "http://127.0.0.1:1", health: "/healthz" } },
    });
    const [finding] = await check.run(ctx);
    expect(finding).toMatchObject({ status: "UNVERIFIED", subject: "api" });
    expect(finding!.toVerify).toMatch(/control/);
  });
});

describe.skipIf(!podman())("crashRecovered against podman containers", () => {
  const names: string[] = [];
  afterAll(async () => {
    for (const name of names) {
      await podman()!
        .docker.getContainer(name)
        .remove({ force: true })
        .catch(() => {});
    }
  });

  for (const [restart, status] of [
    ["always", "PASS"],
    ["no", "FAIL"],
  ] as const) {
    it(`restart policy ${restart} → ${status}`, async () => {
      const p = podman()!;
      const port = await freePort();
      const name = `gauntlet-test-crash-${restart}-${port}`;
      names.push(name);
      await httpContainer(p, name, port, restart);
      const input = {
        destructive: true,
        services: {
          web: {
            url: `http://127.0.0.1:${port}`,
            health: "/healthz",
            control: { container: { name, engine: "podman" as const, socket: p.socket } },
          },
        },
        resilience: {
          experiments: [{ name: "web-crash", target: "web", fault: "kill" as const, recoverWithin: "3s" }],
        },
      };
      const spec = specSchema.parse({ version: 1, system: { name: "c" }, ...input });
      const targets = buildTargets(spec, "/tmp", NO_TARGETS);
      const { ctx, rollbacks } = makeCheckContext(input, { targets });
      const [finding] = await check.run(ctx);
      await rollbacks.runAll();
      expect(finding, finding?.message).toMatchObject({ status, subject: "web" });
      expect(measurement(finding!, "time_to_detect")).toBeLessThan(2_000);
      if (status === "PASS") expect(measurement(finding!, "time_to_recover")).toBeLessThan(3_000);
      // Either way the container runs afterwards: recovered by itself, or started again by the rollback.
      expect(await targets.get("web")!.isRunning()).toBe(true);
    }, 60_000);
  }
});
