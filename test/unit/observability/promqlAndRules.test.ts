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
