// How a Redis server persists what it acknowledges, read from the server: `CONFIG GET appendonly / appendfsync / save`
// (one key per call: older servers take one pattern) and `INFO persistence` (whether the AOF and the RDB saves
// actually succeed, changes not yet saved, the last save's age by the server's own clock from `TIME`). CONFIG is
// often renamed or refused on managed Redis; then INFO is all there is, and the reason is kept. When the server is on
// this machine, the kernel's dirty-page writeback settings are read too: with `appendfsync no` they bound the loss.
import { readFile } from "node:fs/promises";
import { Redis } from "ioredis";
import { type AuthFailure, authFailureOf, urlHasPassword } from "../datastores/authFailure.js";

export interface RedisRpoFacts {
  version: string | null;
  role: string | null;
  /** null when CONFIG could not be used; `configError` says why. */
  config: { appendonly: string | null; appendfsync: string | null; save: string | null } | null;
  configError?: string;
  persistence: {
    loading: boolean;
    aofEnabled: boolean | null;
    aofLastWriteStatus: string | null;
    aofLastBgrewriteStatus: string | null;
    rdbLastBgsaveStatus: string | null;
    rdbChangesSinceLastSave: number | null;
    /** Server time minus rdb_last_save_time, ms. */
    rdbLastSaveAgeMs: number | null;
  };
  /** Linux writeback (ms) when the server runs on this machine; otherwise null. */
  osWriteback: { expireMs: number; intervalMs: number } | null;
}

export type RedisRpoRead =
  | { ok: true; facts: RedisRpoFacts }
  | { ok: false; stage: "connect" | "query"; error: string; code?: string; auth?: AuthFailure };

export async function readRedisPersistence(
  url: string,
  options: { timeoutMs?: number; local?: boolean } = {},
): Promise<RedisRpoRead> {
  const timeoutMs = options.timeoutMs ?? 5_000;
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
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    return failure("connect", last ?? error, url);
  }
  try {
    const info = parseInfo(String(await redis.info()));
    const config = await readConfig(redis);
    const [seconds] = (await redis.time()) as [number | string, number | string];
    const lastSave = numberOrNull(info.rdb_last_save_time);
    const facts: RedisRpoFacts = {
      version: info.redis_version ?? null,
      role: info.role ?? null,
      config: "error" in config ? null : config,
      ...("error" in config ? { configError: config.error } : {}),
      persistence: {
        loading: info.loading === "1",
        aofEnabled: info.aof_enabled === undefined ? null : info.aof_enabled === "1",
        aofLastWriteStatus: info.aof_last_write_status ?? null,
        aofLastBgrewriteStatus: info.aof_last_bgrewrite_status ?? null,
        rdbLastBgsaveStatus: info.rdb_last_bgsave_status ?? null,
        rdbChangesSinceLastSave: numberOrNull(info.rdb_changes_since_last_save),
        rdbLastSaveAgeMs: lastSave === null ? null : Math.max(0, (Number(seconds) - lastSave) * 1000),
      },
      osWriteback: options.local ? await readWriteback() : null,
    };
    return { ok: true, facts };
  } catch (error) {
    return failure("query", error, url);
  } finally {
    redis.disconnect();
  }
}

async function readConfig(
  redis: Redis,
): Promise<
  { appendonly: string | null; appendfsync: string | null; save: string | null } | { error: string }
> {
  const out: Record<string, string | null> = {};
  for (const key of ["appendonly", "appendfsync", "save"]) {
    try {
      const reply = (await redis.call("CONFIG", "GET", key)) as string[];
      out[key] = reply.length >= 2 ? String(reply[1]) : null;
    } catch (error) {
      return { error: (error as Error).message };
    }
  }
  return { appendonly: out.appendonly ?? null, appendfsync: out.appendfsync ?? null, save: out.save ?? null };
}

export function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    if (!line || line.startsWith("#")) continue;
    const colon = line.indexOf(":");
    if (colon > 0) out[line.slice(0, colon)] = line.slice(colon + 1);
  }
  return out;
}

async function readWriteback(): Promise<{ expireMs: number; intervalMs: number } | null> {
  const read = async (name: string) =>
    Number((await readFile(`/proc/sys/vm/${name}`, "utf8").catch(() => "")).trim());
  const expire = await read("dirty_expire_centisecs");
  const interval = await read("dirty_writeback_centisecs");
  if (!Number.isFinite(expire) || !Number.isFinite(interval) || expire <= 0) return null;
  return { expireMs: expire * 10, intervalMs: interval * 10 };
}

function numberOrNull(text: string | undefined): number | null {
  if (text === undefined || text === "") return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

function failure(stage: "connect" | "query", error: unknown, url: string): RedisRpoRead {
  const e = error as { message?: string; code?: string };
  const auth = authFailureOf(e, urlHasPassword(url));
  return {
    ok: false,
    stage,
    error: e?.message ?? String(error),
    ...(e?.code ? { code: String(e.code) } : {}),
    ...(auth ? { auth } : {}),
  };
}
