// A bounded, closed-model HTTP load driver for overload experiments: `concurrency` workers send requests back to back
// until stopped or `maxDurationMs` passes, over keep-alive connections, and count what came back. It is deliberately
// simple (the load engine in src/engines/load/ is the measuring tool); its job is to push a service past capacity.
import http from "node:http";
import { classifyNetworkError } from "../http/probe.js";

export interface OverloadOptions {
  url: string;
  concurrency: number;
  maxDurationMs: number;
  /** Per-request limit; a request slower than this counts as a timeout. */
  requestTimeoutMs?: number;
  method?: string;
}

export interface OverloadTally {
  requests: number;
  ok: number;
  /** 429 and 503: the service shedding load, which is the graceful answer. */
  shed: number;
  otherStatus: number;
  timeouts: number;
  refused: number;
  resets: number;
  otherErrors: number;
  durationMs: number;
  rps: number;
  latencyMs: { p50: number; p99: number; max: number };
  statuses: Record<string, number>;
}

export interface RunningOverload {
  stop(): Promise<OverloadTally>;
}

export function startOverload(options: OverloadOptions): RunningOverload {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const timeoutMs = options.requestTimeoutMs ?? 5_000;
  const started = performance.now();
  const deadline = started + options.maxDurationMs;
  let stopped = false;
  const latencies: number[] = [];
  const tally = {
    requests: 0,
    ok: 0,
    shed: 0,
    otherStatus: 0,
    timeouts: 0,
    refused: 0,
    resets: 0,
    otherErrors: 0,
    statuses: {} as Record<string, number>,
  };
  const one = () =>
    new Promise<void>((resolve) => {
      const sent = performance.now();
      const req = http.request(
        options.url,
        { method: options.method ?? "GET", agent, timeout: timeoutMs },
        (res) => {
          res.resume();
          res.on("end", () => {
            const status = res.statusCode ?? 0;
            tally.statuses[status] = (tally.statuses[status] ?? 0) + 1;
            if (status >= 200 && status < 400) tally.ok += 1;
            else if (status === 429 || status === 503) tally.shed += 1;
            else tally.otherStatus += 1;
            latencies.push(performance.now() - sent);
            resolve();
          });
          res.on("error", () => resolve());
        },
      );
      req.on("timeout", () => {
        tally.timeouts += 1;
        req.destroy();
      });
      req.on("error", (error: NodeJS.ErrnoException) => {
        if (req.destroyed && error.code === "ECONNRESET" && tally.timeouts > 0) return resolve();
        const kind = classifyNetworkError(error.code);
        if (kind === "refused") tally.refused += 1;
        else if (kind === "reset") tally.resets += 1;
        else tally.otherErrors += 1;
        resolve();
      });
      tally.requests += 1;
      req.end();
    });
  const worker = async () => {
    while (!stopped && performance.now() < deadline) {
      await one();
      // A refused connection returns at once; a short pause keeps a dead service from spinning the CPU.
      if (tally.refused > 0) await new Promise((r) => setTimeout(r, 10));
    }
  };
  const workers = Promise.all(Array.from({ length: options.concurrency }, worker));
  return {
    stop: async () => {
      stopped = true;
      await workers;
      agent.destroy();
      const durationMs = Math.round(performance.now() - started);
      latencies.sort((a, b) => a - b);
      const at = (q: number) =>
        Math.round((latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0) * 10) /
        10;
      return {
        ...tally,
        durationMs,
        rps: Math.round((tally.requests / Math.max(1, durationMs)) * 1000),
        latencyMs: { p50: at(0.5), p99: at(0.99), max: at(1) },
      };
    },
  };
}
