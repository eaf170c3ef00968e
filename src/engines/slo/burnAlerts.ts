// Finds the burn-rate alerts of one SLO among a rule set, generated or hand-written, by what their expressions do:
// each `or` branch of an alert is a conjunction (`and`) of comparisons `error ratio > constant`; the error ratio is a
// division of two series (errors / total, 1 − good / total) over a range window, written inline or behind recording
// rules, which are resolved to their expressions to learn their windows (a record's name ending in 5m, _1h… is the
// fallback). A comparison belongs to the SLO when its series carry the SLO's name (`slo`, or Sloth's `sloth_slo` or
// `sloth_id` label) or read the SLI's metrics; a comparison over a ratio with no division (a request-rate guard) is not a burn
// condition. What is found is raw (windows, threshold as an error ratio): how it measures up is `classifyCondition`.
import { parsePromDuration } from "../prometheus/client.js";
import { expressionFacts, parsePromql, type Selector } from "../prometheus/promql.js";
import { buildExpr, childrenOf, type Expr, endOf, startOf } from "../prometheus/promqlTree.js";
import type { RuleDefinition } from "../prometheus/ruleFiles.js";
import { burnFactor, errorBudgetRatio, KNOWN_LONG_WINDOWS, type Severity } from "./burnRate.js";
import { parseHistogramSli } from "./errorBudget.js";
import { SLO_LABEL, type SloDefinition } from "./rules.js";

/** One `or` branch of an alert: the windows its error-ratio comparisons use and the ratio they must exceed. */
export interface BurnCondition {
  longMs: number;
  /** Undefined for a single-window condition. */
  shortMs?: number;
  /** The error ratio (0–1) the long window must exceed. */
  threshold: number;
}

export interface BurnAlert {
  alert: string;
  file: string;
  group: string;
  line: number;
  column: number;
  /** How it was tied to the SLO: its series carry the SLO's name, or they read the SLI's metrics. */
  via: "label" | "metrics";
  conditions: BurnCondition[];
}

// Sloth names an SLO twice: `sloth_slo` (its name in the service) and `sloth_id` (service-name); either may be the spec's.
const SLO_NAME_LABELS = [SLO_LABEL, "sloth_slo", "sloth_id"];
const MAX_DEPTH = 5;

/** The burn-rate alerts of `slo` among `rules` (alerting and recording rules of every file). */
export function findBurnAlerts(slo: SloDefinition, rules: readonly RuleDefinition[]): BurnAlert[] {
  const records = new Map<string, RuleDefinition[]>();
  for (const rule of rules) {
    if (rule.kind !== "record") continue;
    records.set(rule.name, [...(records.get(rule.name) ?? []), rule]);
  }
  const context: Context = { slo, records, sliMetrics: sliMetrics(slo) };
  const found: BurnAlert[] = [];
  for (const rule of rules) {
    if (rule.kind !== "alert" || !rule.expr.trim()) continue;
    const ownLabel = namedSlo(rule.labels, slo.name);
    if (ownLabel === "foreign") continue;
    const analysed = analyseAlert(rule.expr, context);
    if (!analysed || analysed.conditions.length === 0) continue;
    found.push({
      alert: rule.name,
      file: rule.file,
      group: rule.group,
      line: rule.position.line,
      column: rule.position.column,
      via: analysed.byLabel || ownLabel === "own" ? "label" : "metrics",
      conditions: analysed.conditions,
    });
  }
  return found;
}

export interface ConditionVerdict {
  severity: Severity;
  /** threshold / (1 − objective). */
  factor: number;
  /** The workbook's factor for this long window scaled to the SLO window; undefined for a window it has no row for. */
  expectedFactor?: number;
  matches: boolean;
}

/** Within this share of the workbook's factor, a hand-written factor is taken as the workbook's (rounding, 14 vs 14.4). */
export const FACTOR_TOLERANCE = 0.05;

/** The tier of a condition and whether its factor is the workbook's for its long window, scaled to the SLO's window. */
export function classifyCondition(
  condition: BurnCondition,
  slo: Pick<SloDefinition, "objective" | "window">,
): ConditionVerdict {
  const factor = condition.threshold / errorBudgetRatio(slo.objective);
  const known = KNOWN_LONG_WINDOWS.find((w) => Math.abs(w.longMs - condition.longMs) <= w.longMs * 0.01);
  if (!known)
    return { severity: condition.longMs <= 12 * 3_600_000 ? "page" : "ticket", factor, matches: false };
  const expectedFactor = burnFactor(known.budgetShare, slo.window, known.longMs);
  return {
    severity: known.severity,
    factor,
    expectedFactor,
    matches: Math.abs(factor / expectedFactor - 1) <= FACTOR_TOLERANCE,
  };
}

interface Context {
  slo: SloDefinition;
  records: Map<string, RuleDefinition[]>;
  sliMetrics: Set<string>;
}

/** Metric names the SLI reads: its PromQL's selectors, or the histogram's _bucket and _count series. */
function sliMetrics(slo: SloDefinition): Set<string> {
  const names = new Set<string>();
  const sli = slo.sli;
  if (!sli) return names;
  for (const query of [sli.errors, sli.total]) {
    if (!query) continue;
    for (const s of safeFacts(query.replace(/\{\{\s*window\s*\}\}/g, "5m")).selectors)
      if (s.metric) names.add(s.metric);
  }
  const histogram = sli.histogram ? parseHistogramSli(sli.histogram) : undefined;
  if (histogram) for (const suffix of ["_bucket", "_count"]) names.add(`${histogram.metric}${suffix}`);
  return names;
}

function safeFacts(expr: string): { selectors: Selector[] } {
  try {
    return expressionFacts(expr);
  } catch {
    return { selectors: [] };
  }
}

/** What an expression measures, as far as a burn-rate alert needs to know. */
interface Measure {
  windows: Set<number>;
  /** A division of two series somewhere inside: an error (or success) ratio, not a plain rate. */
  ratio: boolean;
  byLabel: boolean;
  byMetrics: boolean;
  /** Its series carry another SLO's name. */
  foreign: boolean;
  /** The expression's value is the error ratio divided by this (a record of ratio / budget is a burn rate). */
  divisor: number;
}

function analyseAlert(
  expr: string,
  context: Context,
): { conditions: BurnCondition[]; byLabel: boolean } | undefined {
  const root = topExpr(expr);
  if (!root) return undefined;
  const conditions: BurnCondition[] = [];
  let byLabel = false;
  for (const branch of split(root, expr, "Or")) {
    const windows = new Map<number, number>();
    for (const conjunct of split(branch, expr, "And")) {
      const comparison = comparisonOf(conjunct, expr);
      if (!comparison) continue;
      const measure = measureExpr(comparison.series, expr, context, 0);
      if (!measure.ratio || measure.foreign || !(measure.byLabel || measure.byMetrics)) continue;
      if (measure.windows.size !== 1) continue;
      byLabel ||= measure.byLabel;
      const window = [...measure.windows][0]!;
      windows.set(window, comparison.threshold * measure.divisor);
    }
    if (windows.size === 0) continue;
    const sorted = [...windows.keys()].sort((a, b) => b - a);
    const longMs = sorted[0]!;
    const condition: BurnCondition = { longMs, threshold: windows.get(longMs)! };
    if (sorted.length > 1) condition.shortMs = sorted[sorted.length - 1]!;
    conditions.push(condition);
  }
  return { conditions, byLabel };
}

function topExpr(expr: string): Expr | undefined {
  try {
    const tree = parsePromql(expr);
    const first = childrenOf(tree.topNode).find((n) => !n.type.isError);
    return first ? buildExpr(first) : undefined;
  } catch {
    return undefined;
  }
}

function operatorOf(expr: Expr & { kind: "binary" }): string | undefined {
  return childrenOf(expr.node).find((n) =>
    [
      "And",
      "Or",
      "Unless",
      "Gtr",
      "Gte",
      "Lss",
      "Lte",
      "Eql",
      "Neq",
      "Mul",
      "Div",
      "Add",
      "Sub",
      "Mod",
      "Pow",
      "Atan2",
    ].includes(n.name),
  )?.name;
}

function hasBool(expr: Expr & { kind: "binary" }): boolean {
  return childrenOf(expr.node).some((n) => n.name === "BoolModifier");
}

/** The operands of a chain of one operator (`a and b and c`), parentheses looked through. */
function split(expr: Expr, text: string, op: "And" | "Or"): Expr[] {
  const inner = expr.kind === "paren" ? expr.expr : expr;
  if (inner.kind === "binary" && operatorOf(inner) === op)
    return [...split(inner.lhs, text, op), ...split(inner.rhs, text, op)];
  return [expr];
}

/** `series > constant` (or `constant < series`), through parentheses and one-argument aggregations (Sloth's max(… > …)). */
function comparisonOf(expr: Expr, text: string): { series: Expr; threshold: number } | undefined {
  if (expr.kind === "paren") return comparisonOf(expr.expr, text);
  if (expr.kind === "aggregate" && expr.args.length === 1) return comparisonOf(expr.args[0]!, text);
  if (expr.kind !== "binary" || hasBool(expr)) return undefined;
  const op = operatorOf(expr);
  if (op === "And") return comparisonOf(expr.lhs, text);
  const above = op === "Gtr" || op === "Gte";
  const below = op === "Lss" || op === "Lte";
  if (!above && !below) return undefined;
  const [series, constant] = above ? [expr.lhs, expr.rhs] : [expr.rhs, expr.lhs];
  const threshold = constantValue(constant, text);
  if (threshold === undefined || constantValue(series, text) !== undefined) return undefined;
  return { series, threshold };
}

/** The value of a constant expression (numbers, + − * /, parentheses), or undefined when it reads series. */
function constantValue(expr: Expr, text: string): number | undefined {
  switch (expr.kind) {
    case "number": {
      const value = Number(text.slice(expr.node.from, expr.node.to));
      return Number.isFinite(value) ? value : undefined;
    }
    case "paren":
      return constantValue(expr.expr, text);
    case "unary": {
      const value = constantValue(expr.expr, text);
      const minus = text.slice(expr.node.from, expr.node.to).trimStart().startsWith("-");
      return value === undefined ? undefined : minus ? -value : value;
    }
    case "binary": {
      const a = constantValue(expr.lhs, text);
      const b = constantValue(expr.rhs, text);
      if (a === undefined || b === undefined) return undefined;
      const op = operatorOf(expr);
      if (op === "Mul") return a * b;
      if (op === "Div") return b === 0 ? undefined : a / b;
      if (op === "Add") return a + b;
      if (op === "Sub") return a - b;
      return undefined;
    }
    default:
      return undefined;
  }
}

function emptyMeasure(): Measure {
  return { windows: new Set(), ratio: false, byLabel: false, byMetrics: false, foreign: false, divisor: 1 };
}

function measureExpr(expr: Expr, text: string, context: Context, depth: number): Measure {
  const measure = emptyMeasure();
  // A burn rate written as ratio / budget (or ratio * 1000): the divisor turns its threshold back into a ratio.
  const scaled = scaledBy(expr, text);
  if (scaled) {
    const inner = measureExpr(scaled.expr, text, context, depth);
    return { ...inner, divisor: inner.divisor * scaled.divisor };
  }
  walk(expr, (node) => {
    if (node.kind === "binary" && operatorOf(node) === "Div") {
      if (constantValue(node.lhs, text) === undefined && constantValue(node.rhs, text) === undefined)
        measure.ratio = true;
    }
    if (node.kind === "postfix" && node.node.name === "MatrixSelector") {
      const duration = node.node.getChild("DurationExpr") ?? node.node.lastChild;
      const seconds = duration ? parsePromDuration(text.slice(duration.from, duration.to).trim()) : undefined;
      if (seconds) measure.windows.add(seconds * 1000);
    }
  });
  for (const selector of safeFacts(text.slice(startOf(expr), endOf(expr))).selectors) {
    const equal = selector.matchers.filter((m) => m.op === "=").map((m) => [m.label, m.value]);
    const named = namedSlo(Object.fromEntries(equal), context.slo.name);
    if (named === "own") measure.byLabel = true;
    if (named === "foreign") measure.foreign = true;
    if (selector.metric && context.sliMetrics.has(selector.metric)) measure.byMetrics = true;
    const recorded = selector.metric ? context.records.get(selector.metric) : undefined;
    if (!recorded || depth >= MAX_DEPTH) continue;
    let resolved = false;
    for (const record of recorded.filter((r) => compatible(selector, r.labels))) {
      const recordName = namedSlo(record.labels, context.slo.name);
      if (recordName === "foreign") continue;
      const root = topExpr(record.expr);
      if (!root) continue;
      const inner = measureExpr(root, record.expr, context, depth + 1);
      if (inner.foreign) continue;
      resolved = true;
      if (recordName === "own") measure.byLabel = true;
      for (const w of inner.windows) measure.windows.add(w);
      measure.ratio ||= inner.ratio;
      measure.byLabel ||= inner.byLabel;
      measure.byMetrics ||= inner.byMetrics;
      measure.divisor = inner.divisor;
    }
    if (!resolved || measure.windows.size === 0) {
      const fromName = windowInName(selector.metric!);
      if (fromName) measure.windows.add(fromName);
    }
  }
  return measure;
}

/** `x / c` or `x * c` with c constant: the series and what divides the error ratio. */
function scaledBy(expr: Expr, text: string): { expr: Expr; divisor: number } | undefined {
  if (expr.kind === "paren") return scaledBy(expr.expr, text);
  if (expr.kind !== "binary") return undefined;
  const op = operatorOf(expr);
  const c = constantValue(expr.rhs, text);
  if (c === undefined || c === 0 || constantValue(expr.lhs, text) !== undefined) return undefined;
  if (op === "Div") return { expr: expr.lhs, divisor: c };
  if (op === "Mul") return { expr: expr.lhs, divisor: 1 / c };
  return undefined;
}

function walk(expr: Expr, visit: (e: Expr) => void): void {
  visit(expr);
  if (expr.kind === "paren" || expr.kind === "unary" || expr.kind === "postfix") walk(expr.expr, visit);
  else if (expr.kind === "call" || expr.kind === "aggregate") for (const a of expr.args) walk(a, visit);
  else if (expr.kind === "binary") {
    walk(expr.lhs, visit);
    walk(expr.rhs, visit);
  }
}

/** Whether labels name this SLO, another one (name labels, none of them this SLO's), or no SLO at all. */
function namedSlo(labels: Record<string, string>, name: string): "own" | "foreign" | undefined {
  const names = SLO_NAME_LABELS.map((l) => labels[l]).filter((v) => v !== undefined);
  if (names.length === 0) return undefined;
  return names.includes(name) ? "own" : "foreign";
}

/** A selector can read a record when none of its equality matchers contradicts the record's own labels. */
function compatible(selector: Selector, labels: Record<string, string>): boolean {
  return selector.matchers.every(
    (m) => m.op !== "=" || labels[m.label] === undefined || labels[m.label] === m.value,
  );
}

/** slo:sli_error:ratio_rate5m, http_requests:burnrate1h, slo:availability:burn_rate_6h → the window at the end. */
function windowInName(name: string): number | undefined {
  const match = /(?:^|[^0-9])(\d+(?:ms|[smhdwy]))$/.exec(name);
  const seconds = match ? parsePromDuration(match[1]) : undefined;
  return seconds ? seconds * 1000 : undefined;
}
