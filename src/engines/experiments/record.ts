// Turns an experiment's result into evidence (its full journal) and measured figures that a check's findings carry.
import type { EvidenceWriter, Measurement } from "../../core/types.js";
import type { ExperimentResult } from "./experiment.js";

export async function saveJournal(
  evidence: EvidenceWriter,
  file: string,
  result: ExperimentResult,
  context: Record<string, unknown>,
): Promise<string> {
  const { journal, ...summary } = result;
  return evidence.writeJson(file, { ...context, result: summary, journal: journal.toJSON() });
}

export function experimentMeasurements(
  result: ExperimentResult,
  evidence: string,
  recoverWithinMs: number,
): Measurement[] {
  const figures: Measurement[] = [];
  if (result.timeToDetectMs !== null) {
    figures.push({ name: "time_to_detect", value: result.timeToDetectMs, unit: "ms", evidence });
  }
  if (result.timeToRecoverMs !== null) {
    figures.push({ name: "time_to_recover", value: result.timeToRecoverMs, unit: "ms", evidence });
  }
  figures.push({ name: "recover_limit", value: recoverWithinMs, unit: "ms", evidence });
  figures.push({ name: "failed_probes", value: result.failedProbes, unit: "count", evidence });
  figures.push({ name: "probes", value: result.totalProbes, unit: "count", evidence });
  if (result.canary?.intact !== null && result.canary?.intact !== undefined) {
    figures.push({ name: "canary_intact", value: result.canary.intact ? 1 : 0, unit: "bool", evidence });
  }
  return figures;
}

export function seconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/**
 * An experiment at a fault proxy proves something only if the dependants' traffic goes through it: read the proxy's
 * byte counter before and after the whole experiment (its steady-state probes included).
 */
export async function proxyTraffic(proxy: { traffic(): Promise<number> }): Promise<number | null> {
  return proxy.traffic().catch(() => null);
}

export function noTrafficThrough(before: number | null, after: number | null): boolean {
  return before !== null && after !== null && after === before;
}
