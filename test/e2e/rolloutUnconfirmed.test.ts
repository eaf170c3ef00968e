// `gauntlet rollout` whose rollback does not take (rollout.rollback: "true" leaves nginx giving the canary 10 %): the
// confirmation must see the canary still answering at the entry, by its x-version header or by its own request
// counter, and the command must exit 2, never 1. Each waits out the 30 s confirmation window (confirmZero.ts), so the
// two run side by side, each with its own splitter and cleanups.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { startCli } from "../support/cli.js";
import { startSplitter, versionsAnswering } from "../support/rolloutSplitter.js";

const BASE_LATENCY_MS = 20;

describe.concurrent("gauntlet rollout whose rollback does not take", () => {
  for (const method of ["header", "counter"] as const) {
    it(`exits 2 and says the canary still answered (${method})`, async ({ onTestFinished }) => {
      const onCleanup = (undo: () => Promise<void> | void) => onTestFinished(undo);
      const splitter = await startSplitter(onCleanup, {
        stable: { latencyMs: BASE_LATENCY_MS },
        canary: { latencyMs: BASE_LATENCY_MS + 400, errorRate: 0.08 },
      });
      const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-rollout-"));
      onCleanup(() => rmSync(dir, { recursive: true, force: true }));
      const spec = path.join(dir, "gauntlet.yaml");
      writeFileSync(
        spec,
        stringify({
          version: 1,
          system: { name: "rollout-unconfirmed" },
          services: {
            entry: { url: splitter.entryUrl },
            stable: { url: splitter.stableUrl, metrics: "/metrics" },
            canary: { url: splitter.canaryUrl, metrics: "/metrics" },
          },
          rollout: {
            service: "entry",
            baseline: "stable",
            canary: "canary",
            shift: splitter.shiftCommand,
            rollback: "true",
            steps: [10, 100],
            bake: "3s",
            rollbackOn: ["p(99)>300ms", "errors>5%"],
            ...(method === "header" ? { identify: { header: "x-version", value: "canary" } } : {}),
            analysis: { rate: 50, sampleRate: 25, minSamples: 40 },
            timeout: "10s",
          },
        }),
      );
      const cli = startCli(["rollout", spec, "--json"], { cwd: dir });
      onCleanup(() => {
        if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill("SIGKILL");
      });
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
