// A one-shot timer with sub-millisecond precision. Node's timers have millisecond granularity and fire up to a
// millisecond late, which at 1,000 req/s is the whole gap between arrivals; waiting on the event loop instead
// (setImmediate) burns the core and, on a pinned core, gets the thread preempted by V8's own helper threads. Here a
// small helper thread sleeps on a futex (Atomics.wait takes fractional milliseconds) and wakes this thread through a
// MessagePort, so the event loop stays asleep, and free for I/O, until the due time.
import { Worker } from "node:worker_threads";

const THREAD = `
const { parentPort, workerData } = require("node:worker_threads");
const { performance } = require("node:perf_hooks");
const control = new Int32Array(workerData, 0, 2);
const due = new Float64Array(workerData, 8, 1);
const now = () => performance.timeOrigin + performance.now();
let fired = -1;
for (;;) {
  const generation = Atomics.load(control, 0);
  if (Atomics.load(control, 1) === 1) break;
  const at = due[0];
  if (generation === fired || at === 0) {
    Atomics.wait(control, 0, generation);
    continue;
  }
  const remaining = at - now();
  if (remaining > 0 && Atomics.wait(control, 0, generation, remaining) !== "timed-out") continue;
  if (Atomics.load(control, 0) !== generation) continue;
  // The owner ignores a fire for a generation it has since replaced, so this thread never writes the due time.
  fired = generation;
  parentPort.postMessage(generation);
}
`;

export class PreciseTimer {
  readonly #worker: Worker;
  readonly #control: Int32Array;
  readonly #due: Float64Array;
  #closed = false;
  #generation = 0;

  /**
   * `onFire` runs on this thread's event loop once per `set` whose time came; `onReady` once the helper thread runs
   * (about 30 ms after construction: a schedule should not start before, or its first arrivals would be late).
   */
  constructor(onFire: () => void, onReady?: () => void) {
    const shared = new SharedArrayBuffer(16);
    this.#control = new Int32Array(shared, 0, 2);
    this.#due = new Float64Array(shared, 8, 1);
    this.#worker = new Worker(THREAD, { eval: true, workerData: shared });
    this.#worker.on("message", (generation: number) => {
      if (!this.#closed && generation === this.#generation) onFire();
    });
    if (onReady) this.#worker.once("online", onReady);
    // The helper never keeps the process alive; the loop that owns it closes it when done.
    this.#worker.unref();
  }

  /** Fire at `at`, an absolute time in ms (performance.timeOrigin + performance.now()); replaces any pending one. */
  set(at: number): void {
    this.#due[0] = at;
    this.#generation = Atomics.add(this.#control, 0, 1) + 1;
    Atomics.notify(this.#control, 0);
  }

  cancel(): void {
    this.#due[0] = 0;
    this.#generation = Atomics.add(this.#control, 0, 1) + 1;
    Atomics.notify(this.#control, 0);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    Atomics.store(this.#control, 1, 1);
    Atomics.add(this.#control, 0, 1);
    Atomics.notify(this.#control, 0);
    void this.#worker.terminate();
  }
}
