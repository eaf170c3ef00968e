// report.json: the Assessment itself, pretty-printed with its keys in object order. The schema is documented in
// docs/report-json.md; within one schemaVersion fields are only ever added.
import type { Assessment } from "../core/assessment.js";
import type { Redactor } from "../secrets/redactor.js";
import { renderRedacted } from "./format.js";

export function renderJson(assessment: Assessment, secrets?: Redactor): string {
  return renderRedacted(assessment, secrets, (a) => `${JSON.stringify(a, null, 2)}\n`);
}
