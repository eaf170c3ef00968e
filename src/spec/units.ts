// Durations (ms s m h d), sizes (B KB MB GB TB, 1024-based like the kernel and Prometheus), rates (N or N/s) and percents.
// Each parser returns a number or a sentence that says how to write the value correctly.

export type Parsed = { ok: true; value: number } | { ok: false; error: string };

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1024,
  mb: 1024 ** 2,
  gb: 1024 ** 3,
  tb: 1024 ** 4,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

/** "1m30s", "250ms", "10m", "1.5h" → milliseconds. */
export function parseDuration(input: unknown): Parsed {
  const hint = "write a number with a unit (ms, s, m, h or d), e.g. 30s, 250ms or 1m30s";
  if (typeof input === "number") {
    return input === 0 ? { ok: true, value: 0 } : { ok: false, error: `${input} has no unit: ${hint}` };
  }
  if (typeof input !== "string") return { ok: false, error: `expected a duration: ${hint}` };
  const text = input.trim();
  // Part after part from where the last one ended (sticky): an unanchored search would retry every digit of a long
  // run of digits and take quadratic time.
  const part = /\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)/y;
  let total = 0;
  let end = 0;
  for (let match = part.exec(text); match; match = part.exec(text)) {
    total += Number(match[1]) * DURATION_UNITS[match[2]!]!;
    end = part.lastIndex;
  }
  if (end === 0 || end !== text.length) {
    return { ok: false, error: `"${clip(input)}" is not a duration: ${hint}` };
  }
  return { ok: true, value: Math.round(total) };
}

/** "100MB", "512 KB", "2GiB" → bytes. */
export function parseSize(input: unknown): Parsed {
  const hint = "write a number with a unit (B, KB, MB, GB or TB), e.g. 100MB";
  if (typeof input === "number") {
    return input === 0 ? { ok: true, value: 0 } : { ok: false, error: `${input} has no unit: ${hint}` };
  }
  if (typeof input !== "string") return { ok: false, error: `expected a size: ${hint}` };
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]+)$/i.exec(input.trim());
  const factor = match ? SIZE_UNITS[match[2]!.toLowerCase()] : undefined;
  if (!match || factor === undefined) return { ok: false, error: `"${clip(input)}" is not a size: ${hint}` };
  return { ok: true, value: Math.round(Number(match[1]) * factor) };
}

/** 500, "500", "500/s", "30/m" → requests per second. */
export function parseRate(input: unknown): Parsed {
  const hint = "write requests per second as a number or N/s, e.g. 500 or 500/s (N/m is per minute)";
  if (typeof input === "number") {
    return input > 0 ? { ok: true, value: input } : { ok: false, error: `a rate must be above 0: ${hint}` };
  }
  if (typeof input !== "string") return { ok: false, error: `expected a rate: ${hint}` };
  const match = /^(\d+(?:\.\d+)?)\s*(?:\/\s*(s|m|h))?$/.exec(input.trim());
  if (!match || Number(match[1]) <= 0) return { ok: false, error: `"${clip(input)}" is not a rate: ${hint}` };
  const per = { s: 1, m: 60, h: 3600 }[(match[2] ?? "s") as "s" | "m" | "h"];
  return { ok: true, value: Number(match[1]) / per };
}

/** "99.9%" or 99.9 → 99.9 (a percentage, 0–100). */
export function parsePercent(input: unknown): Parsed {
  const hint = "write a percentage between 0 and 100, e.g. 99.9%";
  const text = typeof input === "number" ? String(input) : typeof input === "string" ? input.trim() : "";
  const match = /^(\d+(?:\.\d+)?)\s*%?$/.exec(text);
  if (!match) return { ok: false, error: `"${clip(String(input))}" is not a percentage: ${hint}` };
  const value = Number(match[1]);
  if (value < 0 || value > 100) return { ok: false, error: `${value} is out of range: ${hint}` };
  return { ok: true, value };
}

/** A value quoted in a message, short enough to read. */
function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 37)}…` : text;
}

export function formatDuration(ms: number): string {
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return `${minutes}m${seconds.toString().padStart(2, "0")}s`;
}
