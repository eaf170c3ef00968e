// The Redis connections of a coordinator or worker: one for commands, one for blocking reads (a blocked connection
// answers nothing else). Connecting fails fast with the URL as it may be printed (no password) and the reason.
import { Redis } from "ioredis";
import { UserError } from "../../../errors.js";
import { redisLabel } from "./protocol.js";

export function redisUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `"${redisLabel(url)}" is not a URL: write it as redis://[user:password@]host:6379[/db] (rediss:// for TLS)`;
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    return `${redisLabel(url)} is a ${parsed.protocol}// URL: write a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379`;
  }
  if (!parsed.hostname) return `${redisLabel(url)} has no host: write e.g. redis://127.0.0.1:6379`;
  return undefined;
}

export interface RedisPair {
  commands: Redis;
  blocking: Redis;
  close(): Promise<void>;
  /** Drops both connections at once, rejecting a blocked read (a stop signal must not wait for it). */
  disconnect(): void;
}

/**
 * `keepTrying`: a long-lived worker rides out a Redis restart (commands wait and are retried); a coordinator's
 * commands fail after a few attempts, so a lost Redis fails the run instead of hanging it.
 */
export async function connectRedisPair(url: string, keepTrying: boolean): Promise<RedisPair> {
  const problem = redisUrlProblem(url);
  if (problem) throw new UserError(problem);
  const open = async () => {
    // The first connection is not retried: a wrong URL or password is reported at once, not after retries.
    let connected = false;
    let lastError: Error | undefined;
    const redis = new Redis(url, {
      lazyConnect: true,
      connectTimeout: 5_000,
      maxRetriesPerRequest: keepTrying ? null : 3,
      retryStrategy: (times) =>
        !connected ? null : keepTrying ? Math.min(times * 200, 2_000) : times > 5 ? null : 200,
    });
    // Errors surface through the commands; without a listener ioredis would also print every reconnect attempt.
    redis.on("error", (error: Error) => {
      lastError = error;
    });
    try {
      await redis.connect();
      connected = true;
    } catch (error) {
      end(redis);
      // ioredis rejects a refused AUTH with "Connection is closed."; the server's own words came as an error event.
      const reason = (lastError ?? (error as Error)).message;
      throw new UserError(`cannot reach Redis at ${redisLabel(url)}: ${reason}`);
    }
    return redis;
  };
  const commands = await open();
  let blocking: Redis;
  try {
    blocking = await open();
  } catch (error) {
    commands.disconnect();
    throw error;
  }
  return {
    commands,
    blocking,
    close: async () => {
      // A blocked read would hold QUIT back until it times out; nothing waits for its answer any more.
      end(blocking);
      if (commands.status !== "end") await commands.quit().catch(() => {});
      end(commands);
    },
    disconnect: () => {
      end(commands);
      end(blocking);
    },
  };
}

/** Disconnects once: ioredis arms a 2 s timer when a connection that has ended is disconnected again. */
export function end(redis: Redis): void {
  if (redis.status !== "end") redis.disconnect();
}

/** Redis' clock, ms since the epoch: the one clock every machine of a run reads the barrier from. */
export async function redisTime(redis: Redis): Promise<number> {
  const [seconds, micros] = await redis.time();
  return Number(seconds) * 1000 + Number(micros) / 1000;
}

/**
 * This machine's clock minus Redis', from the round trip with the smallest delay (Cristian's algorithm): the error
 * is at most half that round trip.
 */
export async function clockSkew(redis: Redis, samples = 3): Promise<{ skewMs: number; rttMs: number }> {
  let best = { skewMs: 0, rttMs: Number.POSITIVE_INFINITY };
  for (let i = 0; i < samples; i++) {
    const before = nowMs();
    const server = await redisTime(redis);
    const after = nowMs();
    const rtt = after - before;
    if (rtt < best.rttMs) best = { skewMs: (before + after) / 2 - server, rttMs: rtt };
  }
  return { skewMs: round1(best.skewMs), rttMs: round1(best.rttMs) };
}

/** Date.now() with sub-millisecond resolution. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
