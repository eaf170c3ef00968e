import { describe, expect, it } from "vitest";
import type { CheckResult } from "../../../src/core/assessment.js";
import type { Category, Risk, Status } from "../../../src/core/types.js";
import { evaluate } from "../../../src/scoring/evaluate.js";
import { buildRoadmap, fillTemplate } from "../../../src/scoring/roadmap.js";
import { scoreChecks } from "../../../src/scoring/score.js";
import { worstStatus } from "../../../src/scoring/statuses.js";
import { specSchema } from "../../../src/spec/schema.js";

const NOW = new Date("2026-11-22T12:00:00Z");

function check(
  checkId: string,
  category: Category,
  risk: Risk,
  status: Status,
  extra: Partial<CheckResult> = {},
): CheckResult {
  return {
    checkId,
    title: `${checkId} title`,
    objective: `${checkId} objective`,
    category,
    risk,
    destructive: false,
    status,
    durationMs: 1,
    findings: [{ checkId, status, message: `${checkId} is ${status}`, subject: "api" }],
    remediation: { effort: "low", text: "fix {{service}}" },
    ...extra,
  };
}

function scoring(overrides: Record<string, unknown> = {}) {
  return specSchema.parse({ version: 1, system: { name: "s" }, scoring: overrides }).scoring;
}

const EQUAL = {
  deployment: 1,
  observability: 1,
  resilience: 1,
  security: 1,
  performance: 1,
  recovery: 1,
  operations: 1,
};

describe("scoreChecks", () => {
  const cases: { name: string; checks: CheckResult[]; category: Category; score: number | null }[] = [
    { name: "all pass", checks: [check("a", "security", "high", "PASS")], category: "security", score: 100 },
    {
      name: "warn is half",
      checks: [check("a", "security", "high", "WARN")],
      category: "security",
      score: 50,
    },
    {
      name: "risk weighted: critical PASS (10) + low FAIL (2.5) = 80",
      checks: [check("a", "security", "critical", "PASS"), check("b", "security", "low", "FAIL")],
      category: "security",
      score: 80,
    },
    {
      name: "UNVERIFIED and ERROR score zero",
      checks: [
        check("a", "security", "high", "PASS"),
        check("b", "security", "high", "UNVERIFIED"),
        check("c", "security", "high", "ERROR"),
      ],
      category: "security",
      score: 33.33,
    },
    {
      name: "N/A leaves the average",
      checks: [check("a", "security", "high", "PASS"), check("b", "security", "critical", "NA")],
      category: "security",
      score: 100,
    },
    {
      name: "all N/A in a category → no score",
      checks: [check("a", "security", "high", "NA"), check("b", "deployment", "high", "PASS")],
      category: "security",
      score: null,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const scores = scoreChecks(c.checks, EQUAL);
      expect(scores.categories.find((x) => x.category === c.category)?.score).toBe(c.score);
    });
  }

  it("renormalises category weights over scored categories", () => {
    const scores = scoreChecks(
      [check("a", "security", "high", "PASS"), check("b", "deployment", "high", "FAIL")],
      {
        deployment: 15,
        observability: 20,
        resilience: 20,
        security: 20,
        performance: 15,
        recovery: 10,
        operations: 0,
      },
    );
    // security 100 × 20/35 + deployment 0 × 15/35
    expect(scores.overall).toBe(57.14);
    const security = scores.categories.find((c) => c.category === "security")!;
    expect(security.effectiveWeight).toBeCloseTo(20 / 35, 4);
    expect(security.contribution).toBe(57.14);
    expect(scores.categories.find((c) => c.category === "resilience")!.effectiveWeight).toBe(0);
  });

  it("coverage is the share of applicable checks verified", () => {
    const scores = scoreChecks(
      [
        check("a", "security", "high", "PASS"),
        check("b", "security", "high", "FAIL"),
        check("c", "security", "high", "UNVERIFIED"),
        check("d", "security", "high", "ERROR"),
        check("e", "security", "high", "NA"),
      ],
      EQUAL,
    );
    expect(scores.coverage).toBe(50);
    expect(scores.counts).toMatchObject({ PASS: 1, FAIL: 1, UNVERIFIED: 1, ERROR: 1, NA: 1 });
  });

  it("no applicable checks → overall null and zero coverage", () => {
    const scores = scoreChecks([check("a", "security", "high", "NA")], EQUAL);
    expect(scores.overall).toBeNull();
    expect(scores.coverage).toBe(0);
  });
});

describe("verdict", () => {
  const cases: { name: string; checks: CheckResult[]; verdict: string; exit: number; gate?: string }[] = [
    {
      name: "everything passes → CERTIFIED",
      checks: [check("a", "security", "critical", "PASS"), check("b", "deployment", "high", "PASS")],
      verdict: "CERTIFIED",
      exit: 0,
    },
    {
      name: "critical FAIL blocks whatever the average",
      checks: [
        check("a", "security", "critical", "FAIL"),
        ...Array.from({ length: 30 }, (_, i) => check(`p${i}`, "security", "critical", "PASS")),
        ...Array.from({ length: 30 }, (_, i) => check(`d${i}`, "deployment", "critical", "PASS")),
      ],
      verdict: "NOT READY",
      exit: 2,
      gate: "no-critical-failed",
    },
    {
      name: "UNVERIFIED critical → CONDITIONAL, never CERTIFIED",
      checks: [
        check("a", "security", "critical", "UNVERIFIED"),
        ...Array.from({ length: 40 }, (_, i) => check(`p${i}`, "security", "critical", "PASS")),
      ],
      verdict: "CONDITIONAL",
      exit: 1,
      gate: "no-critical-unverified",
    },
    {
      name: "ERROR critical counts as unverified",
      checks: [
        check("a", "security", "critical", "ERROR"),
        ...Array.from({ length: 40 }, (_, i) => check(`p${i}`, "security", "critical", "PASS")),
      ],
      verdict: "CONDITIONAL",
      exit: 1,
      gate: "no-critical-unverified",
    },
    {
      name: "category below minimum → CONDITIONAL",
      checks: [
        check("a", "deployment", "high", "FAIL"),
        check("b", "deployment", "high", "PASS"),
        ...Array.from({ length: 10 }, (_, i) => check(`p${i}`, "security", "high", "PASS")),
        ...Array.from({ length: 10 }, (_, i) => check(`o${i}`, "observability", "high", "PASS")),
      ],
      verdict: "CONDITIONAL",
      exit: 1,
      gate: "category-minimum",
    },
    {
      name: "overall below conditionalAt → NOT READY",
      checks: [check("a", "security", "high", "FAIL"), check("b", "security", "high", "PASS")],
      verdict: "NOT READY",
      exit: 2,
      gate: "overall-conditional",
    },
    { name: "no applicable checks → NOT READY", checks: [], verdict: "NOT READY", exit: 2 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const result = evaluate(c.checks, scoring(), NOW);
      expect(result.verdict.verdict).toBe(c.verdict);
      expect(result.verdict.exitCode).toBe(c.exit);
      if (c.gate) expect(result.verdict.gates.find((g) => g.id === c.gate)?.passed).toBe(false);
      if (c.verdict !== "CERTIFIED") expect(result.verdict.conditions.length).toBeGreaterThan(0);
    });
  }

  it("thresholds come from the spec", () => {
    const checks = [check("a", "security", "high", "WARN")]; // 50
    expect(
      evaluate(checks, scoring({ certifyAt: 50, conditionalAt: 40, categoryMinimum: 50 }), NOW).verdict
        .verdict,
    ).toBe("CERTIFIED");
    expect(evaluate(checks, scoring({ certifyAt: 60, conditionalAt: 50 }), NOW).verdict.verdict).toBe(
      "CONDITIONAL",
    );
  });
});

describe("waivers", () => {
  const waiver = { check: "tlsModern", subject: "api", reason: "legacy client", approvedBy: "cto" };

  it("an active waiver turns one FAIL into WARN and is reported", () => {
    const result = evaluate(
      [check("tlsModern", "security", "critical", "FAIL")],
      scoring({ waivers: [{ ...waiver, expires: "2027-03-01" }] }),
      NOW,
    );
    expect(result.checks[0]!.status).toBe("WARN");
    expect(result.checks[0]!.findings[0]!.waived?.approvedBy).toBe("cto");
    expect(result.waivers[0]).toMatchObject({ state: "active", appliedTo: 1 });
    expect(result.verdict.gates.find((g) => g.id === "no-critical-failed")?.passed).toBe(true);
  });

  it("an expired waiver no longer applies and says so", () => {
    const result = evaluate(
      [check("tlsModern", "security", "critical", "FAIL")],
      scoring({ waivers: [{ ...waiver, expires: "2026-11-22" }] }),
      NOW,
    );
    expect(result.checks[0]!.status).toBe("FAIL");
    expect(result.waivers[0]!.state).toBe("expired");
    expect(result.verdict.verdict).toBe("NOT READY");
  });

  it("a waiver for another subject does not apply; unused waivers are listed", () => {
    const result = evaluate(
      [check("tlsModern", "security", "critical", "FAIL")],
      scoring({ waivers: [{ ...waiver, subject: "web", expires: "2027-03-01" }] }),
      NOW,
    );
    expect(result.checks[0]!.status).toBe("FAIL");
    expect(result.waivers[0]!.state).toBe("unused");
  });

  it("a waiver never turns UNVERIFIED into anything else", () => {
    const result = evaluate(
      [check("tlsModern", "security", "critical", "UNVERIFIED")],
      scoring({ waivers: [{ ...waiver, expires: "2027-03-01" }] }),
      NOW,
    );
    expect(result.checks[0]!.status).toBe("UNVERIFIED");
  });
});

describe("roadmap", () => {
  it("orders by risk then effort, critical first, and fills templates", () => {
    const checks = [
      check("lowOne", "security", "low", "FAIL"),
      check("highHard", "security", "high", "FAIL", {
        remediation: { effort: "high", text: "hard {{service}}" },
      }),
      check("highEasy", "security", "high", "FAIL"),
      check("crit", "security", "critical", "UNVERIFIED", {
        findings: [{ checkId: "crit", status: "UNVERIFIED", message: "m", toVerify: "install x" }],
      }),
      check("ok", "security", "critical", "PASS"),
    ];
    const phases = buildRoadmap(checks);
    expect(phases.map((p) => p.phase)).toEqual([1, 2, 3]);
    expect(phases[0]!.items.map((i) => i.checkId)).toEqual(["crit"]);
    expect(phases[0]!.items[0]!.action).toContain("install x");
    expect(phases[1]!.items.map((i) => i.checkId)).toEqual(["highEasy", "highHard"]);
    expect(phases[1]!.items[1]!.action).toBe("hard api");
    expect(phases[2]!.items.map((i) => i.checkId)).toEqual(["lowOne"]);
  });

  it("fillTemplate prefers data over subject", () => {
    expect(fillTemplate("restart {{service}} on {{port}}", { subject: "api", data: { port: 8080 } })).toBe(
      "restart api on 8080",
    );
  });
});

describe("worstStatus", () => {
  it.each([
    [["PASS", "WARN"], "WARN"],
    [["PASS", "UNVERIFIED", "FAIL"], "FAIL"],
    [["ERROR", "UNVERIFIED"], "ERROR"],
    [["NA"], "NA"],
    [[], "NA"],
  ] as [Status[], Status][])("%j → %s", (statuses, expected) => {
    expect(worstStatus(statuses)).toBe(expected);
  });
});
