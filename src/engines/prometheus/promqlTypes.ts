// PromQL's semantic rules, as Prometheus' parser applies them after its grammar (parse.go checkAST and the grammar
// actions): value types (scalar, instant vector, range vector, string), function and aggregation signatures, binary
// operator rules, ranges, subqueries, offset and @ modifiers, label matchers (string escapes, RE2 regexes, at least
// one non-empty matcher) and experimental features. Each problem has the offset where Prometheus would point, so a
// rule file's problem lands on its line and column.
import { experimentalFunction, parsePromql, syntaxErrorIn } from "./promql.js";
import { FUNCTIONS, TYPE_NAMES, type ValueType } from "./promqlFunctions.js";
import { readStringLiteral } from "./promqlString.js";
import {
  buildExpr,
  childrenOf,
  type Expr,
  endOf,
  expressionChildren,
  type SyntaxNode,
  startOf,
} from "./promqlTree.js";
import { checkRe2 } from "./re2Syntax.js";

export interface PromqlProblem {
  /** Character offset within the expression (0-based). */
  offset: number;
  message: string;
}

const OPERATORS: Record<string, string> = {
  Pow: "^",
  Mul: "*",
  Div: "/",
  Mod: "%",
  Atan2: "atan2",
  Add: "+",
  Sub: "-",
  Eql: "==",
  Neq: "!=",
  Gte: ">=",
  Gtr: ">",
  Lte: "<=",
  Lss: "<",
  TrimUpper: "</",
  TrimLower: ">/",
  And: "and",
  Or: "or",
  Unless: "unless",
};
const COMPARISONS = new Set(["Eql", "Neq", "Gte", "Gtr", "Lte", "Lss"]);
const SET_OPERATORS = new Set(["And", "Or", "Unless"]);
const SCALAR_PARAM = new Set(["topk", "bottomk", "quantile", "limitk", "limit_ratio"]);
const EXPERIMENTAL_AGGREGATIONS = new Set(["limitk", "limit_ratio"]);
const MODIFIERS = new Set(["OffsetExpr", "StepInvariantExpr"]);
const DURATION_SECONDS: Record<string, number> = {
  ms: 0.001,
  s: 1,
  m: 60,
  h: 3600,
  d: 86_400,
  w: 604_800,
  y: 31_536_000,
};
/** A duration in seconds must fit Go's time.Duration (int64 nanoseconds). */
const MAX_DURATION_SECONDS = 2 ** 63 / 1e9;

/** Every problem Prometheus' parser would report for `expr`, first by position; [] when it is valid. */
export function checkPromql(expr: string): PromqlProblem[] {
  if (expr.trim() === "") return [{ offset: 0, message: "the expression is empty" }];
  const tree = parsePromql(expr);
  const syntax = syntaxErrorIn(tree, expr);
  if (syntax) return [syntax];
  const checker = new TypeChecker(expr);
  const top = expressionChildren(tree.topNode)[0];
  if (top) checker.check(buildExpr(top));
  return checker.problems.sort((a, b) => a.offset - b.offset);
}

/** The first problem of `expr` (see checkPromql), or null when Prometheus would accept it. */
export function validatePromql(expr: string): PromqlProblem | null {
  return checkPromql(expr)[0] ?? null;
}

class TypeChecker {
  readonly problems: PromqlProblem[] = [];

  constructor(private readonly src: string) {}

  private report(offset: number, message: string): void {
    this.problems.push({ offset, message });
  }

  private text(node: SyntaxNode): string {
    return this.src.slice(node.from, node.to);
  }

  private source(expr: Expr): string {
    return this.src.slice(startOf(expr), endOf(expr));
  }

  /** Checks `expr` and everything under it; returns its value type. */
  check(expr: Expr): ValueType {
    switch (expr.kind) {
      case "number":
        return "scalar";
      case "string":
        this.stringValue(expr.node);
        return "string";
      case "selector":
        this.vectorSelector(expr.node);
        return "vector";
      case "paren":
        return this.check(expr.expr);
      case "unary":
        return this.unary(expr.node, expr.expr);
      case "call":
        return this.call(expr.node, expr.args);
      case "aggregate":
        return this.aggregate(expr.node, expr.args);
      case "binary":
        return this.binary(expr.node, expr.lhs, expr.rhs);
      case "postfix":
        return this.postfix(expr.node, expr.expr);
    }
  }

  private postfix(node: SyntaxNode, inner: Expr): ValueType {
    switch (node.name) {
      case "MatrixSelector":
        this.range(node, inner);
        return "matrix";
      case "SubqueryExpr":
        this.subquery(node, inner);
        return "matrix";
      case "OffsetExpr":
      case "StepInvariantExpr":
        return this.modified(node, inner);
      default: {
        const type = this.check(inner);
        const modifier = node.name === "AnchoredExpr" ? "anchored" : "smoothed";
        this.report(
          node.lastChild?.from ?? node.from,
          `the ${modifier} modifier is experimental: Prometheus rejects it unless started with --enable-feature=promql-extended-range-selectors`,
        );
        return type;
      }
    }
  }

  /** The value of a string literal; problems (bad escape, no closing quote) are reported at their character. */
  private stringValue(node: SyntaxNode): { value: string; offsets: number[] } | null {
    const read = readStringLiteral(this.text(node));
    if ("problem" in read) {
      this.report(node.from + read.problem.offset, read.problem.message);
      return null;
    }
    return { value: read.value, offsets: read.offsets.map((o) => node.from + o) };
  }

  private vectorSelector(node: SyntaxNode): void {
    const names: string[] = [];
    const identifier = node.getChild("Identifier");
    if (identifier) names.push(this.text(identifier));
    let selectsSomething = names.length > 0;
    let nameMatchers = 0;
    const matchers = childrenOf(node.getChild("LabelMatchers") ?? node).filter((c) =>
      ["UnquotedLabelMatcher", "QuotedLabelMatcher", "QuotedLabelName"].includes(c.name),
    );
    for (const matcher of matchers) {
      if (matcher.name === "QuotedLabelName") {
        const name = this.stringValue(matcher.getChild("StringLiteral")!);
        if (name) names.push(name.value);
        selectsSomething = true;
        continue;
      }
      if (this.labelName(matcher) === "__name__") nameMatchers++;
      const op = this.text(matcher.getChild("MatchOp")!);
      const literal = matcher.getChild("StringLiteral");
      const value = literal ? this.stringValue(literal) : null;
      if (!value) {
        selectsSomething = true; // already reported; one problem per mistake
        continue;
      }
      let matchesEmpty = op === "=" ? value.value === "" : op === "!=" ? value.value !== "" : false;
      if (op === "=~" || op === "!~") {
        const regex = checkRe2(value.value);
        if (!regex.ok) {
          const at = value.offsets[regex.problem.offset] ?? literal!.from;
          this.report(
            at,
            `invalid regex ${JSON.stringify(value.value)} (RE2 syntax): ${regex.problem.message}`,
          );
          selectsSomething = true;
          continue;
        }
        matchesEmpty = op === "=~" ? regex.matchesEmpty : !regex.matchesEmpty;
      }
      if (!matchesEmpty) selectsSomething = true;
    }
    if (names.length > 0 && names.length + nameMatchers > 1)
      this.report(node.from, `the metric name is set twice (${names[0]} and again in the braces)`);
    if (!selectsSomething) {
      this.report(
        node.from,
        `${this.text(node)} would select every series: a selector needs a metric name or at least one matcher that does not match the empty string (e.g. job="api")`,
      );
    }
  }

  private labelName(matcher: SyntaxNode): string {
    const quoted = matcher.getChild("QuotedLabelName");
    if (quoted) return this.stringValue(quoted.getChild("StringLiteral")!)?.value ?? "";
    const plain = matcher.getChild("LabelName");
    return plain ? this.text(plain) : "";
  }

  /** x[5m]: a range applies to a vector selector with no offset or @ before it. */
  private range(node: SyntaxNode, inner: Expr): void {
    const duration = node.getChild("DurationExpr");
    const bracket = duration ? this.src.lastIndexOf("[", duration.from) : node.from;
    let base = inner;
    const before = { offset: false, at: false };
    while (base.kind === "postfix" && MODIFIERS.has(base.node.name)) {
      if (base.node.name === "OffsetExpr") before.offset ||= this.offsetSeconds(base.node) !== 0;
      else before.at = true;
      base = base.expr;
    }
    this.check(inner);
    if (base.kind !== "selector") {
      this.report(
        bracket,
        `a range [${duration ? this.text(duration) : ""}] applies only to a vector selector such as metric{…}; for other expressions use a subquery like [5m:1m]`,
      );
    } else if (before.offset) {
      this.report(bracket, "no offset modifiers allowed before a range: write x[5m] offset 1h");
    } else if (before.at) {
      this.report(bracket, "no @ modifiers allowed before a range: write x[5m] @ 1700000000");
    }
    if (duration) this.duration(duration, "range", true);
  }

  private subquery(node: SyntaxNode, inner: Expr): void {
    const type = this.check(inner);
    const durations = node.getChildren("DurationExpr");
    const bracket = durations[0] ? this.src.lastIndexOf("[", durations[0].from) : node.from;
    if (type !== "vector")
      this.report(bracket, `a subquery is only allowed on an instant vector, got ${TYPE_NAMES[type]}`);
    if (durations[0]) this.duration(durations[0], "subquery range", true);
    if (durations[1]) this.duration(durations[1], "subquery step", true);
  }

  /** An offset/@ chain such as `x offset 5m @ 100`: each applies once, to a selector or a subquery. */
  private modified(node: SyntaxNode, inner: Expr): ValueType {
    const chain: SyntaxNode[] = [node];
    let base = inner;
    while (base.kind === "postfix" && MODIFIERS.has(base.node.name)) {
      chain.push(base.node);
      base = base.expr;
    }
    const type = this.check(base);
    const selectable =
      base.kind === "selector" ||
      (base.kind === "postfix" && (base.node.name === "MatrixSelector" || base.node.name === "SubqueryExpr"));
    let offsetSet = false;
    let atSet = false;
    for (const modifier of chain.reverse()) {
      const isOffset = modifier.name === "OffsetExpr";
      const keyword = modifier.getChild(isOffset ? "Offset" : "At") ?? modifier;
      if (isOffset) this.offsetDuration(modifier);
      else this.atTimestamp(modifier);
      if (!selectable) {
        this.report(
          keyword.from,
          `${isOffset ? "offset" : "@"} applies only to a vector selector, a range selector or a subquery: move it next to the selector (e.g. rate(x[5m] ${isOffset ? "offset 1h" : "@ 1700000000"}))`,
        );
        return type;
      }
      if (isOffset) {
        const nonZero = this.offsetSeconds(modifier) !== 0;
        if (nonZero && offsetSet) this.report(keyword.from, "offset may not be set multiple times");
        offsetSet ||= nonZero;
      } else {
        if (atSet) this.report(keyword.from, "@ may not be set multiple times");
        atSet = true;
      }
    }
    return type;
  }

  private offsetSeconds(node: SyntaxNode): number | undefined {
    const duration = node.getChild("OffsetDurationExpr");
    return duration ? this.durationValue(duration) : undefined;
  }

  private offsetDuration(node: SyntaxNode): void {
    const duration = node.getChild("OffsetDurationExpr");
    if (duration) this.duration(duration, "offset", false);
  }

  private atTimestamp(node: SyntaxNode): void {
    const literal = node.getChild("NumberDurationLiteral");
    if (!literal) return; // start() / end()
    const value = numberValue(this.text(literal));
    if (!Number.isFinite(value) || Math.abs(value) >= 2 ** 63)
      this.report(literal.from, `timestamp ${this.text(literal)} is out of bounds for the @ modifier`);
  }

  /** A range, step or offset: a literal must fit, and ranges and steps must be greater than 0. */
  private duration(node: SyntaxNode, what: string, positive: boolean): void {
    for (const zero of this.zeroDivisors(node))
      this.report(zero.at, `${zero.op === "/" ? "division" : "modulo"} by zero in the ${what}`);
    const value = this.durationValue(node);
    if (value === undefined) return; // an expression (step(), 5m+1m): Prometheus evaluates it later
    const text = this.text(node).trim();
    if (Math.abs(value) > MAX_DURATION_SECONDS) this.report(node.from, `the ${what} ${text} is out of range`);
    else if (positive && !(value > 0))
      this.report(node.from, `the ${what} ${text} must be greater than 0 (e.g. 5m)`);
  }

  /** The seconds of a literal duration, with its sign; undefined for a duration expression. */
  private durationValue(node: SyntaxNode): number | undefined {
    const parts = childrenOf(node);
    if (parts.length === 1 && parts[0]!.name === "NumberDurationLiteralInDurationContext")
      return durationSeconds(this.text(parts[0]!));
    if (parts.length === 2 && parts[0]!.name === "UnaryOp" && parts[1]!.name === node.name) {
      const inner = this.durationValue(parts[1]!);
      if (inner === undefined) return undefined;
      return this.text(parts[0]!) === "-" ? -inner : inner;
    }
    return undefined;
  }

  private zeroDivisors(node: SyntaxNode): { at: number; op: string }[] {
    const out: { at: number; op: string }[] = [];
    const visit = (n: SyntaxNode) => {
      const parts = childrenOf(n);
      for (const [i, part] of parts.entries()) {
        const divisor = parts[i + 1];
        if ((part.name === "Div" || part.name === "Mod") && divisor && this.durationValue(divisor) === 0)
          out.push({ at: part.from, op: this.text(part) });
        visit(part);
      }
    };
    visit(node);
    return out;
  }

  private unary(node: SyntaxNode, operand: Expr): ValueType {
    const type = this.check(operand);
    if (type !== "scalar" && type !== "vector") {
      this.report(
        node.from,
        `unary ${this.text(node.firstChild!)} applies only to a scalar or an instant vector, got ${TYPE_NAMES[type]}`,
      );
    }
    return type;
  }

  private call(node: SyntaxNode, args: Expr[]): ValueType {
    const identifier = node.getChild("FunctionIdentifier")!;
    const name = this.text(identifier);
    const signature = FUNCTIONS.get(name);
    const types = args.map((arg) => this.check(arg));
    if (!signature) {
      this.report(identifier.from, `unknown function "${name}"`);
      return "vector";
    }
    if (signature.experimental) this.report(identifier.from, experimentalFunction(name));
    const declared = signature.args.length;
    const usage = `(usage: ${name}(${signature.args.map((t) => TYPE_NAMES[t]).join(", ")}${signature.variadic !== 0 ? ", …" : ""}))`;
    const least = signature.variadic === 0 ? declared : declared - 1;
    const most =
      signature.variadic === 0 ? declared : signature.variadic < 0 ? Infinity : least + signature.variadic;
    const arity = (bound: string, n: number) =>
      this.report(
        identifier.from,
        `expected ${bound}${n} argument(s) in call to "${name}", got ${args.length} ${usage}`,
      );
    if (signature.variadic === 0 && args.length !== declared) arity("", declared);
    else if (args.length < least) arity("at least ", least);
    else if (args.length > most) arity("at most ", most);
    for (const [i, arg] of args.entries()) {
      const want =
        i < declared
          ? signature.args[i]
          : signature.variadic !== 0
            ? signature.args[declared - 1]
            : undefined;
      const type = types[i]!;
      if (!want || type === want) continue;
      const hint =
        want === "matrix" && type === "vector" && arg.kind === "selector"
          ? `: give the selector a range, e.g. ${this.source(arg)}[5m]`
          : "";
      this.report(
        startOf(arg),
        `expected type ${TYPE_NAMES[want]} in call to function "${name}", got ${TYPE_NAMES[type]}${hint}`,
      );
    }
    return signature.returns;
  }

  private aggregate(node: SyntaxNode, args: Expr[]): ValueType {
    const opNode = node.getChild("AggregateOp")!;
    const op = this.text(opNode).toLowerCase();
    this.groupingLabels(node.getChild("AggregateModifier"));
    const types = args.map((arg) => this.check(arg));
    if (EXPERIMENTAL_AGGREGATIONS.has(op)) {
      this.report(
        opNode.from,
        `${op}() is experimental: Prometheus rejects it unless started with --enable-feature=promql-experimental-functions`,
      );
    }
    if (args.length === 0) {
      this.report(opNode.from, `${op}() needs an argument: no arguments for aggregate expression provided`);
      return "vector";
    }
    const withParam = SCALAR_PARAM.has(op) || op === "count_values";
    const wanted = withParam ? 2 : 1;
    if (args.length !== wanted) {
      const usage = withParam ? ` (usage: ${op}(${op === "count_values" ? '"label"' : "k"}, vector))` : "";
      this.report(
        opNode.from,
        `wrong number of arguments for ${op}(): expected ${wanted}, got ${args.length}${usage}`,
      );
      return "vector";
    }
    const last = wanted - 1;
    if (types[last] !== "vector") {
      this.report(
        startOf(args[last]!),
        `expected type instant vector in aggregation expression, got ${TYPE_NAMES[types[last]!]}`,
      );
    }
    const want: ValueType = op === "count_values" ? "string" : "scalar";
    if (withParam && types[0] !== want) {
      this.report(
        startOf(args[0]!),
        `expected type ${TYPE_NAMES[want]} in aggregation parameter of ${op}(), got ${TYPE_NAMES[types[0]!]}`,
      );
    }
    return "vector";
  }

  /** Label lists of by/without/on/ignoring/group_left, read so that quoted names are checked too. */
  private groupingLabels(node: SyntaxNode | null): string[][] {
    if (!node) return [];
    return node
      .getChildren("GroupingLabels")
      .map((list) =>
        childrenOf(list).map((label) =>
          label.name === "QuotedLabelName"
            ? (this.stringValue(label.getChild("StringLiteral")!)?.value ?? "")
            : this.text(label),
        ),
      );
  }

  private binary(node: SyntaxNode, lhs: Expr, rhs: Expr): ValueType {
    const opNode = childrenOf(node).find((c) => Object.hasOwn(OPERATORS, c.name))!;
    const op = OPERATORS[opNode.name]!;
    const lt = this.check(lhs);
    const rt = this.check(rhs);
    const bool = node.getChild("BoolModifier") !== null;
    const matching = node.getChild("MatchingModifierClause");
    const [matchLabels = [], includeLabels = []] = this.groupingLabels(matching);
    const on = Boolean(matching?.getChild("On"));
    const grouping = matching?.getChild("GroupLeft") ?? matching?.getChild("GroupRight") ?? null;
    const comparison = COMPARISONS.has(opNode.name);
    const setOperator = SET_OPERATORS.has(opNode.name);

    if (bool && !comparison)
      this.report(
        opNode.from,
        `bool can only be used on comparison operators (==, !=, >, <, >=, <=), not on ${op}`,
      );
    if (comparison && !bool && lt === "scalar" && rt === "scalar") {
      this.report(
        opNode.from,
        `a comparison between two scalars needs bool: write ${this.source(lhs)} ${op} bool ${this.source(rhs)}`,
      );
    }
    if (on) {
      for (const label of matchLabels.filter((l) => includeLabels.includes(l)))
        this.report(opNode.from, `label "${label}" must not occur in ON and GROUP clause at once`);
    }
    for (const [operand, type] of [
      [lhs, lt],
      [rhs, rt],
    ] as const) {
      if (type === "scalar" || type === "vector") continue;
      const hint = type === "matrix" ? " (wrap the range in a function such as rate())" : "";
      this.report(
        startOf(operand),
        `binary expression must contain only scalar and instant vector types, got ${TYPE_NAMES[type]}${hint}`,
      );
    }
    const fill = node.getChild("FillModifier");
    if (fill) {
      this.report(
        fill.from,
        "fill modifiers are experimental: Prometheus rejects them unless started with --enable-feature=promql-binop-fill-modifiers",
      );
    }
    if (lt !== "vector" || rt !== "vector") {
      if (matchLabels.length > 0)
        this.report(matching!.from, "vector matching (on/ignoring) only allowed between instant vectors");
    } else if (setOperator && grouping) {
      this.report(
        grouping.from,
        `no grouping allowed for "${op}" operation: set operators are always many-to-many`,
      );
    }
    if (setOperator && (lt === "scalar" || rt === "scalar")) {
      this.report(
        opNode.from,
        `set operator "${op}" not allowed in binary scalar expression (both sides must be instant vectors)`,
      );
    }
    return lt === "scalar" && rt === "scalar" ? "scalar" : "vector";
  }
}

/** A number literal as Prometheus reads it (decimal, hex, inf, nan, or a duration in seconds). */
function numberValue(text: string): number {
  const trimmed = text.replace(/\s+/g, "");
  const sign = trimmed.startsWith("-") ? -1 : 1;
  const body = trimmed.replace(/^[+-]/, "");
  return sign * (durationSeconds(body) ?? Number.NaN);
}

/** Seconds of `5m`, `1h30m`, `300`, `1.5`, `0x10`, `inf`; undefined when it is none of these. */
function durationSeconds(text: string): number | undefined {
  const body = text.replace(/_/g, "");
  if (/^inf$/i.test(body)) return Number.POSITIVE_INFINITY;
  if (/^nan$/i.test(body)) return Number.NaN;
  if (/^0x[0-9a-f]+$/i.test(body)) return Number.parseInt(body, 16);
  if (/^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(body)) return Number(body);
  const units = [...body.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)];
  if (units.length === 0 || units.map((u) => u[0]).join("") !== body) return undefined;
  return units.reduce((sum, [, n, unit]) => sum + Number(n) * DURATION_SECONDS[unit!]!, 0);
}
