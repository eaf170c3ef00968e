import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ASSESSMENT_SCHEMA_VERSION } from "../../../src/core/assessment.js";
import { isReportFormat, REPORT_FILES, render } from "../../../src/report/index.js";
import { sampleAssessment, signedSampleAssessment } from "../../fixtures/assessment.js";

/** Field paths such as `checks[].findings[].measurements[].evidence`; maps (data, counts, weights) stop the walk. */
function fieldPaths(value: unknown, prefix = "", out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) fieldPaths(item, `${prefix}[]`, out);
  } else if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      const path = prefix ? `${prefix}.${key}` : key;
      out.add(path);
      if (!["data", "counts", "weights"].includes(key)) fieldPaths(item, path, out);
    }
  }
  return out;
}

describe("JSON report", () => {
  it("is the Assessment itself, pretty-printed with 2 spaces and keys in object order", () => {
    const assessment = sampleAssessment();
    const output = render("json", assessment);
    expect(output).toBe(`${JSON.stringify(assessment, null, 2)}\n`);
    const parsed = JSON.parse(output);
    expect(parsed).toEqual(assessment);
    expect(Object.keys(parsed)).toEqual(Object.keys(assessment));
    expect(parsed.schemaVersion).toBe(ASSESSMENT_SCHEMA_VERSION);
  });

  it("documents every field it writes in docs/report-json.md", () => {
    const doc = readFileSync(new URL("../../../docs/report-json.md", import.meta.url), "utf8");
    const paths = new Set([...fieldPaths(sampleAssessment()), ...fieldPaths(signedSampleAssessment())]);
    const missing = [...paths].filter((path) => !doc.includes(`\`${path}\``));
    expect(missing).toEqual([]);
  });
});

describe("report formats", () => {
  it("names each format's file", () => {
    expect(REPORT_FILES).toEqual({
      md: "report.md",
      json: "report.json",
      junit: "report.junit.xml",
      sarif: "report.sarif",
    });
    expect(isReportFormat("sarif")).toBe(true);
    expect(isReportFormat("html")).toBe(false);
    expect(isReportFormat("toString")).toBe(false);
  });
});
