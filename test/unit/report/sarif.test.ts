import { describe, expect, it } from "vitest";
import type { Assessment } from "../../../src/core/assessment.js";
import { render } from "../../../src/report/index.js";
import { legacySampleAssessment, sampleAssessment } from "../../fixtures/assessment.js";

// biome-ignore lint/suspicious/noExplicitAny: SARIF is checked structurally, field by field
type Json = any;

function sarif(assessment: Assessment = sampleAssessment()): Json {
  return JSON.parse(render("sarif", assessment));
}

function resultsOf(log: Json, ruleId: string): Json[] {
  return log.runs[0].results.filter((r: Json) => r.ruleId === ruleId);
}

describe("SARIF report", () => {
  it("has the required SARIF 2.1.0 top-level fields and one run", () => {
    const log = sarif();
    expect(log.$schema).toBe("https://json.schemastore.org/sarif-2.1.0.json");
    expect(log.version).toBe("2.1.0");
    expect(log.runs).toHaveLength(1);
    const driver = log.runs[0].tool.driver;
    expect(driver.name).toBe("gauntlet");
    expect(driver.version).toBe("0.1.0");
    expect(driver.informationUri).toMatch(/^https:\/\//);
  });

  it("has one rule per check with descriptions, help, properties and a default level", () => {
    const assessment = sampleAssessment();
    const rules: Json[] = sarif(assessment).runs[0].tool.driver.rules;
    expect(rules.map((r) => r.id)).toEqual(assessment.checks.map((c) => c.checkId));
    for (const rule of rules) {
      expect(rule.shortDescription.text).toBeTruthy();
      expect(rule.fullDescription.text).toBeTruthy();
      expect(rule.help.text).toBeTruthy();
      expect(["error", "warning", "note"]).toContain(rule.defaultConfiguration.level);
      expect(rule.properties).toMatchObject({ category: expect.any(String), risk: expect.any(String) });
    }
    const byId = (id: string) => rules.find((r) => r.id === id);
    expect(byId("dependencyFailureHandled").defaultConfiguration.level).toBe("error");
    expect(byId("dockerfileHardened").defaultConfiguration.level).toBe("warning");
    expect(byId("requiredEnvDocumented").defaultConfiguration.level).toBe("note");
  });

  it("reports only FAIL, WARN, UNVERIFIED and ERROR findings, each pointing at its rule", () => {
    const log = sarif();
    const run = log.runs[0];
    const statuses = run.results.map((r: Json) => `${r.ruleId}:${r.properties.status}`);
    // Run order (non-destructive checks first, each group in id order); PASS and N/A, excluded subjects included, are not results.
    expect(statuses).toEqual([
      "alertRulesValid:WARN",
      "dockerfileHardened:FAIL",
      "internalServicesNotExposed:WARN",
      "prometheusScrapesTargets:UNVERIFIED",
      "requiredEnvDocumented:WARN",
      "dependencyFailureHandled:FAIL",
      "processRestartRecovers:ERROR",
    ]);
    for (const result of run.results) {
      expect(run.tool.driver.rules[result.ruleIndex].id).toBe(result.ruleId);
      expect(result.message.text).toBeTruthy();
      expect(result.locations).toHaveLength(1);
    }
  });

  it("derives level and kind from risk and status", () => {
    const log = sarif();
    const levelKind = (id: string) => resultsOf(log, id).map((r) => `${r.level}/${r.kind}`);
    expect(levelKind("dependencyFailureHandled")).toEqual(["error/fail"]); // critical FAIL
    expect(levelKind("dockerfileHardened")).toEqual(["warning/fail"]); // medium FAIL
    expect(levelKind("alertRulesValid")).toEqual(["warning/fail"]); // high WARN: warning at most
    expect(levelKind("requiredEnvDocumented")).toEqual(["note/fail"]); // low WARN
    expect(levelKind("prometheusScrapesTargets")).toEqual(["none/review"]);
    expect(levelKind("processRestartRecovers")).toEqual(["none/review"]);
    // SARIF §3.27.10: a result whose kind is not "fail" must have level "none".
    for (const result of log.runs[0].results) {
      if (result.kind !== "fail") expect(result.level).toBe("none");
    }
  });

  it("says what would make an unverified result verifiable", () => {
    const [result] = resultsOf(sarif(), "prometheusScrapesTargets");
    expect(result.message.text).toContain("To verify: Start Prometheus");
  });

  it("reports a check that could not run as a whole, with its reason as what would verify it", () => {
    const assessment = sampleAssessment();
    const check = assessment.checks.find((c) => c.checkId === "networkLatencyTolerated")!;
    check.status = "UNVERIFIED";
    check.findings = [];
    check.reason = "Timed out after 60 s; raise timeoutMs.";
    const [result] = resultsOf(sarif(assessment), "networkLatencyTolerated");
    expect(result).toMatchObject({ kind: "review", level: "none", properties: { status: "UNVERIFIED" } });
    expect(result.message.text).toContain("To verify: Timed out after 60 s");
    expect(result.locations[0].logicalLocations[0].name).toBe("orders");
  });

  it("gives findings with a file location a physical location and the rest a logical one", () => {
    const log = sarif();
    const [dockerfile] = resultsOf(log, "dockerfileHardened");
    expect(dockerfile.locations[0].physicalLocation).toEqual({
      artifactLocation: { uri: "Dockerfile" },
      region: { startLine: 1, startColumn: 6 },
    });
    const [api] = resultsOf(log, "dependencyFailureHandled");
    expect(api.locations[0].physicalLocation).toBeUndefined();
    expect(api.locations[0].logicalLocations[0].name).toBe("api");
  });

  it("writes relative URIs with forward slashes, encoded", () => {
    const assessment = sampleAssessment();
    const finding = assessment.checks.find((c) => c.checkId === "dockerfileHardened")!.findings[0]!;
    finding.location = { path: ".\\deploy\\docker files\\Dockerfile#prod", line: 3 };
    const [result] = resultsOf(sarif(assessment), "dockerfileHardened");
    expect(result.locations[0].physicalLocation).toEqual({
      artifactLocation: { uri: "deploy/docker%20files/Dockerfile%23prod" },
      region: { startLine: 3 },
    });
  });

  it("marks waived findings as externally suppressed with the justification", () => {
    const [waived] = resultsOf(sarif(), "internalServicesNotExposed");
    expect(waived.suppressions).toHaveLength(1);
    expect(waived.suppressions[0].kind).toBe("external");
    expect(waived.suppressions[0].justification).toContain("FW-2231");
    expect(resultsOf(sarif(), "dockerfileHardened")[0].suppressions).toBeUndefined();
  });

  it("carries the verdict and overall score on the run", () => {
    expect(sarif().runs[0].properties).toMatchObject({ verdict: "NOT READY", overall: 61.71 });
  });

  it("prints every waiver and exclusion as run properties", () => {
    const assessment = sampleAssessment();
    const { properties } = sarif(assessment).runs[0];
    expect(properties.waivers).toEqual(assessment.waivers);
    expect(properties.exclusions).toEqual(assessment.exclusions);
    expect(properties.exclusions).toHaveLength(2);
  });

  it("reports each exclusion as a configuration notification tied to its rule; excluded subjects are not results", () => {
    const log = sarif();
    const run = log.runs[0];
    const notifications: Json[] = run.invocations[0].toolConfigurationNotifications;
    expect(notifications.map((n) => [n.associatedRule.id, n.level, n.properties.state])).toEqual([
      ["networkLatencyTolerated", "note", "applied"],
      ["overloadShedGracefully", "warning", "unused"],
    ]);
    const [applied, unused] = notifications;
    expect(run.tool.driver.rules[applied.associatedRule.index].id).toBe("networkLatencyTolerated");
    expect(unused.associatedRule.index).toBeUndefined(); // no such check in this run
    expect(applied.message.text).toContain("networkLatencyTolerated for cache left out 1 experiment");
    expect(applied.message.text).toContain("ADR-014");
    expect(applied.locations[0].logicalLocations[0].name).toBe("cache");
    expect(resultsOf(log, "networkLatencyTolerated")).toEqual([]);
  });

  it("gives each result its messageId and a fingerprint that survives new wording and figures", () => {
    const [before] = resultsOf(sarif(), "dependencyFailureHandled");
    expect(before.properties.messageId).toBe("notRecovered");
    const rerun = sampleAssessment();
    rerun.checks.find((c) => c.checkId === "dependencyFailureHandled")!.findings[0]!.message =
      "needed 12.4 s";
    const [after] = resultsOf(sarif(rerun), "dependencyFailureHandled");
    expect(after.partialFingerprints).toEqual(before.partialFingerprints);
    const all: Json[] = sarif().runs[0].results;
    const prints = all.map((r) => JSON.stringify(r.partialFingerprints));
    expect(new Set(prints).size).toBe(all.length);
  });

  it("renders a run stored before exclusions and messageIds: exclusions null, no notifications or fingerprints", () => {
    const run = sarif(legacySampleAssessment()).runs[0];
    expect(run.properties.exclusions).toBeNull();
    expect(run.invocations[0].toolConfigurationNotifications).toBeUndefined();
    for (const result of run.results) {
      expect(result.partialFingerprints).toBeUndefined();
      expect(result.properties.messageId).toBeUndefined();
    }
  });

  it("links result measurements to evidence paths", () => {
    const [result] = resultsOf(sarif(), "dependencyFailureHandled");
    expect(result.properties.measurements[1]).toEqual({
      name: "time to recover",
      value: 31200,
      unit: "ms",
      evidence: "evidence/dependencyFailureHandled/db-blink.json",
    });
  });
});
