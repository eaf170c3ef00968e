// Classifies one log line as structured (JSON object or logfmt) with the three fields every log pipeline needs — a
// timestamp, a level and a message — or says what it lacks. Field names follow the common loggers (pino, zap, logrus,
// slog, structlog, Bunyan, ECS) so a correct log is recognised whichever library wrote it.

export type LineFormat = "json" | "logfmt" | "text";

export interface LineVerdict {
  format: LineFormat;
  ok: boolean;
  /** Fields the line lacks (timestamp, level, message), or a parse problem. */
  missing: string[];
}

const TIMESTAMP_KEYS = ["ts", "time", "timestamp", "@timestamp", "t", "datetime", "date", "eventTime"];
const LEVEL_KEYS = ["level", "lvl", "severity", "log.level", "levelname", "loglevel", "severity_text"];
const MESSAGE_KEYS = ["msg", "message", "event", "@message", "body"];

/** Judges one line against the declared format (json or logfmt); "text" lines are never structured. */
export function classifyLine(line: string, expected: LineFormat): LineVerdict {
  const trimmed = line.trim();
  if (expected === "json" || trimmed.startsWith("{")) {
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch {
      return expected === "json"
        ? { format: "text", ok: false, missing: ["valid JSON"] }
        : classifyLogfmt(trimmed);
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      return { format: "text", ok: false, missing: ["a JSON object"] };
    }
    return judge("json", flatten(value as Record<string, unknown>));
  }
  if (expected === "logfmt") return classifyLogfmt(trimmed);
  return { format: "text", ok: false, missing: ["structure (JSON or logfmt)"] };
}

function classifyLogfmt(line: string): LineVerdict {
  const fields = parseLogfmt(line);
  if (!fields) return { format: "text", ok: false, missing: ["valid logfmt (key=value pairs)"] };
  return judge("logfmt", fields);
}

function judge(format: LineFormat, fields: Record<string, unknown>): LineVerdict {
  const has = (keys: string[]) =>
    keys.some((k) => fields[k] !== undefined && fields[k] !== null && fields[k] !== "");
  const missing: string[] = [];
  if (!has(TIMESTAMP_KEYS)) missing.push("timestamp");
  if (!has(LEVEL_KEYS)) missing.push("level");
  if (!has(MESSAGE_KEYS)) missing.push("message");
  return { format, ok: missing.length === 0, missing };
}

/** One level of nesting flattened with dots, so ECS's {"log": {"level": …}} counts as log.level. */
function flatten(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...value };
  for (const [key, inner] of Object.entries(value)) {
    if (inner && typeof inner === "object" && !Array.isArray(inner)) {
      for (const [k, v] of Object.entries(inner as Record<string, unknown>)) out[`${key}.${k}`] = v;
    }
  }
  return out;
}

/** key=value pairs (values bare or double-quoted with \" escapes); null unless the whole line is pairs. */
export function parseLogfmt(line: string): Record<string, string> | null {
  const fields: Record<string, string> = {};
  const pair = /\s*([^\s="]+)=("(?:[^"\\]|\\.)*"|[^\s"]*)\s*/y;
  let count = 0;
  while (pair.lastIndex < line.length) {
    const start = pair.lastIndex;
    const match = pair.exec(line);
    if (!match || pair.lastIndex === start) return null;
    const raw = match[2]!;
    fields[match[1]!] = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, "$1") : raw;
    count++;
  }
  return count > 0 ? fields : null;
}
