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

export interface LogFileSample {
  /** Relative to the spec's folder, with forward slashes. */
  file: string;
  evidence: string;
  /** Non-blank lines read (at most SAMPLE_LINES). */
  lines: number;
  bad: number;
  /** The first bad lines: line numbers and what each lacks, never the text (it may hold credentials). */
  firstBad: { line: number; missing: string[] }[];
}

type StructuredFormat = Exclude<LineFormat, "text">;

export type LogsStructuredObservation =
  /** Declared text: nothing is read, the declaration is the finding. */
  | { format: "text"; patterns: string[]; evidence: string }
  | { format: StructuredFormat; patterns: { pattern: string; files: LogFileSample[] }[] };

export default defineCheck<LogsStructuredObservation>({
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
    messages: {
      structured: "every sampled line is structured with timestamp, level and message",
      fewUnstructured: `some sampled lines, at most ${WARN_SHARE * 100}%, are not structured (stack traces, a banner)`,
      unstructured: `more than ${WARN_SHARE * 100}% of the sampled lines are not structured`,
      declaredText: "monitoring.logs.format is text: the logs are declared unstructured",
      noFileMatches: "a monitoring.logs.files entry matches no file",
      emptyFile: "the log file holds no line to judge",
    },
    timeoutMs: 30_000,
  },

  applies(spec) {
    return spec.monitoring?.logs?.files.length ? true : notApplicable("monitoring.logs lists no log files");
  },

  async observe(ctx) {
    const logs = ctx.spec.monitoring!.logs!;
    if (logs.format === "text") {
      const evidence = await ctx.evidence.writeJson("declared-format.json", {
        format: logs.format,
        files: logs.files,
      });
      return { format: "text", patterns: logs.files, evidence };
    }
    const format: StructuredFormat = logs.format;
    const observation: LogsStructuredObservation = { format, patterns: [] };
    for (const pattern of logs.files) {
      const entry = { pattern, files: [] as LogFileSample[] };
      observation.patterns.push(entry);
      for (const file of await expandPattern(ctx.specDir, pattern)) {
        ctx.signal.throwIfAborted();
        const display = path.relative(ctx.specDir, file).split(path.sep).join("/");
        const sample = await sampleFile(file, format);
        const evidence = await ctx.evidence.writeJson(`${display.replace(/[^A-Za-z0-9._-]+/g, "_")}.json`, {
          file: display,
          format,
          linesRead: sample.lines,
          bad: sample.bad,
          firstBad: sample.firstBad,
        });
        entry.files.push({ file: display, evidence, ...sample });
        ctx.keepPartial(observation);
      }
    }
    return observation;
  },

  judge(observation) {
    if (observation.format === "text") {
      return [
        {
          evidence: [observation.evidence],
          status: "FAIL",
          messageId: "declaredText",
          message:
            "monitoring.logs.format is text: the logs are declared unstructured, so no pipeline can filter them by level or field",
          data: { file: observation.patterns.join(", "), problem: "the declared format is text" },
        },
      ];
    }
    const format = observation.format;
    return observation.patterns.flatMap(({ pattern, files }): FindingInput[] =>
      files.length === 0
        ? [
            {
              status: "UNVERIFIED",
              messageId: "noFileMatches",
              subject: pattern,
              message: `monitoring.logs.files entry "${pattern}" matches no file, so its logs cannot be inspected`,
              data: { file: pattern, problem: "no file matches" },
              toVerify: `run the service so it writes its log to ${pattern}, or fix the path (relative to the spec's folder)`,
            },
          ]
        : files.map((sample) => judgeSample(sample, format)),
    );
  },
});

function judgeSample(sample: LogFileSample, format: StructuredFormat): FindingInput {
  const { file, evidence } = sample;
  const share = sample.lines === 0 ? 0 : sample.bad / sample.lines;
  const percent = Math.round(share * 1000) / 10;
  const measurements = [{ name: "unstructured lines", value: percent, unit: "%", evidence }];
  const base = { subject: file, evidence: [evidence], measurements };
  if (sample.lines === 0) {
    return {
      ...base,
      status: "UNVERIFIED",
      messageId: "emptyFile",
      message: `${file} is empty, so its structure cannot be judged`,
      data: { file, problem: "the file is empty" },
      toVerify: `let the service write some log lines to ${file} before assessing`,
    };
  }
  if (sample.bad === 0) {
    return {
      ...base,
      status: "PASS",
      messageId: "structured",
      location: { path: file },
      message: `${file}: all ${sample.lines} sampled lines are ${format} with timestamp, level and message`,
      data: { file, lines: sample.lines },
    };
  }
  const first = sample.firstBad[0]!;
  const few = share <= WARN_SHARE;
  return {
    ...base,
    status: few ? "WARN" : "FAIL",
    messageId: few ? "fewUnstructured" : "unstructured",
    location: { path: file, line: first.line, column: 1 },
    message: `${file}: ${sample.bad} of ${sample.lines} sampled lines (${percent}%) are not structured ${format} with timestamp, level and message; first at line ${first.line} (lacks ${first.missing.join(", ")})`,
    data: {
      file,
      lines: sample.lines,
      bad: sample.bad,
      firstBadLines: sample.firstBad.map((e) => e.line),
      problem: `line ${first.line} lacks ${first.missing.join(", ")}`,
    },
  };
}

async function sampleFile(file: string, expected: StructuredFormat) {
  const stream = createReadStream(file, { encoding: "utf8" });
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  let count = 0;
  let bad = 0;
  // Only line numbers and what is missing: a raw log line can hold credentials no redactor knows about.
  const firstBad: { line: number; missing: string[] }[] = [];
  let lineNo = 0;
  try {
    for await (const line of lines) {
      lineNo++;
      if (line.trim() === "") continue;
      count++;
      const verdict = classifyLine(line, expected);
      if (!verdict.ok) {
        bad++;
        if (firstBad.length < EXAMPLES) firstBad.push({ line: lineNo, missing: verdict.missing });
      }
      if (count >= SAMPLE_LINES) break;
    }
  } finally {
    lines.close();
    stream.destroy();
  }
  return { lines: count, bad, firstBad };
}
