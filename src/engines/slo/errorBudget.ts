// Error-budget arithmetic and the PromQL that feeds it: the SLO window written as a PromQL duration, the queries for
// a histogram SLI (total − good from NAME_count and NAME_bucket{le}), how much history a series has, and the budget
// consumed and left from the bad/total ratio. Pure: the check that asks Prometheus lives in src/checks/performance.
import type { Selector } from "../prometheus/promql.js";

/** A duration in ms as PromQL writes it: 30d, 1h30m, 90s, 1500ms (largest units first, no fractions). */
export function promDuration(ms: number): string {
  const units: [string, number][] = [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1_000],
    ["ms", 1],
  ];
  let rest = Math.max(0, Math.round(ms));
  if (rest === 0) return "0s";
  let text = "";
  for (const [unit, size] of units) {
    const count = Math.floor(rest / size);
    if (count > 0) text += `${count}${unit}`;
    rest -= count * size;
  }
  return text;
}

/** `expr` with every {{window}} (spaces allowed inside the braces) replaced by the window as a PromQL duration. */
export function withWindow(expr: string, windowMs: number): string {
  return expr.replace(/\{\{\s*window\s*\}\}/g, promDuration(windowMs));
}

export interface HistogramSli {
  /** The metric name without `_bucket`, e.g. http_request_duration_seconds. */
  metric: string;
  /** The label matchers as written inside the braces, without them (may be ""). */
  matchers: string;
}

/** `http_request_duration_seconds{job="api"}` → its name and matchers; undefined when it is not `name{…}` or `name`. */
export function parseHistogramSli(text: string): HistogramSli | undefined {
  const match = /^\s*([A-Za-z_:][A-Za-z0-9_:]*)\s*(?:\{(.*)\})?\s*$/s.exec(text);
  if (!match) return undefined;
  return { metric: match[1]!, matchers: (match[2] ?? "").trim().replace(/,\s*$/, "") };
}

function series(h: HistogramSli, suffix: string, extra?: string): string {
  const matchers = [h.matchers, extra].filter((m) => m).join(", ");
  return `${h.metric}${suffix}{${matchers}}`;
}

/** The queries of a histogram SLI: its buckets, and total and good events over the window (increase, not rate). */
export function histogramQueries(h: HistogramSli, windowMs: number, le?: string) {
  const window = promDuration(windowMs);
  return {
    buckets: `count by (le) (${series(h, "_bucket")})`,
    count: series(h, "_count"),
    total: `sum(increase(${series(h, "_count")}[${window}]))`,
    good: le === undefined ? undefined : `sum(increase(${series(h, "_bucket", `le="${le}"`)}[${window}]))`,
  };
}

/**
 * The `le` among `buckets` that equals the threshold, in the histogram's unit: seconds unless the metric name says
 * milliseconds (Prometheus' convention is base units). Compared as numbers: clients write 1 as "1" or "1.0".
 */
export function matchingBucket(buckets: string[], thresholdMs: number, metric: string): string | undefined {
  const wanted = thresholdInUnit(thresholdMs, metric);
  return buckets.find((le) => {
    const value = leValue(le);
    return Number.isFinite(value) && Math.abs(value - wanted) <= 1e-9 * Math.max(1, Math.abs(wanted));
  });
}

/** A bucket's `le` as a number: Prometheus writes infinity "+Inf", which Number() does not read. */
export function leValue(le: string): number {
  return /^\+?inf$/i.test(le.trim()) ? Number.POSITIVE_INFINITY : Number(le);
}

export function thresholdInUnit(thresholdMs: number, metric: string): number {
  return /_(milliseconds|ms)$/.test(metric) ? thresholdMs : thresholdMs / 1000;
}

/** A vector selector as PromQL text, from the parser's facts. */
export function selectorText(selector: Selector): string {
  const matchers = selector.matchers.map((m) => `${m.label}${m.op}${JSON.stringify(m.value)}`).join(", ");
  return `${selector.metric ?? ""}{${matchers}}`;
}

/**
 * The step of the coarse history query over a window: about 5000 evaluations whatever the window (30 d → 519 s), so
 * it stays cheap; a second query at 1 s around the coarse answer makes it exact.
 */
export function historyStepSeconds(windowMs: number): number {
  return Math.max(1, Math.ceil(windowMs / 1000 / 5000));
}

/**
 * The earliest sample of `selector` within `rangeSeconds` before the evaluation time, in epoch seconds: timestamp()
 * gives each sample's own time, min_over_time over a subquery the oldest seen. At step S the answer t is at most S
 * after the true first sample, so the refinement looks at (t − S, t] in 1 s steps (`at`).
 */
export function earliestSampleQuery(
  selector: string,
  rangeSeconds: number,
  stepSeconds: number,
  at?: number,
): string {
  const where = at === undefined ? "" : ` @ ${at}`;
  return `min(min_over_time(timestamp(${selector})[${rangeSeconds}s:${stepSeconds}s]${where}))`;
}

export interface Budget {
  /** bad / total, 0–1. */
  errorRatio: number;
  /** The share of events the objective allows to be bad, 0–1. */
  allowed: number;
  /** The share of the budget spent: errorRatio / allowed (Infinity when the objective allows no bad event). */
  consumed: number;
  /** 1 − consumed: ≤ 0 when exhausted, negative when overspent. */
  remaining: number;
}

/** The budget from bad and total events (total > 0) and the objective in percent (99.9). */
export function errorBudget(bad: number, total: number, objectivePercent: number): Budget {
  const errorRatio = Math.min(1, Math.max(0, bad / total));
  const allowed = Math.max(0, (100 - objectivePercent) / 100);
  // Rounded to 1e-12: 1 % bad against a 99 % objective is spent exactly, not by a float's last digit.
  const consumed =
    allowed > 0
      ? Math.round((errorRatio / allowed) * 1e12) / 1e12
      : errorRatio > 0
        ? Number.POSITIVE_INFINITY
        : 0;
  return { errorRatio, allowed, consumed, remaining: 1 - consumed };
}
