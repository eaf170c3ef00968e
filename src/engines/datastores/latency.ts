// Round-trip latency of a datastore: Redis PING and PostgreSQL `SELECT 1`, one at a time over one connection, into
// an HDR histogram. The connection is opened (and timed) first, so a refused or unauthenticated connect is told
// apart from a slow command.
import { performance } from "node:perf_hooks";
import { Redis } from "ioredis";
import pg from "pg";
import { createHistogram, type LatencySummary, recordMicros, summarize } from "../load/histogram.js";
import { type AuthFailure, authFailureOf, urlHasPassword } from "./authFailure.js";

/** The wire protocols Gauntlet speaks (PgBouncer speaks PostgreSQL's). */
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
  | {
      ok: false;
      stage: "connect" | "command";
      error: string;
      code?: string;
      command: string;
      /** Set when the store refused Gauntlet's credentials (none given, or wrong), not when it failed by itself. */
      auth?: AuthFailure;
    };

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
    // ioredis reports a refused AUTH as "Connection is closed."; the server's own reply came as an error event.
    const cause = client.lastError() ?? error;
    const auth = authFailureOf(cause as { message?: string; code?: string }, urlHasPassword(options.url));
    return { ok: false, stage: "connect", command, ...errorOf(cause), ...(auth ? { auth } : {}) };
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
    const cause = (lastError ?? new Error("no sample taken")) as { message?: string; code?: string };
    const auth = authFailureOf(cause, urlHasPassword(options.url));
    return { ok: false, stage: "command", command, ...errorOf(cause), ...(auth ? { auth } : {}) };
  }
  const latency = summarize(histogram);
  histogram.destroy();
  return { ok: true, connectMs, samples: latency.count, failures, latency, command };
}

interface ProbeClient {
  connect(): Promise<void>;
  command(): Promise<void>;
  close(): Promise<void>;
  /** The last error the client reported on its own (an AUTH reply during connect). */
  lastError(): unknown;
}

function redisClient(options: LatencyProbeOptions): ProbeClient {
  const redis = new Redis(options.url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    connectTimeout: options.timeoutMs ?? 5_000,
  });
  let last: unknown;
  redis.on("error", (error) => {
    last = error; // surfaced through the awaited calls, or as the cause of a closed connection
  });
  return {
    lastError: () => last,
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
    lastError: () => undefined,
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
