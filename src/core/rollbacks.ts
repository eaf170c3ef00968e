// Faults are always undone (DESIGN principle 5). Each check gets a scope; the run keeps every open scope so that a
// signal handler can undo all of them. Undo actions run last-in first-out, each at most once, errors collected.
import type { Rollback, RollbackRegistry } from "./types.js";

interface Entry {
  name: string;
  undo: Rollback;
  done: boolean;
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

  constructor(owner: string, undoTimeoutMs = UNDO_TIMEOUT_MS) {
    this.owner = owner;
    this.#undoTimeoutMs = undoTimeoutMs;
  }

  add(name: string, undo: Rollback): { runNow(): Promise<void> } {
    const entry: Entry = { name, undo, done: false };
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

  open(owner: string): RollbackScope {
    const scope = new RollbackScope(owner);
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
