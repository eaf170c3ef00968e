import { describe, expect, it } from "vitest";
import type { Status } from "../../../src/core/types.js";
import { type CheckChangeKind, classifyStatusChange, diffAssessments } from "../../../src/store/diff.js";
import { sampleAssessment } from "../../fixtures/assessment.js";
import { makeAssessment } from "./assessments.js";

describe("classifyStatusChange", () => {
  const cases: [Status | undefined, Status | undefined, CheckChangeKind][] = [
    ["PASS", "PASS", "unchanged"],
    ["PASS", "WARN", "regressed"],
    ["PASS", "UNVERIFIED", "regressed"],
    ["PASS", "ERROR", "regressed"],
    ["PASS", "FAIL", "regressed"],
    ["WARN", "PASS", "improved"],
    ["WARN", "WARN", "unchanged"],
    ["WARN", "UNVERIFIED", "regressed"],
    ["WARN", "FAIL", "regressed"],
    ["UNVERIFIED", "PASS", "improved"],
    ["UNVERIFIED", "WARN", "improved"],
    ["UNVERIFIED", "ERROR", "unchanged"],
    ["ERROR", "UNVERIFIED", "unchanged"],
    ["UNVERIFIED", "FAIL", "regressed"],
    ["ERROR", "FAIL", "regressed"],
    ["FAIL", "ERROR", "improved"],
    ["FAIL", "UNVERIFIED", "improved"],
    ["FAIL", "WARN", "improved"],
    ["FAIL", "PASS", "improved"],
    ["FAIL", "FAIL", "unchanged"],
    ["NA", "NA", "unchanged"],
    ["NA", "PASS", "applicability"],
    ["NA", "FAIL", "applicability"],
    ["PASS", "NA", "applicability"],
    ["FAIL", "NA", "applicability"],
    [undefined, "PASS", "added"],
    [undefined, "NA", "added"],
    ["FAIL", undefined, "removed"],
    ["NA", undefined, "removed"],
  ];

  it.each(cases)("%s → %s is %s", (from, to, kind) => {
    expect(classifyStatusChange(from, to)).toBe(kind);
  });
});

describe("diffAssessments", () => {
  const older = makeAssessment({
    runId: "old",
    startedAt: "2025-06-01T10:00:00Z",
    verdict: "CONDITIONAL",
    overall: 82.5,
    coverage: 90,
    categoryScores: { security: 90, recovery: 80, deployment: 100 },
    checks: [
      { id: "tlsModern", status: "PASS", category: "security", risk: "high", title: "Is TLS modern?" },
      { id: "backupsRecent", status: "PASS", category: "recovery", risk: "critical" },
      { id: "secretsNotInRepo", status: "FAIL", category: "security", risk: "critical" },
      { id: "restoreDrillPasses", status: "UNVERIFIED", category: "recovery", risk: "high" },
      { id: "healthEndpointsRespond", status: "PASS", category: "deployment", risk: "low" },
      { id: "kubernetesProbesSet", status: "NA", category: "deployment", risk: "low" },
      { id: "retiredCheck", status: "WARN", category: "deployment", risk: "low" },
    ],
  });
  const newer = makeAssessment({
    runId: "new",
    startedAt: "2025-06-02T10:00:00Z",
    verdict: "NOT READY",
    overall: 76,
    coverage: 95.5,
    categoryScores: { security: 70, recovery: 80, deployment: 100 },
    checks: [
      { id: "tlsModern", status: "FAIL", category: "security", risk: "high", title: "Is TLS 1.2+ enforced?" },
      { id: "backupsRecent", status: "WARN", category: "recovery", risk: "critical" },
      { id: "secretsNotInRepo", status: "PASS", category: "security", risk: "critical" },
      { id: "restoreDrillPasses", status: "ERROR", category: "recovery", risk: "high" },
      { id: "healthEndpointsRespond", status: "PASS", category: "deployment", risk: "low" },
      { id: "kubernetesProbesSet", status: "PASS", category: "deployment", risk: "low" },
      { id: "newCheck", status: "FAIL", category: "deployment", risk: "medium" },
    ],
  });
  const diff = diffAssessments(older, newer);

  it("reports score, coverage and verdict deltas", () => {
    expect(diff.overall).toEqual({ from: 82.5, to: 76, delta: -6.5 });
    expect(diff.coverage).toEqual({ from: 90, to: 95.5, delta: 5.5 });
    expect(diff.verdict).toEqual({ from: "CONDITIONAL", to: "NOT READY", change: "worse" });
    expect(diff.sameSystem).toBe(true);
    expect(diff.from).toMatchObject({ runId: "old", verdict: "CONDITIONAL" });
    expect(diff.to).toMatchObject({ runId: "new", verdict: "NOT READY" });
  });

  it("reports per-category deltas in category order, null where a category has no score", () => {
    expect(diff.categories).toEqual([
      { category: "deployment", from: 100, to: 100, delta: 0 },
      { category: "observability", from: null, to: null, delta: null },
      { category: "resilience", from: null, to: null, delta: null },
      { category: "security", from: 90, to: 70, delta: -20 },
      { category: "performance", from: null, to: null, delta: null },
      { category: "recovery", from: 80, to: 80, delta: 0 },
      { category: "operations", from: null, to: null, delta: null },
    ]);
  });

  it("classifies every check, regressions first and by risk, titles from the newer run", () => {
    expect(diff.checks.map((c) => [c.kind, c.checkId, c.from, c.to])).toEqual([
      ["regressed", "backupsRecent", "PASS", "WARN"],
      ["regressed", "tlsModern", "PASS", "FAIL"],
      ["improved", "secretsNotInRepo", "FAIL", "PASS"],
      ["applicability", "kubernetesProbesSet", "NA", "PASS"],
      ["added", "newCheck", undefined, "FAIL"],
      ["removed", "retiredCheck", "WARN", undefined],
      ["unchanged", "restoreDrillPasses", "UNVERIFIED", "ERROR"],
      ["unchanged", "healthEndpointsRespond", "PASS", "PASS"],
    ]);
    expect(diff.checks.find((c) => c.checkId === "tlsModern")?.title).toBe("Is TLS 1.2+ enforced?");
    expect(diff.checks.find((c) => c.checkId === "retiredCheck")?.title).toBe("Is retiredCheck satisfied?");
    expect(diff.counts).toEqual({
      regressed: 2,
      improved: 1,
      applicability: 1,
      added: 1,
      removed: 1,
      unchanged: 2,
    });
  });

  it("leaves added and removed checks without the missing side", () => {
    expect(diff.checks.find((c) => c.kind === "added")).not.toHaveProperty("from");
    expect(diff.checks.find((c) => c.kind === "removed")).not.toHaveProperty("to");
  });

  it.each([
    ["NOT READY", "CONDITIONAL", "better"],
    ["CONDITIONAL", "CERTIFIED", "better"],
    ["CERTIFIED", "NOT READY", "worse"],
    ["CERTIFIED", "CERTIFIED", "same"],
  ] as const)("verdict %s → %s is %s", (from, to, change) => {
    const d = diffAssessments(
      makeAssessment({ runId: "a", verdict: from }),
      makeAssessment({ runId: "b", verdict: to }),
    );
    expect(d.verdict.change).toBe(change);
  });

  it.each([
    [null, 50, null],
    [50, null, null],
    [70.1, 70.3, 0.2],
    [70.3, 70.3, 0],
    [0.1 + 0.2, 0.3, 0],
  ])("overall %s → %s has delta %s (rounded, never -0)", (from, to, delta) => {
    const d = diffAssessments(
      makeAssessment({ runId: "a", overall: from }),
      makeAssessment({ runId: "b", overall: to }),
    );
    expect(d.overall.delta).toBe(delta);
    if (delta === 0) expect(Object.is(d.overall.delta, -0)).toBe(false);
  });

  it("says when the runs assess different systems", () => {
    const d = diffAssessments(
      makeAssessment({ runId: "a" }),
      makeAssessment({ runId: "b", system: "billing" }),
    );
    expect(d.sameSystem).toBe(false);
  });

  it("diffs the realistic sample against a fixed-up rerun", () => {
    const before = sampleAssessment();
    const after = sampleAssessment();
    after.runId = "rerun";
    for (const c of after.checks) {
      if (c.checkId === "dependencyFailureHandled") c.status = "PASS";
      if (c.checkId === "noSecretsInRepo") c.status = "FAIL";
      if (c.checkId === "backupsRecent") c.status = "WARN";
    }
    after.scores.overall = 70.01;
    after.verdict.verdict = "CONDITIONAL";
    const d = diffAssessments(before, after);
    expect(d.checks.filter((c) => c.kind !== "unchanged").map((c) => [c.kind, c.checkId])).toEqual([
      ["regressed", "noSecretsInRepo"],
      ["improved", "dependencyFailureHandled"],
      ["applicability", "backupsRecent"],
    ]);
    expect(d.overall.delta).toBe(8.3);
    expect(d.verdict.change).toBe("better");
  });

  it("is identity on the same run", () => {
    const run = makeAssessment({ runId: "same" });
    const d = diffAssessments(run, run);
    expect(d.checks.every((c) => c.kind === "unchanged")).toBe(true);
    expect(d.overall.delta).toBe(0);
  });
});
