// The backup artifacts a `recovery.backups[].path` glob matches, newest first, with their ages: the newest one's age
// is how much a restore from backups would lose now, and the gaps between successive artifacts show the schedule
// actually kept (measured from the files, not read from a crontab). Like artifacts.ts (backupsFresh), a matching
// folder (pg_dump -Fd, Redis's appendonlydir) is one artifact, as new as its newest file and as large as all of them.
import type { Dirent } from "node:fs";
import { lstat, readdir, stat } from "node:fs/promises";
import path from "node:path";
import { splitGlob, toPosix } from "../files/glob.js";

const MAX_ENTRIES = 100_000;

export interface BackupArtifact {
  /** Relative to the spec's folder. */
  file: string;
  /** Age at observation time (now − mtime), ms. */
  ageMs: number;
  bytes: number;
}

export interface BackupArtifacts {
  /** The glob as the spec writes it. */
  path: string;
  /** How many entries it matched (non-empty and empty alike). */
  matched: number;
  /** The newest `limit` non-empty artifacts, newest first. */
  newest: BackupArtifact[];
  /** Matching artifacts of size 0 (a backup that wrote nothing is no backup). */
  empty: number;
  /** Set when the folder to search does not exist or cannot be read. */
  error?: string;
}

/** Reads the entries `pattern` (relative to `baseDir`) matches; `now` is the clock the ages are measured against. */
export async function backupArtifacts(
  baseDir: string,
  pattern: string,
  now: number,
  limit = 10,
): Promise<BackupArtifacts> {
  const candidates: string[] = [];
  const glob = splitGlob(baseDir, pattern);
  if (!glob) {
    candidates.push(path.resolve(baseDir, pattern));
  } else {
    let entries: Dirent[];
    try {
      entries = await readdir(glob.root, { recursive: true, withFileTypes: true });
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      const why = e.code === "ENOENT" ? "does not exist" : e.code === "EACCES" ? "cannot be read" : e.message;
      return { path: pattern, matched: 0, newest: [], empty: 0, error: `${glob.root} ${why}` };
    }
    for (const entry of entries.slice(0, MAX_ENTRIES)) {
      const absolute = path.join(entry.parentPath, entry.name);
      if (glob.matcher.test(toPosix(path.relative(glob.root, absolute)))) candidates.push(absolute);
    }
  }
  const found: (BackupArtifact & { mtimeMs: number })[] = [];
  let matched = 0;
  let empty = 0;
  for (const candidate of candidates) {
    const artifact = await describe(candidate);
    if (!artifact) continue;
    matched++;
    if (artifact.bytes === 0) {
      empty++;
      continue;
    }
    found.push({
      file: toPosix(path.relative(baseDir, candidate)) || ".",
      ageMs: Math.max(0, Math.round(now - artifact.mtimeMs)),
      bytes: artifact.bytes,
      mtimeMs: artifact.mtimeMs,
    });
  }
  found.sort((a, b) => b.mtimeMs - a.mtimeMs);
  return {
    path: pattern,
    matched,
    newest: found.slice(0, limit).map(({ mtimeMs: _, ...artifact }) => artifact),
    empty,
  };
}

async function describe(absolute: string): Promise<{ bytes: number; mtimeMs: number } | null> {
  const info = await lstat(absolute).catch(() => null);
  if (!info) return null;
  if (info.isFile()) return { bytes: info.size, mtimeMs: info.mtimeMs };
  if (!info.isDirectory()) return null;
  let bytes = 0;
  let mtimeMs = info.mtimeMs;
  const entries = await readdir(absolute, { recursive: true, withFileTypes: true }).catch(() => []);
  for (const entry of entries.slice(0, MAX_ENTRIES)) {
    if (!entry.isFile()) continue;
    const file = await stat(path.join(entry.parentPath, entry.name)).catch(() => null);
    if (!file) continue;
    bytes += file.size;
    mtimeMs = Math.max(mtimeMs, file.mtimeMs);
  }
  return { bytes, mtimeMs };
}
