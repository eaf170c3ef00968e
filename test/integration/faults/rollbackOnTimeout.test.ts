// The runner's check timeout lands in the middle of a fault: the check is reported UNVERIFIED and its rollbacks
// still run, so the blackhole toxic it added is gone and the sturdy API is healthy again.

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import check from "../../../src/checks/resilience/dependencyOutageDegradesGracefully.js";
import { EvidenceStore } from "../../../src/core/evidence.js";
import { RollbackLedger } from "../../../src/core/rollbacks.js";
import { runPlan } from "../../../src/core/runner.js";
import { probeHttp } from "../../../src/engines/http/probe.js";
import { specSchema } from "../../../src/spec/schema.js";
import { startProxiedSystem } from "../../fixtures/services/system.js";
import { cleanupAfterEach } from "../../support/cleanups.js";

const onCleanup = cleanupAfterEach();

describe("rollback on a check timeout", () => {
  it("removes the toxic when the runner times the check out mid-fault", async () => {
    const setup = await startProxiedSystem("sturdy");
    onCleanup(setup.stop);
    const spec = specSchema.parse({
      version: 1,
      system: { name: "timeout" },
      ...setup.system.spec,
      resilience: {
        experiments: [{ name: "cache-outage", target: "cache", fault: "blackhole", duration: "60s" }],
      },
    });
    (spec.resilience as Record<string, unknown>).proxies = {
      cache: { api: setup.proxy.apiUrl, token: setup.proxy.token },
    };
    const short = { ...check, meta: { ...check.meta, timeoutMs: 2_000 } };
    let sawToxic = false;
    const watcher = setInterval(() => {
      if (setup.proxy.proxy.toxics().length > 0) sawToxic = true;
    }, 20);
    const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-timeout-"));
    const [result] = await runPlan({
      plan: [{ check: short, action: "run" }],
      spec,
      specPath: path.join(dir, "gauntlet.yaml"),
      evidence: new EvidenceStore(path.join(dir, "evidence")),
      ledger: new RollbackLedger(),
      allowDestructive: true,
      targets: setup.system.targets,
    });
    clearInterval(watcher);
    expect(sawToxic).toBe(true);
    expect(result).toMatchObject({ status: "UNVERIFIED", reason: expect.stringMatching(/timed out/) });
    expect(setup.proxy.proxy.toxics()).toEqual([]);
    const health = await probeHttp({ url: `${setup.system.apiUrl}/healthz`, timeoutMs: 2_000 });
    expect(health.ok && health.status).toBe(200);
  }, 30_000);
});
