// "Did you mean" for spec keys, enum values, service names and check ids, and the zod schema introspection that
// tells which keys are allowed at a path of the spec.
import { z } from "zod";

/**
 * Damerau-Levenshtein distance (optimal string alignment: insert, delete, substitute, swap two neighbours). With a
 * `limit`, any distance above it is returned as limit + 1 and only the cells within `limit` of the diagonal are
 * computed, so two long strings cost their length times the limit, not the product of their lengths.
 */
export function editDistance(a: string, b: string, limit = Number.POSITIVE_INFINITY): number {
  if (a === b) return 0;
  const band = Math.min(limit, Math.max(a.length, b.length));
  const beyond = band + 1;
  if (Math.abs(a.length - b.length) > band) return beyond;
  if (a.length === 0 || b.length === 0) return Math.max(a.length, b.length);
  // Three rows are enough: the transposition looks two rows back. A cell outside the band holds `beyond`.
  const [first, second, third] = scratchRows(b.length + 1, beyond);
  let before = first;
  let previous = second;
  let current = third;
  for (let j = 0; j <= Math.min(b.length, band); j++) previous[j] = j;
  for (let i = 1; i <= a.length; i++) {
    const from = Math.max(1, i - band);
    const to = Math.min(b.length, i + band);
    // The cell left of the band may hold a value from three rows ago.
    current[from - 1] = from === 1 ? i : beyond;
    for (let j = from; j <= to; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, before[j - 2]! + 1);
      current[j] = Math.min(best, beyond);
    }
    [before, previous, current] = [previous, current, before];
  }
  return previous[b.length]!;
}

// Reused between calls: suggesting for thousands of unknown keys would otherwise allocate three rows per candidate.
let rows: [Float64Array, Float64Array, Float64Array] = [
  new Float64Array(64),
  new Float64Array(64),
  new Float64Array(64),
];

function scratchRows(length: number, fill: number): [Float64Array, Float64Array, Float64Array] {
  if (rows[0].length < length)
    rows = [new Float64Array(length), new Float64Array(length), new Float64Array(length)];
  for (const row of rows) row.fill(fill, 0, length);
  return rows;
}

/** Case, "-" and "_" do not matter: depends_on, DependsOn and dependson all mean dependsOn. */
function loose(text: string): string {
  return text.toLowerCase().replace(/[-_]/g, "");
}

/**
 * The candidate the user most likely meant: a case-insensitive match, else the nearest one at a distance of at most 2
 * (and at most half the input's length, so "x" does not become "url"). Undefined when nothing is close.
 */
export function suggest(input: string, candidates: Iterable<string>): string | undefined {
  const unique = [...new Set(candidates)].filter((c) => c !== input);
  const wanted = loose(input);
  const exact = unique.find((c) => loose(c) === wanted);
  if (exact !== undefined) return exact;
  const limit = Math.min(2, Math.floor(input.length / 2));
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of unique) {
    const distance = editDistance(wanted, loose(candidate), limit);
    if (distance <= limit && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

type Schema = z.core.$ZodType;

/** Steps through the wrappers that do not change the shape of the value (optional, default, transform, …). */
function unwrap(schema: Schema): Schema[] {
  const out: Schema[] = [];
  const seen = new Set<Schema>();
  const stack = [schema];
  while (stack.length > 0) {
    const s = stack.pop()!;
    if (seen.has(s)) continue;
    seen.add(s);
    const def = s._zod.def as z.core.$ZodTypeDef & Record<string, unknown>;
    switch (def.type) {
      case "optional":
      case "nullable":
      case "default":
      case "prefault":
      case "nonoptional":
      case "readonly":
      case "catch":
        stack.push(def.innerType as Schema);
        break;
      case "pipe":
        // A transform's output is not what the user writes; its input is.
        stack.push(def.in as Schema);
        if ((def.out as Schema)._zod.def.type !== "transform") stack.push(def.out as Schema);
        break;
      case "lazy":
        stack.push((def.getter as () => Schema)());
        break;
      case "union":
        stack.push(...(def.options as Schema[]));
        break;
      case "intersection":
        stack.push(def.left as Schema, def.right as Schema);
        break;
      default:
        out.push(s);
    }
  }
  return out;
}

/** Every schema that can describe the value at `path` (several when a union is on the way). */
export function schemasAt(root: Schema, path: readonly PropertyKey[]): Schema[] {
  let level: Schema[] = [root];
  for (const segment of path) {
    const next: Schema[] = [];
    for (const schema of level.flatMap(unwrap)) {
      const def = schema._zod.def as z.core.$ZodTypeDef & Record<string, unknown>;
      if (def.type === "object" && typeof segment === "string") {
        const field = (def.shape as Record<string, Schema>)[segment];
        if (field) next.push(field);
      } else if (def.type === "record" && typeof segment === "string") {
        next.push(def.valueType as Schema);
      } else if (def.type === "array" && typeof segment === "number") {
        next.push(def.element as Schema);
      } else if (def.type === "tuple" && typeof segment === "number") {
        const item = (def.items as Schema[])[segment] ?? (def.rest as Schema | null);
        if (item) next.push(item);
      }
    }
    level = next;
  }
  return level;
}

/** The keys a mapping at `path` may hold, in the schema's order. */
export function allowedKeys(root: Schema, path: readonly PropertyKey[]): string[] {
  const keys = new Set<string>();
  for (const schema of schemasAt(root, path).flatMap(unwrap)) {
    const def = schema._zod.def as z.core.$ZodTypeDef & Record<string, unknown>;
    if (def.type === "object") for (const key of Object.keys(def.shape as object)) keys.add(key);
  }
  return [...keys];
}

/** The `.describe()` text of the schema at `path`, e.g. "duration: a number with ms, s, m, h or d, e.g. 30s". */
export function descriptionAt(root: Schema, path: readonly PropertyKey[]): string | undefined {
  for (const schema of schemasAt(root, path)) {
    let s: Schema | undefined = schema;
    // Walk the wrapper chain from the outside in; the description sits on whichever layer .describe() was called.
    while (s) {
      const description = z.globalRegistry.get(s)?.description;
      if (description) return description;
      const def = s._zod.def as z.core.$ZodTypeDef & Record<string, unknown>;
      s = (def.innerType ?? (def.type === "pipe" ? def.in : undefined)) as Schema | undefined;
    }
  }
  return undefined;
}
