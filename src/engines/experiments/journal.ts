// Every probe result and fault action of one experiment, with timestamps, in order: the evidence behind the
// measured detection and recovery times, and what a judge reads to tell whether any probe noticed the fault.
/**
 * `baseline`: probes after the steady state held, before the fault (what "unchanged" means); `injecting`: probes
 * started while the fault was still going in (a restart in progress); `during`: after; `after`: once it was removed.
 */
export type Phase = "before" | "baseline" | "injecting" | "during" | "after";

export interface JournalEntry {
  /** Milliseconds since the journal was opened. */
  t: number;
  at: string;
  phase: Phase;
  kind: "probe" | "action" | "canary";
  name: string;
  ok: boolean;
  latencyMs?: number;
  /** Probes: whether the service answered at all (any status) rather than hanging or refusing. */
  answered?: boolean;
  /** Probes: what came back, comparable between rounds (`HTTP 200 #1a2b3c4d`: status and a digest of the body). */
  answer?: string;
  detail: string;
}

export class Journal {
  readonly experiment: string;
  readonly entries: JournalEntry[] = [];
  readonly #origin = performance.now();
  readonly #startedAt = new Date();

  constructor(experiment: string) {
    this.experiment = experiment;
  }

  /** Milliseconds since the journal was opened. */
  now(): number {
    return Math.round((performance.now() - this.#origin) * 10) / 10;
  }

  /** Epoch ms of a journal time, to relate it to other clocks (a supervisor's restart time). */
  epochOf(t: number): number {
    return this.#startedAt.getTime() + t;
  }

  record(entry: Omit<JournalEntry, "t" | "at">): JournalEntry {
    const full: JournalEntry = { t: this.now(), at: new Date().toISOString(), ...entry };
    this.entries.push(full);
    return full;
  }

  toJSON(): { experiment: string; startedAt: string; entries: JournalEntry[] } {
    return { experiment: this.experiment, startedAt: this.#startedAt.toISOString(), entries: this.entries };
  }
}
