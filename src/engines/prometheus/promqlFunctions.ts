// PromQL's function signatures, as Prometheus' parser checks them (promql/parser/functions.go): argument types, how
// many trailing arguments are optional or repeatable, the return type, and whether the function is experimental
// (rejected unless Prometheus runs with --enable-feature=promql-experimental-functions).

export type ValueType = "scalar" | "vector" | "matrix" | "string";

export interface FunctionSignature {
  args: ValueType[];
  /**
   * 0: exactly args.length arguments; n > 0: the last argument is optional and may repeat up to n times in all;
   * -1: the last argument is optional and may repeat without limit.
   */
  variadic: number;
  returns: ValueType;
  experimental: boolean;
}

/** How Prometheus names each type in its messages. */
export const TYPE_NAMES: Record<ValueType, string> = {
  scalar: "scalar",
  vector: "instant vector",
  matrix: "range vector",
  string: "string",
};

const v = "vector" as const;
const m = "matrix" as const;
const s = "scalar" as const;
const str = "string" as const;

function fn(
  args: ValueType[],
  returns: ValueType = v,
  variadic = 0,
  experimental = false,
): FunctionSignature {
  return { args, variadic, returns, experimental };
}
const experimental = (args: ValueType[], returns: ValueType = v, variadic = 0) =>
  fn(args, returns, variadic, true);

const VECTOR_MATH = [
  "abs",
  "absent",
  "acos",
  "acosh",
  "asin",
  "asinh",
  "atan",
  "atanh",
  "ceil",
  "cos",
  "cosh",
  "deg",
  "exp",
  "floor",
  "histogram_avg",
  "histogram_count",
  "histogram_stddev",
  "histogram_stdvar",
  "histogram_sum",
  "ln",
  "log10",
  "log2",
  "rad",
  "sgn",
  "sin",
  "sinh",
  "sort",
  "sort_desc",
  "sqrt",
  "tan",
  "tanh",
  "timestamp",
];
const OVER_TIME = [
  "absent_over_time",
  "avg_over_time",
  "changes",
  "count_over_time",
  "delta",
  "deriv",
  "first_over_time",
  "idelta",
  "increase",
  "irate",
  "last_over_time",
  "max_over_time",
  "min_over_time",
  "present_over_time",
  "rate",
  "resets",
  "stddev_over_time",
  "stdvar_over_time",
  "sum_over_time",
];
const DATE_PARTS = [
  "day_of_month",
  "day_of_week",
  "day_of_year",
  "days_in_month",
  "hour",
  "minute",
  "month",
  "year",
];
const EXPERIMENTAL_OVER_TIME = [
  "mad_over_time",
  "ts_of_first_over_time",
  "ts_of_last_over_time",
  "ts_of_max_over_time",
  "ts_of_min_over_time",
];

export const FUNCTIONS: ReadonlyMap<string, FunctionSignature> = new Map<string, FunctionSignature>([
  ...VECTOR_MATH.map((name) => [name, fn([v])] as const),
  ...OVER_TIME.map((name) => [name, fn([m])] as const),
  ...DATE_PARTS.map((name) => [name, fn([v], v, 1)] as const),
  ...EXPERIMENTAL_OVER_TIME.map((name) => [name, experimental([m])] as const),
  ["clamp", fn([v, s, s])],
  ["clamp_max", fn([v, s])],
  ["clamp_min", fn([v, s])],
  ["histogram_fraction", fn([s, s, v])],
  ["histogram_quantile", fn([s, v])],
  ["label_join", fn([v, str, str, str], v, -1)],
  ["label_replace", fn([v, str, str, str, str])],
  ["pi", fn([], s)],
  ["predict_linear", fn([m, s])],
  ["quantile_over_time", fn([s, m])],
  ["round", fn([v, s], v, 1)],
  ["scalar", fn([v], s)],
  ["time", fn([], s)],
  ["vector", fn([s])],
  ["double_exponential_smoothing", experimental([m, s, s])],
  ["histogram_quantiles", experimental([v, str, s, s], v, 9)],
  ["info", experimental([v, v], v, 1)],
  ["max_of", experimental([s, s], s)],
  ["min_of", experimental([s, s], s)],
  ["sort_by_label", experimental([v, str], v, -1)],
  ["sort_by_label_desc", experimental([v, str], v, -1)],
  ["start_timestamp", experimental([v])],
  ["start", experimental([], s)],
  ["end", experimental([], s)],
  ["range", experimental([], s)],
  ["step", experimental([], s)],
]);

/** Functions that existed once and are gone, with what replaced them (for a helpful "unknown function" message). */
export const REMOVED_FUNCTIONS: ReadonlyMap<string, string> = new Map([
  ["holt_winters", "Prometheus 3.0 renamed it double_exponential_smoothing, an experimental function"],
]);

/** The known function whose name is closest to `name` (at most 2 edits away), for "did you mean". */
export function closestFunction(name: string): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const candidate of FUNCTIONS.keys()) {
    const distance = editDistance(name, candidate);
    if (distance <= 2 && (!best || distance < best.distance)) best = { name: candidate, distance };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(
        previous[j]! + 1,
        row[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = row;
  }
  return previous[b.length]!;
}
