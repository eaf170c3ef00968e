import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ASSESSMENT_SCHEMA_VERSION } from "../../../src/core/assessment.js";
import { isReportFormat, REPORT_FILES, render } from "../../../src/report/index.js";
import { REDACTED } from "../../../src/secrets/redactor.js";
import {
  FIXTURE_DB_PASSWORD,
  legacySampleAssessment,
  sampleAssessment,
  signedSampleAssessment,
} from "../../fixtures/assessment.js";

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
    // The one difference: the URL password in a finding's message, masked by its shape.
    const expected = JSON.stringify(assessment, null, 2).replace(FIXTURE_DB_PASSWORD, REDACTED);
    expect(expected).not.toContain(FIXTURE_DB_PASSWORD);
    expect(output).toBe(`${expected}\n`);
    const parsed = JSON.parse(output);
    expect(parsed).toEqual(JSON.parse(expected));
    expect(Object.keys(parsed)).toEqual(Object.keys(assessment));
    expect(parsed.schemaVersion).toBe(ASSESSMENT_SCHEMA_VERSION);
  });

  it("documents every field it writes in docs/report-json.md", () => {
    const doc = readFileSync(new URL("../../../docs/report-json.md", import.meta.url), "utf8");
    const paths = new Set([...fieldPaths(sampleAssessment()), ...fieldPaths(signedSampleAssessment())]);
    const missing = [...paths].filter((path) => !doc.includes(`\`${path}\``));
    expect(missing).toEqual([]);
  });

  it("writes exclusions and messageIds, and leaves both out for a run stored before them", () => {
    const parsed = JSON.parse(render("json", sampleAssessment()));
    expect(parsed.exclusions.map((x: { state: string }) => x.state)).toEqual(["applied", "unused"]);
    const ids = parsed.checks.flatMap((c: { findings: { messageId?: string }[] }) =>
      c.findings.map((f) => f.messageId),
    );
    expect(ids.length).toBeGreaterThan(0);
    expect(ids.filter((id: unknown) => typeof id !== "string")).toEqual([]);
    const legacy = JSON.parse(render("json", legacySampleAssessment()));
    expect(legacy).not.toHaveProperty("exclusions");
    expect(legacy.checks[0].findings[0]).not.toHaveProperty("messageId");
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
