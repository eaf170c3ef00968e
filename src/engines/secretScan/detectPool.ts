// Detection is CPU-bound (secretlint's 25 rules and Gauntlet's on every file and blob), reading is not: the scan reads
// in order on the main thread and hands texts to a few worker threads, at most a few texts ahead of the slowest one,
// so the texts held in memory are bounded however large the repository. Without the compiled worker (tests run the TypeScript
// sources) or with size 0, texts are scanned on the main thread, with the same results.
import { existsSync } from "node:fs";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { type Detection, detectSecrets } from "./detect.js";

export interface DetectRequest {
  id: number;
  file: string;
  bytes: Uint8Array;
  physicalPath?: string;
  binary?: boolean;
}

export type DetectResponse = { id: number; detections: Detection[] } | { id: number; error: string };

/** Texts travel in batches: one message per text costs more than scanning a small one. */
export interface DetectBatch {
  requests: DetectRequest[];
}
export interface DetectBatchResponse {
  responses: DetectResponse[];
}

const BATCH_BYTES = 256 * 1024;
const BATCH_TEXTS = 32;
const MAX_IN_FLIGHT_BYTES = 32 * 1024 * 1024;

/** Worker threads by default: the machine's cores less one (for reading and git), 1 to 4. */
export function defaultPoolSize(): number {
  return Math.max(1, Math.min(4, os.availableParallelism() - 1));
}

export class DetectPool {
  readonly #workers: Worker[] = [];
  readonly #pending = new Map<number, { resolve: (d: Detection[]) => void; reject: (e: Error) => void }>();
  readonly #idle: Worker[] = [];
  readonly #queue: { request: DetectRequest; transfer: ArrayBuffer[] }[] = [];
  readonly #waiters: (() => void)[] = [];
  readonly #limit: number;
  #next = 0;
  #inFlight = 0;
  #inFlightBytes = 0;
  readonly #sizes = new Map<number, number>();

  constructor(size: number = defaultPoolSize()) {
    const url = workerUrl();
    const count = url ? size : 0;
    this.#limit = Math.max(1, count) * BATCH_TEXTS * 2;
    for (let i = 0; i < count; i++) {
      const worker = new Worker(url!);
      worker.on("message", (batch: DetectBatchResponse) => this.#answer(worker, batch));
      worker.on("error", (error) => this.#failAll(error));
      this.#workers.push(worker);
      this.#idle.push(worker);
    }
  }

  get threads(): number {
    return this.#workers.length;
  }

  /** Resolves once another text may be sent without holding more than a few in memory. */
  async ready(): Promise<void> {
    while (this.#full()) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  detect(input: {
    file: string;
    bytes: Buffer;
    physicalPath?: string;
    binary?: boolean;
  }): Promise<Detection[]> {
    if (this.#workers.length === 0) {
      const content = input.binary ? "" : input.bytes.toString("utf8");
      return detectSecrets({
        file: input.file,
        content,
        ...(input.physicalPath ? { physicalPath: input.physicalPath } : {}),
        ...(input.binary ? { binary: true } : {}),
      });
    }
    const id = this.#next++;
    this.#inFlight++;
    this.#inFlightBytes += input.bytes.length;
    this.#sizes.set(id, input.bytes.length);
    // The bytes are copied into a buffer of their own, which moves to the worker without another copy.
    const bytes = new Uint8Array(input.bytes);
    const request: DetectRequest = {
      id,
      file: input.file,
      bytes,
      ...(input.physicalPath ? { physicalPath: input.physicalPath } : {}),
      ...(input.binary ? { binary: true } : {}),
    };
    const result = new Promise<Detection[]>((resolve, reject) => this.#pending.set(id, { resolve, reject }));
    this.#queue.push({ request, transfer: [bytes.buffer as ArrayBuffer] });
    this.#dispatch();
    return result;
  }

  async close(): Promise<void> {
    this.#failAll(new Error("the detection pool was closed"));
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }

  #dispatch(): void {
    while (this.#idle.length > 0 && this.#queue.length > 0) {
      const worker = this.#idle.pop()!;
      const requests: DetectRequest[] = [];
      const transfer: ArrayBuffer[] = [];
      let bytes = 0;
      while (this.#queue.length > 0 && requests.length < BATCH_TEXTS && bytes < BATCH_BYTES) {
        const next = this.#queue.shift()!;
        requests.push(next.request);
        transfer.push(...next.transfer);
        bytes += next.request.bytes.byteLength;
      }
      worker.postMessage({ requests } satisfies DetectBatch, transfer);
    }
  }

  #answer(worker: Worker, batch: DetectBatchResponse): void {
    this.#idle.push(worker);
    for (const response of batch.responses) {
      const waiting = this.#pending.get(response.id);
      this.#pending.delete(response.id);
      this.#inFlight--;
      this.#inFlightBytes -= this.#sizes.get(response.id) ?? 0;
      this.#sizes.delete(response.id);
      if (!waiting) continue;
      if ("error" in response) waiting.reject(new Error(response.error));
      else waiting.resolve(response.detections);
    }
    this.#dispatch();
    while (!this.#full() && this.#waiters.length > 0) this.#waiters.shift()!();
  }

  /** Enough texts in the queue and the threads: the reader waits (memory stays bounded by count and bytes). */
  #full(): boolean {
    return this.#inFlight >= this.#limit || this.#inFlightBytes >= MAX_IN_FLIGHT_BYTES;
  }

  #failAll(error: Error): void {
    for (const { reject } of this.#pending.values()) reject(error);
    this.#pending.clear();
    this.#queue.length = 0;
    this.#inFlight = 0;
    this.#inFlightBytes = 0;
    this.#sizes.clear();
    for (const wake of this.#waiters.splice(0)) wake();
  }
}

/** The compiled worker next to this module (dist/), or none when running from the TypeScript sources. */
function workerUrl(): URL | null {
  const here = new URL("./detectWorker.js", import.meta.url);
  return existsSync(fileURLToPath(here)) ? here : null;
}
