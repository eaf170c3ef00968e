// k6-style thresholds: `p(95)<300ms`, `p(99.9)<1s`, `avg<200ms`, `max<2s`, `min<…`, `med<…`, `errors<1%`,
// `rps>500`. A trailing ` abortOnFail` stops the remaining stages when the threshold fails. Parsed once, up front,
// so a typo is a user error before any load is sent.
import { UserError } from "../../core/errors.js";
import type { StageResult } from "./stage.js";

export type ThresholdMetric =
  | { kind: "percentile"; percentile: number }
  | { kind: "avg" | "max" | "min" | "med" | "errors" | "rps" };

export interface Threshold {
  source: string;
  metric: ThresholdMetric;
  op: "<" | "<=" | ">" | ">=";
  /** ms for latency, percent (0–100) for errors, per second for rps. */
  value: number;
  abortOnFail: boolean;
}

export interface ThresholdOutcome {
  threshold: string;
  /** The measured figure, in the threshold's unit. */
  actual: number;
  limit: number;
  unit: "ms" | "%" | "/s";
  passed: boolean;
  /** `p(95)=412ms ≥ 300ms` */
  description: string;
}

const LATENCY = new Set(["avg", "max", "min", "med"]);
const HINT = 'write it like "p(95)<300ms", "avg<200ms", "errors<1%" or "rps>500"';

export function parseThreshold(source: string): Threshold {
  let text = source.trim();
  let abortOnFail = false;
  const abort = /\s+abortOnFail$/i.exec(text);
  if (abort) {
    abortOnFail = true;
    text = text.slice(0, abort.index);
  }
  const match =
    /^(p\(\s*(\d+(?:\.\d+)?)\s*\)|avg|max|min|med|errors|rps)\s*(<=|>=|<|>)\s*(\d+(?:\.\d+)?)\s*([a-z%/]*)$/i.exec(
      text,
    );
  if (!match) throw new UserError(`threshold "${source}" is not understood: ${HINT}`);
  const [, name, pct, op, amount, unitText] = match as unknown as [
    string,
    string,
    string | undefined,
    Threshold["op"],
    string,
    string,
  ];
  const lower = name.toLowerCase();
  const unit = unitText.toLowerCase();
  let metric: ThresholdMetric;
  let value = Number(amount);
  if (pct !== undefined) {
    const percentile = Number(pct);
    if (!(percentile > 0 && percentile <= 100)) {
      throw new UserError(
        `threshold "${source}": p(${pct}) is not a percentile; use a number above 0 and up to 100`,
      );
    }
    metric = { kind: "percentile", percentile };
  } else {
    metric = { kind: lower as "avg" };
  }
  if (metric.kind === "percentile" || LATENCY.has(metric.kind)) {
    const factor = { ms: 1, s: 1000, us: 0.001, µs: 0.001, "": 1 }[unit];
    if (factor === undefined) {
      throw new UserError(
        `threshold "${source}": "${unitText}" is not a duration unit; use ms or s, e.g. p(95)<300ms`,
      );
    }
    value *= factor;
  } else if (metric.kind === "errors") {
    if (unit !== "%" && unit !== "") {
      throw new UserError(`threshold "${source}": errors take a percentage, e.g. errors<1%`);
    }
    if (value > 100) throw new UserError(`threshold "${source}": ${value}% is over 100%`);
  } else if (unit !== "" && unit !== "/s") {
    throw new UserError(`threshold "${source}": rps takes requests per second, e.g. rps>500`);
  }
  return { source: source.trim(), metric, op, value, abortOnFail };
}

export function parseThresholds(sources: readonly string[]): Threshold[] {
  return sources.map(parseThreshold);
}

/** The figures a threshold can be judged on. */
export interface ThresholdSubject {
  latencyAt(percentile: number): number;
  avg: number;
  max: number;
  min: number;
  errorRate: number;
  rps: number;
}

export function subjectOf(
  stage: Pick<StageResult, "histogram" | "latency" | "errorRate" | "rps">,
): ThresholdSubject {
  return {
    latencyAt: (p) => (stage.histogram.totalCount === 0 ? 0 : stage.histogram.getValueAtPercentile(p) / 1000),
    avg: stage.latency.mean,
    max: stage.latency.max,
    min: stage.latency.min,
    errorRate: stage.errorRate,
    rps: stage.rps,
  };
}

export function evaluateThreshold(threshold: Threshold, subject: ThresholdSubject): ThresholdOutcome {
  const m = threshold.metric;
  let actual: number;
  let unit: ThresholdOutcome["unit"] = "ms";
  let label: string;
  switch (m.kind) {
    case "percentile":
      actual = subject.latencyAt(m.percentile);
      label = `p(${m.percentile})`;
      break;
    case "med":
      actual = subject.latencyAt(50);
      label = "med";
      break;
    case "avg":
    case "max":
    case "min":
      actual = subject[m.kind];
      label = m.kind;
      break;
    case "errors":
      actual = subject.errorRate * 100;
      unit = "%";
      label = "errors";
      break;
    case "rps":
      actual = subject.rps;
      unit = "/s";
      label = "rps";
      break;
  }
  const limit = threshold.value;
  const passed =
    threshold.op === "<"
      ? actual < limit
      : threshold.op === "<="
        ? actual <= limit
        : threshold.op === ">"
          ? actual > limit
          : actual >= limit;
  const negated = { "<": "≥", "<=": ">", ">": "≤", ">=": "<" }[threshold.op];
  const shown = `${label}=${format(actual, unit)}`;
  const description = passed
    ? `${shown} ${threshold.op} ${format(limit, unit)}`
    : `${shown} ${negated} ${format(limit, unit)}`;
  return { threshold: threshold.source, actual: round3(actual), limit, unit, passed, description };
}

export function evaluateThresholds(thresholds: Threshold[], subject: ThresholdSubject): ThresholdOutcome[] {
  return thresholds.map((t) => evaluateThreshold(t, subject));
}

function format(value: number, unit: ThresholdOutcome["unit"]): string {
  if (unit === "%") return `${round3(value)}%`;
  if (unit === "/s") return `${Math.round(value * 10) / 10}/s`;
  if (value >= 1000) return `${round3(value / 1000)}s`;
  return `${value < 10 ? round3(value) : Math.round(value)}ms`;
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}
