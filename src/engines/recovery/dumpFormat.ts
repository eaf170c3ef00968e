// What a backup artifact is, from its first bytes (never its name alone: `orders.dump` may hold plain SQL): the
// restore program and its flags follow from it, and an artifact that is none of them is said to be so.
import { open, readdir } from "node:fs/promises";
import { gunzipSync } from "node:zlib";
import type { Artifact } from "./artifacts.js";

export type DumpFormat =
  | "pg-custom" // pg_dump -Fc
  | "pg-directory" // pg_dump -Fd
  | "pg-tar" // pg_dump -Ft
  | "pg-plain" // pg_dump (SQL)
  | "pg-plain-gzip" // pg_dump | gzip
  | "pg-cluster" // pg_dumpall (SQL, with \connect)
  | "redis-rdb"
  | "redis-aof" // a single appendonly.aof (RESP commands, maybe with an RDB preamble)
  | "redis-aof-dir" // Redis 7's appendonlydir with its manifest
  | "empty"
  | "unknown";

const HEAD_BYTES = 64 * 1024;

export async function detectFormat(artifact: Artifact): Promise<DumpFormat> {
  if (artifact.kind === "folder") {
    const names = await readdir(artifact.path).catch(() => [] as string[]);
    if (names.includes("toc.dat")) return "pg-directory";
    if (names.some((n) => n.endsWith(".manifest"))) return "redis-aof-dir";
    return "unknown";
  }
  if (artifact.bytes === 0) return "empty";
  const head = await readHead(artifact.path);
  return formatOf(head);
}

/** The format of an artifact from its first bytes (exported for tests). */
export function formatOf(head: Buffer): DumpFormat {
  if (head.length === 0) return "empty";
  if (head.subarray(0, 5).toString("latin1") === "PGDMP") return "pg-custom";
  if (head.subarray(257, 262).toString("latin1") === "ustar") return "pg-tar";
  if (head[0] === 0x1f && head[1] === 0x8b) {
    const inner = gunzipPrefix(head);
    const innerFormat = inner ? formatOf(inner) : "unknown";
    return innerFormat === "pg-plain" ? "pg-plain-gzip" : "unknown";
  }
  if (head.subarray(0, 5).toString("latin1") === "REDIS") return "redis-rdb";
  const text = head.toString("utf8");
  if (/^\*\d+\r\n\$\d+\r\n/.test(text)) return "redis-aof";
  if (/PostgreSQL database cluster dump/.test(text)) return "pg-cluster";
  if (
    /PostgreSQL database dump/.test(text) ||
    /^(\s*(--[^\n]*)?\n)*\s*(SET|CREATE|BEGIN|COPY|INSERT|SELECT|ALTER|DROP)\b/i.test(text)
  )
    return "pg-plain";
  return "unknown";
}

export function isPostgresFormat(format: DumpFormat): boolean {
  return format.startsWith("pg-");
}

export function isRedisFormat(format: DumpFormat): boolean {
  return format.startsWith("redis-");
}

async function readHead(file: string): Promise<Buffer> {
  const handle = await open(file, "r");
  try {
    const buffer = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, HEAD_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** The start of a gzip stream's content (a prefix of the file cannot be finished, so the error is expected). */
function gunzipPrefix(head: Buffer): Buffer | null {
  try {
    return gunzipSync(head, { finishFlush: 2 /* Z_SYNC_FLUSH */ });
  } catch {
    return null;
  }
}

export function describeFormat(format: DumpFormat): string {
  return {
    "pg-custom": "pg_dump custom format (-Fc)",
    "pg-directory": "pg_dump directory format (-Fd)",
    "pg-tar": "pg_dump tar format (-Ft)",
    "pg-plain": "plain SQL (pg_dump)",
    "pg-plain-gzip": "gzip-compressed plain SQL",
    "pg-cluster": "pg_dumpall SQL (every database)",
    "redis-rdb": "Redis RDB snapshot",
    "redis-aof": "Redis append-only file",
    "redis-aof-dir": "Redis append-only folder (manifest and files)",
    empty: "an empty file",
    unknown: "no format Gauntlet recognises",
  }[format];
}
