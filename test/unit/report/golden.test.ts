// Golden files for every format: a reporter change shows up as a diff. UPDATE_GOLDEN=1 rewrites them.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { REPORT_FILES, type ReportFormat, render } from "../../../src/report/index.js";
import { sampleAssessment } from "../../fixtures/assessment.js";

const GOLDEN_DIR = new URL("../../golden/", import.meta.url);
const update = process.env.UPDATE_GOLDEN === "1";

describe("golden reports", () => {
  for (const format of Object.keys(REPORT_FILES) as ReportFormat[]) {
    it(`${REPORT_FILES[format]} matches test/golden`, () => {
      const file = new URL(REPORT_FILES[format], GOLDEN_DIR);
      const output = render(format, sampleAssessment());
      if (update || !existsSync(file)) {
        writeFileSync(file, output);
        if (!update) throw new Error(`Wrote missing golden ${file.pathname}; review it and re-run.`);
      }
      expect(output).toBe(readFileSync(file, "utf8"));
    });
  }

  it("renders the same bytes twice", () => {
    for (const format of Object.keys(REPORT_FILES) as ReportFormat[]) {
      expect(render(format, sampleAssessment())).toBe(render(format, sampleAssessment()));
    }
  });
});
