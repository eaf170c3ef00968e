// PromQL syntax validation and selector extraction with the Prometheus UI's own Lezer grammar. Lezer recovers from
// errors by inserting error nodes, so the first error node's offset is where the expression stops making sense;
// two common mistakes get a message of their own at the right place: a misspelt function (at its name) and a string
// that is never closed (at its opening quote).
import { parser } from "@prometheus-io/lezer-promql";
import { closestFunction, FUNCTIONS, REMOVED_FUNCTIONS } from "./promqlFunctions.js";
import { readStringLiteral } from "./promqlString.js";

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

type Tree = ReturnType<typeof parser.parse>;
type SyntaxNode = Tree["topNode"];

/** The first syntax error in expr, or null when the grammar accepts it. */
export function findSyntaxError(expr: string): PromqlSyntaxError | null {
  if (expr.trim() === "") return { offset: 0, message: "the expression is empty" };
  return syntaxErrorIn(parsePromql(expr), expr);
}

/**
 * Lezer's tree of expr, read as Prometheus' lexer reads it where the two differ: a number may end with a dot (`0.`),
 * which Lezer's number token does not take. Offsets are unchanged (the dot becomes a space).
 */
export function parsePromql(expr: string): Tree {
  return parser.parse(withoutTrailingDots(expr));
}

const TRAILING_DOT = /\d+\.(?![\w.])/y;

function withoutTrailingDots(expr: string): string {
  let out = "";
  let i = 0;
  while (i < expr.length) {
    const c = expr[i]!;
    const quoted =
      c === '"' || c === "'" || c === "`" ? skipString(expr, i) : c === "#" ? skipComment(expr, i) : i;
    if (quoted > i) {
      out += expr.slice(i, quoted);
      i = quoted;
      continue;
    }
    TRAILING_DOT.lastIndex = i;
    const number = TRAILING_DOT.exec(expr);
    if (number && !/[\w.:]/.test(expr[i - 1] ?? "")) {
      out += `${number[0].slice(0, -1)} `;
      i += number[0].length;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

function skipString(expr: string, start: number): number {
  const quote = expr[start];
  let i = start + 1;
  while (i < expr.length && expr[i] !== quote && (quote === "`" || expr[i] !== "\n"))
    i += expr[i] === "\\" && quote !== "`" ? 2 : 1;
  return Math.min(i + 1, expr.length);
}

function skipComment(expr: string, start: number): number {
  const end = expr.indexOf("\n", start);
  return end === -1 ? expr.length : end;
}

/** The first syntax error of an already parsed expression (see findSyntaxError). */
export function syntaxErrorIn(tree: Tree, expr: string): PromqlSyntaxError | null {
  let first: SyntaxNode | null = null;
  let unterminated: PromqlSyntaxError | null = null;
  let call: PromqlSyntaxError | null = null;
  let operator: PromqlSyntaxError | null = null;
  tree.iterate({
    enter(ref) {
      const node = ref.node;
      if (node.type.isError) {
        first ??= node;
        if (!unterminated && expr[node.from] === "`") unterminated = unterminatedAt(node.from, "`");
        return undefined;
      }
      if (!unterminated && node.name === "StringLiteral") {
        const literal = readStringLiteral(expr.slice(node.from, node.to));
        if ("problem" in literal && literal.problem.offset === 0)
          unterminated = { offset: node.from, message: literal.problem.message };
      }
      if (node.name === "Identifier") {
        call ??= callOfUnknownFunction(node, expr);
        operator ??= operatorAsName(node, expr);
      }
      if (node.name.startsWith("NumberDurationLiteral")) operator ??= numberRunningOn(node, expr);
      return undefined;
    },
  });
  const error = first as SyntaxNode | null;
  // Lezer accepts a string without its closing quote, atan2 as a metric name and `20and`; Prometheus accepts none.
  // A misspelt function is named only when the grammar gave up at it or after it.
  const special = ([unterminated, operator, error ? call : null] as (PromqlSyntaxError | null)[])
    .filter((p): p is PromqlSyntaxError => p !== null && (!error || p.offset <= error.from))
    .sort((a, b) => a.offset - b.offset)[0];
  if (special) return special;
  if (!error) return null;
  const { from, to } = error;
  if (from >= expr.trimEnd().length) {
    return {
      offset: expr.trimEnd().length,
      message: "the expression ends too early (an operand or ')' is missing)",
    };
  }
  const token = expr.slice(from, Math.max(to, from + 1)).split(/\s/)[0] || expr[from];
  return { offset: from, message: `unexpected "${token}" at character ${from + 1}` };
}

function unterminatedAt(offset: number, quote: string): PromqlSyntaxError {
  return {
    offset,
    message: `unterminated string: the ${quote === "`" ? "backtick" : "quote"} here is never closed`,
  };
}

/** `rte(x)`: Lezer knows only real function names, so a misspelt one is a metric name followed by "(". */
function callOfUnknownFunction(identifier: SyntaxNode, expr: string): PromqlSyntaxError | null {
  const selector = identifier.parent;
  if (selector?.name !== "VectorSelector" || selector.getChild("LabelMatchers")) return null;
  if (!/^(\s|#[^\n]*)*\(/.test(expr.slice(identifier.to))) return null;
  const name = expr.slice(identifier.from, identifier.to);
  const known = FUNCTIONS.get(name);
  if (known?.experimental) return { offset: identifier.from, message: experimentalFunction(name) };
  if (known) return null;
  const removed = REMOVED_FUNCTIONS.get(name);
  const suggestion = closestFunction(name);
  const hint = removed ? ` (${removed})` : suggestion ? ` (did you mean "${suggestion}"?)` : "";
  return { offset: identifier.from, message: `unknown function "${name}"${hint}` };
}

/** `x == atan2`: atan2 is an operator keyword to Prometheus, never a metric name (Lezer lets it be one). */
function operatorAsName(identifier: SyntaxNode, expr: string): PromqlSyntaxError | null {
  if (identifier.parent?.name !== "VectorSelector") return null;
  const name = expr.slice(identifier.from, identifier.to);
  if (name.toLowerCase() !== "atan2") return null;
  return {
    offset: identifier.from,
    message: `unexpected "${name}": it is an operator (x atan2 y), not a metric name`,
  };
}

/** `x > 20and y`: Prometheus' lexer wants a number or duration to end before a letter, digit or _ (Lezer splits). */
function numberRunningOn(literal: SyntaxNode, expr: string): PromqlSyntaxError | null {
  if (!/[A-Za-z0-9_]/.test(expr[literal.to] ?? "")) return null;
  const text = expr.slice(literal.from, literal.to).replace(/^[+-]\s*/, "");
  const offset = literal.to - text.length;
  const run = /^[A-Za-z0-9_]*/.exec(expr.slice(literal.to))![0];
  return { offset, message: `bad number or duration syntax: "${text}${run}" (put a space after the number)` };
}

/** The message for an experimental function, which Prometheus rejects unless a feature flag enables it. */
export function experimentalFunction(name: string): string {
  return `function "${name}" is experimental: Prometheus rejects it unless started with --enable-feature=promql-experimental-functions`;
}

/** Selectors and function calls in a valid expression (used to decide what an alert watches). */
export function expressionFacts(expr: string): ExpressionFacts {
  const tree = parsePromql(expr);
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
  const read = readStringLiteral(literal);
  // An invalid literal is reported by the validator; here a plain strip keeps the facts usable.
  return "value" in read ? read.value : literal.slice(1, -1).replace(/\\(.)/g, "$1");
}

/**
 * A formatting-independent form of an expression, for comparing a rule file's expr with the query Prometheus reports
 * (which it re-prints: label matchers sorted, `sum(x) by (l)` as `sum by (l) (x)`, numbers and durations normalised).
 * Built from the syntax tree's named nodes, so whitespace, comments and quoting style do not matter.
 */
export function canonicalPromql(expr: string): string {
  const tree = parsePromql(expr);
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
