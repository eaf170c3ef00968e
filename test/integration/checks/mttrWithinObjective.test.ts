// mttrWithinObjective against real supervised processes. Through the real runner, crashRecovered kills the sturdy
// API (Gauntlet's supervisor restarts it) and mttrWithinObjective reuses that very run (one crash, its journal cited)
// to judge the SLOs: within a generous mttr = PASS, with no mttr = WARN. Alone (as with --only) it runs the crash
// itself, and a 100 ms objective = FAIL; the unsupervised fragile API never comes back = FAIL.
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import crashRecovered from "../../../src/checks/resilience/crashRecovered.js";
import check from "../../../src/checks/resilience/mttrWithinObjective.js";
import { EvidenceStore } from "../../../src/core/evidence.js";
import { planChecks } from "../../../src/core/planner.js";
import { RollbackLedger } from "../../../src/core/rollbacks.js";
import { runPlan } from "../../../src/core/runner.js";
import { type SpecInput, specSchema } from "../../../src/spec/schema.js";
import { startSystem, type TestSystem } from "../../fixtures/services/system.js";
import { makeCheckContext } from "../../support/checkContext.js";
import { recordObservation } from "../../support/judgeFixtures.js";

let system: TestSystem | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await system?.stop();
  system = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const OTHER_CHECKS = [
  "dependencyBlinkSurvived",
  "dependencyLatencyTolerated",
  "dependencyOutageDegradesGracefully",
  "overloadShedGracefully",
  "writesSurviveCrash",
];
/** Only the API's crash: the other experiments are the other checks' tests; the test Redis is unsupervised. */
const ONLY_API_CRASH = {
  exclude: [
    ...OTHER_CHECKS.map((c) => ({ check: c, reason: "tested in its own file" })),
    { check: "crashRecovered", subject: "cache", reason: "test Redis runs unsupervised on purpose" },
  ],
};

const slos = (mttr?: string): SpecInput["slos"] => [
  { name: "api-availability", service: "api", objective: "99.9%", window: "30d", ...(mttr ? { mttr } : {}) },
];

const measurement = (f: { measurements?: { name: string; value: number }[] } | undefined, name: string) =>
  f?.measurements?.find((m) => m.name === name)?.value;

describe("mttrWithinObjective", () => {
  it("reuses crashRecovered's run in the same assessment: PASS within mttr, WARN with none declared", async () => {
    system = await startSystem("sturdy");
    const input = {
      ...system.spec,
      resilience: ONLY_API_CRASH,
      slos: [...slos("30s")!, { name: "api-latency", service: "api", objective: "99%", window: "7d" }],
    };
    const spec = specSchema.parse({ version: 1, system: { name: "sturdy-shop" }, ...input });
    const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-mttr-"));
    dirs.push(dir);
    const evidenceDir = path.join(dir, "evidence");
    const results = await runPlan({
      plan: planChecks([crashRecovered, check], spec, { allowDestructive: true }),
      spec,
      specPath: path.join(dir, "gauntlet.yaml"),
      evidence: new EvidenceStore(evidenceDir),
      ledger: new RollbackLedger(),
      allowDestructive: true,
      targets: system.targets,
    });
    // The plan keeps the registry's order: crashRecovered runs first, its crash is the one mttr judges.
    expect(results.map((r) => r.checkId)).toEqual(["crashRecovered", "mttrWithinObjective"]);
    const crash = results.find((r) => r.checkId === "crashRecovered")!;
    const mttr = results.find((r) => r.checkId === "mttrWithinObjective")!;
    expect(crash.findings.map((f) => [f.subject, f.status])).toEqual([
      ["cache", "NA"],
      ["api", "PASS"],
    ]);
    expect(mttr.findings.map((f) => [f.subject, f.status, f.messageId])).toEqual([
      ["api", "PASS", "withinObjective"],
      ["api", "WARN", "noObjective"],
    ]);
    // One crash in the whole assessment: one journal, and both checks cite it.
    const journals = readdirSync(evidenceDir, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith("-crash.json"));
    expect(journals).toHaveLength(1);
    const apiCrash = crash.findings.find((f) => f.subject === "api")!;
    expect(mttr.findings[0]!.evidence).toContain(apiCrash.evidence![0]);
    // The outage is the crash's detection + recovery, from the same journal.
    const detect = measurement(apiCrash, "time_to_detect")!;
    const recover = measurement(apiCrash, "time_to_recover")!;
    const outage = measurement(mttr.findings[0], "mttr api-crash")!;
    expect(outage).toBeGreaterThan(0);
    expect(outage).toBeGreaterThanOrEqual(recover);
    expect(outage).toBeLessThanOrEqual(recover + detect + 1_000);
    expect(mttr.findings[0]!.message).toMatch(/≤ mttr 30\.0 s/);
    expect(mttr.findings[1]!.message).toMatch(/no slos\[\]\.mttr is declared/);
  }, 60_000);

  it("alone (--only), it runs the crash itself: an outage longer than a 100 ms mttr = FAIL naming the experiment", async () => {
    system = await startSystem("sturdy");
    const spec = { ...system.spec, resilience: ONLY_API_CRASH, slos: slos("100ms") };
    const { ctx, rollbacks } = makeCheckContext(spec, {
      targets: system.targets,
      checkId: "mttrWithinObjective",
    });
    const observation = await check.observe(ctx);
    await rollbacks.runAll();
    recordObservation("mttrWithinObjective", "ng.over-objective", observation, spec);
    recordObservation("mttrWithinObjective", "ok.within-objective", observation, {
      ...spec,
      slos: slos("30s"),
    });
    const [finding] = check.judge(observation, ctx.spec);
    expect(finding).toMatchObject({ subject: "api", status: "FAIL", messageId: "overObjective" });
    expect(finding!.message).toMatch(
      /api-crash: fault .*, detected after .*, healthy .* after it ended = .* > mttr 100 ms/,
    );
    expect(finding!.data).toMatchObject({ experiment: "api-crash", objective: "100 ms" });
    expect(measurement(finding, "mttr api-crash")).toBeGreaterThan(100);
    // The only experiment run is the API's crash; the excluded ones are kept, not run.
    const run = observation.experiments.filter((e) => !e.record.skipped);
    expect(run.map((e) => [e.checkId, e.record.experiment.name])).toEqual([["crashRecovered", "api-crash"]]);
  }, 60_000);

  it("FAIL when the fault is never recovered from: the fragile API stays down after its crash", async () => {
    system = await startSystem("fragile");
    const spec = {
      ...system.spec,
      resilience: {
        ...ONLY_API_CRASH,
        experiments: [{ name: "api-crash", target: "api", fault: "kill" as const, recoverWithin: "2s" }],
      },
      slos: slos("30s"),
    };
    const { ctx, rollbacks } = makeCheckContext(spec, { targets: system.targets });
    const observation = await check.observe(ctx);
    await rollbacks.runAll();
    const [finding] = check.judge(observation, ctx.spec);
    expect(finding).toMatchObject({ subject: "api", status: "FAIL", messageId: "notRecovered" });
    expect(finding!.message).toMatch(/not healthy again within 2\.00 s/);
    // The crash's own rollback started it again.
    expect(await system.targets.get("api")!.isRunning()).toBe(true);
  }, 60_000);

  it("UNVERIFIED when no experiment can measure the SLO's service (no control)", async () => {
    const spec = {
      destructive: true,
      services: { api: { url: "http://127.0.0.1:1", health: "/healthz" } },
      resilience: { exclude: OTHER_CHECKS.map((c) => ({ check: c, reason: "tested in its own file" })) },
      slos: slos("1m"),
    };
    const { ctx } = makeCheckContext(spec);
    const observation = await check.observe(ctx);
    recordObservation("mttrWithinObjective", "ng.nothing-measured", observation, spec);
    const [finding] = check.judge(observation, ctx.spec);
    expect(finding).toMatchObject({ status: "UNVERIFIED", subject: "api", messageId: "noExperiment" });
    expect(finding!.message).toMatch(/api-crash \(crashRecovered\)/);
    expect(finding!.toVerify).toMatch(/control/);
  });
});
