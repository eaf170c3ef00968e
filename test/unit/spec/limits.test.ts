// Values that pass a pattern but mean nothing — impossible dates, absurd validity windows — are spec errors with a
// line and column, never a waiver that lives forever or a crash at signing time.
import { describe, expect, it } from "vitest";
import { evaluate } from "../../../src/scoring/evaluate.js";
import { parseSpec } from "../../../src/spec/loader.js";
import { SpecError } from "../../../src/spec/problems.js";
import { specSchema } from "../../../src/spec/schema.js";

function problemsOf(yaml: string): { line: number; message: string }[] {
  try {
    parseSpec(yaml, "/tmp/gauntlet.yaml");
    return [];
  } catch (error) {
    if (error instanceof SpecError) return error.problems.map((p) => ({ line: p.line, message: p.message }));
    throw error;
  }
}

const base = "version: 1\nsystem: { name: s }\n";

describe("spec limits", () => {
  it.each(["2020-13-45", "2027-02-30", "2027-00-10"])(
    "rejects the impossible waiver date %s at its line",
    (date) => {
      const problems = problemsOf(
        `${base}scoring:\n  waivers:\n    - { check: x, reason: r, approvedBy: me, expires: ${date} }\n`,
      );
      expect(problems).toHaveLength(1);
      expect(problems[0]!.line).toBe(5);
      expect(problems[0]!.message).toMatch(/date/);
    },
  );

  it("accepts a real date", () => {
    expect(
      problemsOf(
        `${base}scoring:\n  waivers:\n    - { check: x, reason: r, approvedBy: me, expires: 2028-02-29 }\n`,
      ),
    ).toEqual([]);
  });

  it.each(["99999999999999d", "0s"])("rejects certificate.validFor %s", (value) => {
    const problems = problemsOf(`${base}certificate:\n  validFor: ${value}\n`);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.line).toBe(4);
  });

  it("an unreadable waiver expiry counts as expired, never as permanent", () => {
    const scoring = specSchema.parse({ version: 1, system: { name: "s" } }).scoring;
    scoring.waivers = [{ check: "c", reason: "r", approvedBy: "me", expires: "not-a-date" }];
    const result = evaluate(
      [
        {
          checkId: "c",
          title: "c",
          objective: "c",
          category: "security",
          risk: "critical",
          destructive: false,
          status: "FAIL",
          durationMs: 1,
          findings: [{ checkId: "c", status: "FAIL", message: "m" }],
          remediation: { effort: "low", text: "fix" },
        },
      ],
      scoring,
      new Date("2026-01-01T00:00:00Z"),
    );
    expect(result.waivers[0]!.state).toBe("expired");
    expect(result.checks[0]!.status).toBe("FAIL");
  });

  it("a PromQL steady state without Prometheus is an error at its line, not skipped in silence", () => {
    const problems = problemsOf(
      `${base}services:\n  api: { url: "http://127.0.0.1:1" }\nresilience:\n  experiments:\n    - name: x\n      target: api\n      fault: kill\n      steadyState: ["up == 1"]\n`,
    );
    expect(problems).toHaveLength(1);
    expect(problems[0]!.line).toBe(10);
    expect(problems[0]!.message).toMatch(/monitoring\.prometheus/);
  });
});
