// Reporters: pure functions of an Assessment (DESIGN.md "Data flow"). Same Assessment in, same bytes out: no clock,
// no randomness, no environment. Every output is redacted as its last step.
import type { Assessment } from "../core/assessment.js";
import type { Redactor } from "../secrets/redactor.js";
import { renderJson } from "./json.js";
import { renderJunit } from "./junit.js";
import { renderMarkdown } from "./markdown.js";
import { renderSarif } from "./sarif.js";

export type ReportFormat = "md" | "json" | "junit" | "sarif";

/** File name of each format inside a run's output folder. */
export const REPORT_FILES: Record<ReportFormat, string> = {
  md: "report.md",
  json: "report.json",
  junit: "report.junit.xml",
  sarif: "report.sarif",
};

export const REPORT_FORMATS = Object.keys(REPORT_FILES) as ReportFormat[];

export function isReportFormat(value: string): value is ReportFormat {
  return Object.hasOwn(REPORT_FILES, value);
}

const RENDERERS: Record<ReportFormat, (assessment: Assessment, secrets?: Redactor) => string> = {
  md: renderMarkdown,
  json: renderJson,
  junit: renderJunit,
  sarif: renderSarif,
};

/** `secrets`: the run's, when rendering at the end of a run; the stored findings are redacted already. */
export function render(format: ReportFormat, assessment: Assessment, secrets?: Redactor): string {
  return RENDERERS[format](assessment, secrets);
}
