// How large a spec may be. A real gauntlet.yaml describes one system in a few kilobytes; these bounds keep a broken,
// generated or hostile file from exhausting time or memory, and each is reported at its line with the limit and the fix.

/** The spec file, in bytes (1 MiB). */
export const MAX_SPEC_BYTES = 1024 * 1024;
/** One key or value, in characters, after `${…}` interpolation (16 KiB). */
export const MAX_VALUE_LENGTH = 16 * 1024;
/** Mappings and lists inside one another, counting what aliases expand to. */
export const MAX_DEPTH = 64;
/** What the YAML parser reads: keys, values, punctuation and line ends (the parser's time grows with it). */
export const MAX_TOKENS = 200_000;
/** Keys, values, mappings and lists, counting each use of an alias as a copy of what it names. */
export const MAX_NODES = 100_000;
/** Characters of all keys and values together, counting each use of an alias as a copy (4 MiB). */
export const MAX_EXPANDED_CHARS = 4 * 1024 * 1024;
/** A k6 threshold expression such as `p(95)<300ms abortOnFail`. */
export const MAX_THRESHOLD_LENGTH = 200;

/** "1 MiB", "16 KiB", "3.2 MiB": sizes as the limits above are written. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${trim(bytes / (1024 * 1024))} MiB`;
  if (bytes >= 1024) return `${trim(bytes / 1024)} KiB`;
  return `${bytes} bytes`;
}

function trim(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}
