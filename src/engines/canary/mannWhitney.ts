// Mann–Whitney U: does one sample tend to hold larger values than the other? Rank-based, so it makes no assumption
// about the shape of latency distributions (long-tailed, multimodal) — why Kayenta's judge uses it.
// Ties get average ranks and the tie-corrected variance. Small samples (both ≤ 20) without ties get the exact
// distribution of U; small samples with ties fall back to the tie-corrected normal approximation (as SciPy does),
// because the exact null distribution then depends on the tie pattern and we do not enumerate it.

export type Alternative = "greater" | "two-sided";

export interface MannWhitneyResult {
  /** U of the first sample (`x`): the number of (x, y) pairs with x > y, ties counting one half. */
  u: number;
  /** The normal approximation's z (continuity-corrected); absent for the exact method. */
  z?: number;
  /** "greater": P(U ≥ u) — x tends to be greater than y; "two-sided": either direction. */
  pValue: number;
  method: "exact" | "normal";
}

/** Both samples at most this large and no ties: the exact distribution (at most 21·21·401 table cells). */
const EXACT_LIMIT = 20;

/** One-sided: is `x` (the canary) stochastically greater than `y` (the baseline)? */
export function mannWhitneyGreater(x: readonly number[], y: readonly number[]): MannWhitneyResult {
  return mannWhitney(x, y, "greater");
}

export function mannWhitney(
  x: readonly number[],
  y: readonly number[],
  alternative: Alternative,
): MannWhitneyResult {
  const m = x.length;
  const n = y.length;
  if (m === 0 || n === 0) return { u: 0, pValue: 1, method: "normal" };
  const { rankSumX, tieTerm } = ranks(x, y);
  const u = rankSumX - (m * (m + 1)) / 2;
  const mean = (m * n) / 2;
  if (tieTerm === 0 && m <= EXACT_LIMIT && n <= EXACT_LIMIT) {
    const counts = exactCounts(m, n);
    const greater = tailShare(counts, u);
    // The distribution of U is symmetric about mn/2, so P(U ≤ u) = P(U ≥ mn − u).
    const pValue =
      alternative === "greater" ? greater : Math.min(1, 2 * tailShare(counts, Math.max(u, m * n - u)));
    return { u, pValue, method: "exact" };
  }
  const total = m + n;
  const variance = ((m * n) / 12) * (total + 1 - tieTerm / (total * (total - 1)));
  // Every value equal: no evidence either way (p = 1, not NaN from 0/0).
  if (!(variance > 0)) return { u, z: 0, pValue: 1, method: "normal" };
  const sd = Math.sqrt(variance);
  if (alternative === "greater") {
    const z = (u - mean - 0.5) / sd;
    return { u, z, pValue: upperNormalTail(z), method: "normal" };
  }
  // Two-sided as SciPy: the larger of U and mn − U, continuity-corrected towards the mean.
  const z = (Math.abs(u - mean) - 0.5) / sd;
  return { u, z, pValue: Math.min(1, 2 * upperNormalTail(z)), method: "normal" };
}

/** The rank sum of x in the pooled sample (average ranks for ties) and Σ(t³ − t) over tie groups. */
function ranks(x: readonly number[], y: readonly number[]): { rankSumX: number; tieTerm: number } {
  const pooled = new Float64Array(x.length + y.length);
  pooled.set(x, 0);
  pooled.set(y, x.length);
  // Sort indexes by value (O(N log N)); a typed index array keeps 100k-sample analyses cheap.
  const order = new Uint32Array(pooled.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  order.sort((a, b) => (pooled[a] as number) - (pooled[b] as number));
  let rankSumX = 0;
  let tieTerm = 0;
  for (let start = 0; start < order.length; ) {
    let end = start + 1;
    while (end < order.length && pooled[order[end] as number] === pooled[order[start] as number]) end++;
    const t = end - start;
    const rank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) if ((order[k] as number) < x.length) rankSumX += rank;
    if (t > 1) tieTerm += t * t * t - t;
    start = end;
  }
  return { rankSumX, tieTerm };
}

/** P(U ≥ u) under the null hypothesis for samples of m and n values without ties. */
export function exactUpperTail(m: number, n: number, u: number): number {
  return tailShare(exactCounts(m, n), u);
}

/**
 * counts[k]: the number of arrangements of m x's and n y's (all C(m+n, m) equally likely under the null) with U = k.
 * Dynamic programming on the largest value: it is an x (adding j to U) or a y: f(i,j,k) = f(i−1,j,k−j) + f(i,j−1,k).
 */
function exactCounts(m: number, n: number): Float64Array {
  const max = m * n;
  let previous: Float64Array[] = [];
  for (let i = 0; i <= m; i++) {
    const row: Float64Array[] = [];
    for (let j = 0; j <= n; j++) {
      const cell = new Float64Array(max + 1);
      if (i === 0 || j === 0) cell[0] = 1;
      else {
        const withX = previous[j] as Float64Array;
        const withY = row[j - 1] as Float64Array;
        for (let k = 0; k <= i * j; k++)
          cell[k] = (k >= j ? (withX[k - j] as number) : 0) + (withY[k] as number);
      }
      row.push(cell);
    }
    previous = row;
  }
  return previous[n] as Float64Array;
}

function tailShare(counts: Float64Array, u: number): number {
  let all = 0;
  let tail = 0;
  const from = Math.ceil(u - 1e-9);
  for (let k = 0; k < counts.length; k++) {
    all += counts[k] as number;
    if (k >= from) tail += counts[k] as number;
  }
  return tail / all;
}

/** 1 − Φ(z), the standard normal upper tail. */
export function upperNormalTail(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

/** erfc with relative error below 1.2e-7 everywhere (Numerical Recipes' Chebyshev fit), enough for p-values. */
function erfc(x: number): number {
  const t = 1 / (1 + 0.5 * Math.abs(x));
  const y =
    t *
    Math.exp(
      -x * x -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? y : 2 - y;
}
