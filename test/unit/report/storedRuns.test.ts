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
