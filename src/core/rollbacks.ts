// Faults are always undone (DESIGN principle 5). Each check gets a scope; the run keeps every open scope so that a
// signal handler can undo all of them. Undo actions run last-in first-out, each at most once, errors collected.
import type { UndoDescriptor } from "../engines/faults/undoDescriptor.js";
import type { FaultJournal } from "./faultJournal.js";
import type { Rollback, RollbackRegistry } from "./types.js";

interface Entry {
  name: string;
  undo: Rollback;
  done: boolean;
  /** Strikes the entry off the fault journal once undone. */
  strike?: () => void;
}

export interface RollbackFailure {
  name: string;
  error: string;
}

/** One undo action that hangs must not keep every later one from running. */
export const UNDO_TIMEOUT_MS = 60_000;

export class RollbackScope implements RollbackRegistry {
  readonly owner: string;
  readonly #entries: Entry[] = [];
  readonly #failures: RollbackFailure[] = [];
  readonly #undoTimeoutMs: number;
  #closed = false;

  readonly #journal: FaultJournal | undefined;

  constructor(owner: string, undoTimeoutMs = UNDO_TIMEOUT_MS, journal?: FaultJournal) {
    this.owner = owner;
    this.#undoTimeoutMs = undoTimeoutMs;
    this.#journal = journal;
  }

  /**
   * `persist`: how another process could undo it if this one is killed before it can; written to the fault journal
   * (synchronously) before add() returns, so before the fault goes in.
   */
  add(name: string, undo: Rollback, persist?: UndoDescriptor): { runNow(): Promise<void> } {
    const entry: Entry = { name, undo, done: false };
    if (persist && this.#journal) entry.strike = this.#journal.record(this.owner, name, persist);
    this.#entries.push(entry);
    if (this.#closed) {
      // The check outlived its scope (it ignored its abort signal): whatever it just did is undone at once.
      this.#failures.push({ name, error: "registered after the check had ended; undone at once" });
      void this.#runOne(entry);
    }
    return { runNow: () => this.#runOne(entry) };
  }

  get pending(): number {
    return this.#entries.filter((e) => !e.done).length;
  }

  get failures(): readonly RollbackFailure[] {
    return this.#failures;
  }

  /** Runs every pending undo action, newest first. Never throws: failures are recorded and returned. */
  async runAll(): Promise<RollbackFailure[]> {
    this.#closed = true;
    for (const entry of [...this.#entries].reverse()) await this.#runOne(entry);
    return [...this.#failures];
  }

  async #runOne(entry: Entry): Promise<void> {
    if (entry.done) return;
    entry.done = true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`did not finish within ${Math.round(this.#undoTimeoutMs / 1000)} s`)),
        this.#undoTimeoutMs,
      );
    });
    try {
      await Promise.race([Promise.resolve().then(entry.undo), timeout]);
      entry.strike?.();
    } catch (error) {
      this.#failures.push({
        name: entry.name,
        error: error instanceof Error ? error.message : String(error),
      });
    } finally {
      clearTimeout(timer);
    }
  }
}

/** All scopes of a run, so cancellation (Ctrl-C, SIGTERM) can undo everything still open. */
export class RollbackLedger {
  readonly #scopes = new Set<RollbackScope>();
  readonly #journal: FaultJournal | undefined;

  /** With a journal, undos registered with a descriptor survive this process being killed. */
  constructor(journal?: FaultJournal) {
    this.#journal = journal;
  }

  open(owner: string): RollbackScope {
    const scope = new RollbackScope(owner, UNDO_TIMEOUT_MS, this.#journal);
    this.#scopes.add(scope);
    return scope;
  }

  async close(scope: RollbackScope): Promise<RollbackFailure[]> {
    const failures = await scope.runAll();
    this.#scopes.delete(scope);
    return failures;
  }

  async closeAll(): Promise<RollbackFailure[]> {
    const failures: RollbackFailure[] = [];
    for (const scope of [...this.#scopes].reverse()) failures.push(...(await this.close(scope)));
    return failures;
  }
}
