// The scan's findings as a SARIF 2.1.0 log of their own, one result per finding at its file, line and column, ready
// for a code-scanning upload: masked values only, the fingerprint as partialFingerprints, accepted findings as
// suppressed (never dropped), a secret found in history carrying its commit.
import { TOOL_VERSION } from "../../version.js";
import type { ScanFinding, ScanResult } from "./scan.js";

const FINGERPRINT_KEY = "gauntletSecret/v1";

export function scanSarif(result: Pick<ScanResult, "findings">): unknown {
  const rules = [...new Set(result.findings.map((f) => f.ruleId))].sort();
  const index = new Map(rules.map((id, i) => [id, i]));
  return {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "gauntlet secret scan",
            version: TOOL_VERSION,
            informationUri: "https://www.npmjs.com/package/gauntlet-cert",
            rules: rules.map((id) => ({
              id,
              shortDescription: { text: result.findings.find((f) => f.ruleId === id)!.label },
              properties: { tags: ["security", "secret"], "security-severity": "9.5" },
            })),
          },
        },
        results: result.findings.map((f) => sarifResult(f, index.get(f.ruleId)!)),
      },
    ],
  };
}

function sarifResult(f: ScanFinding, ruleIndex: number): unknown {
  const where = f.commit ? ` in history only (commit ${f.commit}): rotate it` : "";
  return {
    ruleId: f.ruleId,
    ruleIndex,
    level: f.severity === "warn" ? "warning" : "error",
    message: { text: `${f.label} ${f.masked}${where}` },
    locations: [
      {
        physicalLocation: {
          artifactLocation: { uri: f.path.split("/").map(encodeURIComponent).join("/") },
          region: { startLine: f.line, startColumn: f.column, endLine: f.endLine, endColumn: f.endColumn },
        },
      },
    ],
    partialFingerprints: { [FINGERPRINT_KEY]: f.fingerprint },
    ...(f.baselined
      ? { suppressions: [{ kind: "external", status: "accepted", justification: "baseline" }] }
      : {}),
    properties: {
      masked: f.masked,
      engine: f.engine,
      ...(f.commit ? { commit: f.commit, commitDate: f.commitDate, occurrences: f.occurrences } : {}),
      ...(f.encrypted !== undefined ? { encrypted: f.encrypted } : {}),
    },
  };
}
