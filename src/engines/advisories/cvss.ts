// CVSS base scores from vectors, by the FIRST specifications: v3.0 and v3.1 (section 7.1 of each; they differ only
// in how the score is rounded up) and v2 (section 3.2.1). v4.0 scores come from a lookup table of 270 macro-vectors
// and are not computed here: a v4 vector alone leaves the severity to the advisory's own label.

export type SeverityLevel = "critical" | "high" | "moderate" | "low" | "none";

export interface CvssScore {
  version: "2.0" | "3.0" | "3.1";
  score: number;
  level: SeverityLevel;
}

const V3_WEIGHTS = {
  AV: { N: 0.85, A: 0.62, L: 0.55, P: 0.2 },
  AC: { L: 0.77, H: 0.44 },
  UI: { N: 0.85, R: 0.62 },
  CIA: { H: 0.56, L: 0.22, N: 0 },
} as const;

/** The base score of a `CVSS:3.x/AV:…` vector, or null when it is not a complete, valid v3 vector. */
export function cvss3BaseScore(vector: string): CvssScore | null {
  const match = /^CVSS:3\.([01])\/(.*)$/.exec(vector.trim());
  if (!match) return null;
  const version = match[1] === "0" ? "3.0" : "3.1";
  const metrics = metricMap(match[2]!);
  if (!metrics) return null;
  const av = pick(V3_WEIGHTS.AV, metrics.get("AV"));
  const ac = pick(V3_WEIGHTS.AC, metrics.get("AC"));
  const ui = pick(V3_WEIGHTS.UI, metrics.get("UI"));
  const scope = metrics.get("S");
  const c = pick(V3_WEIGHTS.CIA, metrics.get("C"));
  const i = pick(V3_WEIGHTS.CIA, metrics.get("I"));
  const a = pick(V3_WEIGHTS.CIA, metrics.get("A"));
  if (scope !== "U" && scope !== "C") return null;
  const changed = scope === "C";
  const prWeights = { N: 0.85, L: changed ? 0.68 : 0.62, H: changed ? 0.5 : 0.27 };
  const pr = pick(prWeights, metrics.get("PR"));
  if ([av, ac, ui, c, i, a, pr].some((w) => w === undefined)) return null;
  const iss = 1 - (1 - c!) * (1 - i!) * (1 - a!);
  const impact = changed ? 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15 : 6.42 * iss;
  const exploitability = 8.22 * av! * ac! * pr! * ui!;
  const roundUp = version === "3.0" ? roundUp30 : roundUp31;
  const score =
    impact <= 0
      ? 0
      : roundUp(
          changed ? Math.min(1.08 * (impact + exploitability), 10) : Math.min(impact + exploitability, 10),
        );
  return { version, score, level: levelOfV3(score) };
}

const V2_WEIGHTS = {
  AV: { L: 0.395, A: 0.646, N: 1 },
  AC: { H: 0.35, M: 0.61, L: 0.71 },
  Au: { M: 0.45, S: 0.56, N: 0.704 },
  CIA: { N: 0, P: 0.275, C: 0.66 },
} as const;

/** The base score of a v2 vector (`AV:N/AC:L/Au:N/C:P/I:P/A:P`, optionally in parentheses), or null. */
export function cvss2BaseScore(vector: string): CvssScore | null {
  const metrics = metricMap(
    vector
      .trim()
      .replace(/^\(|\)$/g, "")
      .replace(/^CVSS:2\.0\//, ""),
  );
  if (!metrics) return null;
  const av = pick(V2_WEIGHTS.AV, metrics.get("AV"));
  const ac = pick(V2_WEIGHTS.AC, metrics.get("AC"));
  const au = pick(V2_WEIGHTS.Au, metrics.get("Au"));
  const c = pick(V2_WEIGHTS.CIA, metrics.get("C"));
  const i = pick(V2_WEIGHTS.CIA, metrics.get("I"));
  const a = pick(V2_WEIGHTS.CIA, metrics.get("A"));
  if ([av, ac, au, c, i, a].some((w) => w === undefined)) return null;
  const impact = 10.41 * (1 - (1 - c!) * (1 - i!) * (1 - a!));
  const exploitability = 20 * av! * ac! * au!;
  const f = impact === 0 ? 0 : 1.176;
  const score = Math.round((0.6 * impact + 0.4 * exploitability - 1.5) * f * 10) / 10;
  const level: SeverityLevel = score >= 7 ? "high" : score >= 4 ? "moderate" : score > 0 ? "low" : "none";
  return { version: "2.0", score: Math.max(0, score), level };
}

/** CVSS v3 qualitative rating (v3.1 specification, section 5). */
export function levelOfV3(score: number): SeverityLevel {
  if (score >= 9) return "critical";
  if (score >= 7) return "high";
  if (score >= 4) return "moderate";
  if (score > 0) return "low";
  return "none";
}

function metricMap(text: string): Map<string, string> | null {
  const metrics = new Map<string, string>();
  for (const part of text.split("/")) {
    const [key, value, extra] = part.split(":");
    if (!key || !value || extra !== undefined || metrics.has(key)) return null;
    metrics.set(key, value);
  }
  return metrics;
}

function pick<T extends Record<string, number>>(weights: T, value: string | undefined): number | undefined {
  return value !== undefined && Object.hasOwn(weights, value) ? weights[value] : undefined;
}

/** v3.0: the smallest number with one decimal that is at least the input. */
function roundUp30(value: number): number {
  return Math.ceil(value * 10) / 10;
}

/** v3.1 Appendix A: the same, computed on integers so that 4.000000001 does not become 4.1. */
function roundUp31(value: number): number {
  const integer = Math.round(value * 100_000);
  return integer % 10_000 === 0 ? integer / 100_000 : (Math.floor(integer / 10_000) + 1) / 10;
}
