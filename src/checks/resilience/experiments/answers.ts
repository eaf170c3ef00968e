// Did any probe notice the fault? Pure reading of a journal: a probe noticed when, while the fault was in (or in the
// restart gap just after), it failed, its answer differed from the stable answer it gave in the baseline rounds, or it
// took far longer than it ever did at baseline. A probe that noticed nothing could not have told a survived fault from
// one that never reached it (DESIGN principle 9), so it proves nothing on its own.
import type { JournalEntry } from "../../../engines/experiments/journal.js";

export interface Noticed {
  probe: string;
  how: string;
}

/** Extra latency over the baseline's slowest answer that counts as noticing: 3× slowest + 250 ms. */
const SLOW_FACTOR = 3;
const SLOW_MARGIN_MS = 250;

export interface NoticeOptions {
  /** For an added-latency fault: the probe's median must rise by at least this much (e.g. half the added latency). */
  latencyShiftMs?: number;
}

export function probesThatNoticed(entries: readonly JournalEntry[], options: NoticeOptions = {}): Noticed[] {
  const probes = entries.filter((e) => e.kind === "probe");
  const names = [...new Set(probes.map((e) => e.name))];
  const noticed: Noticed[] = [];
  for (const name of names) {
    const mine = probes.filter((e) => e.name === name);
    let baseline = mine.filter((e) => e.phase === "baseline");
    if (baseline.length === 0) baseline = mine.filter((e) => e.phase === "before" && e.ok);
    const fault = mine.filter((e) => e.phase === "injecting" || e.phase === "during");
    const after = mine.filter((e) => e.phase === "after");
    const how = noticedBy(baseline, fault, after, options);
    if (how) noticed.push({ probe: name, how });
  }
  return noticed;
}

function noticedBy(
  baseline: JournalEntry[],
  fault: JournalEntry[],
  after: JournalEntry[],
  options: NoticeOptions,
): string | null {
  const failed = fault.find((e) => !e.ok);
  if (failed)
    return `${failed.phase === "injecting" ? "while injecting" : "during the fault"}: ${failed.detail}`;
  const answers = new Set(baseline.map((e) => e.answer).filter(Boolean));
  if (answers.size === 1) {
    const changed = fault.find((e) => e.answer && !answers.has(e.answer));
    if (changed) return `answered ${changed.answer} instead of ${[...answers][0]}`;
  }
  const slowest = Math.max(0, ...baseline.map((e) => e.latencyMs ?? 0));
  if (options.latencyShiftMs !== undefined) {
    const shift = median(fault.map((e) => e.latencyMs ?? 0)) - median(baseline.map((e) => e.latencyMs ?? 0));
    if (fault.length > 0 && shift >= options.latencyShiftMs)
      return `median latency up ${Math.round(shift)} ms`;
  } else {
    const slow = fault.find((e) => (e.latencyMs ?? 0) > slowest * SLOW_FACTOR + SLOW_MARGIN_MS);
    if (slow) return `took ${slow.latencyMs} ms (baseline at most ${slowest} ms)`;
  }
  // The restart gap: instant faults end before the service is back, so its outage shows up just after.
  const failedAfter = after.find((e) => !e.ok);
  if (failedAfter) return `right after the fault: ${failedAfter.detail}`;
  return null;
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Probe entries of the fault window (injecting and during). */
export function faultEntries(entries: readonly JournalEntry[]): JournalEntry[] {
  return entries.filter((e) => e.kind === "probe" && (e.phase === "injecting" || e.phase === "during"));
}
