// Round-trip latency of a datastore: Redis PING and PostgreSQL `SELECT 1`, one at a time over one connection, into
// an HDR histogram. The connection is opened (and timed) first, so a refused or unauthenticated connect is told
// apart from a slow command.
import { performance } from "node:perf_hooks";
import { Redis } from "ioredis";
import pg from "pg";
import { createHistogram, type LatencySummary, recordMicros, summarize } from "../load/histogram.js";

export type DatastoreKind = "redis" | "postgres";

export interface LatencyProbeOptions {
  kind: DatastoreKind;
  url: string;
  samples?: number;
  /** Connect and per-command limit, ms. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export type LatencyProbeResult =
  | {
      ok: true;
      connectMs: number;
      samples: number;
      failures: number;
      latency: LatencySummary;
      command: string;
    }
  | { ok: false; stage: "connect" | "command"; error: string; code?: string; command: string };

const WARMUP = 5;

export async function probeDatastoreLatency(options: LatencyProbeOptions): Promise<LatencyProbeResult> {
  const client = options.kind === "redis" ? redisClient(options) : postgresClient(options);
  const command = options.kind === "redis" ? "PING" : "SELECT 1";
  const samples = options.samples ?? 200;
  const started = performance.now();
  try {
    await withTimeout(client.connect(), options.timeoutMs ?? 5_000, "connect");
  } catch (error) {
    await client.close();
    return { ok: false, stage: "connect", command, ...errorOf(error) };
  }
  const connectMs = Math.round((performance.now() - started) * 1000) / 1000;
  const histogram = createHistogram();
  let failures = 0;
  let lastError: unknown;
  try {
    for (let i = 0; i < WARMUP + samples; i++) {
      if (options.signal?.aborted) break;
      const t = performance.now();
      try {
        await withTimeout(client.command(), options.timeoutMs ?? 5_000, command);
        if (i >= WARMUP) recordMicros(histogram, (performance.now() - t) * 1000);
      } catch (error) {
        failures++;
        lastError = error;
      }
    }
  } finally {
    await client.close();
  }
  if (histogram.totalCount === 0) {
    return { ok: false, stage: "command", command, ...errorOf(lastError ?? new Error("no sample taken")) };
  }
  const latency = summarize(histogram);
  histogram.destroy();
  return { ok: true, connectMs, samples: latency.count, failures, latency, command };
}

interface ProbeClient {
  connect(): Promise<void>;
  command(): Promise<void>;
  close(): Promise<void>;
}

function redisClient(options: LatencyProbeOptions): ProbeClient {
  const redis = new Redis(options.url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    connectTimeout: options.timeoutMs ?? 5_000,
  });
  redis.on("error", () => {}); // surfaced through the awaited calls
  return {
    connect: () => redis.connect(),
    command: async () => {
      await redis.ping();
    },
    close: async () => {
      redis.disconnect();
    },
  };
}

function postgresClient(options: LatencyProbeOptions): ProbeClient {
  const client = new pg.Client({
    connectionString: options.url,
    connectionTimeoutMillis: options.timeoutMs ?? 5_000,
  });
  client.on("error", () => {});
  return {
    connect: async () => {
      await client.connect();
    },
    command: async () => {
      await client.query("SELECT 1");
    },
    close: async () => {
      await client.end().catch(() => {});
    },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error(`${what} took over ${ms} ms`), { code: "ETIMEDOUT" })),
      ms,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function errorOf(error: unknown): { error: string; code?: string } {
  const e = error as { message?: string; code?: string };
  return { error: e?.message ?? String(error), ...(e?.code ? { code: String(e.code) } : {}) };
}
