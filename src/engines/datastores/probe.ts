// A datastore as a probe: can a fresh client connect and run a no-op (Redis PING, PostgreSQL `SELECT 1`) within the
// limit? A fresh connection each round, so a pooled socket cannot hide a restart; a frozen server (SIGSTOP) accepts
// the TCP connection and then says nothing, which the limit turns into a timeout.
import { performance } from "node:perf_hooks";
import { Redis } from "ioredis";
import pg from "pg";
import type { Probe, ProbeOutcome } from "../experiments/steadyState.js";

export type Protocol = "redis" | "postgres";

export function datastoreProbe(
  name: string,
  protocol: Protocol,
  url: string,
  options: { timeoutMs?: number } = {},
): Probe {
  const timeoutMs = options.timeoutMs ?? 2_000;
  return {
    name,
    async run(signal) {
      const started = performance.now();
      const elapsed = () => Math.round((performance.now() - started) * 10) / 10;
      const session = protocol === "redis" ? redisSession(url, timeoutMs) : postgresSession(url, timeoutMs);
      try {
        const reply = await withLimit(session.ask(), timeoutMs, signal);
        return { ok: true, answered: true, latencyMs: elapsed(), answer: reply, detail: reply };
      } catch (error) {
        signal.throwIfAborted();
        return failure(error, elapsed());
      } finally {
        session.close();
      }
    },
  };
}

/** What identifies one run of the server: Redis' run_id, PostgreSQL's postmaster start time; null if unreadable. */
export async function datastoreIdentity(
  protocol: Protocol,
  url: string,
  timeoutMs = 2_000,
): Promise<string | null> {
  const session =
    protocol === "redis"
      ? redisSession(url, timeoutMs, async (r) => /run_id:(\w+)/.exec(await r.info("server"))?.[1] ?? "")
      : postgresSession(url, timeoutMs, async (c) => {
          const result = await c.query("SELECT pg_postmaster_start_time()::text AS started");
          return String(result.rows[0]?.started ?? "");
        });
  try {
    const identity = await withLimit(session.ask(), timeoutMs);
    return identity || null;
  } catch {
    return null;
  } finally {
    session.close();
  }
}

interface Session {
  ask(): Promise<string>;
  close(): void;
}

function redisSession(url: string, timeoutMs: number, question?: (r: Redis) => Promise<string>): Session {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  let last: unknown;
  redis.on("error", (error) => {
    last = error;
  });
  return {
    ask: async () => {
      try {
        await redis.connect();
      } catch (error) {
        throw last ?? error; // the server's own reply (NOAUTH) rather than "Connection is closed."
      }
      return question ? question(redis) : redis.ping();
    },
    close: () => redis.disconnect(),
  };
}

function postgresSession(
  url: string,
  timeoutMs: number,
  question?: (c: pg.Client) => Promise<string>,
): Session {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    application_name: "gauntlet-probe",
  });
  client.on("error", () => {});
  return {
    ask: async () => {
      await client.connect();
      if (question) return question(client);
      const result = await client.query("SELECT 1 AS one");
      return `SELECT ${result.rows[0]?.one}`;
    },
    close: () => {
      client.end().catch(() => {});
    },
  };
}

function withLimit<T>(promise: Promise<T>, ms: number, signal?: AbortSignal): Promise<T> {
  promise.catch(() => {});
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error(`no answer within ${ms} ms`), { code: "ETIMEDOUT" })),
      ms,
    );
    if (signal) {
      onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
    }
  });
  return Promise.race([promise, limit]).finally(() => {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener("abort", onAbort);
  });
}

function failure(error: unknown, latencyMs: number): ProbeOutcome {
  const e = error as { message?: string; code?: string };
  const message = e?.message ?? String(error);
  const code = e?.code ?? "";
  const answer =
    code === "ECONNREFUSED"
      ? "refused"
      : code === "ETIMEDOUT" || /timeout|timed out|no answer within/i.test(message)
        ? "timeout"
        : code === "ECONNRESET" || /Connection is closed|terminat/i.test(message)
          ? "reset"
          : code || message.split(/\s/)[0] || "error";
  // A server that replied with an error (NOAUTH, too many clients, starting up) answered; one that did not, did not.
  const answered = !["refused", "timeout", "reset"].includes(answer);
  return { ok: false, answered, latencyMs, answer, detail: `${answer}: ${message}`.slice(0, 300) };
}
