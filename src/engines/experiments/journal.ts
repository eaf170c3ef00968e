// Every probe result and fault action of one experiment, with timestamps, in order: the evidence behind the
// measured detection and recovery times.
/** `injecting`: probes started while the fault was still going in (a restart in progress); `during`: after. */
export type Phase = "before" | "injecting" | "during" | "after";

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

  record(entry: Omit<JournalEntry, "t" | "at">): JournalEntry {
    const full: JournalEntry = { t: this.now(), at: new Date().toISOString(), ...entry };
    this.entries.push(full);
    return full;
  }

  toJSON(): Record<string, unknown> {
    return { experiment: this.experiment, startedAt: this.#startedAt.toISOString(), entries: this.entries };
  }
}
