// Are the service logs structured (JSON lines or logfmt) with a timestamp, a level and a message on every line? Up to
// SAMPLE_LINES lines per file are read; the share of lines that are not is reported, with where the first bad ones are.
import { createReadStream } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { defineCheck, type FindingInput, notApplicable } from "../../core/types.js";
import { expandPattern } from "../../engines/files/glob.js";
import { classifyLine, type LineFormat } from "../../engines/logs/classify.js";

const SAMPLE_LINES = 1_000;
/** Up to this share of bad lines (stack-trace continuation lines, a stray startup banner) is a WARN, not a FAIL. */
const WARN_SHARE = 0.05;
const EXAMPLES = 5;

export default defineCheck({
  meta: {
    id: "logsStructured",
    category: "observability",
    risk: "medium",
    destructive: false,
    title: "Logs are structured",
    objective: `The files in monitoring.logs.files are JSON lines or logfmt with timestamp, level and message on each line (first ${SAMPLE_LINES} lines per file).`,
    remediation: {
      effort: "medium",
      text: "Make {{file}} one JSON object (or logfmt line) per event with a timestamp, a level and a message, e.g. with pino, zap, slog or structlog; {{problem}}.",
    },
    timeoutMs: 30_000,
  },

  applies(spec) {
    return spec.monitoring?.logs?.files.length ? true : notApplicable("monitoring.logs lists no log files");
  },

  async run(ctx) {
    const logs = ctx.spec.monitoring!.logs!;
    const findings: FindingInput[] = [];
    if (logs.format === "text") {
      const evidence = await ctx.evidence.writeJson("declared-format.json", {
        format: logs.format,
        files: logs.files,
      });
      return [
        {
          evidence: [evidence],
          status: "FAIL",
          message:
            "monitoring.logs.format is text: the logs are declared unstructured, so no pipeline can filter them by level or field",
          data: { file: logs.files.join(", "), problem: "the declared format is text" },
        },
      ];
    }
    const expected: LineFormat = logs.format;
    for (const pattern of logs.files) {
      const files = await expandPattern(ctx.specDir, pattern);
      if (files.length === 0) {
        findings.push({
          status: "UNVERIFIED",
          subject: pattern,
          message: `monitoring.logs.files entry "${pattern}" matches no file, so its logs cannot be inspected`,
          data: { file: pattern, problem: "no file matches" },
          toVerify: `run the service so it writes its log to ${pattern}, or fix the path (relative to the spec's folder)`,
        });
        continue;
      }
      for (const file of files) {
        ctx.signal.throwIfAborted();
        const display = path.relative(ctx.specDir, file).split(path.sep).join("/");
        const sample = await sampleFile(file, expected);
        const evidence = await ctx.evidence.writeJson(`${display.replace(/[^A-Za-z0-9._-]+/g, "_")}.json`, {
          file: display,
          format: expected,
          linesRead: sample.lines,
          bad: sample.bad,
          firstBad: sample.examples,
        });
        const share = sample.lines === 0 ? 0 : sample.bad / sample.lines;
        const percent = Math.round(share * 1000) / 10;
        const measurements = [{ name: "unstructured lines", value: percent, unit: "%", evidence }];
        const base = { subject: display, evidence: [evidence], measurements };
        if (sample.lines === 0) {
          findings.push({
            ...base,
            status: "UNVERIFIED",
            message: `${display} is empty, so its structure cannot be judged`,
            data: { file: display, problem: "the file is empty" },
            toVerify: `let the service write some log lines to ${display} before assessing`,
          });
          continue;
        }
        if (sample.bad === 0) {
          findings.push({
            ...base,
            status: "PASS",
            location: { path: display },
            message: `${display}: all ${sample.lines} sampled lines are ${expected} with timestamp, level and message`,
            data: { file: display, lines: sample.lines },
          });
          continue;
        }
        const first = sample.examples[0]!;
        findings.push({
          ...base,
          status: share <= WARN_SHARE ? "WARN" : "FAIL",
          location: { path: display, line: first.line, column: 1 },
          message: `${display}: ${sample.bad} of ${sample.lines} sampled lines (${percent}%) are not structured ${expected} with timestamp, level and message; first at line ${first.line} (lacks ${first.missing.join(", ")})`,
          data: {
            file: display,
            lines: sample.lines,
            bad: sample.bad,
            firstBadLines: sample.examples.map((e) => e.line),
            problem: `line ${first.line} lacks ${first.missing.join(", ")}`,
          },
        });
      }
    }
    return findings;
  },
});

async function sampleFile(file: string, expected: LineFormat) {
  const stream = createReadStream(file, { encoding: "utf8" });
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  let count = 0;
  let bad = 0;
  // Only line numbers and what is missing: a raw log line can hold credentials no redactor knows about.
  const examples: { line: number; missing: string[] }[] = [];
  let lineNo = 0;
  try {
    for await (const line of lines) {
      lineNo++;
      if (line.trim() === "") continue;
      count++;
      const verdict = classifyLine(line, expected);
      if (!verdict.ok) {
        bad++;
        if (examples.length < EXAMPLES) examples.push({ line: lineNo, missing: verdict.missing });
      }
      if (count >= SAMPLE_LINES) break;
    }
  } finally {
    lines.close();
    stream.destroy();
  }
  return { lines: count, bad, examples };
}
