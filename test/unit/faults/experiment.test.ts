// The experiment engine with probes whose answer the test controls: detection and recovery times come from the
// journal, a system that is not steady is never faulted, a failed injection is reported and reverted, and a fault's
// undo waits for an injection still in flight.
import { describe, expect, it } from "vitest";
import { RollbackScope } from "../../../src/core/rollbacks.js";
import { runExperiment } from "../../../src/engines/experiments/experiment.js";
import { registerFault } from "../../../src/engines/experiments/fault.js";
import type { Probe } from "../../../src/engines/experiments/steadyState.js";

function switchProbe(): Probe & { healthy: boolean } {
  const probe = {
    name: "switch",
    healthy: true,
    run: async () => ({
      ok: probe.healthy,
      answered: true,
      latencyMs: 1,
      detail: probe.healthy ? "up" : "down",
    }),
  };
  return probe;
}

const signal = new AbortController().signal;

describe("runExperiment", () => {
  it("measures time to detect and time to recover", async () => {
    const probe = switchProbe();
    const result = await runExperiment({
      name: "blink",
      probes: [probe],
      inject: async () => {
        probe.healthy = false;
      },
      revert: async () => {
        setTimeout(() => {
          probe.healthy = true;
        }, 300);
      },
      holdMs: 200,
      recoverWithinMs: 2_000,
      intervalMs: 20,
      signal,
    });
    expect(result).toMatchObject({ steadyBefore: true, injected: true, recovered: true });
    expect(result.timeToDetectMs).toBeLessThan(50);
    expect(result.timeToRecoverMs).toBeGreaterThanOrEqual(280);
    expect(result.timeToRecoverMs).toBeLessThan(600);
    expect(result.failedProbes).toBeGreaterThan(5);
  });

  it("reports no recovery within the limit", async () => {
    const probe = switchProbe();
    const result = await runExperiment({
      name: "crash",
      probes: [probe],
      inject: async () => {
        probe.healthy = false;
      },
      holdMs: 0,
      recoverWithinMs: 300,
      intervalMs: 20,
      signal,
    });
    expect(result).toMatchObject({ recovered: false, timeToRecoverMs: null });
    expect(result.timeToDetectMs).not.toBeNull();
  });

  it("never injects into a system that is not steady", async () => {
    const probe = switchProbe();
    probe.healthy = false;
    let injected = false;
    const result = await runExperiment({
      name: "x",
      probes: [probe],
      inject: async () => {
        injected = true;
      },
      holdMs: 0,
      recoverWithinMs: 100,
      steadyWithinMs: 100,
      intervalMs: 20,
      signal,
    });
    expect(result.steadyBefore).toBe(false);
    expect(injected).toBe(false);
  });

  it("reports a failed injection and still reverts", async () => {
    let reverted = false;
    const result = await runExperiment({
      name: "x",
      probes: [switchProbe()],
      inject: async () => {
        throw new Error("no such container");
      },
      revert: async () => {
        reverted = true;
      },
      holdMs: 1_000,
      recoverWithinMs: 100,
      intervalMs: 20,
      signal,
    });
    expect(result.injected).toBe(false);
    expect(result.error).toMatch(/no such container/);
    expect(reverted).toBe(true);
  });
});

describe("registerFault", () => {
  it("undo waits for an injection in flight, so the fault cannot land after its undo", async () => {
    const scope = new RollbackScope("t");
    const events: string[] = [];
    const fault = registerFault(
      scope,
      signal,
      "undo",
      () => new Promise<void>((resolve) => setTimeout(() => resolve(void events.push("injected")), 100)),
      async () => {
        events.push("undone");
      },
    );
    const injecting = fault.inject();
    await scope.runAll(); // a cancellation arriving mid-injection
    await injecting;
    expect(events).toEqual(["injected", "undone"]);
  });

  it("refuses to inject once the signal has fired, and the undo is registered before", async () => {
    const scope = new RollbackScope("t");
    const controller = new AbortController();
    const fault = registerFault(
      scope,
      controller.signal,
      "undo",
      async () => {},
      async () => {},
    );
    expect(scope.pending).toBe(1);
    controller.abort();
    await expect(fault.inject()).rejects.toThrow(/cancelled/);
  });
});
