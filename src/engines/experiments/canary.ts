// Data integrity across a fault: write a marker (an acknowledged write), read it back after. Real clients (ioredis,
// pg) against the datastore's own URL; the marker, and the table if the canary made it, are removed afterwards so the
// canary leaves nothing behind.
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import pg from "pg";

export interface Canary {
  readonly kind: string;
  /** Writes the marker; throws when the datastore cannot be written. */
  write(): Promise<void>;
  /** Reads the marker back (retrying until deadlineMs, as the datastore may still be starting). */
  verify(deadlineMs: number, signal: AbortSignal): Promise<{ intact: boolean; detail: string }>;
  cleanup(): Promise<void>;
}

/** A canary for a datastore protocol we can speak, or null. */
export function canaryFor(
  protocol: "redis" | "postgres" | undefined,
  url: string | undefined,
): Canary | null {
  if (!url) return null;
  if (protocol === "redis") return redisCanary(url);
  if (protocol === "postgres") return postgresCanary(url);
  return null;
}

const MARKER_KEY = () => `gauntlet:canary:${Date.now()}:${randomBytes(4).toString("hex")}`;

function redisCanary(url: string): Canary {
  const key = MARKER_KEY();
  const value = randomBytes(8).toString("hex");
  const client = () =>
    new Redis(url, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      connectTimeout: 1_000,
      retryStrategy: () => null,
    });
  const once = async <T>(action: (r: Redis) => Promise<T>): Promise<T> => {
    const redis = client();
    redis.on("error", () => {});
    try {
      await redis.connect();
      return await action(redis);
    } finally {
      redis.disconnect();
    }
  };
  return {
    kind: "redis",
    write: async () => {
      await once((r) => r.set(key, value));
    },
    verify: (deadlineMs, signal) =>
      retry(deadlineMs, signal, async () => {
        const read = await once((r) => r.get(key));
        return read === value
          ? { intact: true, detail: `key ${key} read back intact` }
          : {
              intact: false,
              detail: read === null ? `key ${key} is gone` : `key ${key} holds another value`,
            };
      }),
    cleanup: async () => {
      await once((r) => r.del(key)).catch(() => {});
    },
  };
}

function postgresCanary(url: string): Canary {
  const value = randomBytes(8).toString("hex");
  const once = async <T>(action: (c: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
    client.on("error", () => {});
    try {
      await client.connect();
      return await action(client);
    } finally {
      await client.end().catch(() => {});
    }
  };
  return {
    kind: "postgres",
    write: async () => {
      await once(async (c) => {
        await c.query("CREATE TABLE IF NOT EXISTS gauntlet_canary (marker text PRIMARY KEY, at timestamptz)");
        await c.query("INSERT INTO gauntlet_canary (marker, at) VALUES ($1, now())", [value]);
      });
    },
    verify: (deadlineMs, signal) =>
      retry(deadlineMs, signal, async () => {
        const rows = await once((c) =>
          c.query("SELECT marker FROM gauntlet_canary WHERE marker = $1", [value]),
        );
        return rows.rowCount === 1
          ? { intact: true, detail: `row ${value} read back intact` }
          : { intact: false, detail: `row ${value} is gone` };
      }),
    cleanup: async () => {
      await once(async (c) => {
        await c.query("DELETE FROM gauntlet_canary WHERE marker = $1", [value]);
        // Another run's marker may still be in it: only an empty table is dropped.
        const left = await c.query("SELECT 1 FROM gauntlet_canary LIMIT 1");
        if (left.rowCount === 0) await c.query("DROP TABLE IF EXISTS gauntlet_canary");
      }).catch(() => {});
    },
  };
}

// A connection error means "cannot tell yet" and is retried; an answer (intact or lost) is final.
async function retry(
  deadlineMs: number,
  signal: AbortSignal,
  read: () => Promise<{ intact: boolean; detail: string }>,
): Promise<{ intact: boolean; detail: string }> {
  const deadline = performance.now() + deadlineMs;
  let last = "not read";
  while (!signal.aborted) {
    try {
      return await read();
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    if (performance.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  return { intact: false, detail: `could not read the marker back: ${last}` };
}
