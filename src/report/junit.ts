// report.junit.xml: one testsuite per category, one testcase per check and subject, for CI test dashboards.
// UNVERIFIED is a failure, never a pass: a CI dashboard must not turn green on a probe that could not run. A subject
// that resilience.exclude left out is a skipped testcase with the exclusion's reason, and every exclusion is a
// property of the resilience suite.

import type { Assessment, CheckResult, ExclusionUse } from "../core/assessment.js";
import { CATEGORIES, type Finding, type Status } from "../core/types.js";
import type { Redactor } from "../secrets/redactor.js";
import {
  certificateStatus,
  evidencePath,
  exclusionEffect,
  findingsOf,
  formatMeasurement,
  formatScore,
  isExcluded,
  isUnverified,
  measurementEvidence,
  renderRedacted,
  STATUS_LABEL,
  subjectOf,
  toVerifyOf,
  worstStatus,
} from "./format.js";

export function renderJunit(assessment: Assessment, secrets?: Redactor): string {
  return renderRedacted(assessment, secrets, junit);
}

interface TestCase {
  check: CheckResult;
  name: string;
  status: Status;
  findings: Finding[];
  durationMs: number;
}

interface Totals {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
}

function junit(a: Assessment): string {
  // A run whose exclusions left out every resilience check still gets a resilience suite to carry them.
  const keep = (category: string, cases: TestCase[]) =>
    cases.length > 0 || (category === "resilience" && (a.exclusions?.length ?? 0) > 0);
  const suites = CATEGORIES.map((category) => {
    const cases = a.checks.filter((c) => c.category === category).flatMap(testCases);
    return { category, cases, totals: totalsOf(cases) };
  }).filter((suite) => keep(suite.category, suite.cases));
  const all = totalsOf(suites.flatMap((s) => s.cases));
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="gauntlet"${counts(all)} time="${seconds(a.durationMs)}">`,
  ];
  for (const suite of suites) {
    const score = a.scores.categories.find((s) => s.category === suite.category);
    const time = suite.cases.reduce((sum, c) => sum + c.durationMs, 0);
    lines.push(`  <testsuite name="${attr(suite.category)}"${counts(suite.totals)} time="${seconds(time)}">`);
    lines.push("    <properties>");
    const properties: [string, string][] = [
      ["system", a.system.version ? `${a.system.name} ${a.system.version}` : a.system.name],
      ["runId", a.runId],
      ["verdict", a.verdict.verdict],
      ["overall", formatScore(a.scores.overall)],
      ["certificate", certificateStatus(a)],
      ["category.score", formatScore(score?.score ?? null)],
      ["category.weight", String(score?.weight ?? a.scoring.weights[suite.category] ?? 0)],
      ...(suite.category === "resilience" ? exclusionProperties(a.exclusions) : []),
    ];
    for (const [name, value] of properties) {
      lines.push(`      <property name="${attr(name)}" value="${attr(value)}"/>`);
    }
    lines.push("    </properties>");
    for (const testCase of suite.cases) lines.push(...testCaseXml(a, testCase));
    lines.push("  </testsuite>");
  }
  lines.push("</testsuites>");
  return `${lines.join("\n")}\n`;
}

/** `resilience.exclude` as properties: a summary, then one per entry named like the testcase it leaves out. */
function exclusionProperties(exclusions: ExclusionUse[] | undefined): [string, string][] {
  if (exclusions === undefined)
    return [["exclusions", "not recorded (a run stored before exclusions were kept)"]];
  if (exclusions.length === 0) return [["exclusions", "none configured"]];
  const applied = exclusions.filter((x) => x.state === "applied").length;
  return [
    ["exclusions", `${applied} applied, ${exclusions.length - applied} unused`],
    ...exclusions.map((x): [string, string] => [
      `exclusion.${x.check}${x.subject === undefined ? "" : `[${x.subject}]`}`,
      `${x.state}, ${exclusionEffect(x)}: ${x.reason}`,
    ]),
  ];
}

/** One testcase per subject the check's findings name; a check without subjects is one testcase. */
function testCases(check: CheckResult): TestCase[] {
  const groups = new Map<string | undefined, Finding[]>();
  for (const finding of findingsOf(check)) {
    const subject = subjectOf(finding);
    groups.set(subject, [...(groups.get(subject) ?? []), finding]);
  }
  return [...groups].map(([subject, findings]) => ({
    check,
    name: subject === undefined ? check.checkId : `${check.checkId}[${subject}]`,
    status: worstStatus(findings.map((f) => f.status)),
    findings,
    // The runner times checks, not subjects: the check's time is shared evenly so suite totals stay right.
    durationMs: check.durationMs / groups.size,
  }));
}

function testCaseXml(a: Assessment, t: TestCase): string[] {
  const open =
    `    <testcase classname="${attr(`gauntlet.${t.check.category}.${t.check.checkId}`)}" ` +
    `name="${attr(t.name)}" time="${seconds(t.durationMs)}"`;
  const worst = t.findings.filter((f) => f.status === t.status);
  const message = worst.map((f) => f.message).join("\n");
  const details = body(a, t);
  let inner: string;
  switch (t.status) {
    case "FAIL":
    case "UNVERIFIED":
      inner = `<failure type="${t.status}" message="${attr(message)}">${xmlText(details)}</failure>`;
      break;
    case "ERROR":
      inner = `<error type="ERROR" message="${attr(message)}">${xmlText(details)}</error>`;
      break;
    case "NA":
      inner = `<skipped message="${attr(skippedMessage(a, t, message))}"/>`;
      break;
    case "WARN":
      inner = `<system-out>${xmlText(details)}</system-out>`;
      break;
    case "PASS":
      inner = t.findings.some((f) => (f.measurements ?? []).length > 0 || (f.evidence ?? []).length > 0)
        ? `<system-out>${xmlText(details)}</system-out>`
        : "";
      break;
  }
  return inner === "" ? [`${open}/>`] : [`${open}>`, `      ${inner}`, "    </testcase>"];
}

/** Why a testcase was skipped: its N/A message; for an excluded subject, one that names the spec's reason. */
function skippedMessage(a: Assessment, t: TestCase, message: string): string {
  const said = message !== "" ? message : (t.check.reason ?? "");
  const excluded = t.findings.find(isExcluded);
  if (!excluded) return said;
  const exclusion = a.exclusions?.find(
    (x) => x.check === t.check.checkId && (x.subject === undefined || x.subject === excluded.subject),
  );
  return exclusion && !said.includes(exclusion.reason)
    ? `${said} Excluded by the spec: ${exclusion.reason}`
    : said;
}

/** Plain-text detail: every finding of the testcase with its figures and evidence paths, then the resolution. */
function body(a: Assessment, t: TestCase): string {
  const lines = [`${t.check.title} (risk ${t.check.risk})`];
  for (const finding of t.findings) {
    lines.push(`[${STATUS_LABEL[finding.status]}] ${finding.message}`);
    const location = finding.location;
    if (location) {
      lines.push(
        `  location: ${[location.path, location.line, location.column].filter((p) => p !== undefined).join(":")}`,
      );
    }
    for (const m of finding.measurements ?? []) {
      const file = measurementEvidence(finding, m);
      lines.push(
        `  ${m.name}: ${formatMeasurement(m)} (${file ? evidencePath(a, file) : "no evidence file"})`,
      );
    }
    for (const file of finding.evidence ?? []) lines.push(`  evidence: ${evidencePath(a, file)}`);
    if (isUnverified(finding.status)) lines.push(`  to verify: ${toVerifyOf(t.check, finding)}`);
    if (finding.waived) {
      const w = finding.waived;
      lines.push(`  waived until ${w.expires} by ${w.approvedBy}: ${w.reason}`);
    }
  }
  if (t.status === "FAIL" || t.status === "WARN") {
    const subjects = new Set(t.findings.map((f) => f.subject));
    const item = a.roadmap
      .flatMap((p) => p.items)
      .find((i) => i.checkId === t.check.checkId && (i.subject === undefined || subjects.has(i.subject)));
    if (item) lines.push(`Resolution: ${item.action}`);
    else if (t.status === "FAIL") lines.push(`Resolution: ${t.check.remediation.text}`);
  }
  return lines.join("\n");
}

function totalsOf(cases: TestCase[]): Totals {
  const count = (test: (s: Status) => boolean) => cases.filter((c) => test(c.status)).length;
  return {
    tests: cases.length,
    failures: count((s) => s === "FAIL" || s === "UNVERIFIED"),
    errors: count((s) => s === "ERROR"),
    skipped: count((s) => s === "NA"),
  };
}

function counts(t: Totals): string {
  return ` tests="${t.tests}" failures="${t.failures}" errors="${t.errors}" skipped="${t.skipped}"`;
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

// ── XML 1.0 escaping ─────────────────────────────────────────────────────────────────────────────────────────────

/** Characters XML 1.0 forbids even as references are written visibly as \uXXXX; lone surrogates become U+FFFD. */
function xmlSafe(value: string): string {
  return value
    .replace(
      /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    )
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD");
}

function xmlText(value: string): string {
  return xmlSafe(value)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/\r/g, "&#13;");
}

/** Attribute values keep their newlines and tabs as references (a parser would normalise them to spaces). */
function attr(value: string): string {
  return xmlText(value)
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;")
    .replace(/\n/g, "&#10;")
    .replace(/\t/g, "&#9;");
}
