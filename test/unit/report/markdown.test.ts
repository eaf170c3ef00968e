import { describe, expect, it } from "vitest";
import type { Assessment } from "../../../src/core/assessment.js";
import { render } from "../../../src/report/index.js";
import {
  legacySampleAssessment,
  sampleAssessment,
  signedSampleAssessment,
} from "../../fixtures/assessment.js";

function md(assessment: Assessment = sampleAssessment()): string {
  return render("md", assessment);
}

/** Lines of the table rows whose first cell is the given check id. */
function rowsOf(output: string, checkId: string): string[] {
  return output.split("\n").filter((line) => line.startsWith(`| \`${checkId}\` |`));
}

function cells(row: string): string[] {
  return row
    .slice(1, -1)
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim());
}

/** Every evidence file the fixture names, as the report links it. */
function knownEvidence(assessment: Assessment): Set<string> {
  const files = new Set<string>();
  for (const check of assessment.checks) {
    for (const finding of check.findings) {
      for (const file of finding.evidence ?? []) files.add(`evidence/${file}`);
      for (const m of finding.measurements ?? []) if (m.evidence) files.add(`evidence/${m.evidence}`);
    }
  }
  return files;
}

describe("markdown report", () => {
  it("titles the report with the system, version and verdict", () => {
    expect(md().split("\n")[0]).toMatch(/orders 1\.4\.2.*NOT READY/);
  });

  it("links every measurement figure to an evidence file that the run recorded", () => {
    const assessment = sampleAssessment();
    const output = md(assessment);
    const known = knownEvidence(assessment);
    const targets = [...output.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
    expect(targets.length).toBeGreaterThan(0);
    for (const target of targets) expect(known).toContain(target);
    expect(output).toContain("[412 ms](evidence/healthEndpointsRespond/api.json)");
    for (const check of assessment.checks) {
      for (const finding of check.findings) {
        for (const m of finding.measurements ?? []) {
          const file = m.evidence ?? finding.evidence?.[0];
          expect(output).toMatch(new RegExp(`\\[[^\\]]+\\]\\(evidence/${file!.replace(/[.]/g, "\\.")}\\)`));
        }
      }
    }
  });

  it("says when a figure has no evidence file instead of inventing a link", () => {
    const assessment = sampleAssessment();
    const finding = assessment.checks.find((c) => c.checkId === "logsStructured")!.findings[0]!;
    finding.evidence = [];
    finding.measurements = [{ name: "lines read", value: 18342, unit: "lines" }];
    expect(rowsOf(md(assessment), "logsStructured")[0]).toContain("18342 lines (no evidence file)");
  });

  it("prints every waiver with its state, approver and expiry", () => {
    const assessment = sampleAssessment();
    const output = md(assessment);
    const section = output.slice(output.indexOf("## Waivers"), output.indexOf("## Exclusions"));
    // evaluate() judged the fixture's three waivers at FIXTURE_NOW.
    expect(assessment.waivers.map((w) => [w.check, w.state, w.appliedTo])).toEqual([
      ["internalServicesNotExposed", "active", 1],
      ["dockerfileHardened", "expired", 0],
      ["tlsModern", "unused", 0],
    ]);
    for (const waiver of assessment.waivers) {
      const row = section.split("\n").find((line) => line.startsWith(`| \`${waiver.check}\` |`));
      expect(row, waiver.check).toBeDefined();
      expect(row).toContain(waiver.state);
      expect(row).toContain(waiver.approvedBy);
      expect(row).toContain(waiver.expires);
    }
  });

  it("prints the waivers section even when the spec has none", () => {
    const assessment = sampleAssessment();
    assessment.waivers = [];
    expect(md(assessment)).toMatch(/## Waivers\n[\s\S]*No waivers are configured/);
  });

  it("prints every exclusion with its state, what it left out and its reason", () => {
    const assessment = sampleAssessment();
    const output = md(assessment);
    const section = output.slice(output.indexOf("## Exclusions"), output.indexOf("## Remediation roadmap"));
    expect(section.length).toBeGreaterThan(0);
    expect(assessment.exclusions).toHaveLength(2);
    for (const x of assessment.exclusions!) {
      const row = section.split("\n").find((line) => line.startsWith(`| \`${x.check}\` |`));
      expect(row, x.check).toBeDefined();
      expect(cells(row!)).toEqual([
        `\`${x.check}\``,
        x.subject,
        x.state,
        `${x.appliedTo} experiment${x.appliedTo === 1 ? "" : "s"}`,
        x.reason,
      ]);
    }
    expect(assessment.exclusions!.map((x) => [x.state, x.appliedTo])).toEqual([
      ["applied", 1],
      ["unused", 0],
    ]);
  });

  it("shows the subject an exclusion left out as N/A (excluded), not as a pass", () => {
    const output = md();
    const results = output.slice(
      output.indexOf("## Results by category"),
      output.indexOf("## Critical issues"),
    );
    const rows = rowsOf(results, "networkLatencyTolerated");
    expect(rows.map((row) => [cells(row)[2], cells(row)[3]])).toEqual([
      ["PASS", "db"],
      ["N/A (excluded)", "cache"],
    ]);
  });

  it("names the experiments exclusions left out in the conclusion, and only those that applied", () => {
    const conclusion = (assessment: ReturnType<typeof sampleAssessment>) =>
      md(assessment).split("## Conclusion")[1]!;
    const text = conclusion(sampleAssessment());
    expect(text).toContain(
      "1 exclusion in the spec leaves fault experiments out (`networkLatencyTolerated` for cache)",
    );
    expect(text).not.toContain("overloadShedGracefully");
    const unused = sampleAssessment();
    unused.exclusions = unused.exclusions!.filter((x) => x.state === "unused");
    expect(conclusion(unused)).not.toMatch(/exclusion/);
  });

  it("prints the exclusions section when the spec has none, and for a run stored before exclusions", () => {
    const none = sampleAssessment();
    none.exclusions = [];
    expect(md(none)).toMatch(/## Exclusions\n[\s\S]*No exclusions are configured/);
    const legacy = md(legacySampleAssessment());
    expect(legacy).toMatch(/## Exclusions\n[\s\S]*Not recorded: this run was stored before/);
    expect(legacy).not.toContain("No exclusions are configured");
  });

  it("says UNSIGNED when no key was given or no certificate was issued, and not when signed", () => {
    expect(md()).toContain("**UNSIGNED:**");
    const none = sampleAssessment();
    none.certificate = null;
    expect(md(none)).toContain("**UNSIGNED:**");
    const signed = md(signedSampleAssessment());
    expect(signed).not.toContain("UNSIGNED");
    expect(signed).toContain("SHA256:q3Jm0Zb8nR2xYtQv4sW7uL1kP9eH6gF5dC0aB2yX8zM");
  });

  it("says what would make every UNVERIFIED and ERROR line verifiable", () => {
    const assessment = sampleAssessment();
    // A check that timed out as a whole: no findings, only the check's reason.
    const timedOut = assessment.checks.find((c) => c.checkId === "networkLatencyTolerated")!;
    timedOut.status = "UNVERIFIED";
    timedOut.findings = [];
    timedOut.reason = "Timed out after 60 s; raise timeoutMs or check that the fault proxy can reach db.";
    const output = md(assessment);
    const rows = output
      .split("\n")
      .filter((line) => line.startsWith("| `") && /\| \*\*(UNVERIFIED|ERROR)\*\* \|/.test(line));
    // In run order within each category: the planner runs destructive checks last, in id order.
    expect(rows.map((row) => cells(row)[0])).toEqual([
      "`prometheusScrapesTargets`",
      "`networkLatencyTolerated`",
      "`processRestartRecovers`",
    ]);
    for (const row of rows) expect(row).toContain("**To verify:**");
    expect(rowsOf(output, "networkLatencyTolerated")[0]).toContain("raise timeoutMs");
  });

  it("shows statuses as PASS/WARN/FAIL/UNVERIFIED/ERROR/N/A", () => {
    const output = md();
    const status = (checkId: string) => cells(rowsOf(output, checkId)[0]!)[2];
    expect(status("composeFileValid")).toBe("PASS");
    expect(status("requiredEnvDocumented")).toBe("WARN");
    expect(status("dockerfileHardened")).toBe("**FAIL**");
    expect(status("prometheusScrapesTargets")).toBe("**UNVERIFIED**");
    expect(status("processRestartRecovers")).toBe("**ERROR**");
    expect(status("tlsModern")).toBe("N/A");
    expect(cells(rowsOf(output, "internalServicesNotExposed")[1]!)[2]).toBe("WARN (waived)");
  });

  it("keeps every table row whole: pipes and newlines in cells are escaped", () => {
    const output = md();
    const lines = output.split("\n");
    let width = 0;
    for (const [index, line] of lines.entries()) {
      if (!line.startsWith("|")) {
        width = 0;
        continue;
      }
      const count = cells(line).length;
      if (width === 0) width = count;
      expect(count, `line ${index + 1}: ${line}`).toBe(width);
    }
    const row = rowsOf(output, "alertRulesValid")[1]!;
    expect(row).toContain('code=~"5..\\|429"');
    expect(row).toContain("&lt; 1m");
    expect(row).toContain("runbook_url.<br>Add annotations");
  });

  it("lists critical and high FAIL/UNVERIFIED/ERROR checks as critical issues with impact and resolution", () => {
    const output = md();
    const section = output.slice(output.indexOf("## Critical issues"), output.indexOf("## Scoring"));
    const ids = [...section.matchAll(/^### \d+\. `(\w+)`/gm)].map((m) => m[1]);
    expect(ids).toEqual(["dependencyFailureHandled", "prometheusScrapesTargets", "processRestartRecovers"]);
    expect(section.match(/\*\*Impact:\*\*/g)).toHaveLength(3);
    expect(section.match(/\*\*Resolution:\*\*/g)).toHaveLength(3);
    expect(section).toContain("answer 503 (not 500)");
  });

  it("prints category weights, effective weights and contributions that add up to the overall score", () => {
    const output = md();
    const section = output.slice(output.indexOf("## Scoring"), output.indexOf("## Gates"));
    expect(section).toContain("| Resilience | 20 | 25% | 22.22 | 5.56 | 2 of 3 |");
    expect(section).toContain("| Recovery | 10 | 0% | not scored | — | 0 of 0 |");
    expect(section).toContain("| Operations | 10 | 0% | not scored | — | 0 of 0 |");
    expect(section).toContain("Overall = 7.29 + 14.77 + 5.56 + 21.59 + 12.5 = **61.71**");
  });

  it("prints every gate with its result", () => {
    const assessment = sampleAssessment();
    const output = md(assessment);
    expect(assessment.verdict.gates).toHaveLength(5);
    expect(assessment.verdict.gates.filter((g) => g.passed).map((g) => g.id)).toEqual([
      "no-critical-unverified",
    ]);
    for (const gate of assessment.verdict.gates) {
      const row = output.split("\n").find((line) => line.startsWith(`| \`${gate.id}\` |`));
      expect(cells(row!)[1]).toBe(gate.passed ? "passed" : "**FAILED**");
    }
  });

  it("lists N/A checks with their reasons", () => {
    const output = md();
    const section = output.slice(output.indexOf("## Not applicable"), output.indexOf("## Conclusion"));
    for (const id of ["tlsModern", "memoryStableUnderEndurance", "backupsRecent", "restoreDrillSucceeds"]) {
      expect(section).toContain(`\`${id}\``);
    }
    expect(section).toContain("recovery.restoreDrill is not set in the spec.");
  });

  it("derives the conclusion from the verdict and its conditions", () => {
    const conclusion = (assessment: Assessment) => md(assessment).split("## Conclusion")[1]!;
    const notReady = sampleAssessment();
    expect(notReady.verdict.conditions.length).toBeGreaterThan(0);
    expect(conclusion(notReady)).toMatch(/\*\*NOT READY\.\*\*/);
    for (const condition of notReady.verdict.conditions) expect(conclusion(notReady)).toContain(condition);

    const conditional = sampleAssessment();
    conditional.verdict = {
      ...conditional.verdict,
      verdict: "CONDITIONAL",
      conditions: ["Raise observability to 70 or more."],
      exitCode: 1,
    };
    expect(conclusion(conditional)).toMatch(/\*\*CONDITIONAL\.\*\*[\s\S]*raise observability to 70 or more/);
    expect(md(conditional)).toContain("**What must change for CERTIFIED:**");

    const certified = signedSampleAssessment();
    certified.verdict = { ...certified.verdict, verdict: "CERTIFIED", conditions: [], exitCode: 0 };
    const text = conclusion(certified);
    expect(text).toMatch(/\*\*CERTIFIED\.\*\*/);
    expect(text).toContain("The signed certificate");
  });

  it("says when no check applies at all", () => {
    const assessment = sampleAssessment();
    assessment.scores.overall = null;
    expect(md(assessment)).toContain("not scored: no check applies to this system");
  });
});
