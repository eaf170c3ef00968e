// rolloutAbortsOnRegression's judge on observations of each kind: only an abort at step 1, on its first analysis, with
// a confirmed rollback passes; every other way the rehearsal can end is a FAIL or an UNVERIFIED that says what to do.
import { describe, expect, it } from "vitest";
import check, {
  type RehearsalObservation,
} from "../../../src/checks/deployment/rolloutAbortsOnRegression.js";
import { specSchema } from "../../../src/spec/schema.js";

const spec = specSchema.parse({
  version: 1,
  system: { name: "s" },
  services: {
    entry: { url: "http://127.0.0.1:8080" },
    stable: { url: "http://127.0.0.1:8081" },
    canary: { url: "http://127.0.0.1:8082" },
  },
  rollout: { service: "entry", baseline: "stable", canary: "canary", shift: "./shift.sh {{percent}}" },
});

const breach = "canary p(99)=431ms > 300ms (rollbackOn p(99)>300ms)";
const ran = (over: Partial<Extract<RehearsalObservation, { kind: "ran" }>> = {}): RehearsalObservation => ({
  kind: "ran",
  how: "command",
  regression: "rollout.rehearsal.command (touch bad)",
  firstStep: 5,
  outcome: "aborted",
  stepVerdict: "FAIL",
  analyses: [{ verdict: "FAIL", reasons: [breach] }],
  stopped: { step: 1, percent: 5, reasons: [breach], message: `step 1 (5%): ${breach}` },
  rollback: { shiftOk: true, confirmation: "confirmed", message: "the rollback is confirmed" },
  evidence: ["rolloutAbortsOnRegression/rollout.json"],
  ...over,
});

const judged = (o: RehearsalObservation) => {
  const [f] = check.judge(o, spec);
  return [f?.status, f?.messageId];
};

describe("rolloutAbortsOnRegression judge", () => {
  it("does not apply without a rollout section", () => {
    const bare = specSchema.parse({ version: 1, system: { name: "s" }, services: {} });
    expect(check.applies(bare, { allowDestructive: true })).toMatchObject({ applies: false });
    expect(check.applies(spec, { allowDestructive: true })).toBe(true);
  });

  it("passes an abort at step 1 on the first analysis with a confirmed rollback", () => {
    expect(judged(ran())).toEqual(["PASS", "aborted"]);
  });

  it("fails when the rollout passed the bad canary", () => {
    expect(
      judged(
        ran({ outcome: "completed", stepVerdict: "PASS", analyses: [{ verdict: "PASS", reasons: ["ok"] }] }),
      ),
    ).toEqual(["FAIL", "notDetected"]);
  });

  it("fails when only a later analysis saw it", () => {
    expect(
      judged(
        ran({
          analyses: [
            { verdict: "PASS", reasons: ["ok"] },
            { verdict: "FAIL", reasons: [breach] },
          ],
        }),
      ),
    ).toEqual(["FAIL", "notDetected"]);
  });

  it("fails a rollback that failed or could not be confirmed", () => {
    expect(
      judged(
        ran({
          rollback: { shiftOk: false, shiftFailure: "exit 1", confirmation: "canaryAnswered", message: "m" },
        }),
      ),
    ).toEqual(["FAIL", "rollbackFailed"]);
    expect(
      judged(ran({ rollback: { shiftOk: true, confirmation: "canaryAnswered", message: "m" } })),
    ).toEqual(["FAIL", "rollbackUnconfirmed"]);
    expect(
      judged(
        ran({ rollback: { shiftOk: true, confirmation: "unconfirmed", message: "m", fix: "set identify" } }),
      ),
    ).toEqual(["FAIL", "rollbackUnconfirmed"]);
  });

  it("fails a shift that could not start the rollout", () => {
    expect(judged(ran({ stepVerdict: "SHIFT_FAILED", analyses: [] }))).toEqual(["FAIL", "shiftFailed"]);
  });

  it("is unverified, with what to do, when it could not judge", () => {
    expect(judged({ kind: "noRehearsal", canary: "canary" })).toEqual(["UNVERIFIED", "noRehearsal"]);
    expect(check.judge({ kind: "noRehearsal", canary: "canary" }, spec)[0]?.toVerify).toMatch(
      /rollout\.rehearsal/,
    );
    expect(judged({ kind: "noProxy", canary: "canary", latencyMs: 500 })).toEqual(["UNVERIFIED", "noProxy"]);
    expect(judged(ran({ outcome: "inconclusive", stepVerdict: "INCONCLUSIVE" }))).toEqual([
      "UNVERIFIED",
      "inconclusive",
    ]);
    expect(judged(ran({ outcome: "interrupted", stepVerdict: "INTERRUPTED" }))).toEqual([
      "UNVERIFIED",
      "interrupted",
    ]);
    expect(judged(ran({ how: "latency", proxyTraffic: { before: 100, after: 100 } }))).toEqual([
      "UNVERIFIED",
      "proxyUnused",
    ]);
    expect(judged(ran({ how: "latency", proxyTraffic: { before: 100, after: 5000 } }))).toEqual([
      "PASS",
      "aborted",
    ]);
  });
});
