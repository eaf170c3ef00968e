// k6-style thresholds: `p(95)<300ms`, `p(99.9)<1s`, `avg<200ms`, `max<2s`, `min<…`, `med<…`, `errors<1%`,
// `rps>500`. A trailing ` abortOnFail` stops the remaining stages when the threshold fails. Part of the spec's
// language: `validate` parses them, so a typo is reported at its line before any load is sent.
import { UserError } from "../errors.js";

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

const LATENCY = new Set(["avg", "max", "min", "med"]);
const HINT = 'write it like "p(95)<300ms", "avg<200ms", "errors<1%" or "rps>500"';

export function parseThreshold(source: string): Threshold {
  let text = source.trim();
  let abortOnFail = false;
  // A suffix test, not /\s+abortOnFail$/: that regex backtracks over every run of spaces (quadratic on long input).
  const suffix = "abortonfail";
  if (text.toLowerCase().endsWith(suffix) && /\s/.test(text[text.length - suffix.length - 1] ?? "")) {
    abortOnFail = true;
    text = text.slice(0, text.length - suffix.length).trimEnd();
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
