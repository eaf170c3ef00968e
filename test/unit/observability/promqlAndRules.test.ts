import { describe, expect, it } from "vitest";
import { classifyAlert } from "../../../src/engines/prometheus/goldenSignals.js";
import { canonicalPromql, expressionFacts, findSyntaxError } from "../../../src/engines/prometheus/promql.js";
import { parseRuleFile } from "../../../src/engines/prometheus/ruleFiles.js";

describe("findSyntaxError", () => {
  it("accepts valid PromQL", () => {
    for (const expr of [
      'sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m])) > 0.05',
      "histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m]))) > 0.5",
      'absent(up{job="api"})',
    ]) {
      expect(findSyntaxError(expr)).toBeNull();
    }
  });

  it("gives the offset of the first error", () => {
    expect(findSyntaxError("rate(x[5m]")).toMatchObject({ offset: 10 });
    expect(findSyntaxError("x +* y")).toMatchObject({ offset: 3 });
    expect(findSyntaxError("")).toMatchObject({ offset: 0 });
  });

  it("takes a number with a trailing dot, as Prometheus' lexer does", () => {
    expect(findSyntaxError("x > 0. or vector(0)")).toBeNull();
  });
});

describe("expressionFacts", () => {
  it("lists selectors with matchers and function names", () => {
    const facts = expressionFacts(
      'sum(rate(http_requests_total{job="api",code=~"5.."}[5m])) or absent({__name__="up"})',
    );
    expect(facts.functions).toEqual(["rate", "absent"]);
    expect(facts.selectors).toEqual([
      {
        metric: "http_requests_total",
        matchers: [
          { label: "job", op: "=", value: "api" },
          { label: "code", op: "=~", value: "5.." },
        ],
      },
      { metric: "up", matchers: [] },
    ]);
  });
});

describe("parseRuleFile", () => {
  it("maps a PromQL error inside a double-quoted scalar to its file column", () => {
    const text =
      'groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: "sum(rate(x[5m]) by (job) +* 2"\n';
    const file = parseRuleFile(text, "a.yml");
    expect(file.problems).toHaveLength(1);
    // The expression starts at column 16 (after the quote); the error is at value offset 17 ("by").
    expect(file.problems[0]).toMatchObject({ kind: "promql", line: 5, column: 16 + 16 });
  });

  it("maps an error on the second line of a block scalar", () => {
    const text =
      "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: |\n          sum(x)\n            +* 2\n";
    const file = parseRuleFile(text, "a.yml");
    expect(file.problems[0]).toMatchObject({ kind: "promql", line: 7, column: 14 });
  });

  it("reports YAML syntax errors with their position", () => {
    const file = parseRuleFile("groups:\n  - name: g\n    rules: [\n", "a.yml");
    expect(file.problems[0]!.kind).toBe("yaml");
    expect(file.problems[0]!.line).toBeGreaterThanOrEqual(3);
  });

  it("treats an empty file as no rules", () => {
    expect(parseRuleFile("", "a.yml")).toMatchObject({ groups: [], problems: [] });
  });

  it("accepts a group whose rules: is empty (a null scalar), as promtool does", () => {
    const file = parseRuleFile(
      "groups:\n  - name: later\n    rules:\n  - name: none\n    rules: ~\n",
      "a.yml",
    );
    expect(file.problems).toEqual([]);
    expect(file.groups.map((g) => [g.name, g.rules.length])).toEqual([
      ["later", 0],
      ["none", 0],
    ]);
  });

  it("accepts an empty groups: and null list items, and still rejects rules: that is a string", () => {
    expect(parseRuleFile("groups:\n", "a.yml").problems).toEqual([]);
    expect(parseRuleFile("groups:\n  -\n  - name: g\n    rules:\n      -\n", "a.yml").problems).toEqual([]);
    expect(parseRuleFile('groups:\n  - name: g\n    rules: ""\n', "a.yml").problems).toMatchObject([
      { kind: "format", line: 3, message: /rules must be a list/ },
    ]);
  });

  it("places a type error at the argument's file:line:column", () => {
    const text =
      "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: rate(http_requests_total) > 0\n";
    expect(parseRuleFile(text, "a.yml").problems).toMatchObject([
      {
        kind: "promql",
        line: 5,
        column: 20,
        message: /expected type range vector in call to function "rate"/,
      },
    ]);
  });

  it("places an unknown function at its name and an unterminated string at its quote", () => {
    const text =
      "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: sum(rte(x[5m]))\n" +
      "      - alert: B\n        expr: 'up{job=\"api} == 0'\n";
    expect(parseRuleFile(text, "a.yml").problems.map((p) => [p.rule, p.line, p.column, p.message])).toEqual([
      ["A", 5, 19, 'group "g", rule 1 "A": invalid PromQL: unknown function "rte" (did you mean "rate"?)'],
      [
        "B",
        7,
        23,
        'group "g", rule 2 "B": invalid PromQL: unterminated string: the quote here is never closed',
      ],
    ]);
  });
});

describe("classifyAlert", () => {
  const rule = (expr: string, labels: Record<string, string> = {}) => ({
    kind: "alert" as const,
    name: "A",
    expr,
    labels,
    annotations: {},
    group: "g",
    file: "f",
    position: { line: 1, column: 1 },
  });
  it("matches signals and services by metric, function and job matchers", () => {
    expect(classifyAlert(rule("up == 0"), ["api"])).toMatchObject({ signals: ["down"], services: "all" });
    expect(
      classifyAlert(rule('rate(http_requests_total{job=~"api|web",status="503"}[5m]) > 1'), ["api", "db"]),
    ).toMatchObject({
      signals: ["errors"],
      services: ["api"],
    });
    expect(classifyAlert(rule('node_memory_utilisation{job="other"} > 0.9'), ["api"])).toMatchObject({
      signals: ["saturation"],
      services: [],
    });
    expect(classifyAlert(rule("vector(1)", { signal: "latency", service: "api" }), ["api"])).toMatchObject({
      signals: ["latency"],
      services: ["api"],
    });
  });
});

describe("canonicalPromql", () => {
  it("equates a rule file's expression with the form Prometheus re-prints", () => {
    const pairs = [
      [
        'sum(rate(x{job="api", code=~"5.."}[5m])) by (job) > 5e8',
        'sum by (job) (rate(x{code=~"5..",job="api"}[5m])) > 5e+08',
      ],
      [
        "histogram_quantile(0.99,\n  sum by (le) (rate(d_bucket[300s])))",
        "histogram_quantile(0.99, sum by (le) (rate(d_bucket[5m])))",
      ],
      ["up{job='api'} == 0 OR absent(up)", 'up{job="api"} == 0 or absent(up)'],
    ];
    for (const [file, loaded] of pairs) expect(canonicalPromql(file!)).toBe(canonicalPromql(loaded!));
  });

  it("tells different expressions apart", () => {
    expect(canonicalPromql('up{job="api"} == 0')).not.toBe(
      canonicalPromql('up{job="api"} == 0 or absent(up{job="api"})'),
    );
    expect(canonicalPromql("rate(x[5m]) > 1")).not.toBe(canonicalPromql("rate(x[1m]) > 1"));
  });
});
