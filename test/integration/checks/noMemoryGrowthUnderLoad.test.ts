import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import check from "../../../src/checks/performance/noMemoryGrowthUnderLoad.js";
import type { ServiceTarget } from "../../../src/engines/faults/targets/target.js";
import { makeCheckContext } from "../../support/checkContext.js";
import { cleanupAfterEach } from "../../support/cleanups.js";

const SERVER = path.resolve(import.meta.dirname, "../../fixtures/load/memoryServer.mjs");
const onCleanup = cleanupAfterEach();

async function startServer(leakBytes: number): Promise<{ url: string; pid: number }> {
  const child = spawn(process.execPath, [SERVER], {
    env: { LEAK_BYTES: String(leakBytes) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  onCleanup(() => {
    child.kill("SIGKILL");
  });
  const port = await new Promise<string>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`memoryServer exited with ${code} before listening`)));
    child.stdout!.once("data", (d: Buffer) => resolve(d.toString().trim()));
  });
  return { url: `http://127.0.0.1:${port}`, pid: child.pid! };
}

function specFor(url: string, maxGrowth: string, metrics = true) {
  return {
    destructive: true,
    services: { api: { url, ...(metrics ? { metrics: "/metrics" } : {}) } },
    performance: {
      target: "api",
      stages: [{ name: "steady", connections: 2, duration: "1s" }],
      endurance: { duration: "2s", maxMemoryGrowth: maxGrowth },
    },
  };
}

/** A target whose memory is the child's real RSS, read from /proc. */
function procTarget(pid: number): ServiceTarget {
  const unsupported = async () => {
    throw new Error("not in this test");
  };
  return {
    service: "api",
    kind: "process",
    isRunning: async () => true,
    kill: unsupported,
    stop: unsupported,
    start: unsupported,
    restart: unsupported,
    pause: unsupported,
    resume: unsupported,
    pid: async () => pid,
    memoryBytes: async () => {
      const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      return match ? Number(match[1]) * 1024 : undefined;
    },
  };
}

describe("noMemoryGrowthUnderLoad", () => {
  it("fails a server that keeps memory per request (metrics endpoint)", async () => {
    const { url } = await startServer(32 * 1024);
    const { ctx, readEvidence } = makeCheckContext(specFor(url, "20MB"));
    const [finding] = await check.run(ctx);
    expect([finding!.subject, finding!.status, finding!.messageId]).toEqual(["api", "FAIL", "grows"]);
    const growth = finding!.measurements!.find((m) => m.name === "memory growth")!.value;
    expect(growth).toBeGreaterThan(20 * 1024 * 1024);
    const evidence = JSON.parse(readEvidence(finding!.evidence![0]!));
    expect(evidence.samples.length).toBeGreaterThanOrEqual(5);
    expect(evidence.load.requests).toBeGreaterThan(0);
  });

  it("passes a flat server, reading memory from its target", async () => {
    const { url, pid } = await startServer(0);
    const target = procTarget(pid);
    const { ctx } = makeCheckContext(specFor(url, "40MB", false), { targets: { get: () => target } });
    const observation = await check.observe(ctx);
    expect(observation.source).toBe("process target memory");
    const [finding] = check.judge(observation, ctx.spec);
    expect([finding!.subject, finding!.status, finding!.messageId], finding!.message).toEqual([
      "api",
      "PASS",
      "flat",
    ]);
  });

  it("is UNVERIFIED without any memory source", async () => {
    const { url } = await startServer(0);
    const { ctx } = makeCheckContext(specFor(url, "40MB", false));
    const [finding] = await check.run(ctx);
    expect([finding!.subject, finding!.status, finding!.messageId]).toEqual([
      "api",
      "UNVERIFIED",
      "noMemorySource",
    ]);
    expect(finding!.toVerify).toMatch(/control/);
  });
});
