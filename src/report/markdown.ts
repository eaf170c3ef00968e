// report.md: the familiar certificate layout, made honest. Every figure links to the evidence file it was read from,
// every UNVERIFIED/ERROR line says what would make it verifiable, waivers and exclusions are always printed, and an
// unsigned run says plainly, once, that it is not a certificate.

import type { Assessment, CategoryScore, CheckResult, RoadmapItem } from "../core/assessment.js";
import { MANIFEST_FILE } from "../core/evidence.js";
import { CATEGORIES, type Category, type Finding, type Risk, STATUSES, type Status } from "../core/types.js";
import type { Redactor } from "../secrets/redactor.js";
import {
  evidencePath,
  findingsOf,
  formatDuration,
  formatMeasurement,
  formatNumber,
  formatScore,
  formatShare,
  formatTimestamp,
  isExcluded,
  isUnverified,
  measurementEvidence,
  plural,
  renderRedacted,
  STATUS_LABEL,
  toVerifyOf,
  unsignedNote,
} from "./format.js";

export function renderMarkdown(assessment: Assessment, secrets?: Redactor): string {
  return renderRedacted(assessment, secrets, markdown);
}

function markdown(a: Assessment): string {
  const sections = [
    `# Production readiness of ${text(systemLabel(a))} — ${a.verdict.verdict}`,
    banner(a),
    ...leftovers(a),
    summary(a),
    results(a),
    criticalIssues(a),
    scoring(a),
    gates(a),
    waivers(a),
    exclusions(a),
    roadmap(a),
    notApplicable(a),
    conclusion(a),
    footer(a),
  ];
  return `${sections.join("\n\n")}\n`;
}

// ── sections ─────────────────────────────────────────────────────────────────────────────────────────────────────

function banner(a: Assessment): string {
  const certificate = a.certificate;
  if (!certificate) {
    return "> **UNSIGNED:** no certificate was issued for this run; this report is not a certificate.";
  }
  if (!certificate.signed) {
    return `> **UNSIGNED:** ${text(sentenceFragment(unsignedNote(certificate)))}; this report is not a certificate.`;
  }
  return (
    `> **Signed certificate:** ${code(certificate.file)}` +
    (certificate.keyid ? `, key ${code(certificate.keyid)}` : "") +
    `, valid until ${formatTimestamp(certificate.validUntil)}. ` +
    "`gauntlet verify` checks its signature, validity window and evidence digests; this report only summarises it."
  );
}

function summary(a: Assessment): string {
  const applicable = a.checks.filter((c) => c.status !== "NA");
  const verified = applicable.filter((c) => !isUnverified(c.status));
  const counts = STATUSES.map((s) => `${a.scores.counts[s] ?? 0} ${STATUS_LABEL[s]}`).join(" · ");
  const rows: string[][] = [
    ["Verdict", `**${a.verdict.verdict}** (exit code ${a.verdict.exitCode})`],
    [
      "Overall score",
      a.scores.overall === null
        ? "not scored: no check applies to this system"
        : `**${formatScore(a.scores.overall)} / 100** (certified at ${a.scoring.certifyAt}, conditional at ${a.scoring.conditionalAt})`,
    ],
    [
      "Coverage",
      `${verified.length} of ${applicable.length} applicable checks verified (${formatNumber(a.scores.coverage)}%)`,
    ],
    ["Checks", `${counts} (${plural(a.checks.length, "check")})`],
    ["System", systemDetail(a)],
    ["Revision", revision(a)],
    ["Spec", code(a.specPath)],
    ["Run", code(a.runId)],
    ["Date", `${formatTimestamp(a.startedAt)} → ${formatTimestamp(a.finishedAt)}`],
    ["Duration", formatDuration(a.durationMs)],
    ["Certificate", certificateDetail(a)],
    [
      "Evidence",
      `${plural(a.evidence.files, "file")} in ${code(evidenceFolder(a))}, ` +
        `${code(evidencePath(a, MANIFEST_FILE))} sha256 ${code(a.evidence.manifestDigest)}`,
    ],
    [
      "Tool",
      `${a.tool.name} ${a.tool.version}, Node ${a.environment.node} on ${a.environment.platform}/${a.environment.arch} ` +
        `(${code(a.environment.hostname)})`,
    ],
    ["Options", options(a)],
  ];
  const lines = ["## Executive summary", "", table(["Item", "Value"], rows)];
  if (a.verdict.conditions.length > 0) {
    const heading =
      a.verdict.verdict === "CONDITIONAL"
        ? "**What must change for CERTIFIED:**"
        : `**Why ${a.verdict.verdict}:**`;
    lines.push("", heading, "", ...a.verdict.conditions.map((c) => `- ${text(c)}`));
  }
  return lines.join("\n");
}

function results(a: Assessment): string {
  const lines = [
    "## Results by category",
    "",
    "One row per finding. Figures link to the evidence file they were read from; UNVERIFIED and ERROR rows say what " +
      "would make them verifiable, and score zero.",
  ];
  for (const category of categoriesOf(a)) {
    const checks = a.checks.filter((c) => c.category === category);
    const score = a.scores.categories.find((s) => s.category === category);
    lines.push(
      "",
      `### ${capitalise(category)} — ${categoryScoreLabel(score)}`,
      "",
      categoryLine(a, category, checks),
    );
    if (checks.length === 0) {
      lines.push("", "No check of this category ran.");
      continue;
    }
    const rows: string[][] = [];
    for (const check of checks) {
      for (const finding of findingsOf(check)) rows.push(findingRow(a, check, finding));
    }
    lines.push("", table(["Check", "Risk", "Status", "Subject", "Result", "Evidence"], rows));
  }
  return lines.join("\n");
}

function criticalIssues(a: Assessment): string {
  const issues = a.checks
    .filter((c) => (c.risk === "critical" || c.risk === "high") && isBlocking(c.status))
    .sort((x, y) => riskRank(x.risk) - riskRank(y.risk));
  const lines = ["## Critical issues"];
  if (issues.length === 0) {
    lines.push("", "No critical or high-risk check failed or went unverified.");
    return lines.join("\n");
  }
  lines.push(
    "",
    `${plural(issues.length, "critical or high-risk check")} failed or could not be verified. ` +
      "A failed critical check blocks certification whatever the score; an unverified one scores zero.",
  );
  issues.forEach((check, index) => {
    lines.push(
      "",
      `### ${index + 1}. ${code(check.checkId)}: ${text(check.title)}`,
      "",
      `**${check.risk} · ${STATUS_LABEL[check.status]}** · ${check.category} · effort ${check.remediation.effort}`,
      "",
    );
    const failing = findingsOf(check).filter((f) => isBlocking(f.status));
    for (const finding of failing) {
      const about = finding.subject ? ` (${text(finding.subject)})` : "";
      const figures = measurements(a, finding);
      lines.push(`- **Finding${about}:** ${text(finding.message)}`);
      if (figures) lines.push(`- **Measured:** ${figures}`);
    }
    lines.push(`- **Impact:** ${text(check.objective)}`);
    for (const resolution of resolutions(a, check, failing))
      lines.push(`- **Resolution:** ${text(resolution)}`);
    const evidence = failing.flatMap((f) => f.evidence ?? []);
    if (evidence.length > 0) lines.push(`- **Evidence:** ${evidenceLinks(a, evidence, ", ")}`);
  });
  return lines.join("\n");
}

function scoring(a: Assessment): string {
  const { scores, scoring: config } = a;
  const rows = categoriesOf(a).map((category) => {
    const score = scores.categories.find((s) => s.category === category);
    if (!score)
      return [capitalise(category), String(config.weights[category] ?? 0), "0%", "not scored", "—", "—"];
    return [
      capitalise(category),
      formatNumber(score.weight),
      formatShare(score.effectiveWeight),
      score.score === null ? "not scored" : formatScore(score.score),
      score.score === null ? "—" : formatScore(score.contribution),
      `${score.verified} of ${score.applicable}`,
    ];
  });
  const scored = scores.categories.filter((s) => s.score !== null);
  const totalWeight = scores.categories.reduce((sum, s) => sum + s.weight, 0);
  const totalShare = scores.categories.reduce((sum, s) => sum + s.effectiveWeight, 0);
  const verified = scores.categories.reduce((sum, s) => sum + s.verified, 0);
  const applicable = scores.categories.reduce((sum, s) => sum + s.applicable, 0);
  rows.push([
    "**Overall**",
    formatNumber(totalWeight),
    formatShare(totalShare),
    "",
    `**${formatScore(scores.overall)}**`,
    `${verified} of ${applicable}`,
  ]);
  const lines = [
    "## Scoring",
    "",
    "Check weights by risk: critical 10, high 7.5, medium 5, low 2.5. Status values: PASS 1, WARN 0.5, FAIL, " +
      "UNVERIFIED and ERROR 0; N/A checks leave the average. A category scores the risk-weighted mean of its " +
      "applicable checks (0–100). Category weights are renormalised over the categories that have an applicable " +
      "check (effective weight); each contributes score × effective weight to the overall score.",
    "",
    table(["Category", "Weight", "Effective weight", "Score", "Contribution", "Verified"], rows, [
      "l",
      "r",
      "r",
      "r",
      "r",
      "r",
    ]),
  ];
  if (scores.overall !== null && scored.length > 0) {
    const sum = scored.reduce((total, s) => total + s.contribution, 0);
    const terms = scored.map((s) => formatScore(s.contribution)).join(" + ");
    const equals = formatScore(sum) === formatScore(scores.overall) ? "=" : "≈";
    lines.push("", `Overall = ${terms} ${equals} **${formatScore(scores.overall)}**.`);
  }
  lines.push(
    "",
    `Thresholds: CERTIFIED at ≥ ${config.certifyAt} with every scored category ≥ ${config.categoryMinimum} and no ` +
      `critical check failed or unverified; CONDITIONAL at ≥ ${config.conditionalAt} with no critical check failed; ` +
      "NOT READY otherwise.",
  );
  return lines.join("\n");
}

function gates(a: Assessment): string {
  const lines = ["## Gates", ""];
  if (a.verdict.gates.length === 0) {
    lines.push("No gate was evaluated.");
    return lines.join("\n");
  }
  const rows = a.verdict.gates.map((gate) => [
    code(gate.id),
    gate.passed ? "passed" : "**FAILED**",
    text(gate.description),
    text(gate.detail),
  ]);
  lines.push(table(["Gate", "Result", "Requirement", "Detail"], rows));
  return lines.join("\n");
}

function waivers(a: Assessment): string {
  const lines = [
    "## Waivers",
    "",
    "Waivers come from the spec and are printed on every report. An active waiver turns one FAIL into a WARN until " +
      "it expires; an expired waiver no longer applies.",
    "",
  ];
  if (a.waivers.length === 0) {
    lines.push("No waivers are configured.");
    return lines.join("\n");
  }
  const rows = a.waivers.map((w) => [
    code(w.check),
    w.subject ? text(w.subject) : "any",
    w.state === "active" ? "active" : w.state === "expired" ? "**expired**" : "unused",
    plural(w.appliedTo, "finding"),
    text(w.approvedBy),
    text(w.expires),
    text(w.reason),
  ]);
  lines.push(table(["Check", "Subject", "State", "Applied to", "Approved by", "Expires", "Reason"], rows));
  return lines.join("\n");
}

function exclusions(a: Assessment): string {
  const lines = [
    "## Exclusions",
    "",
    "Fault experiments the spec chose not to run (`resilience.exclude`), printed on every report like waivers. An " +
      "excluded subject is N/A for that check: the fault was not injected, so nothing here speaks for it.",
    "",
  ];
  if (a.exclusions === undefined) {
    lines.push(
      "Not recorded: this run was stored before Gauntlet kept `resilience.exclude` in its reports, so whether its " +
        "spec left any fault experiment out is not known.",
    );
    return lines.join("\n");
  }
  if (a.exclusions.length === 0) {
    lines.push("No exclusions are configured: the spec leaves no fault experiment out.");
    return lines.join("\n");
  }
  const rows = a.exclusions.map((x) => [
    code(x.check),
    x.subject ? text(x.subject) : "any",
    x.state === "applied" ? "applied" : "unused",
    plural(x.appliedTo, "experiment"),
    text(x.reason),
  ]);
  lines.push(table(["Check", "Subject", "State", "Left out", "Reason"], rows));
  return lines.join("\n");
}

/** Faults a killed earlier run never undid: shown first, because the system this run measured was not clean. */
function leftovers(a: Assessment): string[] {
  if (!a.leftovers || a.leftovers.length === 0) return [];
  const rows = a.leftovers.map((l) => [code(l.runId), code(l.check), l.outcome, text(l.detail)]);
  return [
    [
      "## Left behind by an earlier run",
      "",
      "A run killed before it could undo its faults left these, found in its fault journal (`.gauntlet/faults/`) " +
        "when this run started. What could be undone was undone before any check ran; `manual` needs a person.",
      "",
      table(["Run", "Check", "Outcome", "Detail"], rows),
    ].join("\n"),
  ];
}

function roadmap(a: Assessment): string {
  const lines = [
    "## Remediation roadmap",
    "",
    "What to fix, ordered by risk, then effort. Unverified items say what would make them verifiable.",
  ];
  const phases = a.roadmap.filter((p) => p.items.length > 0);
  if (phases.length === 0) {
    lines.push("", "Nothing to remediate.");
    return lines.join("\n");
  }
  let number = 0;
  for (const phase of phases) {
    const rows = phase.items.map((item) => [
      String(++number),
      code(item.checkId),
      item.risk,
      item.effort,
      statusCell(item.status),
      item.subject ? text(item.subject) : "—",
      text(item.action),
    ]);
    lines.push(
      "",
      `### Phase ${phase.phase} — ${text(phase.name)}`,
      "",
      table(["#", "Check", "Risk", "Effort", "Status", "Subject", "Action"], rows, ["r"]),
    );
  }
  return lines.join("\n");
}

function notApplicable(a: Assessment): string {
  const checks = a.checks.filter((c) => c.status === "NA");
  const lines = ["## Not applicable", ""];
  if (checks.length === 0) {
    lines.push("Every check applies to this system.");
    return lines.join("\n");
  }
  lines.push(
    "These checks do not apply to this system, so they leave the average. If one should apply, the spec is missing " +
      "what its reason names.",
    "",
    table(
      ["Check", "Category", "Risk", "Reason"],
      checks.map((c) => [
        code(c.checkId),
        c.category,
        c.risk,
        text(c.reason ?? findingsOf(c)[0]?.message ?? "No reason was given."),
      ]),
    ),
  );
  return lines.join("\n");
}

function conclusion(a: Assessment): string {
  const system = text(systemLabel(a));
  const conditions = a.verdict.conditions.map((c) => text(sentenceFragment(c))).join("; ");
  const overall = formatScore(a.scores.overall);
  const sentences: string[] = [];
  switch (a.verdict.verdict) {
    case "CERTIFIED":
      sentences.push(
        `**CERTIFIED.** ${system} meets every gate: an overall score of ${overall} (≥ ${a.scoring.certifyAt}), ` +
          `every scored category at or above ${a.scoring.categoryMinimum}, and no critical check failed or went unverified.`,
      );
      break;
    case "CONDITIONAL":
      sentences.push(
        `**CONDITIONAL.** ${system} may go to production only under conditions (overall ${overall}); ` +
          (conditions
            ? `it becomes CERTIFIED when these are resolved: ${conditions}.`
            : "see the gates above."),
      );
      break;
    case "NOT READY":
      sentences.push(
        `**NOT READY.** ${system} should not go to production as assessed (overall ${overall})` +
          (conditions ? `: ${conditions}.` : "."),
      );
      break;
  }
  const applicable = a.checks.filter((c) => c.status !== "NA");
  const unverified = applicable.filter((c) => isUnverified(c.status));
  if (unverified.length > 0) {
    sentences.push(
      `${unverified.length} of ${applicable.length} applicable checks could not be verified ` +
        `(${unverified.map((c) => code(c.checkId)).join(", ")}); they score zero until the run can observe them.`,
    );
  } else if (applicable.length > 0) {
    sentences.push(`All ${applicable.length} applicable checks were verified by a measurement in this run.`);
  }
  const active = a.waivers.filter((w) => w.state === "active");
  const expired = a.waivers.filter((w) => w.state === "expired");
  if (active.length > 0) {
    sentences.push(
      `${plural(active.length, "active waiver")} ${active.length === 1 ? "lowers" : "lower"} the bar for ` +
        `${active.map((w) => code(w.check)).join(", ")}; ${active.length === 1 ? "it expires" : "they expire"} ` +
        `${[...new Set(active.map((w) => text(w.expires)))].join(", ")}.`,
    );
  }
  if (expired.length > 0) {
    sentences.push(
      `${plural(expired.length, "waiver")} expired and no longer ${expired.length === 1 ? "applies" : "apply"} ` +
        `(${expired.map((w) => code(w.check)).join(", ")}).`,
    );
  }
  const applied = (a.exclusions ?? []).filter((x) => x.state === "applied");
  if (applied.length > 0) {
    const left = applied.map((x) => code(x.check) + (x.subject ? ` for ${text(x.subject)}` : ""));
    sentences.push(
      `${plural(applied.length, "exclusion")} in the spec ${applied.length === 1 ? "leaves" : "leave"} fault ` +
        `experiments out (${left.join(", ")}): those faults were not injected, and this verdict says nothing about them.`,
    );
  }
  const first = a.roadmap.find((p) => p.items.length > 0);
  if (first && a.verdict.verdict !== "CERTIFIED") {
    sentences.push(
      `Start with phase ${first.phase} of the roadmap (${plural(first.items.length, "item")}) and run Gauntlet again.`,
    );
  }
  // The banner already says this report is not a certificate; the conclusion says what that means, once.
  const certificate = a.certificate;
  if (!certificate) sentences.push("Nothing in this run is attested: no certificate was issued.");
  else if (!certificate.signed)
    sentences.push(`Nothing in this run is attested: its statement ${code(certificate.file)} is unsigned.`);
  else {
    sentences.push(
      `The signed certificate ${code(certificate.file)} attests this verdict for revision ` +
        `${code(shortDigest(a.revision.digest))} until ${formatTimestamp(certificate.validUntil)}.`,
    );
  }
  return ["## Conclusion", "", sentences.join(" ")].join("\n");
}

function footer(a: Assessment): string {
  return (
    "---\n\n" +
    `*Generated by ${a.tool.name} ${a.tool.version} from run ${code(a.runId)}. Figures link to files under ` +
    `${code(evidenceFolder(a))}; their sha256 digests are listed in ${code(evidencePath(a, MANIFEST_FILE))}.*`
  );
}

// ── rows and cells ───────────────────────────────────────────────────────────────────────────────────────────────

function findingRow(a: Assessment, check: CheckResult, finding: Finding): string[] {
  const result = [text(finding.message)];
  const figures = measurements(a, finding);
  if (figures) result.push(figures);
  if (isUnverified(finding.status)) result.push(`**To verify:** ${text(toVerifyOf(check, finding))}`);
  if (finding.waived) {
    const w = finding.waived;
    result.push(`**Waived** until ${text(w.expires)} by ${text(w.approvedBy)}: ${text(w.reason)}`);
  }
  return [
    code(check.checkId),
    check.risk,
    statusCell(finding.status, finding.waived ? "waived" : isExcluded(finding) ? "excluded" : undefined),
    subjectCell(finding),
    result.filter((part) => part !== "").join("<br>"),
    finding.evidence && finding.evidence.length > 0 ? evidenceLinks(a, finding.evidence, "<br>") : "—",
  ];
}

function subjectCell(finding: Finding): string {
  const parts: string[] = [];
  const location = finding.location;
  if (finding.subject && finding.subject !== location?.path) parts.push(text(finding.subject));
  if (location) {
    const position = [location.path, location.line, location.line ? location.column : undefined]
      .filter((p) => p !== undefined)
      .join(":");
    parts.push(code(position));
  }
  return parts.length > 0 ? parts.join("<br>") : "—";
}

function statusCell(status: Status, marker?: "waived" | "excluded"): string {
  const label = STATUS_LABEL[status];
  const shown = status === "PASS" || status === "WARN" || status === "NA" ? label : `**${label}**`;
  return marker ? `${shown} (${marker})` : shown;
}

/** "response time [412 ms](evidence/…)", one per measurement; figures without an evidence file say so. */
function measurements(a: Assessment, finding: Finding): string {
  return (finding.measurements ?? [])
    .map((m) => {
      const figure = formatMeasurement(m);
      const file = measurementEvidence(finding, m);
      const shown = file ? link(figure, evidencePath(a, file)) : `${text(figure)} (no evidence file)`;
      return `${text(m.name)}: ${shown}`;
    })
    .join(" · ");
}

function evidenceLinks(a: Assessment, files: string[], separator: string): string {
  return [...new Set(files)].map((file) => link(basename(file), evidencePath(a, file))).join(separator);
}

/** Roadmap actions for the failing subjects; else what would verify it, or the check's remediation text. */
function resolutions(a: Assessment, check: CheckResult, failing: Finding[]): string[] {
  const items: RoadmapItem[] = a.roadmap.flatMap((p) => p.items).filter((i) => i.checkId === check.checkId);
  const subjects = new Set(failing.map((f) => f.subject));
  const matching = items.filter((i) => subjects.has(i.subject));
  const actions = (matching.length > 0 ? matching : items).map((i) => i.action);
  if (actions.length === 0) {
    for (const finding of failing) {
      actions.push(isUnverified(finding.status) ? toVerifyOf(check, finding) : check.remediation.text);
    }
  }
  return [...new Set(actions)];
}

// ── small helpers ────────────────────────────────────────────────────────────────────────────────────────────────

function categoriesOf(a: Assessment): Category[] {
  const present = new Set<Category>([
    ...a.scores.categories.map((s) => s.category),
    ...a.checks.map((c) => c.category),
  ]);
  return CATEGORIES.filter((c) => present.has(c));
}

function categoryScoreLabel(score: CategoryScore | undefined): string {
  return score && score.score !== null ? `${formatScore(score.score)} / 100` : "not scored";
}

function categoryLine(a: Assessment, category: Category, checks: CheckResult[]): string {
  const score = a.scores.categories.find((s) => s.category === category);
  const counts = STATUSES.map((s) => [s, checks.filter((c) => c.status === s).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${STATUS_LABEL[s]}`)
    .join(", ");
  if (!score || score.score === null) {
    const weight = score?.weight ?? a.scoring.weights[category] ?? 0;
    return `Weight ${formatNumber(weight)}, renormalised away: no check of this category applies to this system${counts ? ` (${counts})` : ""}.`;
  }
  return (
    `Weight ${formatNumber(score.weight)} (${formatShare(score.effectiveWeight)} of the overall score) · ` +
    `${score.verified} of ${score.applicable} applicable checks verified · ${counts}`
  );
}

function systemLabel(a: Assessment): string {
  return a.system.version ? `${a.system.name} ${a.system.version}` : a.system.name;
}

function systemDetail(a: Assessment): string {
  return text(systemLabel(a)) + (a.system.owner ? `, owner ${text(a.system.owner)}` : "");
}

function revision(a: Assessment): string {
  const r = a.revision;
  if (r.kind === "git") {
    const tree =
      r.dirty === undefined ? "" : r.dirty ? " (uncommitted changes in the work tree)" : " (clean work tree)";
    return `git commit ${code(r.digest)}${tree}`;
  }
  const files = r.files && r.files.length > 0 ? ` over ${plural(r.files.length, "file")}` : "";
  return `spec digest sha256 ${code(r.digest)}${files}`;
}

function certificateDetail(a: Assessment): string {
  const c = a.certificate;
  if (!c) return "**UNSIGNED**: none issued for this run";
  if (!c.signed) {
    return (
      `**UNSIGNED** (${text(sentenceFragment(unsignedNote(c)))}); unsigned statement ` +
      `${code(c.file)}, validity window ends ${formatTimestamp(c.validUntil)}`
    );
  }
  return `signed${c.keyid ? ` with key ${code(c.keyid)}` : ""}: ${code(c.file)}, valid until ${formatTimestamp(c.validUntil)}`;
}

function options(a: Assessment): string {
  const o = a.options;
  const destructive = o.allowDestructive
    ? "destructive checks allowed"
    : "destructive checks not allowed (load and fault injection did not run)";
  const only = o.only.length > 0 ? `; only ${o.only.map(code).join(", ")}` : "";
  const skip = o.skip.length > 0 ? `; skipped ${o.skip.map(code).join(", ")}` : "";
  return destructive + only + skip;
}

function isBlocking(status: Status): boolean {
  return status === "FAIL" || isUnverified(status);
}

function riskRank(risk: Risk): number {
  return ["critical", "high", "medium", "low"].indexOf(risk);
}

function capitalise(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

function basename(file: string): string {
  return file.slice(file.replace(/\\/g, "/").lastIndexOf("/") + 1) || file;
}

function evidenceFolder(a: Assessment): string {
  return evidencePath(a, "") || ".";
}

function shortDigest(digest: string): string {
  return digest.length > 12 ? digest.slice(0, 12) : digest;
}

/** "No key was given." → "no key was given", to embed a sentence in another. */
function sentenceFragment(sentence: string): string {
  const trimmed = sentence.trim().replace(/[.;:]+$/, "");
  return /^[A-Z][a-z]/.test(trimmed) && !/^[A-Z][a-z]*[A-Z]/.test(trimmed)
    ? trimmed.charAt(0).toLowerCase() + trimmed.slice(1)
    : trimmed;
}

// ── markdown escaping ────────────────────────────────────────────────────────────────────────────────────────────

/** Free text: no raw HTML, no entity surprises, newlines kept as <br> so a table row or list item stays whole. */
function text(value: string): string {
  return value
    .replace(/&(?=#?[A-Za-z0-9]+;)/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/\r\n|\r|\n/g, "<br>");
}

/** An inline code span that survives backticks in the value. */
function code(value: string): string {
  const flat = value.replace(/\r\n|\r|\n/g, " ");
  const longest = Math.max(0, ...(flat.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(longest + 1);
  const pad = flat.startsWith("`") || flat.endsWith("`") ? " " : "";
  return `${fence}${pad}${flat}${pad}${fence}`;
}

function link(label: string, target: string): string {
  const safeLabel = text(label).replace(/[[\]]/g, "\\$&");
  const safeTarget = target.replace(/[ ()<>]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `[${safeLabel}](${safeTarget})`;
}

/** A GFM table; `|` is escaped in every cell (it would split the cell even inside code spans and links). */
function table(header: string[], rows: string[][], align: ("l" | "r")[] = []): string {
  const row = (cells: string[]) =>
    `| ${cells.map((c) => c.replace(/\|/g, "\\|").replace(/\r\n|\r|\n/g, "<br>")).join(" | ")} |`;
  const rule = `|${header.map((_, i) => (align[i] === "r" ? "---:" : "---")).join("|")}|`;
  return [row(header), rule, ...rows.map(row)].join("\n");
}
