// report.sarif: SARIF 2.1.0 for code-scanning dashboards. One rule per check, one result per finding that needs
// attention (FAIL, WARN, UNVERIFIED, ERROR); waived findings are reported as suppressed, never dropped. Waivers and
// exclusions are run properties too, and each resilience.exclude entry is a tool configuration notification: an
// excluded subject is N/A, so no result would otherwise say that a fault was not injected.

import type { Assessment, CheckResult, ExclusionUse } from "../core/assessment.js";
import type { Finding, Location, Risk, Status } from "../core/types.js";
import type { Redactor } from "../secrets/redactor.js";
import {
  certificateStatus,
  evidencePath,
  exclusionEffect,
  exclusionTarget,
  findingsOf,
  isUnverified,
  measurementEvidence,
  renderRedacted,
  toVerifyOf,
} from "./format.js";

const SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json";
const INFORMATION_URI = "https://www.npmjs.com/package/gauntlet-cert";

type Level = "error" | "warning" | "note" | "none";

const REPORTED: ReadonlySet<Status> = new Set(["FAIL", "WARN", "UNVERIFIED", "ERROR"]);

/** GitHub code scanning ranks security rules by this 0–10 score (critical > 9, high ≥ 7, medium ≥ 4). */
const SECURITY_SEVERITY: Record<Risk, string> = { critical: "9.5", high: "8.0", medium: "5.5", low: "3.0" };

export function renderSarif(assessment: Assessment, secrets?: Redactor): string {
  return renderRedacted(assessment, secrets, (a) => `${JSON.stringify(sarif(a), null, 2)}\n`);
}

function sarif(a: Assessment): unknown {
  const ruleIndex = new Map(a.checks.map((check, index) => [check.checkId, index]));
  const results = a.checks.flatMap((check) =>
    findingsOf(check)
      .filter((finding) => REPORTED.has(finding.status))
      .map((finding) => result(a, check, finding, ruleIndex.get(check.checkId)!)),
  );
  return {
    $schema: SARIF_SCHEMA,
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "gauntlet",
            version: a.tool.version,
            informationUri: INFORMATION_URI,
            rules: a.checks.map(rule),
          },
        },
        automationDetails: { id: `gauntlet/${a.system.name}/${a.runId}` },
        invocations: [
          {
            executionSuccessful: true,
            startTimeUtc: a.startedAt,
            endTimeUtc: a.finishedAt,
            ...(a.exclusions && a.exclusions.length > 0
              ? {
                  toolConfigurationNotifications: a.exclusions.map((x) =>
                    exclusionNotification(a, x, ruleIndex),
                  ),
                }
              : {}),
          },
        ],
        results,
        properties: {
          verdict: a.verdict.verdict,
          overall: a.scores.overall,
          coverage: a.scores.coverage,
          conditions: a.verdict.conditions,
          runId: a.runId,
          system: a.system,
          revision: a.revision,
          signed: a.certificate?.signed ?? false,
          certificate: certificateStatus(a),
          waivers: a.waivers,
          // Absent in runs stored before exclusions were kept: null says "not known", [] would say "none".
          exclusions: a.exclusions ?? null,
        },
      },
    ],
  };
}

/** SARIF §3.58: a notification about the tool's configuration, tied to the rule it switches off for a subject. */
function exclusionNotification(a: Assessment, x: ExclusionUse, ruleIndex: Map<string, number>): unknown {
  const index = ruleIndex.get(x.check);
  return {
    descriptor: { id: "gauntlet/exclusion" },
    associatedRule: { id: x.check, ...(index !== undefined ? { index } : {}) },
    // An entry that matched nothing planned is worth a look (a typo, a renamed service).
    level: x.state === "applied" ? "note" : "warning",
    message: { text: `resilience.exclude: ${exclusionTarget(x)} ${exclusionEffect(x)}. Reason: ${x.reason}` },
    ...(x.subject !== undefined
      ? {
          locations: [
            {
              logicalLocations: [
                { name: x.subject, fullyQualifiedName: `${a.system.name}/${x.subject}`, kind: "resource" },
              ],
            },
          ],
        }
      : {}),
    properties: {
      check: x.check,
      ...(x.subject !== undefined ? { subject: x.subject } : {}),
      state: x.state,
      appliedTo: x.appliedTo,
    },
  };
}

function rule(check: CheckResult): unknown {
  const security = check.category === "security";
  return {
    id: check.checkId,
    name: check.checkId.charAt(0).toUpperCase() + check.checkId.slice(1),
    shortDescription: { text: check.title },
    fullDescription: { text: check.objective },
    help: { text: check.remediation.text },
    defaultConfiguration: { level: riskLevel(check.risk) },
    properties: {
      category: check.category,
      risk: check.risk,
      effort: check.remediation.effort,
      destructive: check.destructive,
      tags: ["gauntlet", check.category],
      ...(security ? { "security-severity": SECURITY_SEVERITY[check.risk] } : {}),
    },
  };
}

function result(a: Assessment, check: CheckResult, finding: Finding, ruleIndex: number): unknown {
  const unverified = isUnverified(finding.status);
  const text = unverified ? `${finding.message} To verify: ${toVerifyOf(check, finding)}` : finding.message;
  const measurements = (finding.measurements ?? []).map((m) => {
    const file = measurementEvidence(finding, m);
    return {
      name: m.name,
      value: m.value,
      unit: m.unit,
      ...(file ? { evidence: evidencePath(a, file) } : {}),
    };
  });
  return {
    ruleId: check.checkId,
    ruleIndex,
    // SARIF §3.27.9: a result of any kind other than "fail" must have level "none".
    kind: unverified ? "review" : "fail",
    level: resultLevel(check.risk, finding.status),
    message: { text },
    locations: [location(a, finding)],
    ...(finding.messageId !== undefined
      ? { partialFingerprints: { [FINGERPRINT]: fingerprint(finding) } }
      : {}),
    ...(finding.waived
      ? {
          suppressions: [
            {
              kind: "external",
              status: "accepted",
              justification:
                `${finding.waived.reason} (approved by ${finding.waived.approvedBy}, ` +
                `expires ${finding.waived.expires})`,
            },
          ],
        }
      : {}),
    properties: {
      status: finding.status,
      ...(finding.messageId !== undefined ? { messageId: finding.messageId } : {}),
      category: check.category,
      risk: check.risk,
      ...(finding.subject ? { subject: finding.subject } : {}),
      ...(measurements.length > 0 ? { measurements } : {}),
      ...(finding.evidence && finding.evidence.length > 0
        ? { evidence: finding.evidence.map((file) => evidencePath(a, file)) }
        : {}),
    },
  };
}

/** Versioned key of the partial fingerprint: a change to what goes into it gets a new key, never new values. */
const FINGERPRINT = "gauntletFinding/v1";

/**
 * The same problem in the next run has the same fingerprint even though its message (measured figures) changes:
 * check, subject, messageId and file position, never the wording. Readable, not hashed: nothing secret goes in that
 * the result does not already show.
 */
function fingerprint(finding: Finding): string {
  const at = finding.location ? `${finding.location.path}:${finding.location.line ?? ""}` : "";
  return [finding.checkId, finding.subject ?? "", finding.messageId ?? "", at].join("|");
}

function location(a: Assessment, finding: Finding): unknown {
  if (finding.location) return { physicalLocation: physical(finding.location) };
  const subject = finding.subject ?? a.system.name;
  return {
    logicalLocations: [
      { name: subject, fullyQualifiedName: `${a.system.name}/${subject}`, kind: "resource" },
    ],
  };
}

function physical(location: Location): unknown {
  const region: Record<string, number> = {};
  if (location.line !== undefined && location.line >= 1) {
    region.startLine = location.line;
    if (location.column !== undefined && location.column >= 1) region.startColumn = location.column;
  }
  return {
    artifactLocation: { uri: artifactUri(location.path) },
    ...(Object.keys(region).length > 0 ? { region } : {}),
  };
}

/** A relative URI reference with forward slashes; each segment percent-encoded. */
function artifactUri(path: string): string {
  const slashed = path.replace(/\\/g, "/").replace(/^(\.\/)+/, "");
  const absolute = slashed.startsWith("/") || /^[A-Za-z]:\//.test(slashed);
  const encoded = slashed
    .split("/")
    .map((segment) => (/^[A-Za-z]:$/.test(segment) ? segment : encodeURIComponent(segment)))
    .join("/");
  if (!absolute) return encoded;
  return encoded.startsWith("/") ? `file://${encoded}` : `file:///${encoded}`;
}

function riskLevel(risk: Risk): Level {
  return risk === "critical" || risk === "high" ? "error" : risk === "medium" ? "warning" : "note";
}

function resultLevel(risk: Risk, status: Status): Level {
  if (isUnverified(status)) return "none";
  const level = riskLevel(risk);
  return status === "WARN" && level === "error" ? "warning" : level;
}
