// rolloutAbortsOnRegression against real nginx splitting by weights: a rehearsal that really makes the canary bad
// (a file the canary process watches: +400 ms, 8 % errors) must abort at step 1 with the rollback confirmed; one that
// changes nothing must FAIL, so the PASS could have failed. The shift back to 0 % and the rehearsal's undo are
// registered as rollbacks and leave the canary healthy and without traffic. rehearsal.latency goes through a real
// Gauntlet fault proxy in front of the canary (nginx's canary upstream is the proxy's listen port); its toxic is gone
// afterwards, and a proxy that nothing passes through gives UNVERIFIED, never PASS.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import check from "../../../src/checks/deployment/rolloutAbortsOnRegression.js";
import { startProxy, type TestProxy } from "../../fixtures/services/system.js";
import { makeCheckContext } from "../../support/checkContext.js";
import { cleanupAfterEach } from "../../support/cleanups.js";
import { recordObservation } from "../../support/judgeFixtures.js";
import { rolloutSpec, startSplitter, versionsAnswering } from "../../support/rolloutSplitter.js";

const onCleanup = cleanupAfterEach();

async function setUp() {
  const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-rehearsal-"));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const badFile = path.join(dir, "canary-is-bad");
  const splitter = await startSplitter(onCleanup, {
    stable: { latencyMs: 20 },
    canary: { latencyMs: 20, badFile },
  });
  const spec = (rehearsal: { command: string; undo: string }) => ({
    ...rolloutSpec(splitter, "rehearsal", { steps: [10, 100], rehearsal }),
    destructive: true,
  });
  return { splitter, badFile, spec };
}

describe("rolloutAbortsOnRegression", () => {
  it("PASSes when the rehearsed regression aborts step 1 and the rollback is confirmed", async () => {
    const { splitter, badFile, spec } = await setUp();
    const input = spec({ command: `touch ${badFile}`, undo: `rm -f ${badFile}` });
    const t = makeCheckContext(input, { checkId: check.meta.id });
    const observation = await check.observe(t.ctx);
    expect(await t.rollbacks.runAll()).toEqual([]);
    recordObservation(check.meta.id, "ok.aborted-confirmed", observation, input);
    const [finding] = check.judge(observation, t.ctx.spec);
    expect([finding?.status, finding?.messageId], finding?.message).toEqual(["PASS", "aborted"]);
    expect(finding?.message).toMatch(/p\(99\)/);
    expect(existsSync(badFile)).toBe(false);
    expect(splitter.canaryOff()).toBe(true);
    expect((await versionsAnswering(splitter.entryUrl, 30)).canary).toBeUndefined();
  }, 60_000);

  it("FAILs when the rehearsal leaves the canary healthy: the first analysis passes it", async () => {
    const { splitter, spec } = await setUp();
    const input = spec({ command: "true", undo: "true" });
    const t = makeCheckContext(input, { checkId: check.meta.id });
    const observation = await check.observe(t.ctx);
    // The rollout completed its one step and left the canary at 10 %: only the registered rollback takes it back.
    expect(splitter.canaryOff()).toBe(false);
    expect(await t.rollbacks.runAll()).toEqual([]);
    recordObservation(check.meta.id, "ng.not-detected", observation, input);
    const [finding] = check.judge(observation, t.ctx.spec);
    expect([finding?.status, finding?.messageId], finding?.message).toEqual(["FAIL", "notDetected"]);
    expect(splitter.canaryOff()).toBe(true);
  }, 60_000);

  it("PASSes with rehearsal.latency 400ms through the canary's fault proxy, and removes the toxic", async () => {
    const { splitter, proxy, spec } = await setUpProxied({ nginxThroughProxy: true });
    const t = makeCheckContext(spec, { checkId: check.meta.id });
    const observation = await check.observe(t.ctx);
    // The toxic was really there during the step, and only the registered rollback removes it.
    expect((await toxicsAt(proxy)).map((x) => x.name)).toEqual(["gauntlet-rollout-rehearsal"]);
    expect(await t.rollbacks.runAll()).toEqual([]);
    expect(await toxicsAt(proxy)).toEqual([]);
    recordObservation(check.meta.id, "ok.aborted-latency", observation, spec);
    const [finding] = check.judge(observation, t.ctx.spec);
    expect([finding?.status, finding?.messageId], finding?.message).toEqual(["PASS", "aborted"]);
    expect(finding?.message).toContain(`(+400 ms at proxy control API ${proxy.apiUrl})`);
    expect(finding?.message).toMatch(/p\(99\)/);
    expect(observation).toMatchObject({ kind: "ran", how: "latency", outcome: "aborted" });
    expect(splitter.canaryOff()).toBe(true);
    expect((await versionsAnswering(splitter.entryUrl, 30)).canary).toBeUndefined();
  }, 30_000);

  it("UNVERIFIED when neither nginx nor services.canary.url go through the proxy: the latency reached nobody", async () => {
    const { proxy, spec } = await setUpProxied({ nginxThroughProxy: false });
    const t = makeCheckContext(spec, { checkId: check.meta.id });
    const observation = await check.observe(t.ctx);
    expect(await t.rollbacks.runAll()).toEqual([]);
    expect(await toxicsAt(proxy)).toEqual([]);
    recordObservation(check.meta.id, "unverified.proxy-unused", observation, spec);
    const [finding] = check.judge(observation, t.ctx.spec);
    expect([finding?.status, finding?.messageId], finding?.message).toEqual(["UNVERIFIED", "proxyUnused"]);
    expect(finding?.toVerify).toMatch(/proxy's listen address/);
  }, 30_000);
});

/** A healthy canary behind a fault proxy (or beside it, unused), with rehearsal.latency: 400ms through its API. */
async function setUpProxied(options: { nginxThroughProxy: boolean }) {
  let proxy: TestProxy | undefined;
  const splitter = await startSplitter(
    onCleanup,
    { stable: { latencyMs: 20 }, canary: { latencyMs: 20 } },
    {
      canaryFront: async (canaryPort) => {
        proxy = await startProxy(canaryPort);
        onCleanup(() => proxy?.close());
        return options.nginxThroughProxy ? proxy.listenPort : canaryPort;
      },
    },
  );
  const spec = {
    ...rolloutSpec(splitter, "rehearsal", { steps: [10, 100], rehearsal: { latency: "400ms" } }),
    destructive: true,
    resilience: { proxies: { canary: { api: proxy!.apiUrl, token: proxy!.token } } },
  };
  return { splitter, proxy: proxy!, spec };
}

/** The toxics the proxy's own control API lists. */
async function toxicsAt(proxy: TestProxy): Promise<{ name: string }[]> {
  const response = await fetch(`${proxy.apiUrl}/toxics`, {
    headers: { authorization: `Bearer ${proxy.token}` },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { name: string }[];
}
