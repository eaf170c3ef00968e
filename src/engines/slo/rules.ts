// Prometheus rules for SLOs, in the SRE workbook's multiwindow multi-burn-rate form (burnRate.ts). Per SLO, one group:
// recording rules for the SLI's error ratio and request rate at every window an alert needs (named the Sloth/Pyrra way,
// `slo:sli_error:ratio_rate5m` with an `slo` label, so every SLO shares the names), then one alert per window pair:
// both windows above factor × (1 − objective), and enough traffic over the long window that one failed request alone
// cannot page. No window label is added to the records: `and` between two windows must find identical label sets.
import { stringify } from "yaml";
import { expressionFacts } from "../prometheus/promql.js";
import { type BurnWindow, burnWindows, errorBudgetRatio, ruleNumber, type Severity } from "./burnRate.js";
import { parseHistogramSli, promDuration, thresholdInUnit, withWindow } from "./errorBudget.js";

/** An SLO as `slos[]` holds it after parsing (durations in ms, objective in percent); OpenSLO input gives the same. */
export interface SloDefinition {
  name: string;
  service: string;
  objective: number;
  window: number;
  latency?: number | undefined;
  sli?:
    | {
        errors?: string | undefined;
        total?: string | undefined;
        histogram?: string | undefined;
        threshold?: number | undefined;
      }
    | undefined;
  runbook?: string | undefined;
  labels?: Record<string, string> | undefined;
  /** Requests per second below which the alerts stay silent. */
  minTraffic?: number | undefined;
}

export const SLO_LABEL = "slo";
export const errorRatioRecord = (windowMs: number) => `slo:sli_error:ratio_rate${promDuration(windowMs)}`;
export const requestRateRecord = (windowMs: number) => `slo:sli_requests:rate${promDuration(windowMs)}`;

export interface GeneratedRule {
  record?: string;
  alert?: string;
  expr: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface GeneratedGroup {
  name: string;
  slo: string;
  rules: GeneratedRule[];
}

export interface SloRules {
  groups: GeneratedGroup[];
  /** SLOs that cannot be turned into rules, each with the sentence that says what to write. */
  skipped: { slo: string; reason: string }[];
  /** Pairs that can never fire or were left out, said once per SLO. */
  notes: string[];
}

export interface SloRulesOptions {
  /** operations.runbooks: alerts without slos[].runbook link `<runbooks>/<AlertName>.md`. */
  runbooks?: string | undefined;
  /** How the SLO list is named in messages: `slos` for the spec, the OpenSLO file otherwise. */
  source?: string;
}

export function sloRules(slos: readonly SloDefinition[], options: SloRulesOptions = {}): SloRules {
  const out: SloRules = { groups: [], skipped: [], notes: [] };
  for (const [index, slo] of slos.entries()) {
    const sli = sliQueries(slo);
    if ("problem" in sli) {
      out.skipped.push({
        slo: slo.name,
        reason: `${options.source ?? `slos[${index}]`} (${slo.name}): ${sli.problem}`,
      });
      continue;
    }
    const budget = errorBudgetRatio(slo.objective);
    if (budget <= 0) {
      out.skipped.push({
        slo: slo.name,
        reason: `SLO "${slo.name}": an objective of ${slo.objective}% leaves no error budget to burn, so no burn-rate alert can exist; write an objective below 100%`,
      });
      continue;
    }
    const pairs = burnWindows(slo.window);
    if (pairs.length < 3)
      out.notes.push(
        `SLO "${slo.name}": its ${promDuration(slo.window)} window is not longer than some of the workbook's long windows (1h, 6h, 3d); those pairs are left out`,
      );
    const windows = [...new Set(pairs.flatMap((p) => [p.shortMs, p.longMs]))].sort((a, b) => a - b);
    const base = { [SLO_LABEL]: slo.name, service: slo.service, ...(slo.labels ?? {}) };
    const rules: GeneratedRule[] = [];
    // Each rule its own copy of the labels: shared objects would come out as YAML anchors and aliases.
    for (const w of windows)
      rules.push({ record: errorRatioRecord(w), expr: sli.errorRatio(w), labels: { ...base } });
    for (const w of windows)
      rules.push({ record: requestRateRecord(w), expr: sli.requestRate(w), labels: { ...base } });
    for (const pair of pairs) {
      if (pair.factor * budget >= 1)
        out.notes.push(
          `SLO "${slo.name}": the ${promDuration(pair.longMs)} alert needs an error ratio above ${ruleNumber(pair.factor * budget * 100)}%, which cannot happen: the objective is too low for this window pair`,
        );
      rules.push(alertRule(slo, pair, budget, options.runbooks));
    }
    out.groups.push({ name: `slo-${slo.name}`, slo: slo.name, rules });
  }
  return out;
}

type SliQueries =
  | { errorRatio(windowMs: number): string; requestRate(windowMs: number): string }
  | { problem: string };

function sliQueries(slo: SloDefinition): SliQueries {
  const sli = slo.sli;
  if (!sli)
    return {
      problem:
        'has no sli, so no rule can measure it: add sli: { errors: \'sum(rate(http_requests_total{job="api",code=~"5.."}[{{window}}]))\', total: \'sum(rate(http_requests_total{job="api"}[{{window}}]))\' } or sli: { histogram: \'http_request_duration_seconds{job="api"}\', threshold: 300ms }',
    };
  if (sli.errors !== undefined && sli.total !== undefined) {
    const { errors, total } = sli;
    // A total written with increase() counts requests per window; the guard is in requests per second.
    const functions = new Set(expressionFacts(total).functions);
    const counts = functions.has("increase") && !functions.has("rate") && !functions.has("irate");
    return {
      errorRatio: (w) => `(${withWindow(errors, w).trim()})\n/\n(${withWindow(total, w).trim()})`,
      requestRate: (w) =>
        counts ? `(${withWindow(total, w).trim()}) / ${w / 1000}` : withWindow(total, w).trim(),
    };
  }
  if (sli.histogram !== undefined) {
    const histogram = parseHistogramSli(sli.histogram);
    if (!histogram)
      return {
        problem: `sli.histogram "${sli.histogram}" is not a metric name with optional matchers: write it like http_request_duration_seconds{job="api"} (without _bucket)`,
      };
    const thresholdMs = sli.threshold ?? slo.latency;
    if (thresholdMs === undefined)
      return {
        problem:
          "a histogram sli needs the latency that counts as good: write sli.threshold or the SLO's latency",
      };
    const matchers = (extra?: string) => [histogram.matchers, extra].filter((m) => m).join(", ");
    const good = (w: string) =>
      `sum(rate(${histogram.metric}_bucket{${matchers(leMatcher(thresholdInUnit(thresholdMs, histogram.metric)))}}[${w}]))`;
    const total = (w: string) => `sum(rate(${histogram.metric}_count{${matchers()}}[${w}]))`;
    return {
      errorRatio: (ms) => `1 - (\n  ${good(promDuration(ms))}\n  /\n  ${total(promDuration(ms))}\n)`,
      requestRate: (ms) => total(promDuration(ms)),
    };
  }
  return { problem: "its sli has neither errors + total nor a histogram: write one of them" };
}

/**
 * The bucket matcher for a threshold in the histogram's unit. Prometheus 2 keeps `le` as the client wrote it ("1"),
 * Prometheus 3 normalises a whole number to "1.0": a whole number matches both, or the good count would be zero.
 */
export function leMatcher(value: number): string {
  const text = String(value);
  return Number.isInteger(value) ? `le=~"${text}|${text}\\\\.0"` : `le="${text}"`;
}

function alertRule(slo: SloDefinition, pair: BurnWindow, budget: number, runbooks?: string): GeneratedRule {
  const long = promDuration(pair.longMs);
  const short = promDuration(pair.shortMs);
  const selector = `{${SLO_LABEL}=${JSON.stringify(slo.name)}}`;
  const threshold = `(${ruleNumber(pair.factor)} * ${ruleNumber(budget)})`;
  const minRate = slo.minTraffic ?? defaultMinTraffic(pair, budget);
  const name = alertName(slo.name, pair.longMs);
  const percent = (ratio: number) => `${ruleNumber(ratio * 100)}%`;
  const exhaustion = promDuration(Math.round(slo.window / pair.factor / 60_000) * 60_000);
  const guard = slo.minTraffic
    ? `more than ${ruleNumber(minRate)} requests/s (slos[].minTraffic)`
    : `more than ${Number((1 / (pair.factor * budget)).toPrecision(3))} requests in ${long}, so one failed request alone cannot fire it`;
  const runbook = slo.runbook ?? (runbooks ? `${runbooks.replace(/\/+$/, "")}/${name}.md` : undefined);
  return {
    alert: name,
    expr: [
      `${errorRatioRecord(pair.longMs)}${selector} > ${threshold}`,
      "and",
      `${errorRatioRecord(pair.shortMs)}${selector} > ${threshold}`,
      "and",
      `${requestRateRecord(pair.longMs)}${selector} > ${ruleNumber(minRate)}`,
    ].join("\n"),
    labels: {
      severity: pair.severity satisfies Severity,
      [SLO_LABEL]: slo.name,
      service: slo.service,
      long,
      short,
      ...(slo.labels ?? {}),
    },
    annotations: {
      summary: `${slo.service}: SLO ${slo.name} burns its error budget at ${ruleNumber(pair.factor)}× the sustainable rate (over ${long} and ${short})`,
      description: `{{ $value | humanizePercentage }} of ${slo.service}'s requests failed over the last ${long}, and more than ${percent(pair.factor * budget)} over the last ${short} too. The SLO (${ruleNumber(slo.objective)}% over ${promDuration(slo.window)}) allows ${percent(budget)}: at ${ruleNumber(pair.factor)}× that, ${percent(pair.budgetShare)} of the budget goes in ${long} and all of it in ${exhaustion}. Fires only with ${guard}.`,
      ...(runbook ? { runbook_url: runbook } : {}),
    },
  };
}

/**
 * Without slos[].minTraffic, a pair needs more requests over its long window than one error alone could trip:
 * one failure in N requests is a ratio of 1/N, which stays under factor × budget when N > 1 / (factor × budget).
 */
export function defaultMinTraffic(pair: Pick<BurnWindow, "factor" | "longMs">, budget: number): number {
  return 1 / (pair.factor * budget) / (pair.longMs / 1000);
}

/** `api-availability`, 1 h → ApiAvailabilityErrorBudgetBurn1h. */
export function alertName(sloName: string, longMs: number): string {
  const pascal = sloName
    .split(/[^A-Za-z0-9]+/)
    .filter((part) => part)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join("");
  return `${pascal}ErrorBudgetBurn${promDuration(longMs)}`;
}

/** The rule file: a comment saying where it came from, then `groups:` as promtool reads it. */
export function renderRuleFile(rules: SloRules, from: string): string {
  const header = [
    `# Generated by \`gauntlet slo rules\` from ${from}: regenerate it rather than edit it.`,
    "# Multiwindow multi-burn-rate alerts (SRE workbook): page at 2% of the error budget in 1h or 5% in 6h, ticket at 10% in 3d.",
  ];
  const groups = rules.groups.map((g) => ({
    name: g.name,
    rules: g.rules.map((r) => ({
      ...(r.record ? { record: r.record } : { alert: r.alert }),
      expr: r.expr,
      labels: r.labels,
      ...(r.annotations ? { annotations: r.annotations } : {}),
    })),
  }));
  return `${header.join("\n")}\n${stringify({ groups }, { lineWidth: 0 })}`;
}
