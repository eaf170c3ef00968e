// Worker-thread entry: runs this worker's share of a stage and streams its per-second histograms (encoded) to the
// main thread, which merges them exactly.
import { parentPort, workerData } from "node:worker_threads";
import { encodeHistogram } from "./histogram.js";
import { runLoop, type StagePlan } from "./loadLoop.js";
import type { Endpoint, RequestMix } from "./requests.js";

export interface WorkerInput {
  endpoint: Endpoint;
  mix: { requests: { buffer: Uint8Array; method: string; head: boolean; label: string }[]; order: number[] };
  plan: StagePlan;
  rejectUnauthorized: boolean;
}

export type WorkerMessage =
  | { type: "tick"; second: number; requests: number; errors: number; bytes: number; histogram: string }
  | {
      type: "done";
      result: Omit<import("./loadLoop.js").LoopResult, "histogram" | "lateness"> & {
        histogram: string;
        lateness: string;
      };
    };

const input = workerData as WorkerInput;
const port = parentPort!;
const controller = new AbortController();
port.on("message", (message: { type: string }) => {
  if (message.type === "abort") controller.abort();
});

const mix: RequestMix = {
  order: input.mix.order,
  requests: input.mix.requests.map((r) => ({
    ...r,
    buffer: Buffer.from(r.buffer.buffer, r.buffer.byteOffset, r.buffer.byteLength),
  })),
};

const result = await runLoop({
  endpoint: input.endpoint,
  mix,
  plan: input.plan,
  signal: controller.signal,
  rejectUnauthorized: input.rejectUnauthorized,
  onTick: (tick) => {
    if (tick.requests === 0 && tick.errors === 0) {
      port.postMessage({ ...tick, type: "tick", histogram: "" } satisfies WorkerMessage);
      return;
    }
    port.postMessage({
      ...tick,
      type: "tick",
      histogram: encodeHistogram(tick.histogram),
    } satisfies WorkerMessage);
  },
});
port.postMessage({
  type: "done",
  result: {
    ...result,
    histogram: encodeHistogram(result.histogram),
    lateness: encodeHistogram(result.lateness),
  },
} satisfies WorkerMessage);
port.close();
