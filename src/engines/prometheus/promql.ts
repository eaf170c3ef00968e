// PromQL syntax validation and selector extraction with the Prometheus UI's own Lezer grammar. Lezer recovers from
// errors by inserting error nodes, so the first error node's offset is where the expression stops making sense.
import { parser } from "@prometheus-io/lezer-promql";

export interface PromqlSyntaxError {
  /** Character offset within the expression (0-based). */
  offset: number;
  message: string;
}

export interface LabelMatcher {
  label: string;
  op: "=" | "!=" | "=~" | "!~";
  value: string;
}

export interface Selector {
  /** Metric name, or undefined for a selector such as {__name__=~"…"} or {job="x"}. */
  metric?: string;
  matchers: LabelMatcher[];
}

export interface ExpressionFacts {
  selectors: Selector[];
  /** Function names called, e.g. rate, histogram_quantile, absent. */
  functions: string[];
}

/** The first syntax error in expr, or null when the grammar accepts it. */
export function findSyntaxError(expr: string): PromqlSyntaxError | null {
  if (expr.trim() === "") return { offset: 0, message: "the expression is empty" };
  const tree = parser.parse(expr);
  let first: { from: number; to: number } | null = null;
  tree.iterate({
    enter(node) {
      if (first) return false;
      if (node.type.isError) {
        first = { from: node.from, to: node.to };
        return false;
      }
      return undefined;
    },
  });
  if (!first) return null;
  const { from, to } = first as { from: number; to: number };
  if (from >= expr.trimEnd().length) {
    return {
      offset: expr.trimEnd().length,
      message: "the expression ends too early (an operand or ')' is missing)",
    };
  }
  const token = expr.slice(from, Math.max(to, from + 1)).split(/\s/)[0] || expr[from];
  return { offset: from, message: `unexpected "${token}" at character ${from + 1}` };
}

/** Selectors and function calls in a valid expression (used to decide what an alert watches). */
export function expressionFacts(expr: string): ExpressionFacts {
  const tree = parser.parse(expr);
  const selectors: Selector[] = [];
  const functions: string[] = [];
  const text = (from: number, to: number) => expr.slice(from, to);
  tree.iterate({
    enter(ref) {
      if (ref.name === "FunctionIdentifier") functions.push(text(ref.from, ref.to));
      if (ref.name !== "VectorSelector") return undefined;
      const selector: Selector = { matchers: [] };
      for (let child = ref.node.firstChild; child; child = child.nextSibling) {
        if (child.name === "Identifier") selector.metric = text(child.from, child.to);
        if (child.name !== "LabelMatchers") continue;
        for (let m = child.firstChild; m; m = m.nextSibling) {
          const name = m.getChild("LabelName") ?? m.getChild("QuotedLabelName");
          const op = m.getChild("MatchOp");
          const value = m.getChild("StringLiteral");
          if (m.name === "QuotedLabelMatcher" && !op && value) {
            selector.metric = unquote(text(value.from, value.to)); // {"metric.name"} (UTF-8 names)
            continue;
          }
          if (!name || !op || !value) continue;
          const matcher: LabelMatcher = {
            label:
              name.name === "QuotedLabelName" ? unquote(text(name.from, name.to)) : text(name.from, name.to),
            op: text(op.from, op.to) as LabelMatcher["op"],
            value: unquote(text(value.from, value.to)),
          };
          if (matcher.label === "__name__" && matcher.op === "=") selector.metric = matcher.value;
          else selector.matchers.push(matcher);
        }
      }
      selectors.push(selector);
      return undefined;
    },
  });
  return { selectors, functions };
}

function unquote(literal: string): string {
  if (literal.startsWith("`")) return literal.slice(1, -1);
  try {
    if (literal.startsWith('"')) return JSON.parse(literal) as string;
  } catch {
    // PromQL allows escapes JSON does not (e.g. \a); fall through to a plain strip.
  }
  return literal.slice(1, -1).replace(/\\(.)/g, "$1");
}

/**
 * A formatting-independent form of an expression, for comparing a rule file's expr with the query Prometheus reports
 * (which it re-prints: label matchers sorted, `sum(x) by (l)` as `sum by (l) (x)`, numbers and durations normalised).
 * Built from the syntax tree's named nodes, so whitespace, comments and quoting style do not matter.
 */
export function canonicalPromql(expr: string): string {
  const tree = parser.parse(expr);
  const visit = (node: SyntaxNode): string => {
    const children: SyntaxNode[] = [];
    for (let child = node.firstChild; child; child = child.nextSibling) children.push(child);
    if (children.length === 0) return `${node.name}:${leafText(node.name, expr.slice(node.from, node.to))}`;
    let parts = children.map(visit);
    if (node.name === "LabelMatchers") parts = parts.sort();
    if (node.name === "AggregateExpr") {
      const order = ["AggregateOp", "AggregateModifier", "FunctionCallBody"];
      parts = children
        .map((c, i) => ({ c, s: parts[i]! }))
        .sort((a, b) => order.indexOf(a.c.name) - order.indexOf(b.c.name))
        .map((x) => x.s);
    }
    return `${node.name}[${parts.join(",")}]`;
  };
  return visit(tree.topNode);
}

type SyntaxNode = ReturnType<typeof parser.parse>["topNode"];

const DURATION_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
};

function leafText(name: string, text: string): string {
  if (name === "StringLiteral") return JSON.stringify(unquote(text));
  if (name.startsWith("NumberDurationLiteral")) {
    if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text) || /^0x[0-9a-f]+$/i.test(text))
      return String(Number(text));
    let ms = 0;
    for (const [, n, unit] of text.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)) ms += Number(n) * DURATION_MS[unit!]!;
    return `${ms}ms`;
  }
  return /^[A-Za-z]+$/.test(text) && name !== "Identifier" && name !== "LabelName"
    ? text.toLowerCase()
    : text;
}
