// The built-in PromQL validator's semantic rules (Prometheus' checkAST), each with the offset it points at. The
// verdicts are those of `promtool check rules` (test/integration/observability/promqlDifferential.test.ts compares
// them on a larger corpus); these tests pin the offset and the gist of each message.
import { describe, expect, it } from "vitest";
import { findSyntaxError } from "../../../src/engines/prometheus/promql.js";
import { checkPromql, validatePromql } from "../../../src/engines/prometheus/promqlTypes.js";
import { checkRe2 } from "../../../src/engines/prometheus/re2Syntax.js";

/** [offset, message] of the first problem, or null. */
function first(expr: string): [number, string] | null {
  const problem = validatePromql(expr);
  return problem ? [problem.offset, problem.message] : null;
}

function expectProblem(expr: string, offset: number, message: RegExp): void {
  const problem = first(expr);
  expect(problem, expr).not.toBeNull();
  expect(problem![0], `${expr}: ${problem![1]}`).toBe(offset);
  expect(problem![1], expr).toMatch(message);
}

describe("validatePromql: value types", () => {
  it("accepts well-typed expressions", () => {
    for (const expr of [
      'sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m])) > 0.05',
      "histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m]))) > 0.5",
      "rate((x[5m]))",
      "max_over_time(rate(x[1m])[1h:5m])",
      "x offset 5m @ 100",
      "-x offset 5m",
      "a + b offset 5m",
      "scalar(x) > bool 1",
      "1 > bool 2",
      "x and on(a) y",
      "x * on(a) group_left(b) y",
      "1 + on() x",
      'count_values("v", x)',
      "topk(scalar(x), y)",
      'label_join(x, "a", ",", "b", "c")',
      "round(x)",
      "day_of_week()",
      "time() - x",
      "sum",
      "x > 0.",
    ]) {
      expect(checkPromql(expr), expr).toEqual([]);
    }
  });

  it("rejects rate() of an instant vector, at the argument", () => {
    expectProblem(
      "rate(http_requests_total) > 0",
      5,
      /expected type range vector.*"rate", got instant vector/,
    );
    expect(first("rate(http_requests_total) > 0")![1]).toMatch(/http_requests_total\[5m\]/);
  });

  it("rejects histogram_quantile with one argument, at the function name", () => {
    expectProblem(
      "1 + histogram_quantile(0.9)",
      4,
      /expected 2 argument\(s\) in call to "histogram_quantile", got 1/,
    );
  });

  it("checks argument types and arity of optional and variadic arguments", () => {
    expectProblem("histogram_quantile(x, 0.9)", 19, /expected type scalar.*got instant vector/);
    expectProblem("round(x, 1, 2)", 0, /at most 2/);
    expectProblem("label_join(x)", 0, /at least 3/);
    expectProblem("time(x)", 0, /expected 0 argument/);
    expectProblem("vector(x)", 7, /expected type scalar/);
    expectProblem("absent(x[5m])", 7, /expected type instant vector.*got range vector/);
    expectProblem("predict_linear(x, 3600)", 15, /range vector/);
  });

  it("checks aggregations: argument count, the parameter's type, an instant vector to aggregate", () => {
    expectProblem("sum()", 0, /no arguments/);
    expectProblem("topk(x)", 0, /expected 2, got 1/);
    expectProblem('topk("a", x)', 5, /expected type scalar in aggregation parameter/);
    expectProblem("count_values(3, x)", 13, /expected type string in aggregation parameter/);
    expectProblem("quantile(0.9, x[5m])", 14, /instant vector in aggregation expression, got range vector/);
    expectProblem("sum(1)", 4, /instant vector in aggregation expression, got scalar/);
  });

  it("allows bool only on comparisons, and requires it between scalars", () => {
    expectProblem("x + bool y", 2, /bool can only be used on comparison operators/);
    expectProblem("1 > 2", 2, /needs bool: write 1 > bool 2/);
    expectProblem("scalar(x) > 1", 10, /needs bool/);
  });

  it("allows set operators and vector matching only between instant vectors", () => {
    expectProblem("x and 1", 2, /set operator "and" not allowed in binary scalar expression/);
    expectProblem("x and on(a) group_left y", 12, /no grouping allowed for "and"/);
    expectProblem("1 + on(a) x", 4, /vector matching .* only allowed between instant vectors/);
    expectProblem("x * on(a) group_left(a) y", 2, /"a" must not occur in ON and GROUP/);
    expectProblem("x[5m] + 1", 0, /only scalar and instant vector types, got range vector/);
  });

  it("binds offset, @, ranges and subqueries to the nearest operand, as Prometheus does", () => {
    expectProblem("a + b[5m:1m]", 4, /only scalar and instant vector types, got range vector/);
    expectProblem("-x[5m]", 0, /unary - applies only to a scalar or an instant vector, got range vector/);
    expect(checkPromql("a + b @ 5")).toEqual([]);
  });

  it("checks ranges, subqueries and modifiers", () => {
    expectProblem("rate(x[-5m])", 7, /range -5m must be greater than 0/);
    expectProblem("x[0s]", 2, /greater than 0/);
    expectProblem("x[5m:0s]", 5, /subquery step 0s must be greater than 0/);
    expectProblem("x[5m][10m:1m]", 5, /subquery is only allowed on an instant vector, got range vector/);
    expectProblem("rate(x[5m])[5m]", 11, /applies only to a vector selector/);
    expectProblem("(x)[5m]", 3, /applies only to a vector selector/);
    expectProblem("rate(x offset 1m [5m])", 17, /no offset modifiers allowed before a range/);
    expectProblem("x @ 1 [5m]", 6, /no @ modifiers allowed before a range/);
    expectProblem("(x) offset 5m", 4, /offset applies only to a vector selector/);
    expectProblem("sum(x) @ 100", 7, /@ applies only to/);
    expectProblem("x offset 1m offset 2m", 12, /offset may not be set multiple times/);
    expectProblem("x @ 1 @ 2", 6, /@ may not be set multiple times/);
    expectProblem("x @ inf", 4, /out of bounds/);
    expectProblem('-"a"', 0, /unary - applies only to a scalar or an instant vector, got string/);
  });

  it("names experimental features and the flag that enables them", () => {
    expectProblem('sort_by_label(x, "a")', 0, /experimental.*promql-experimental-functions/);
    expectProblem("limitk(1, x)", 0, /experimental/);
    expectProblem("max_of(1, 2)", 0, /experimental/);
    expectProblem("x + fill(0) y", 4, /promql-binop-fill-modifiers/);
  });
});

describe("validatePromql: label matchers", () => {
  it("needs a metric name or one matcher that cannot match the empty string", () => {
    for (const expr of ["{}", '{a=""}', '{a=~".*"}', '{a!~".+"}', '{a=~""}', '{a=~"(?i)x*"}'])
      expectProblem(expr, 0, /would select every series/);
    for (const expr of ['{a!=""}', '{a=~".+"}', '{__name__="up"}', "up", '{a=~"\\\\b"}'])
      expect(checkPromql(expr), expr).toEqual([]);
  });

  it("rejects a metric name given twice", () => {
    expectProblem('x{__name__="y"}', 0, /metric name is set twice/);
  });

  it("reads string escapes as Prometheus' lexer does, pointing at the bad escape", () => {
    expectProblem('x{a="\\d"}', 5, /unknown escape sequence "\\d".*"\\\\d"/);
    expectProblem("x{a='\\\"'}", 5, /only the string's own quote/);
    expectProblem('x{a="\\x4"}', 8, /needs 2 hex digits/);
    expectProblem('x{a="\\uD800"}', 5, /not a valid Unicode code point/);
    expect(checkPromql('x{a="\\\\d", b=`\\d`, c="\\u00e9\\012"}')).toEqual([]);
  });

  it("checks regexes with RE2's rules, not JavaScript's, at the bad construct", () => {
    expectProblem('x{a=~"(?=a)"}', 6, /RE2 syntax.*no lookahead/);
    expectProblem('x{a=~"x(?<=a)"}', 7, /no lookbehind/);
    expectProblem('x{a=~"(a)\\\\1"}', 9, /no backreferences/);
    expectProblem('x{a=~"a**"}', 7, /nested repetition/);
    expectProblem('x{a=~"[z-a]"}', 7, /invalid character class range/);
    expectProblem('x{a=~"a{1001}"}', 7, /invalid repeat count/);
    expectProblem('x{a=~"(?P<n>a"}', 6, /missing closing \)/);
    expect(checkPromql('x{a=~"(?i)err|(?s:a.b)|\\\\pL+|[[:alpha:]]|\\\\Qa.b\\\\E|\\\\z|^*"}')).toEqual([]);
  });
});

describe("findSyntaxError: what a user most often gets wrong", () => {
  it("says unknown function at a misspelt function's name, with the closest real one", () => {
    expect(findSyntaxError("sum(rte(x[5m]))")).toEqual({
      offset: 4,
      message: 'unknown function "rte" (did you mean "rate"?)',
    });
    expect(findSyntaxError("RATE(x[5m])")).toMatchObject({ offset: 0, message: /unknown function "RATE"/ });
    expect(findSyntaxError("holt_winters(x[5m], 0.5, 0.5)")!.message).toMatch(/double_exponential_smoothing/);
  });

  it("points an unterminated string at its opening quote", () => {
    expect(findSyntaxError('up{job="api} == 0')).toEqual({
      offset: 7,
      message: "unterminated string: the quote here is never closed",
    });
    expect(findSyntaxError('label_replace(x, "a", "b\nc", "d", "e")')).toMatchObject({ offset: 22 });
    expect(findSyntaxError("x{a=`b")).toMatchObject({ offset: 4, message: /backtick/ });
    expect(findSyntaxError('"abc')).toMatchObject({ offset: 0 });
  });

  it("rejects atan2 as a metric name (it is an operator)", () => {
    expect(findSyntaxError("x == atan2")).toMatchObject({ offset: 5 });
  });
});

describe("checkRe2", () => {
  it("says whether a valid regex matches the empty string", () => {
    const empty = (p: string) => {
      const r = checkRe2(p);
      if (!r.ok) throw new Error(`${p}: ${r.problem.message}`);
      return r.matchesEmpty;
    };
    expect([".*", "", "a?", "(a|)", "^$", "\\B", "(?i)", "a{0}", "\\Q\\E"].map(empty)).toEqual(
      Array(9).fill(true),
    );
    expect([".+", "a", "\\b", "[^a]", "a|b", "\\Qab\\E*", "(a*)b"].map(empty)).toEqual(Array(7).fill(false));
  });

  it("rejects what Go's regexp/syntax rejects", () => {
    for (const pattern of [
      "(?=a)",
      "(?!a)",
      "(?<=a)b",
      "(?>a)",
      "\\1",
      "\\8",
      "\\Z",
      "\\C",
      "\\e",
      "a**",
      "a{2}{3}",
      "*a",
      "(*)",
      "a|*",
      "(a",
      "a)",
      "[a",
      "[z-a]",
      "[[:foo:]]",
      "\\p{Foo}",
      "a{1001}",
      "(a{100}){100}",
      "(?-)",
      "(?x)a",
      "\\x{110000}",
      "[\\b]",
      "a\\",
    ]) {
      expect(checkRe2(pattern).ok, pattern).toBe(false);
    }
    for (const pattern of [
      "a{,3}",
      "a{2}?",
      "[]a]",
      "[a-]",
      "\\_",
      "\\12",
      "\\0",
      "(?)",
      "(?i-s:a)",
      "\\p{Greek}",
    ])
      expect(checkRe2(pattern).ok, pattern).toBe(true);
  });
});
