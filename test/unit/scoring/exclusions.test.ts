import { describe, expect, it } from "vitest";
import type { CheckResult } from "../../../src/core/assessment.js";
import type { FindingInput } from "../../../src/core/types.js";
import { exclusionUses } from "../../../src/scoring/exclusions.js";

function experimentCheck(checkId: string, findings: FindingInput[]): CheckResult {
  return {
    checkId,
    title: `${checkId} title`,
    objective: `${checkId} objective`,
    category: "resilience",
    risk: "high",
    destructive: true,
    status: "PASS",
    durationMs: 1,
    findings: findings.map((f) => ({ ...f, checkId })),
    remediation: { effort: "low", text: "fix {{service}}" },
  };
}

const excluded = (subject: string): FindingInput => ({
  status: "NA",
  messageId: "excluded",
  message: `${subject}: excluded by resilience.exclude`,
  subject,
});

describe("exclusionUses", () => {
  const checks = [
    experimentCheck("crashRecovered", [
      excluded("db"),
      excluded("cache"),
      {
        status: "PASS",
        messageId: "recovered",
        message: "api recovered",
        subject: "api",
        evidence: ["e.json"],
      },
    ]),
    experimentCheck("dependencyLatencyTolerated", [excluded("db")]),
  ];

  it("counts the excluded findings of its own check and subject; an entry that matches nothing is unused", () => {
    const uses = exclusionUses(checks, [
      { check: "crashRecovered", subject: "db", reason: "r1" },
      { check: "overloadShedGracefully", subject: "db", reason: "r2" },
      { check: "crashRecovered", subject: "api", reason: "r3" },
    ]);
    expect(uses.map((u) => [u.check, u.subject, u.state, u.appliedTo])).toEqual([
      ["crashRecovered", "db", "applied", 1],
      ["overloadShedGracefully", "db", "unused", 0],
      ["crashRecovered", "api", "unused", 0], // api ran: a PASS, not an excluded finding
    ]);
  });

  it("an entry without subject covers every subject of its check", () => {
    const [use] = exclusionUses(checks, [{ check: "crashRecovered", reason: "all" }]);
    expect(use).toEqual({ check: "crashRecovered", reason: "all", state: "applied", appliedTo: 2 });
  });

  it("counts each excluded experiment once, for the first entry that matches, as the planner applies them", () => {
    const uses = exclusionUses(checks, [
      { check: "crashRecovered", subject: "db", reason: "db only" },
      { check: "crashRecovered", reason: "the rest" },
    ]);
    expect(uses.map((u) => u.appliedTo)).toEqual([1, 1]);
  });
});
