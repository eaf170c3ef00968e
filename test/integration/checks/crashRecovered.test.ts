// crashRecovered against real processes: the sturdy API runs under Gauntlet's restarting supervisor and comes back
// after SIGKILL — and the finding says the restart was Gauntlet's, with the fresh start's time to healthy; the fragile
// one has none and stays down — FAIL with the measured figures — and the rollback restarts it. Redis, a datastore, is
// crashed too (watched by PING) unless the spec excludes it with a reason; an experiment list that names only other
// faults does not switch the crash tests off.
import { afterAll, afterEach, describe, expect, it } from "vitest";
import check from "../../../src/checks/resilience/crashRecovered.js";
import { buildTargets } from "../../../src/engines/faults/targets/registry.js";
import { NO_TARGETS } from "../../../src/engines/faults/targets/target.js";
import { specSchema } from "../../../src/spec/schema.js";
import { freePort, startSystem, type TestSystem } from "../../fixtures/services/system.js";
import { makeCheckContext } from "../../support/checkContext.js";
import { recordObservation } from "../../support/judgeFixtures.js";
import { httpContainer, podman } from "../../support/podman.js";

let system: TestSystem | undefined;
afterEach(async () => {
  await system?.stop();
  system = undefined;
});

const measurement = (finding: { measurements?: { name: string; value: number }[] }, name: string) =>
  finding.measurements?.find((m) => m.name === name)?.value;

const EXCLUDE_CACHE = {
  exclude: [{ check: "crashRecovered", subject: "cache", reason: "test Redis runs unsupervised on purpose" }],
};

describe("crashRecovered", () => {
  it("PASS: the supervised sturdy API is healthy again; the restart was Gauntlet's supervisor's", async () => {
    system = await startSystem("sturdy");
    const pidBefore = await system.targets.get("api")!.pid();
    const spec = { ...system.spec, resilience: EXCLUDE_CACHE };
    const { ctx, rollbacks, readEvidence } = makeCheckContext(spec, { targets: system.targets });
    const observation = await check.observe(ctx);
    await rollbacks.runAll();
    recordObservation("crashRecovered", "ok.supervised-restart", observation, spec);
    const findings = check.judge(observation, ctx.spec);
    expect(findings.map((f) => [f.subject, f.status, f.messageId])).toEqual([
      ["cache", "NA", "excluded"],
      ["api", "PASS", "recoveredBySupervisor"],
    ]);
    const finding = findings[1];
    expect(finding!.message).toMatch(/Gauntlet's own supervisor/);
    expect(measurement(finding!, "start_to_healthy")).toBeGreaterThan(0);
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
    const spec = {
      ...system.spec,
      resilience: {
        ...EXCLUDE_CACHE,
        experiments: [{ name: "api-crash", target: "api", fault: "kill" as const, recoverWithin: "2s" }],
      },
    };
    const { ctx, rollbacks } = makeCheckContext(spec, { targets: system.targets });
    const observation = await check.observe(ctx);
    recordObservation("crashRecovered", "ng.unsupervised", observation, spec);
    const findings = check.judge(observation, ctx.spec);
    const finding = findings.find((f) => f.subject === "api");
    expect(finding).toMatchObject({ status: "FAIL", subject: "api", messageId: "notRecovered" });
    expect(finding!.message).toMatch(/not healthy again within 2\.00 s/);
    expect(measurement(finding!, "time_to_detect")).toBeLessThan(1_000);
    expect(measurement(finding!, "time_to_recover")).toBeUndefined();
    expect(measurement(finding!, "recover_limit")).toBe(2_000);
    // The check already ran its rollback: the service is running again.
    expect(await system.targets.get("api")!.isRunning()).toBe(true);
    expect(rollbacks.pending).toBe(0);
  }, 60_000);

  it("still crashes every service when the experiment list names only other faults; Redis is judged by PING", async () => {
    system = await startSystem("sturdy");
    const spec = {
      ...system.spec,
      resilience: { experiments: [{ name: "cache-blink", target: "cache", fault: "restart" as const }] },
    };
    const { ctx, rollbacks } = makeCheckContext(spec, { targets: system.targets });
    expect(check.applies(ctx.spec, { allowDestructive: true })).toBe(true);
    const findings = await check.run(ctx);
    await rollbacks.runAll();
    // The test Redis has no supervisor: nothing brings it back, which is the truth of this system.
    expect(findings.map((f) => [f.subject, f.status, f.messageId])).toEqual([
      ["cache", "FAIL", "notRecovered"],
      ["api", "PASS", "recoveredBySupervisor"],
    ]);
    expect(findings[0]!.message).toMatch(/process kill/);
    expect(await system.targets.get("cache")!.isRunning()).toBe(true); // the rollback started it again
  }, 60_000);

  it("UNVERIFIED without a way to kill the service", async () => {
    const { ctx } = makeCheckContext({
      destructive: true,
      services: { api: { url: "http://127.0.0.1:1", health: "/healthz" } },
    });
    const [finding] = await check.run(ctx);
    expect(finding).toMatchObject({ status: "UNVERIFIED", subject: "api", messageId: "noMethod" });
    expect(finding!.toVerify).toMatch(/control/);
  });
});

describe("crashRecovered against podman containers", () => {
  const names: string[] = [];
  afterAll(async () => {
    for (const name of names) {
      await podman()
        ?.docker.getContainer(name)
        .remove({ force: true })
        .catch(() => {});
    }
  });

  for (const [restart, status] of [
    ["always", "PASS"],
    ["no", "FAIL"],
  ] as const) {
    it(`restart policy ${restart} → ${status}`, async () => {
      const p = podman();
      if (!p)
        throw new Error("podman cannot run here (see stderr): scripts/install-test-deps.sh installs it");
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

describe("crashRecovered on control.commands without a pid command", () => {
  it("starts a killed Redis again: the rollback asks the probe, since the target cannot tell", async () => {
    const { startRedis } = await import("../../support/datastores.js");
    const cleanups: (() => Promise<void> | void)[] = [];
    try {
      const redis = await startRedis((undo) => cleanups.push(undo));
      // kill and start only: Gauntlet cannot look whether it runs.
      const commands = { kill: redis.commands.kill, start: redis.commands.start };
      const input = {
        destructive: true,
        services: { cache: { kind: "redis" as const, url: redis.url, control: { commands } } },
        resilience: {
          experiments: [{ name: "c", target: "cache", fault: "kill" as const, recoverWithin: "2s" }],
        },
      };
      const spec = specSchema.parse({ version: 1, system: { name: "c" }, ...input });
      const targets = buildTargets(spec, "/tmp", NO_TARGETS);
      const { ctx, rollbacks } = makeCheckContext(input, { targets });
      const [finding] = await check.run(ctx);
      await rollbacks.runAll();
      // Nothing restarts it by itself: a FAIL, and afterwards it answers again because the rollback started it.
      expect(finding, finding?.message).toMatchObject({ status: "FAIL", messageId: "notRecovered" });
      const { datastoreProbe } = await import("../../../src/engines/datastores/probe.js");
      const after = await datastoreProbe("cache", "redis", redis.url).run(new AbortController().signal);
      expect(after.ok).toBe(true);
    } finally {
      for (const undo of cleanups.reverse()) await undo();
    }
  }, 60_000);
});
