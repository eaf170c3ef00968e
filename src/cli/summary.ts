// The terminal summary after an assessment: per-category table, verdict, conditions, where the files are. Names,
// reasons and paths in it come from the spec and are printed escaped.
import type { Assessment } from "../core/assessment.js";
import { terminalText } from "./terminal.js";

export function renderSummary(a: Assessment, outDir: string, files: string[]): string {
  const rows = a.scores.categories.map((c) => [
    c.category,
    c.score === null ? "n/a" : c.score.toFixed(1),
    c.score === null ? "-" : `${(c.effectiveWeight * 100).toFixed(0)}%`,
    String(c.counts.PASS),
    String(c.counts.WARN),
    String(c.counts.FAIL),
    String(c.counts.UNVERIFIED + c.counts.ERROR),
    String(c.counts.NA),
  ]);
  const header = ["category", "score", "weight", "pass", "warn", "fail", "unverified", "n/a"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (cells: string[]) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ");

  const lines = ["", fmt(header), widths.map((w) => "─".repeat(w)).join("  "), ...rows.map(fmt), ""];
  const overall = a.scores.overall === null ? "no score" : a.scores.overall.toFixed(1);
  const { counts } = a.scores;
  const verified = counts.PASS + counts.WARN + counts.FAIL;
  const applicable = verified + counts.UNVERIFIED + counts.ERROR;
  lines.push(
    `Overall ${overall} · coverage ${a.scores.coverage.toFixed(0)}% (${verified} of ${applicable} applicable checks verified)`,
  );
  lines.push(`Verdict: ${a.verdict.verdict}`);
  for (const condition of a.verdict.conditions) lines.push(`  - ${terminalText(condition)}`);
  const active = a.waivers.filter((w) => w.state !== "unused");
  for (const w of active) {
    lines.push(
      terminalText(
        `  waiver ${w.state}: ${w.check}${w.subject ? ` (${w.subject})` : ""} until ${w.expires}, approved by ${w.approvedBy}`,
      ),
    );
  }
  if (a.certificate) {
    lines.push(
      a.certificate.signed
        ? `Certificate: signed by key ${a.certificate.keyid?.slice(0, 16)}…, valid until ${a.certificate.validUntil}`
        : "Certificate: UNSIGNED (no --key given): the report is not a certificate",
    );
  }
  lines.push(terminalText(`Reports in ${outDir}: ${files.join(", ")}`));
  return lines.join("\n");
}
