// `gauntlet rollout` through the built CLI against real nginx splitting its upstream by weights between a stable and a
// canary node process (test/support/rolloutSplitter.ts). A bad canary is stopped at its first step and shifted back
// (confirmed by the x-version header, or without it by the canary's request counter), a healthy one reaches 100 %, a
// rollout interrupted by SIGINT or SIGTERM ends at 0 %, and a step that cannot gather enough samples stays inconclusive
// and never advances. A rollback that does not take is in rolloutUnconfirmed.test.ts.
import path from "node:path";
import { describe, expect, it } from "vitest";
import { cleanupAfterEach } from "../support/cleanups.js";
import { startCli } from "../support/cli.js";
import {
  type RunningSplitter,
  startRollout,
  startSplitter,
  versionsAnswering,
  writeRolloutSpec,
} from "../support/rolloutSplitter.js";

const onCleanup = cleanupAfterEach();
/** Both versions take this long, so loopback jitter is small beside it and a healthy canary compares as equal. */
const BASE_LATENCY_MS = 20;

const writeSpec = (splitter: RunningSplitter, rollout: Record<string, unknown>) =>
  writeRolloutSpec(onCleanup, splitter, "rollout-e2e", rollout);
const rollout = (spec: string, args: string[] = []) => startRollout(onCleanup, spec, args);

describe("gauntlet rollout through nginx weights", () => {
  it("stops a canary with +400 ms and 8 % errors at its first step, shifted back to 0 % (confirmed)", async () => {
    const splitter = await startSplitter(onCleanup, {
      stable: { latencyMs: BASE_LATENCY_MS },
      canary: { latencyMs: BASE_LATENCY_MS + 400, errorRate: 0.08 },
    });
    const spec = writeSpec(splitter, { steps: [10, 50, 100] });
    const run = await rollout(spec).done;
    expect(run.code, run.stderr).toBe(1);
    const result = JSON.parse(run.stdout);
    expect(result.outcome).toBe("aborted");
    expect(result.steps).toHaveLength(1);
    expect(result.steps[0].verdict).toBe("FAIL");
    expect(result.stopped.step).toBe(1);
    // The failing figure and the threshold it broke are named.
    expect(result.stopped.message).toMatch(/p\(99\)/);
    expect(result.stopped.message).toMatch(/300/);
    expect(result.rollback.ok).toBe(true);
    expect(result.rollback.confirmation).toMatchObject({ method: "header", status: "confirmed" });
    expect(splitter.canaryOff()).toBe(true);
    expect((await versionsAnswering(splitter.entryUrl, 50)).canary).toBeUndefined();
    // The table names it too.
    const table = await startCli(["rollout", spec], { cwd: path.dirname(spec) }).done;
    expect(table.code).toBe(1);
    expect(table.stdout).toMatch(/rollout aborted at step 1 \(10%\): .*p\(99\)/);
  }, 60_000);

  it("confirms the rollback by the canary's own request counter when rollout.identify is not set", async () => {
    const splitter = await startSplitter(onCleanup, {
      stable: { latencyMs: BASE_LATENCY_MS },
      canary: { latencyMs: BASE_LATENCY_MS + 400, errorRate: 0.08 },
    });
    const spec = writeSpec(splitter, { steps: [10, 100], identify: undefined });
    const run = await rollout(spec).done;
    expect(run.code, run.stderr).toBe(1);
    const result = JSON.parse(run.stdout);
    expect(result.outcome).toBe("aborted");
    expect(result.stopped.step).toBe(1);
    expect(result.rollback.ok).toBe(true);
    expect(result.rollback.confirmation).toMatchObject({ method: "counter", status: "confirmed" });
    expect(result.rollback.confirmation.message).toMatch(
      /confirmed: \d+ of \d+ requests to entry answered and the canary's request counter rose by \d+ against \d+/,
    );
    // The counter was really read around each burst (figures are kept), and the last burst saw no canary answer.
    const last = result.rollback.confirmation.bursts.at(-1);
    expect(last.counterRise).toBeTypeOf("number");
    expect(last.canaryAnswers).toBe(0);
    expect(splitter.canaryOff()).toBe(true);
    expect((await versionsAnswering(splitter.entryUrl, 50)).canary).toBeUndefined();
  }, 30_000);

  it("rolls a healthy canary out to 100 % with exit 0", async () => {
    const splitter = await startSplitter(onCleanup, {
      stable: { latencyMs: BASE_LATENCY_MS },
      canary: { latencyMs: BASE_LATENCY_MS },
    });
    const spec = writeSpec(splitter, { steps: [25, 100] });
    const run = await rollout(spec).done;
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.outcome).toBe("completed");
    expect(result.steps.map((s: { verdict: string }) => s.verdict)).toEqual(["PASS", "PASS"]);
    expect(result.reachedPercent).toBe(100);
    expect(result.rollback).toBeUndefined();
    // At 100 % the entry is served by the canary alone.
    expect(await versionsAnswering(splitter.entryUrl, 20)).toEqual({ canary: 20 });
  }, 60_000);

  it("ends at 0 % when interrupted mid-bake (SIGINT), exit 130", async () => {
    const splitter = await startSplitter(onCleanup, {
      stable: { latencyMs: BASE_LATENCY_MS },
      canary: { latencyMs: BASE_LATENCY_MS },
    });
    const spec = writeSpec(splitter, { steps: [50, 100], bake: "30s" });
    const run = rollout(spec);
    // The shift to 50 % has run once nginx's config gives the canary traffic: the bake is under way.
    const deadline = Date.now() + 20_000;
    while (splitter.canaryOff() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(splitter.canaryOff()).toBe(false);
    await new Promise((r) => setTimeout(r, 1_000));
    run.child.kill("SIGINT");
    const done = await run.done;
    expect(done.code, done.stderr).toBe(130);
    const result = JSON.parse(done.stdout);
    expect(result.outcome).toBe("interrupted");
    expect(result.rollback.confirmation.status).toBe("confirmed");
    expect(splitter.canaryOff()).toBe(true);
    expect((await versionsAnswering(splitter.entryUrl, 50)).canary).toBeUndefined();
  }, 60_000);

  it("ends at 0 % when terminated mid-bake (SIGTERM), like SIGINT: exit 130", async () => {
    const splitter = await startSplitter(onCleanup, {
      stable: { latencyMs: BASE_LATENCY_MS },
      canary: { latencyMs: BASE_LATENCY_MS },
    });
    const spec = writeSpec(splitter, { steps: [50, 100], bake: "30s" });
    const run = rollout(spec);
    const deadline = Date.now() + 20_000;
    while (splitter.canaryOff() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(splitter.canaryOff()).toBe(false);
    // The canary really answers at the entry before the signal: the burst afterwards could have seen it.
    expect((await versionsAnswering(splitter.entryUrl, 20)).canary).toBeGreaterThan(0);
    run.child.kill("SIGTERM");
    const done = await run.done;
    expect(done.code, done.stderr).toBe(130);
    const result = JSON.parse(done.stdout);
    expect(result.outcome).toBe("interrupted");
    expect(result.steps).toHaveLength(1);
    expect(result.steps[0].verdict).toBe("INTERRUPTED");
    expect(result.rollback.run.ok).toBe(true);
    expect(result.rollback.confirmation).toMatchObject({ method: "header", status: "confirmed" });
    expect(splitter.canaryOff()).toBe(true);
    expect((await versionsAnswering(splitter.entryUrl, 50)).canary).toBeUndefined();
  }, 30_000);

  it("keeps a step with too few samples INCONCLUSIVE: it never advances", async () => {
    const splitter = await startSplitter(onCleanup, {
      stable: { latencyMs: BASE_LATENCY_MS },
      canary: { latencyMs: BASE_LATENCY_MS },
    });
    // 25 samples/s for 2 s is about 50 per side: far below minSamples.
    const spec = writeSpec(splitter, {
      steps: [20, 100],
      bake: "2s",
      analysis: { rate: 50, sampleRate: 25, minSamples: 1000 },
    });
    const run = await rollout(spec).done;
    const result = JSON.parse(run.stdout);
    expect(result.outcome).toBe("inconclusive");
    expect(result.steps).toHaveLength(1);
    expect(result.steps[0].verdict).toBe("INCONCLUSIVE");
    expect(result.steps[0].analyses.map((a: { verdict: string }) => a.verdict)).toEqual([
      "INCONCLUSIVE",
      "INCONCLUSIVE",
      "INCONCLUSIVE",
    ]);
    expect(result.reachedPercent).toBe(20);
    expect(run.code).toBe(1);
    expect(splitter.canaryOff()).toBe(true);
  }, 60_000);
});
