// The expression tree Prometheus builds, from Lezer's. Lezer's grammar gives the postfix modifiers (offset, @, a
// range [5m], a subquery [5m:1m]) the lowest precedence, so `a + b offset 5m` comes out as `(a + b) offset 5m`;
// Prometheus binds them to the nearest operand (`a + (b offset 5m)`), which is what the types must be judged on.
import type { parser } from "@prometheus-io/lezer-promql";

export type SyntaxNode = ReturnType<typeof parser.parse>["topNode"];

/** A postfix node: OffsetExpr, StepInvariantExpr, MatrixSelector, SubqueryExpr, AnchoredExpr or SmoothedExpr. */
export type Expr =
  | { kind: "number" | "string" | "selector"; node: SyntaxNode }
  | { kind: "paren" | "unary" | "postfix"; node: SyntaxNode; expr: Expr }
  | { kind: "call" | "aggregate"; node: SyntaxNode; args: Expr[] }
  | { kind: "binary"; node: SyntaxNode; lhs: Expr; rhs: Expr };

const POSTFIX = new Set([
  "OffsetExpr",
  "StepInvariantExpr",
  "MatrixSelector",
  "SubqueryExpr",
  "AnchoredExpr",
  "SmoothedExpr",
]);
const EXPRESSIONS = new Set([
  ...POSTFIX,
  "AggregateExpr",
  "BinaryExpr",
  "FunctionCall",
  "NumberDurationLiteral",
  "ParenExpr",
  "StringLiteral",
  "UnaryExpr",
  "VectorSelector",
]);

/** The expression children of a Lezer node (operands, arguments), in order. */
export function expressionChildren(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let child = node.firstChild; child; child = child.nextSibling)
    if (EXPRESSIONS.has(child.name)) out.push(child);
  return out;
}

/** Every child of a Lezer node, in order. */
export function childrenOf(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let child = node.firstChild; child; child = child.nextSibling) out.push(child);
  return out;
}

/** Builds the expression of a Lezer expression node, with postfix modifiers bound as Prometheus binds them. */
export function buildExpr(node: SyntaxNode): Expr {
  const inner = () => {
    const first = expressionChildren(node)[0];
    return first ? buildExpr(first) : { kind: "number" as const, node };
  };
  if (POSTFIX.has(node.name)) return attach(node, inner());
  switch (node.name) {
    case "NumberDurationLiteral":
      return { kind: "number", node };
    case "StringLiteral":
      return { kind: "string", node };
    case "VectorSelector":
      return { kind: "selector", node };
    case "ParenExpr":
      return { kind: "paren", node, expr: inner() };
    case "UnaryExpr":
      return { kind: "unary", node, expr: inner() };
    case "FunctionCall":
    case "AggregateExpr": {
      const body = node.getChild("FunctionCallBody");
      const args = body ? expressionChildren(body).map(buildExpr) : [];
      return { kind: node.name === "FunctionCall" ? "call" : "aggregate", node, args };
    }
    case "BinaryExpr": {
      const operands = expressionChildren(node);
      return {
        kind: "binary",
        node,
        lhs: buildExpr(operands[0]!),
        rhs: buildExpr(operands[operands.length - 1]!),
      };
    }
    default:
      return { kind: "number", node };
  }
}

/** Applies a postfix modifier to the rightmost operand, as Prometheus' precedence does. */
function attach(postfix: SyntaxNode, expr: Expr): Expr {
  if (expr.kind === "binary") return { ...expr, rhs: attach(postfix, expr.rhs) };
  if (expr.kind === "unary") return { ...expr, expr: attach(postfix, expr.expr) };
  return { kind: "postfix", node: postfix, expr };
}

/** Where an expression starts in the source (a re-bound postfix starts where its operand does). */
export function startOf(expr: Expr): number {
  return expr.kind === "postfix" ? startOf(expr.expr) : expr.node.from;
}

/** Where an expression ends in the source. */
export function endOf(expr: Expr): number {
  if (expr.kind === "binary") return endOf(expr.rhs);
  if (expr.kind === "unary") return endOf(expr.expr);
  return expr.node.to;
}
