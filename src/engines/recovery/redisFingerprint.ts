// What a Redis holds, comparable across two servers: keys per database (INFO keyspace) and, for a sample of keys of
// the restored copy, a digest of the type and value read from both sides.
import { createHash } from "node:crypto";
import type { Redis } from "ioredis";

/** Collections above this many members are compared by size only, so a drill never reads a huge key whole. */
const MAX_MEMBERS = 10_000;

export interface KeyspaceCounts {
  /** db index → keys */
  [db: string]: number;
}

export async function keyspace(client: Redis): Promise<KeyspaceCounts> {
  const info = await client.info("keyspace");
  const counts: KeyspaceCounts = {};
  for (const match of info.matchAll(/^db(\d+):keys=(\d+)/gm)) counts[match[1]!] = Number(match[2]);
  return counts;
}

/** Up to `count` keys of db, by SCAN (deterministic for a given dataset, unlike RANDOMKEY). */
export async function sampleKeys(client: Redis, count: number): Promise<string[]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await client.scan(cursor, "COUNT", 200);
    cursor = next;
    for (const key of batch) {
      if (keys.length < count) keys.push(key);
    }
  } while (cursor !== "0" && keys.length < count);
  return keys;
}

/** sha256 of the key's type and value (null when the key does not exist). */
export async function valueDigest(client: Redis, key: string): Promise<string | null> {
  const type = await client.type(key);
  if (type === "none") return null;
  let value: unknown;
  switch (type) {
    case "string":
      value = (await client.getBuffer(key))?.toString("base64");
      break;
    case "hash": {
      const size = await client.hlen(key);
      value = size > MAX_MEMBERS ? { size } : Object.entries(await client.hgetall(key)).sort();
      break;
    }
    case "list": {
      const size = await client.llen(key);
      value = size > MAX_MEMBERS ? { size } : await client.lrange(key, 0, -1);
      break;
    }
    case "set": {
      const size = await client.scard(key);
      value = size > MAX_MEMBERS ? { size } : (await client.smembers(key)).sort();
      break;
    }
    case "zset": {
      const size = await client.zcard(key);
      value = size > MAX_MEMBERS ? { size } : await client.zrange(key, 0, -1, "WITHSCORES");
      break;
    }
    case "stream":
      value = { size: await client.xlen(key), first: await client.xrange(key, "-", "+", "COUNT", 100) };
      break;
    default:
      // Module types: their size is all a generic client can compare.
      value = { type, size: await client.memory("USAGE", key) };
  }
  return createHash("sha256")
    .update(JSON.stringify([type, value]))
    .digest("hex");
}
