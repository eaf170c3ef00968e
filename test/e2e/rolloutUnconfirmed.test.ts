// `gauntlet rollout` whose rollback does not take (rollout.rollback: "true" leaves nginx giving the canary 10 %): the
// confirmation must see the canary still answering at the entry, by its x-version header or by its own request
// counter, and the command must exit 2, never 1. Each waits out the 30 s confirmation window (confirmZero.ts), so the
// two run side by side, each with its own splitter and cleanups.
import { describe, expect, it } from "vitest";
import {
  startRollout,
  startSplitter,
  versionsAnswering,
  writeRolloutSpec,
} from "../support/rolloutSplitter.js";

const BASE_LATENCY_MS = 20;

describe.concurrent("gauntlet rollout whose rollback does not take", () => {
  for (const method of ["header", "counter"] as const) {
    it(`exits 2 and says the canary still answered (${method})`, async ({ onTestFinished }) => {
      const onCleanup = (undo: () => Promise<void> | void) => onTestFinished(undo);
      const splitter = await startSplitter(onCleanup, {
        stable: { latencyMs: BASE_LATENCY_MS },
        canary: { latencyMs: BASE_LATENCY_MS + 400, errorRate: 0.08 },
      });
      const spec = writeRolloutSpec(onCleanup, splitter, "rollout-unconfirmed", {
        rollback: "true",
        steps: [10, 100],
        identify: method === "header" ? { header: "x-version", value: "canary" } : undefined,
      });
      const cli = startRollout(onCleanup, spec);
      const run = await cli.done;
      expect(run.code, run.stderr).toBe(2);
      const result = JSON.parse(run.stdout);
      expect(result.outcome).toBe("aborted");
      expect(result.stopped.step).toBe(1);
      // The rollback command itself succeeded: only the measurement at the entry shows it did nothing.
      expect(result.rollback.run).toMatchObject({ kind: "rollback", ok: true });
      expect(result.rollback.ok).toBe(false);
      expect(result.rollback.confirmation).toMatchObject({ method, status: "canaryAnswered" });
      expect(result.rollback.confirmation.message).toMatch(
        /the rollback did not take: [1-9]\d* of \d+ answers at entry still came from canary after 30 s/,
      );
      expect(
        result.rollback.confirmation.bursts.every((b: { canaryAnswers: number }) => b.canaryAnswers > 0),
      ).toBe(true);
      // And it is true: nginx still gives the canary its share.
      expect(splitter.canaryOff()).toBe(false);
      expect((await versionsAnswering(splitter.entryUrl, 50)).canary).toBeGreaterThan(0);
    }, 60_000);
  }
});
