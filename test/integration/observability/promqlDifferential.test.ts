// Differential test of the built-in PromQL validator against the real referee, `promtool check rules`: on a corpus of
// real expressions (every rule under test/fixtures/monitoring, most from the public awesome-prometheus-alerts set, and
// of the examples), hand-written ones (valid and invalid, every rule the validator implements) and 2000 generated
// from the real ones, both must give the same verdict. The corpus is written as rule files of BATCH rules, promtool
// runs once per batch. Known disagreements are VERSION_DIFFERENCES: the validator follows Prometheus 3.x.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { checkPromql } from "../../../src/engines/prometheus/promqlTypes.js";
import { checkRules, type PromtoolProblem } from "../../../src/engines/prometheus/promtool.js";
import { runCommand } from "../../../src/engines/shell/run.js";
import { cleanupAfterEach } from "../../support/cleanups.js";
import { requireTool } from "../../support/services.js";

const BATCH = 100;
const FIXTURES = path.resolve(import.meta.dirname, "../../fixtures/monitoring");
const EXAMPLES = path.resolve(import.meta.dirname, "../../../examples");

const VALID = [
  'sum(rate(http_requests_total{job="api",code=~"5.."}[5m])) / sum(rate(http_requests_total{job="api"}[5m])) > 0.05',
  "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m]))) > 0.5",
  'up{job="api"} == 0 or absent(up{job="api"})',
  '"abc"',
  "1",
  "x[5m]",
  "sum",
  "x > 0.",
  "1 + 2 * 3 ^ 2",
  "-1",
  "- x",
  "x > -inf",
  "x > NaN",
  "x > 0x1F",
  "x > 1e-3",
  "rate((x[5m]))",
  "rate(x[5m] offset 1m)",
  "x @ 100 offset 5m",
  "x offset 5m @ 100",
  "x offset -1h",
  "x @ -100",
  "x @ 1.5",
  "x @ start()",
  "rate(up[5m] @ end())",
  "x[5m] @ 100 offset 1m",
  "x[5m:]",
  "x[5m:1m]",
  "max_over_time(rate(x[1m])[1h:5m])",
  "rate(x[5m])[30m:1m] offset 1h",
  "-x offset 5m",
  "-x @ 5",
  "a + b offset 5m",
  "a + b @ 5",
  "sum(-x)",
  "x offset 5m[5m:1m]",
  "sum(x) by (a)",
  "sum by (a) (x)",
  "sum without (a, b) (x)",
  "sum by (a,) (x)",
  "SUM(x) BY (a)",
  "x AND y",
  "x Offset 5m",
  "count by (a) (x)",
  'count_values("v", x)',
  "quantile(0.9, x)",
  "topk(3, x)",
  "topk(scalar(x), y)",
  "topk(-1, x)",
  "bottomk(1.5, x)",
  "quantile(2, x)",
  "group(x)",
  "stddev(x) + stdvar(x)",
  "x > bool y",
  "1 > bool 2",
  "scalar(x) > bool 1",
  "x == bool on(a) y",
  "x + on(a) y",
  "x + on() y",
  "1 + on() x",
  "x * on(a) group_left y",
  "x * on(a) group_left(b) y",
  "x / ignoring(a) group_right(b, c) y",
  "x + on(a) group_left() y",
  "x and on(a) y",
  "x unless ignoring(a) y",
  "x or vector(0)",
  "x atan2 y",
  "x % 2",
  "round(x)",
  "round(x, 0.5)",
  'label_join(x, "a", ",")',
  'label_join(x, "a", ",", "b", "c")',
  'label_replace(x, "a", "$1", "b", "(.*)")',
  'label_replace(x, "a", "$1", "b", "(")',
  "time()",
  "time() - x",
  "day_of_week()",
  "day_of_week(x)",
  "vector(1)",
  "pi() * 2",
  "clamp(x, 0, 1)",
  "clamp_min(x, 0)",
  "predict_linear(x[1h], 3600) < 0",
  "quantile_over_time(0.9, x[5m])",
  "absent_over_time(x[5m])",
  "histogram_fraction(0, 0.1, x)",
  "histogram_count(x)",
  "timestamp(x)",
  "sort_desc(x)",
  "changes(x[1h]) > 3",
  "resets(x[1h])",
  "deriv(x[10m])",
  "increase(x[1h])",
  "irate(x[1m])",
  'x{on="x"}',
  "sum by (on) (x)",
  "sum by (bool) (x)",
  'x{bool="1"}',
  "sum(x) # a comment",
  'x{a="b",}',
  '{__name__="up"}',
  '{__name__=~"up|down"}',
  '{a!=""}',
  '{a=~".+"}',
  '{a=~"^$", b="x"}',
  String.raw`x{a="\\d"}`,
  String.raw`x{a=~"\\d+"}`,
  "x{a=`raw\\d`}",
  String.raw`x{a="\u00e9"}`,
  String.raw`x{a="\012"}`,
  String.raw`x{a="\377"}`,
  String.raw`x{a="\U0010FFFF"}`,
  String.raw`x{a="\a\b\f\n\r\t\v\\"}`,
  "x{a='single \"quote\"'}",
  String.raw`x{a='it\'s'}`,
  String.raw`x{a="\"quoted\""}`,
  'x{a=~"(?i)abc"}',
  'x{a=~"(?i:abc)"}',
  'x{a=~"(?i)a(?-i)b"}',
  'x{a=~"(?is:a.b)"}',
  'x{a=~"(?U)a*"}',
  'x{a=~"(?P<n>a)"}',
  'x{a=~"^*"}',
  'x{a=~"[[:alpha:]]"}',
  'x{a=~"[[:^alpha:]]"}',
  String.raw`x{a=~"\\pL"}`,
  String.raw`x{a=~"\\p{Greek}"}`,
  String.raw`x{a=~"\\p{^Lu}"}`,
  String.raw`x{a=~"[\\p{L}]"}`,
  String.raw`x{a=~"\\z"}`,
  String.raw`x{a=~"\\Qa.b\\E"}`,
  'x{a=~"(?)"}',
  'x{a=~"a{,3}"}',
  'x{a=~"a{,}"}',
  'x{a=~"a{01}"}',
  'x{a=~"a{2}?"}',
  'x{a=~"a??"}',
  'x{a=~"(a{10}){100}"}',
  String.raw`x{a=~"\\12"}`,
  String.raw`x{a=~"\\0"}`,
  String.raw`x{a=~"\\08"}`,
  String.raw`x{a=~"\\_"}`,
  String.raw`x{a=~"\\x{10FFFF}"}`,
  String.raw`x{a=~"[a\\-z]"}`,
  'x{a=~"[]a]"}',
  'x{a=~"[^]a]"}',
  'x{a=~"[a-]"}',
  'x{a=~"[-a]"}',
  'x{a=~"(|a)"}',
  'x{a=~"$+"}',
  String.raw`x{a=~"\\b*"}`,
  'x{a=~"[[:alpha]]"}',
];

const INVALID = [
  // (c) of the issue: type and arity errors the grammar alone does not see.
  "rate(http_requests_total) > 0",
  "histogram_quantile(0.9)",
  "x + bool y",
  `x{a=~"(?=a)"}`,
  "x[-5m]",
  // (d): a misspelt function, an unterminated string.
  "rte(x[5m])",
  "sum(rte(x[5m]))",
  "RATE(x[5m])",
  'up{job="api} == 0',
  "x{a=`b",
  '"abc',
  // Syntax.
  "",
  "rate(x[5m]",
  "x +* y",
  "sum(x) by",
  "x{a=}",
  'x{="a"}',
  "x[5m",
  "x > 1e",
  "x > 0x",
  "x[1m1h]",
  "x[5M]",
  "x[1.5m]",
  "x == atan2",
  // Function types and arity.
  "histogram_quantile(x, 0.9)",
  "round(x, 1, 2)",
  "time(x)",
  "vector(x)",
  "absent(x[5m])",
  "predict_linear(x, 3600)",
  "clamp(x, 0)",
  "label_join(x)",
  'label_replace(x, "a", "$1", "b")',
  'label_join(x, "foo", ",", x)',
  "days_in_month(x, y)",
  "deriv(x)",
  "timestamp(x[5m])",
  "quantile_over_time(x[5m], 0.9)",
  "scalar(x[5m])",
  // Aggregations.
  "sum()",
  "topk(x)",
  'topk("a", x)',
  "count_values(3, x)",
  'quantile("a", x)',
  "sum(1)",
  "sum(x[5m])",
  "avg(x, y)",
  // Binary operators.
  "1 > 2",
  "scalar(x) > 1",
  "1 + on(a) x",
  "x and 1",
  "1 or x",
  "x and on(a) group_left y",
  "x or ignoring(a) group_right y",
  "x * on(a) group_left(a) y",
  "x and bool y",
  "x[5m] + 1",
  "a + b[5m:1m]",
  '"a" + 1',
  // Ranges, subqueries, modifiers.
  "x[0s]",
  "x[5m:0s]",
  "x[5m][10m:1m]",
  "rate(x[5m])[5m]",
  "(x)[5m]",
  "rate(x offset 1m [5m])",
  "x @ 1 [5m]",
  "(x) offset 5m",
  "sum(x) offset 5m",
  "x offset 1m offset 2m",
  "x @ 1 @ 2",
  "rate(x[5m]) @ end()",
  "sum(x) @ 1",
  "x @ inf",
  '"a"[5m:]',
  "-x[5m:1m]",
  "- x[5m]",
  "-sum(x)[5m:1m]",
  "-(x)[5m:1m]",
  '-"a"',
  "-x[5m]",
  // Experimental without its feature flag (also unknown to older promtool).
  'sort_by_label(x, "a")',
  "limitk(1, x)",
  "mad_over_time(x[5m])",
  "double_exponential_smoothing(x[5m], 0.5, 0.5)",
  "max_of(1, 2)",
  "info(x)",
  // Label matchers: empty selectors, names, escapes.
  "{}",
  '{a=""}',
  '{a=~".*"}',
  '{a!~".+"}',
  '{a=~""}',
  'x{__name__="y"}',
  String.raw`x{a="\d"}`,
  String.raw`x{a='\"'}`,
  String.raw`x{a="\'"}`,
  String.raw`x{a="\x4"}`,
  String.raw`x{a="\0"}`,
  String.raw`x{a="\777"}`,
  String.raw`x{a="\uD800"}`,
  String.raw`x{a="\U00110000"}`,
  // Regexes: what RE2 rejects (JavaScript would accept several of these).
  String.raw`x{a=~"a\\1"}`,
  String.raw`x{a=~"\\8"}`,
  String.raw`x{a=~"\\Z"}`,
  String.raw`x{a=~"\\C"}`,
  String.raw`x{a=~"\\e"}`,
  'x{a=~"(?!a)"}',
  'x{a=~"(?<=a)b"}',
  'x{a=~"(?<!a)b"}',
  'x{a=~"(?>a)"}',
  'x{a=~"(?P=n)"}',
  'x{a=~"(?x)a"}',
  'x{a=~"(?-)"}',
  'x{a=~"a**"}',
  'x{a=~"a*??"}',
  'x{a=~"a{2}{3}"}',
  'x{a=~"a{1,2}{3}"}',
  'x{a=~"a{1001}"}',
  'x{a=~"(a{100}){100}"}',
  'x{a=~"a|*"}',
  'x{a=~"(*)"}',
  'x{a=~"a)|(b"}',
  'x{a=~"(a"}',
  'x{a=~"[a"}',
  'x{a=~"[]"}',
  'x{a=~"[z-a]"}',
  'x{a=~"[[:foo:]]"}',
  String.raw`x{a=~"\\p{Foo}"}`,
  String.raw`x{a=~"\\x{110000}"}`,
  String.raw`x{a=~"\\é"}`,
  String.raw`x{a=~"[\\b]"}`,
  String.raw`x{a=~"\\"}`,
  'x{a=~"(?P<>a)"}',
  'x{a=~"(?P<a-b>a)"}',
  String.raw`x{a=~"\\Q\\E*"}`,
  'x{a=~"[[:alpha:]"}',
];

/**
 * Expressions on which the validator and an older promtool disagree on purpose: the validator follows current
 * Prometheus (3.x, whose grammar @prometheus-io/lezer-promql is), promtool 2.x predates these changes. `construct`
 * recognises the same change in generated expressions.
 */
const VERSION_DIFFERENCES: {
  expr: string;
  builtin: "valid" | "invalid";
  reason: string;
  construct: RegExp;
}[] = [
  {
    expr: "holt_winters(x[5m], 0.5, 0.5)",
    builtin: "invalid",
    reason: "Prometheus 3.0 removed holt_winters",
    construct: /\bholt_winters\s*\(/,
  },
  {
    expr: "histogram_avg(x)",
    builtin: "valid",
    reason: "added in Prometheus 2.51 (histogram_stddev and histogram_stdvar after 2.42 too)",
    construct: /\bhistogram_(avg|stddev|stdvar)\s*\(/,
  },
  {
    expr: "first_over_time(x[5m])",
    builtin: "valid",
    reason: "added in Prometheus 3.7",
    construct: /\bfirst_over_time\s*\(/,
  },
  {
    expr: "x[300]",
    builtin: "valid",
    reason: "Prometheus 3 reads a bare number as seconds in a range or subquery",
    construct: /[[:]\s*[+-]?[\d.]+(e[+-]?\d+)?\s*[:\]]/i,
  },
  {
    expr: "x offset 5",
    builtin: "valid",
    reason: "Prometheus 3 reads a bare number as seconds in an offset",
    construct: /offset\s*[+-]?\s*[\d.]+(?![\w.])/i,
  },
  {
    expr: "x > 5m",
    builtin: "valid",
    reason: "Prometheus 3 reads a duration as a number of seconds",
    construct: /(^|[^\w.])\d+(ms|s|m|h|d|w|y)(?![\w:\]])/,
  },
  {
    expr: "x @ 5m",
    builtin: "valid",
    reason: "Prometheus 3 reads a duration as a number of seconds",
    construct: /@\s*[+-]?\d+(ms|s|m|h|d|w|y)/,
  },
  {
    expr: "x offset 0s",
    builtin: "valid",
    reason: "Prometheus 3 no longer rejects a zero offset",
    construct: /offset\s*[+-]?\s*0+(ms|s|m|h|d|w|y)/i,
  },
  {
    expr: "x[5m+1m]",
    builtin: "valid",
    reason: "duration expressions are on by default in Prometheus 3",
    construct: /\[[^\]]*[-+*/%^()][^\]]*\]|offset\s*\(/i,
  },
  { expr: "x > 1_000", builtin: "valid", reason: "Prometheus 3 allows _ in numbers", construct: /\d_\d/ },
  {
    expr: "x </ y",
    builtin: "valid",
    reason: "trim operators are new in Prometheus 3.11",
    construct: /<\/|>\//,
  },
  {
    expr: '{"metric.name", job="a"}',
    builtin: "valid",
    reason: "UTF-8 quoted names are new in Prometheus 3.0",
    construct: /[{,]\s*["'`]|\b(by|without|on|ignoring|group_left|group_right)\s*\(\s*["'`]/i,
  },
  {
    expr: 'x{a=~"(?<n>a)"}',
    builtin: "valid",
    reason: "Go 1.22 regexp accepts (?<name>…); 2.42 has Go 1.19",
    construct: /\(\?<\w/,
  },
];

/** Tokens spliced into real expressions to make the generated part of the corpus (most of it invalid). */
const SPLICES = [
  "[5m]",
  "[5m:1m]",
  " offset 5m",
  " @ 100",
  " bool",
  "(",
  ")",
  "{}",
  '{a=~"(?i)x"}',
  '{a=~"x("}',
  '"s"',
  "1",
  " > ",
  " + ",
  " and ",
  " on(a) ",
  " group_left ",
  "sum",
  "rate",
  "by (a)",
  ",",
  "-",
  "[0s]",
  "__name__",
  "\\",
  "'",
  '"\\d"',
  "topk(",
  "vector(",
  "scalar(",
  " or vector(0)",
  "[1h:]",
  "ignoring(b)",
  "==",
  "!~",
  "=~",
  "@ start()",
  "count_values(",
  "histogram_quantile(",
  "label_replace(",
  "absent(",
  "^",
  "atan2",
  "offset -1h",
  "unless",
  "[",
  "]",
  "{",
  "}",
];

/** `count` expressions made from the real ones by inserting, deleting or replacing a little, with a fixed seed. */
function mutants(real: string[], count: number): string[] {
  let seed = 20_261_201;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed / 2_147_483_648;
  };
  const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)]!;
  const mutate = (e: string) => {
    const at = Math.floor(random() * (e.length + 1));
    switch (Math.floor(random() * 4)) {
      case 0:
        return e.slice(0, at) + pick(SPLICES) + e.slice(at);
      case 1:
        return e.slice(0, at) + e.slice(at + 1 + Math.floor(random() * 6));
      case 2:
        return e.replace(/\[[0-9a-z]+\]/, "");
      default:
        return e.slice(0, at) + pick(SPLICES) + e.slice(at + 1 + Math.floor(random() * 3));
    }
  };
  return Array.from({ length: count }, () => {
    let e = pick(real);
    for (let k = 1 + Math.floor(random() * 2); k > 0; k--) e = mutate(e);
    return e;
  });
}

function realExpressions(): string[] {
  const exprs: string[] = [];
  const read = (file: string) => {
    const doc = parse(readFileSync(file, "utf8")) as { groups?: { rules?: { expr?: unknown }[] }[] } | null;
    for (const group of doc?.groups ?? [])
      for (const rule of group?.rules ?? []) if (typeof rule?.expr === "string") exprs.push(rule.expr);
  };
  for (const file of readdirSync(FIXTURES, { recursive: true, encoding: "utf8" }).sort())
    if (file.endsWith(".yml")) read(path.join(FIXTURES, file));
  for (const example of ["sturdy", "fragile"])
    read(path.join(EXAMPLES, example, "monitoring/alerts/shop.yml"));
  return exprs;
}

/** promtool's verdict on each expression, from one `promtool check rules` run per batch of BATCH rules. */
async function promtoolVerdicts(promtool: string, exprs: string[], dir: string): Promise<(string | null)[]> {
  const verdicts: (string | null)[] = [];
  for (let start = 0; start < exprs.length; start += BATCH) {
    const batch = exprs.slice(start, start + BATCH);
    const file = path.join(dir, `batch-${start / BATCH}.yml`);
    const rules = batch.map((e, i) => `      - alert: E${start + i}\n        expr: ${JSON.stringify(e)}\n`);
    writeFileSync(file, `groups:\n  - name: corpus\n    rules:\n${rules.join("")}`);
    const run = await checkRules(promtool, [file], {
      cwd: dir,
      timeoutMs: 20_000,
      signal: new AbortController().signal,
    });
    const verdict = run.files[0]!;
    const fileLevel = verdict.problems.filter((p) => p.rule === undefined);
    expect(verdict.judged && fileLevel.length === 0, `${file}: ${run.stderr}`).toBe(true);
    const byRule = new Map<number, PromtoolProblem>(verdict.problems.map((p) => [p.rule!, p]));
    verdicts.push(...batch.map((_, i) => byRule.get(i + 1)?.message ?? null));
  }
  return verdicts;
}

describe("built-in PromQL validator vs promtool check rules", () => {
  const cleanup = cleanupAfterEach();

  it("gives promtool's verdict on every expression of the corpus, but for the documented version differences", async () => {
    const promtool = requireTool("promtool", "prometheus");
    const version = (await runCommand(promtool, ["--version"])).stdout.match(/version (\d+)\./)?.[1];
    const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-promql-"));
    cleanup(() => rmSync(dir, { recursive: true, force: true }));

    const real = realExpressions();
    const corpus = [...real, ...VALID, ...INVALID];
    const all = [...corpus, ...VERSION_DIFFERENCES.map((d) => d.expr)];
    const referee = await promtoolVerdicts(promtool, all, dir);
    const builtin = all.map((e) => checkPromql(e)[0]?.message ?? null);

    // The hand-written labels are promtool's own verdicts, so the corpus means what it says.
    const mislabelled = [
      ...VALID.filter((e) => referee[all.indexOf(e)] !== null).map(
        (e) => `valid per this test, not per promtool: ${e}`,
      ),
      ...INVALID.filter((e) => referee[all.indexOf(e)] === null).map(
        (e) => `invalid per this test, promtool accepts: ${e}`,
      ),
    ];
    expect(mislabelled).toEqual([]);

    const disagreements = corpus.flatMap((expr, i) =>
      (builtin[i] === null) === (referee[i] === null)
        ? []
        : [{ expr, builtin: builtin[i] ?? "valid", promtool: referee[i] ?? "valid" }],
    );
    const invalid = referee.slice(0, corpus.length).filter((v) => v !== null).length;
    console.log(
      `promql differential (promtool ${version}.x): ${corpus.length - disagreements.length}/${corpus.length} agree ` +
        `(${real.length} from rule files: awesome-prometheus-alerts, test fixtures, examples; ${VALID.length} valid and ${INVALID.length} invalid written here; ` +
        `${invalid} invalid per promtool); ${VERSION_DIFFERENCES.length} documented version differences`,
    );
    expect(disagreements).toEqual([]);
    expect(real.length).toBeGreaterThanOrEqual(150);

    for (const [k, difference] of VERSION_DIFFERENCES.entries()) {
      const i = corpus.length + k;
      expect(builtin[i] === null ? "valid" : "invalid", difference.expr).toBe(difference.builtin);
      // On Prometheus 2.x the difference is real (the list stays true); a newer promtool may agree instead.
      if (version === "2")
        expect(referee[i] === null ? "valid" : "invalid", difference.expr).not.toBe(difference.builtin);
    }
  });

  it("gives promtool's verdict on 2000 expressions generated from the real ones, but for version differences", async () => {
    const promtool = requireTool("promtool", "prometheus");
    const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-promql-"));
    cleanup(() => rmSync(dir, { recursive: true, force: true }));
    const generated = mutants(realExpressions(), 2_000);
    const referee = await promtoolVerdicts(promtool, generated, dir);
    const unexplained: { expr: string; builtin: string; promtool: string }[] = [];
    const explained = new Map<string, number>();
    for (const [i, expr] of generated.entries()) {
      const builtin = checkPromql(expr)[0]?.message ?? null;
      if ((builtin === null) === (referee[i] === null)) continue;
      const difference = VERSION_DIFFERENCES.find((d) => d.construct.test(expr));
      if (difference) explained.set(difference.reason, (explained.get(difference.reason) ?? 0) + 1);
      else unexplained.push({ expr, builtin: builtin ?? "valid", promtool: referee[i] ?? "valid" });
    }
    const differences = [...explained.values()].reduce((a, b) => a + b, 0);
    const invalid = referee.filter((v) => v !== null).length;
    console.log(
      `promql differential, generated: ${generated.length - differences - unexplained.length}/${generated.length} ` +
        `agree (${invalid} invalid per promtool); version differences: ${JSON.stringify(Object.fromEntries(explained))}`,
    );
    expect(unexplained).toEqual([]);
    expect(invalid).toBeGreaterThan(generated.length / 3);
  });
});
