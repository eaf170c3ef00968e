// Parser for the Prometheus text exposition format (0.0.4) and OpenMetrics 1.0 text, written to the published grammar
// rather than "split on spaces": label values may hold spaces, commas, braces and escaped quotes, and a scrape that
// Prometheus itself would reject must be reported as such. Exemplars are parsed past and dropped.

export type MetricType =
  | "counter"
  | "gauge"
  | "histogram"
  | "gaugehistogram"
  | "summary"
  | "stateset"
  | "info"
  | "untyped"
  | "unknown";

export type ExpositionFormat = "prometheus" | "openmetrics";

export interface Sample {
  /** Full series name, e.g. http_request_duration_seconds_bucket. */
  name: string;
  labels: Record<string, string>;
  value: number;
  /** Milliseconds since the epoch (OpenMetrics seconds are converted). */
  timestampMs?: number;
  line: number;
}

export interface MetricFamily {
  name: string;
  type: MetricType;
  help?: string;
  unit?: string;
  samples: Sample[];
}

export interface ExpositionError {
  line: number;
  column: number;
  message: string;
}

export interface Exposition {
  format: ExpositionFormat;
  families: Map<string, MetricFamily>;
  errors: ExpositionError[];
  sampleCount: number;
}

const METRIC_TYPES = new Set([
  "counter",
  "gauge",
  "histogram",
  "gaugehistogram",
  "summary",
  "stateset",
  "info",
  "untyped",
  "unknown",
]);
/** Series suffixes that belong to a family of the given type (OpenMetrics adds _created, _gcount, _gsum). */
const SUFFIXES: Record<string, string[]> = {
  counter: ["_total", "_created"],
  histogram: ["_bucket", "_sum", "_count", "_created"],
  gaugehistogram: ["_bucket", "_gsum", "_gcount"],
  summary: ["_sum", "_count", "_created"],
  info: ["_info"],
};
const NAME_START = /[a-zA-Z_:]/;
const NAME_CHAR = /[a-zA-Z0-9_:]/;
const LABEL_START = /[a-zA-Z_]/;
const LABEL_CHAR = /[a-zA-Z0-9_]/;
const MAX_ERRORS = 20;

/** The format a Content-Type header announces; Prometheus' text format is the default. */
export function formatOf(contentType: string | undefined): ExpositionFormat {
  return /application\/openmetrics-text/i.test(contentType ?? "") ? "openmetrics" : "prometheus";
}

export function parseExposition(text: string, format: ExpositionFormat = "prometheus"): Exposition {
  const families = new Map<string, MetricFamily>();
  const errors: ExpositionError[] = [];
  const fail = (line: number, column: number, message: string) => {
    if (errors.length < MAX_ERRORS) errors.push({ line, column, message });
  };
  const om = format === "openmetrics";
  const lines = text.split("\n");
  // A trailing newline leaves one empty last element; it is not a line of its own.
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  let sawEof = false;
  let sampleCount = 0;
  const family = (name: string): MetricFamily => {
    let found = families.get(name);
    if (!found) {
      found = { name, type: om ? "unknown" : "untyped", samples: [] };
      families.set(name, found);
    }
    return found;
  };

  for (let index = 0; index < lines.length; index++) {
    const lineNo = index + 1;
    const raw = lines[index]!.endsWith("\r") && !om ? lines[index]!.slice(0, -1) : lines[index]!;
    if (sawEof) {
      fail(lineNo, 1, "content after # EOF");
      break;
    }
    if (raw === "") {
      if (om) fail(lineNo, 1, "empty line (OpenMetrics allows none)");
      continue;
    }
    if (raw.startsWith("#")) {
      if (om && raw === "# EOF") {
        sawEof = true;
        continue;
      }
      const meta = /^#[ \t]+(HELP|TYPE|UNIT)[ \t]+(\S+)(?:[ \t]+(.*)|[ \t]*)$/.exec(raw);
      if (!meta) {
        if (om) fail(lineNo, 1, "OpenMetrics allows only # HELP, # TYPE, # UNIT and # EOF comments");
        continue; // a plain comment in the text format
      }
      const [, keyword, name, rest = ""] = meta;
      if (!isMetricName(name!)) {
        fail(lineNo, raw.indexOf(name!) + 1, `invalid metric name "${name}"`);
        continue;
      }
      const target = family(name!);
      if (keyword === "HELP") {
        target.help = unescapeHelp(rest);
      } else if (keyword === "UNIT") {
        target.unit = rest.trim();
      } else {
        const type = rest.trim();
        if (!METRIC_TYPES.has(type)) {
          fail(lineNo, raw.indexOf(type) + 1 || 1, `unknown metric type "${type}"`);
          continue;
        }
        if (target.samples.length > 0) fail(lineNo, 1, `# TYPE for ${name} after its samples`);
        target.type = type as MetricType;
      }
      continue;
    }
    const parsed = parseSampleLine(raw, om);
    if ("error" in parsed) {
      fail(lineNo, parsed.column, parsed.error);
      continue;
    }
    const sample: Sample = { name: parsed.name, labels: parsed.labels, value: parsed.value, line: lineNo };
    if (parsed.timestamp !== undefined) sample.timestampMs = parsed.timestamp;
    family(familyName(parsed.name, families)).samples.push(sample);
    sampleCount++;
  }
  if (om && !sawEof) fail(lines.length + 1, 1, "OpenMetrics exposition does not end with # EOF");
  return { format, families, errors, sampleCount };
}

/** Picks the declared family a series belongs to (x_bucket → x when x is a histogram), else the series itself. */
function familyName(series: string, families: Map<string, MetricFamily>): string {
  if (families.has(series)) return series;
  for (const [type, suffixes] of Object.entries(SUFFIXES)) {
    for (const suffix of suffixes) {
      if (!series.endsWith(suffix)) continue;
      const base = series.slice(0, -suffix.length);
      if (families.get(base)?.type === type) return base;
    }
  }
  return series;
}

interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
  timestamp?: number;
}

function parseSampleLine(line: string, om: boolean): ParsedSample | { error: string; column: number } {
  let pos = 0;
  const err = (message: string, at = pos) => ({ error: message, column: at + 1 });
  let name = "";
  const labels: Record<string, string> = {};

  if (line[pos] !== "{") {
    if (!NAME_START.test(line[pos] ?? "")) return err("expected a metric name");
    const start = pos;
    while (pos < line.length && NAME_CHAR.test(line[pos]!)) pos++;
    name = line.slice(start, pos);
  }
  // The text format tolerates blanks between the name and "{"; OpenMetrics does not.
  if (!om && line[skipBlanks(line, pos)] === "{") pos = skipBlanks(line, pos);
  if (line[pos] === "{") {
    pos++;
    let first = true;
    for (;;) {
      if (!om) pos = skipBlanks(line, pos);
      if (line[pos] === "}") {
        pos++;
        break;
      }
      if (!first) {
        if (line[pos] !== ",") return err("expected ',' or '}' in the label set");
        pos++;
        if (!om) pos = skipBlanks(line, pos);
        if (line[pos] === "}") {
          pos++;
          break;
        }
      }
      first = false;
      let label: string;
      if (line[pos] === '"') {
        // UTF-8 names (Prometheus 3): a quoted string; without "=" after it, it is the metric name.
        const quoted = readQuoted(line, pos);
        if ("error" in quoted) return quoted;
        pos = quoted.end;
        if (!om) pos = skipBlanks(line, pos);
        if (line[pos] !== "=") {
          if (name) return err("metric name given twice");
          name = quoted.value;
          continue;
        }
        label = quoted.value;
      } else {
        if (!LABEL_START.test(line[pos] ?? "")) return err("expected a label name");
        const start = pos;
        while (pos < line.length && LABEL_CHAR.test(line[pos]!)) pos++;
        label = line.slice(start, pos);
        if (!om) pos = skipBlanks(line, pos);
      }
      if (line[pos] !== "=") return err(`expected '=' after label ${label}`);
      pos++;
      if (!om) pos = skipBlanks(line, pos);
      if (line[pos] !== '"') return err(`expected a quoted value for label ${label}`);
      const value = readQuoted(line, pos);
      if ("error" in value) return value;
      if (Object.hasOwn(labels, label)) return err(`label ${label} repeated`, pos);
      labels[label] = value.value;
      pos = value.end;
    }
  }
  if (!name) return err("sample without a metric name", 0);
  if (line[pos] !== " " && line[pos] !== "\t") return err("expected a space before the value");
  pos = skipBlanks(line, pos);
  const valueStart = pos;
  while (pos < line.length && line[pos] !== " " && line[pos] !== "\t") pos++;
  const value = parseNumber(line.slice(valueStart, pos));
  if (value === null) return err(`invalid sample value "${line.slice(valueStart, pos)}"`, valueStart);
  const result: ParsedSample = { name, labels, value };
  pos = skipBlanks(line, pos);
  if (pos < line.length && line[pos] !== "#") {
    const tsStart = pos;
    while (pos < line.length && line[pos] !== " " && line[pos] !== "\t") pos++;
    const text = line.slice(tsStart, pos);
    const ts = om ? parseNumber(text) : /^-?\d+$/.test(text) ? Number(text) : null;
    if (ts === null || !Number.isFinite(ts)) return err(`invalid timestamp "${text}"`, tsStart);
    result.timestamp = om ? Math.round(ts * 1000) : ts;
    pos = skipBlanks(line, pos);
  }
  if (pos < line.length) {
    // An exemplar: " # {labels} value [timestamp]". Checked for shape, then dropped.
    if (!om || !/^# \{.*\} \S+( \S+)?$/.test(line.slice(pos))) return err("unexpected text after the sample");
  }
  return result;
}

function readQuoted(
  line: string,
  start: number,
): { value: string; end: number } | { error: string; column: number } {
  let pos = start + 1;
  let value = "";
  while (pos < line.length) {
    const char = line[pos]!;
    if (char === '"') return { value, end: pos + 1 };
    if (char === "\\") {
      const next = line[pos + 1];
      if (next === "\\") value += "\\";
      else if (next === '"') value += '"';
      else if (next === "n") value += "\n";
      else return { error: `invalid escape "\\${next ?? ""}" in a label value`, column: pos + 1 };
      pos += 2;
      continue;
    }
    value += char;
    pos++;
  }
  return { error: "unterminated label value", column: start + 1 };
}

/** HELP text escapes: \\ and \n (and \" in OpenMetrics; harmless to accept in both). */
function unescapeHelp(text: string): string {
  return text.replace(/\\(\\|n|")/g, (_m, c: string) => (c === "n" ? "\n" : c));
}

function parseNumber(text: string): number | null {
  if (text === "") return null;
  const lower = text.toLowerCase();
  if (lower === "nan") return Number.NaN;
  if (lower === "+inf" || lower === "inf") return Number.POSITIVE_INFINITY;
  if (lower === "-inf") return Number.NEGATIVE_INFINITY;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return null;
  return Number(text);
}

function skipBlanks(line: string, pos: number): number {
  while (line[pos] === " " || line[pos] === "\t") pos++;
  return pos;
}

function isMetricName(name: string): boolean {
  return /^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name);
}
