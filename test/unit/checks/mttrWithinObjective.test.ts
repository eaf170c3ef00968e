// mttrWithinObjective's judge on hand-made experiment records: the outage is fault start → healthy again, the worst
// over the service and what it depends on counts, a record its own check would not judge measures nothing, and
// without slos[].mttr each experiment's recoverWithin is the limit.
import { describe, expect, it } from "vitest";
import type { ExperimentRecord, ResultSummary } from "../../../src/checks/resilience/experiments/skeleton.js";
import check, { type MttrExperiment } from "../../../src/checks/resilience/mttrWithinObjective.js";
import { type SpecInput, specSchema } from "../../../src/spec/schema.js";

const specWith = (extra: Partial<SpecInput> = {}, mttr: string | null = "1s") =>
  specSchema.parse({
    version: 1,
    system: { name: "t" },
    services: {
      cache: { kind: "redis", url: "redis://127.0.0.1:6379" },
      api: { url: "http://127.0.0.1:8080", health: "/healthz", dependsOn: ["cache"] },
      other: { url: "http://127.0.0.1:8081", health: "/healthz" },
    },
    slos: [{ name: "avail", service: "api", objective: "99.9%", window: "30d", ...(mttr ? { mttr } : {}) }],
    ...extra,
  });

const result = (over: Partial<ResultSummary>): ResultSummary => ({
  steadyBefore: true,
  injected: true,
  injectedAt: 1_000,
  endedAt: 1_010,
  timeToDetectMs: 100,
  timeToRecoverMs: 500,
  recovered: true,
  failedProbes: 3,
  totalProbes: 12,
  ...over,
});

const crash = (
  target: string,
  over: Partial<ResultSummary> = {},
  recoverWithinMs = 10_000,
): MttrExperiment => {
  const record: ExperimentRecord<unknown> = {
    experiment: { name: `${target}-crash`, target, fault: "kill", recoverWithinMs, declared: false },
    subject: target,
    method: "process kill",
    result: result(over),
    journal: [],
    evidence: `crashRecovered/${target}-crash.json`,
    details: {},
  };
  return { checkId: "crashRecovered", record };
};

const judge = (experiments: MttrExperiment[], spec = specWith()) =>
  check.judge({ experiments, summary: "mttrWithinObjective/experiments.json" }, spec);

describe("mttrWithinObjective judge", () => {
  it("PASS when the worst outage (fault start → healthy again) is within mttr", () => {
    const [finding] = judge([crash("api")]);
    expect(finding).toMatchObject({ status: "PASS", messageId: "withinObjective" });
    // (1010 − 1000) + 500: the fault's own length plus the recovery after it.
    expect(finding!.measurements).toEqual([
      { name: "mttr api-crash", value: 510, unit: "ms", evidence: "crashRecovered/api-crash.json" },
    ]);
    expect(finding!.evidence).toEqual([
      "mttrWithinObjective/experiments.json",
      "crashRecovered/api-crash.json",
    ]);
  });

  it("a dependency's outage is the service's: FAIL naming it when over mttr; an unrelated service is ignored", () => {
    const [finding] = judge([
      crash("api"),
      crash("cache", { timeToRecoverMs: 2_000 }),
      crash("other", { timeToRecoverMs: 60_000 }),
    ]);
    expect(finding).toMatchObject({ status: "FAIL", messageId: "overObjective" });
    expect(finding!.data).toMatchObject({ experiment: "cache-crash", mttr: "2.01 s", objective: "1.00 s" });
    expect(finding!.message).toMatch(/cache-crash: .* = 2\.01 s > mttr 1\.00 s/);
    expect(finding!.message).not.toMatch(/other-crash/);
  });

  it("no failed probe is no outage", () => {
    const [finding] = judge([crash("api", { timeToDetectMs: null, failedProbes: 0, timeToRecoverMs: 0 })]);
    expect(finding).toMatchObject({ status: "PASS", messageId: "withinObjective" });
    expect(finding!.measurements![0]!.value).toBe(0);
  });

  it("FAIL when a fault was never recovered from", () => {
    const [finding] = judge([crash("api", { timeToRecoverMs: null, recovered: false })]);
    expect(finding).toMatchObject({ status: "FAIL", messageId: "notRecovered" });
  });

  it("a record its own check cannot judge measures nothing: UNVERIFIED saying why", () => {
    const [finding] = judge([crash("api", { steadyBefore: false })]);
    expect(finding).toMatchObject({ status: "UNVERIFIED", messageId: "noExperiment" });
    expect(finding!.message).toMatch(/api-crash \(crashRecovered\): .*not healthy before the fault/);
    const [none] = judge([]);
    expect(none!.message).toMatch(/no resilience experiment is planned/);
    const left = crash("api");
    const excluded: MttrExperiment = {
      checkId: "crashRecovered",
      record: {
        experiment: left.record.experiment,
        subject: "api",
        skipped: { messageId: "excluded", message: "excluded by resilience.exclude: a batch job" },
        details: {},
      },
    };
    expect(judge([excluded])[0]!.message).toMatch(/api-crash \(crashRecovered\): .*a batch job/);
    // Beside a measured experiment, an excluded one is not listed as having measured nothing.
    expect(judge([excluded, crash("cache")])[0]!.message).not.toMatch(/measured nothing/);
  });

  it("without slos[].mttr: WARN within each recoverWithin, FAIL beyond it", () => {
    const spec = specWith({}, null);
    const [warn] = judge([crash("api")], spec);
    expect(warn).toMatchObject({ status: "WARN", messageId: "noObjective" });
    const [late] = judge([crash("api"), crash("cache", { timeToRecoverMs: 12_000, recovered: false })], spec);
    expect(late).toMatchObject({ status: "FAIL", messageId: "recoveredLate" });
    expect(late!.message).toMatch(/cache-crash: .*beyond recoverWithin 10\.0 s/);
  });

  it("N/A for an SLO whose service resilience.exclude leaves out", () => {
    const spec = specWith({
      resilience: { exclude: [{ check: "mttrWithinObjective", subject: "api", reason: "batch service" }] },
    });
    expect(judge([crash("api")], spec)[0]).toMatchObject({ status: "NA", messageId: "excluded" });
  });

  it("is N/A without slos", () => {
    const none = specSchema.parse({ version: 1, system: { name: "t" }, services: {} });
    expect(check.applies(none, { allowDestructive: true })).toMatchObject({ applies: false });
  });
});
