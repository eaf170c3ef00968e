// Datastore data, recognised by what it is rather than where it sits or what a folder is called: it changes while the
// store runs, so a digest over it would change by itself. Folders are judged from their own listing (one stat at
// most), files by name where the store fixes it and otherwise by the first bytes, the way `file` would.
import type { Dirent } from "node:fs";
import { constants } from "node:fs";
import { open, stat } from "node:fs/promises";
import path from "node:path";

const HEADER_BYTES = 16;
const SQLITE_MAGIC = "SQLite format 3\u0000";
/** The two byte orders of a SQLite write-ahead log header. */
const SQLITE_WAL_MAGIC = [0x377f0682, 0x377f0683];
const SQLITE_SIDECAR = /^(.+)-(wal|shm|journal)$/;
/** PostgreSQL names a tablespace's folder PG_<major>_<catalog version>. */
const PG_TABLESPACE = /^PG_\d+_\d{9}$/;
/** Redis 7 multi-part AOF: <name>.manifest beside <name>.<seq>.base.rdb|aof and <name>.<seq>.incr.aof. */
const REDIS_AOF_PART = /^(.+)\.\d+\.(base\.(rdb|aof)|incr\.aof)$/;
const REDIS_RDB = /^REDIS\d{4}/;
/** An AOF holds commands in the Redis protocol: `*<argc>\r\n$<len>\r\n`. */
const REDIS_RESP = /^\*\d+\r\n\$\d+\r\n/;
/** Alertmanager's state snapshots, fixed names in its --storage.path. */
const ALERTMANAGER_STATE = new Set(["nflog", "silences"]);

/** What a folder holding datastore data is, from its listing; undefined for anything else. */
export async function datastoreFolder(dir: string, entries: readonly Dirent[]): Promise<string | undefined> {
  const files = new Set(entries.filter((e) => e.isFile()).map((e) => e.name));
  const folders = new Set(entries.filter((e) => e.isDirectory()).map((e) => e.name));
  if (PG_TABLESPACE.test(path.basename(dir))) return "PostgreSQL tablespace";
  if (files.has("PG_VERSION") && folders.has("global")) {
    const control = await stat(path.join(dir, "global", "pg_control")).catch(() => null);
    if (control?.isFile()) return "PostgreSQL data directory";
  }
  if (folders.has("wal") && folders.has("chunks_head")) return "Prometheus TSDB";
  if (files.has("meta.json") && files.has("index") && folders.has("chunks")) return "Prometheus TSDB block";
  if (path.basename(dir) === "appendonlydir" || isRedisAofFolder(files)) return "Redis append-only files";
  if (files.has("ibdata1") || files.has("mysql.ibd")) return "MySQL data directory";
  if (files.has("WiredTiger") && files.has("WiredTiger.wt")) return "MongoDB data directory";
  if (files.has("meta.properties") && files.has("recovery-point-offset-checkpoint"))
    return "Kafka log directory";
  return undefined;
}

function isRedisAofFolder(files: ReadonlySet<string>): boolean {
  for (const name of files) {
    const part = REDIS_AOF_PART.exec(name);
    if (part && files.has(`${part[1]}.manifest`)) return true;
  }
  return false;
}

/** What a regular file holding datastore data is, by its name and first bytes; undefined for anything else. */
export async function datastoreFile(file: string): Promise<string | undefined> {
  const name = path.basename(file);
  if (ALERTMANAGER_STATE.has(name)) return "Alertmanager state";
  if (name.endsWith(".aof")) return "Redis append-only file";
  const sidecar = SQLITE_SIDECAR.exec(name);
  if (sidecar) {
    if (isSqlite(await header(path.join(path.dirname(file), sidecar[1]!)))) return "SQLite journal";
  }
  const bytes = await header(file);
  if (isSqlite(bytes)) return "SQLite database";
  if (bytes.length >= 4 && SQLITE_WAL_MAGIC.includes(bytes.readUInt32BE(0))) return "SQLite write-ahead log";
  const text = bytes.toString("latin1");
  if (REDIS_RDB.test(text)) return "Redis RDB snapshot";
  if (REDIS_RESP.test(text)) return "Redis append-only file";
  return undefined;
}

function isSqlite(bytes: Buffer): boolean {
  return bytes.toString("latin1", 0, SQLITE_MAGIC.length) === SQLITE_MAGIC;
}

/** The first bytes of a file; empty when it cannot be read. Non-blocking, so a FIFO in its place cannot hang us. */
async function header(file: string): Promise<Buffer> {
  const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK).catch(() => null);
  if (!handle) return Buffer.alloc(0);
  try {
    const buffer = Buffer.alloc(HEADER_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, HEADER_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } catch {
    return Buffer.alloc(0);
  } finally {
    await handle.close();
  }
}

/** Files a running process keeps for itself: pid files and PostgreSQL's socket lock, rewritten at every start. */
export function isRuntimeState(name: string): boolean {
  return name.endsWith(".pid") || /^\.s\.PGSQL\.\d+\.lock$/.test(name);
}
