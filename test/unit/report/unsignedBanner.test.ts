// An unsigned run says once, not twice, that its report is not a certificate, whatever note an older Gauntlet stored.
import { describe, expect, it } from "vitest";
import type { Assessment } from "../../../src/core/assessment.js";
import { REPORT_FORMATS, render } from "../../../src/report/index.js";
import { sampleAssessment, signedSampleAssessment } from "../../fixtures/assessment.js";

const NOTES = {
  current: "no signing key was given (gauntlet keygen, then --key)",
  "stored by 0.1 after review":
    "no signing key was given (gauntlet keygen, then --key); this report is not a certificate",
  "stored by 0.1":
    "unsigned: no signing key was given (gauntlet keygen, then --key); this is not a certificate",
};

function withNote(note: string): Assessment {
  const assessment = sampleAssessment();
  assessment.certificate = { ...assessment.certificate!, note };
  return assessment;
}

function times(output: string, phrase: RegExp): number {
  return output.match(new RegExp(phrase.source, "gi"))?.length ?? 0;
}

describe("the unsigned banner", () => {
  for (const [when, note] of Object.entries(NOTES)) {
    it(`says "not a certificate" once in report.md and never twice elsewhere (note ${when})`, () => {
      const assessment = withNote(note);
      expect(times(render("md", assessment), /not a certificate/)).toBe(1);
      for (const format of REPORT_FORMATS.filter((f) => f !== "md" && f !== "json")) {
        expect(times(render(format, assessment), /not a certificate/), format).toBe(0);
      }
      // report.json is the stored Assessment itself: the note as it was stored, once.
      expect(times(render("json", assessment), /not a certificate/)).toBeLessThanOrEqual(1);
      for (const format of REPORT_FORMATS) {
        expect(times(render(format, assessment), /unsigned: unsigned/), format).toBe(0);
      }
    });
  }

  it("shows every stored note as the current one says it", () => {
    const expected = render("md", withNote(NOTES.current));
    for (const note of Object.values(NOTES)) {
      const output = render("md", withNote(note));
      expect(output.split("\n").filter((line) => line.includes("UNSIGNED"))).toEqual(
        expected.split("\n").filter((line) => line.includes("UNSIGNED")),
      );
      expect(render("junit", withNote(note))).toBe(render("junit", withNote(NOTES.current)));
    }
  });

  it("says it once when no certificate was issued, and not at all when signed", () => {
    const none = sampleAssessment();
    none.certificate = null;
    expect(times(render("md", none), /not a certificate/)).toBe(1);
    for (const format of REPORT_FORMATS) {
      expect(times(render(format, signedSampleAssessment()), /not a certificate/), format).toBe(0);
    }
  });
});
