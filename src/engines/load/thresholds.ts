// Judging k6-style thresholds (parsed by src/spec/thresholds.ts) against a stage's measured figures.
import type { Threshold } from "../../spec/thresholds.js";
import type { StageResult } from "./stage.js";

export { parseThreshold, parseThresholds, type Threshold } from "../../spec/thresholds.js";

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
