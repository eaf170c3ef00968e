// `gauntlet report <run>` renders runs from the history store, written by older versions: an Assessment without
// `exclusions` and findings without `messageId` must render in every format, and say that exclusions are not known
// rather than that there are none.
import { describe, expect, it } from "vitest";
import { type ReportFormat, render } from "../../../src/report/index.js";
import { legacySampleAssessment } from "../../fixtures/assessment.js";

/** How each format says "not recorded". */
const NOT_KNOWN: Record<ReportFormat, RegExp> = {
  md: /## Exclusions\n\n.*\n\nNot recorded: this run was stored before/,
  json: /^(?![\s\S]*"exclusions")/,
  junit: /<property name="exclusions" value="not recorded \(a run stored before exclusions were kept\)"\/>/,
  sarif: /"exclusions": null/,
};

describe("a run stored before exclusions and messageIds", () => {
  const legacy = legacySampleAssessment();

  it("is what the fixture claims: no exclusions, no messageIds", () => {
    expect(legacy).not.toHaveProperty("exclusions");
    expect(legacy.checks.flatMap((c) => c.findings).filter((f) => f.messageId !== undefined)).toEqual([]);
  });

  for (const [format, notKnown] of Object.entries(NOT_KNOWN) as [ReportFormat, RegExp][]) {
    it(`renders as ${format}, saying exclusions are not known rather than none`, () => {
      const output = render(format, legacy);
      expect(output).toMatch(notKnown);
      expect(output).not.toMatch(/No exclusions are configured|none configured|"exclusions": \[\]/);
    });
  }
});

describe("a run stored before the operations category (six categories)", () => {
  function sixCategoryRun() {
    const run = legacySampleAssessment();
    run.scores.categories = run.scores.categories.filter((c) => c.category !== "operations");
    return run;
  }

  for (const format of ["md", "json", "junit", "sarif"] as ReportFormat[]) {
    it(`renders as ${format}, with the categories it had and no invented operations score`, () => {
      const output = render(format, sixCategoryRun());
      if (format === "md") {
        expect(output).toMatch(/\| Recovery \|/);
        expect(output).not.toMatch(/\| Operations \|/);
      }
      if (format === "junit") {
        expect(output).toMatch(/<testsuite name="security"/);
        expect(output).not.toContain('<testsuite name="operations"');
      }
      if (format === "json")
        expect(
          JSON.parse(output).scores.categories.map((c: { category: string }) => c.category),
        ).not.toContain("operations");
    });
  }
});
