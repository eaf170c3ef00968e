// The guards of the experiment skeleton, once for every resilience check: what no experiment may turn into a PASS.
import { describe, expect, it } from "vitest";
import blink from "../../../src/checks/resilience/dependencyBlinkSurvived.js";
import type { ExperimentRecord } from "../../../src/checks/resilience/experiments/skeleton.js";
import type { JournalEntry, Phase } from "../../../src/engines/experiments/journal.js";
import { specSchema } from "../../../src/spec/schema.js";

const spec = specSchema.parse({
  version: 1,
  system: { name: "t" },
  services: {
    cache: { kind: "redis", url: "redis://127.0.0.1:6379" },
    api: { url: "http://127.0.0.1:8080", health: "/healthz", dependsOn: ["cache"] },
  },
});

let t = 0;
const entry = (phase: Phase, ok: boolean, answer: string, latencyMs = 2): JournalEntry => {
  t += 200;
  return {
    t,
    at: "2026-12-01T00:00:00.000Z",
    phase,
    kind: "probe",
    name: "api health",
    ok,
    answer,
    latencyMs,
    detail: answer,
  };
};
const noticing = [
  entry("before", true, "HTTP 200 #a"),
  entry("baseline", true, "HTTP 200 #a"),
  entry("during", false, "refused"),
  entry("after", true, "HTTP 200 #a"),
];
const blind = [
  entry("before", true, "HTTP 200 #a"),
  entry("baseline", true, "HTTP 200 #a"),
  entry("during", true, "HTTP 200 #a"),
  entry("after", true, "HTTP 200 #a"),
];

function record(
  overrides: Partial<ExperimentRecord<{ dependants: string[] }>> = {},
): ExperimentRecord<{ dependants: string[] }> {
  return {
    experiment: {
      name: "cache-blink",
      target: "cache",
      fault: "restart",
      recoverWithinMs: 10_000,
      declared: false,
    },
    subject: "cache",
    method: "process restart",
    probes: [{ name: "api health", service: "api", role: "dependant" }],
    result: {
      steadyBefore: true,
      injected: true,
      injectedAt: 400,
      endedAt: 600,
      timeToDetectMs: 100,
      timeToRecoverMs: 200,
      recovered: true,
      failedProbes: 1,
      totalProbes: 4,
    },
    journal: noticing,
    evidence: "dependencyBlinkSurvived/cache-blink.json",
    details: { dependants: ["api"] },
    ...overrides,
  };
}

const judged = (r: ExperimentRecord<{ dependants: string[] }>) => {
  const [finding] = blink.judge({ records: [r] }, spec);
  return [finding!.status, finding!.messageId];
};

describe("experiment skeleton guards", () => {
  it("a blink that a dependant noticed and recovered from passes", () => {
    expect(judged(record())).toEqual(["PASS", "survived"]);
  });

  it("not healthy before, not injected: UNVERIFIED", () => {
    expect(judged(record({ result: { ...record().result!, steadyBefore: false } }))).toEqual([
      "UNVERIFIED",
      "notSteadyBefore",
    ]);
    expect(
      judged(record({ result: { ...record().result!, injected: false, error: "no start command" } })),
    ).toEqual(["UNVERIFIED", "notInjected"]);
  });

  it("no byte through the fault proxy: UNVERIFIED, whatever the probes say", () => {
    expect(judged(record({ traffic: { before: 100, after: 100, via: "proxy" } }))).toEqual([
      "UNVERIFIED",
      "noTraffic",
    ]);
    expect(judged(record({ traffic: { before: 100, after: 180, via: "proxy" } }))).toEqual([
      "PASS",
      "survived",
    ]);
  });

  it("the same server run before and after a restart: the fault was not delivered", () => {
    expect(judged(record({ delivered: { by: "Redis run_id", before: "abc", after: "abc" } }))).toEqual([
      "UNVERIFIED",
      "faultNotDelivered",
    ]);
  });

  it("nothing noticed and nothing shown to use the target: UNVERIFIED, never PASS", () => {
    expect(judged(record({ journal: blind }))).toEqual(["UNVERIFIED", "faultUnobserved"]);
    const freezeBlind = { method: "1.5 s freeze", journal: blind };
    expect(judged(record({ journal: blind, sensitivity: freezeBlind }))).toEqual([
      "UNVERIFIED",
      "faultUnobserved",
    ]);
  });

  it("nothing noticed the blink, but a freeze slowed the dependant: it uses the target, and it survived", () => {
    const freeze = {
      method: "1.5 s freeze",
      journal: [entry("baseline", true, "HTTP 200 #a"), entry("during", true, "HTTP 200 #a", 1_490)],
    };
    expect(judged(record({ journal: blind, sensitivity: freeze }))).toEqual(["PASS", "survived"]);
  });

  it("a bystander's failure does not count as noticing", () => {
    const probes = [{ name: "api health", service: "api", role: "bystander" as const }];
    expect(judged(record({ probes }))).toEqual(["UNVERIFIED", "faultUnobserved"]);
  });

  it("excluded and not-applicable skips are N/A; other skips UNVERIFIED", () => {
    expect(
      judged(record({ skipped: { messageId: "excluded", message: "excluded by resilience.exclude: x" } })),
    ).toEqual(["NA", "excluded"]);
    expect(
      judged(
        record({ skipped: { messageId: "noMethod", message: "no control", toVerify: "declare control" } }),
      ),
    ).toEqual(["UNVERIFIED", "noMethod"]);
  });
});
