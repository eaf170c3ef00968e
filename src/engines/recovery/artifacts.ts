// The files a backup writes: the newest entry matching `recovery.backups[].path` (a file, or a folder for formats that
// are one, like pg_dump -Fd or Redis's appendonlydir), with its size and age. Nothing is read but metadata.
import type { Dirent } from "node:fs";
import { lstat, readdir, stat } from "node:fs/promises";
import path from "node:path";
import { splitGlob, toPosix } from "../files/glob.js";

/** Entries past this are not walked: a backup folder with more is summarised, not listed. */
const MAX_ENTRIES = 100_000;

export interface Artifact {
  /** Absolute path. */
  path: string;
  /** Relative to the folder the pattern is relative to. */
  display: string;
  kind: "file" | "folder";
  bytes: number;
  mtimeMs: number;
}

export interface ArtifactSearch {
  pattern: string;
  /** How many entries matched. */
  matched: number;
  newest: Artifact | null;
  /** Set when the folder to search does not exist or cannot be read. */
  error?: string;
}

/** The newest entry matching `pattern` (relative to baseDir); folders count with the total size of their files. */
export async function newestArtifact(baseDir: string, pattern: string): Promise<ArtifactSearch> {
  const candidates: string[] = [];
  const glob = splitGlob(baseDir, pattern);
  if (!glob) {
    const absolute = path.resolve(baseDir, pattern);
    const found = await stat(absolute).catch((e: NodeJS.ErrnoException) => e);
    if (found instanceof Error)
      return { pattern, matched: 0, newest: null, error: errorText(found, absolute) };
    candidates.push(absolute);
  } else {
    let entries: Dirent[];
    try {
      entries = await readdir(glob.root, { recursive: true, withFileTypes: true });
    } catch (error) {
      return {
        pattern,
        matched: 0,
        newest: null,
        error: errorText(error as NodeJS.ErrnoException, glob.root),
      };
    }
    for (const entry of entries.slice(0, MAX_ENTRIES)) {
      const absolute = path.join(entry.parentPath ?? entry.path, entry.name);
      if (glob.matcher.test(toPosix(path.relative(glob.root, absolute)))) candidates.push(absolute);
    }
  }
  let newest: Artifact | null = null;
  for (const candidate of candidates) {
    const artifact = await describe(baseDir, candidate);
    if (artifact && (!newest || artifact.mtimeMs > newest.mtimeMs)) newest = artifact;
  }
  return { pattern, matched: candidates.length, newest };
}

async function describe(baseDir: string, absolute: string): Promise<Artifact | null> {
  const info = await lstat(absolute).catch(() => null);
  if (!info) return null;
  const display = toPosix(path.relative(baseDir, absolute)) || ".";
  if (info.isFile())
    return { path: absolute, display, kind: "file", bytes: info.size, mtimeMs: info.mtimeMs };
  if (!info.isDirectory()) return null;
  // A folder-format backup is as new as its newest file and as large as all of them.
  let bytes = 0;
  let mtimeMs = info.mtimeMs;
  const entries = await readdir(absolute, { recursive: true, withFileTypes: true }).catch(() => []);
  for (const entry of entries.slice(0, MAX_ENTRIES)) {
    if (!entry.isFile()) continue;
    const file = await stat(path.join(entry.parentPath ?? entry.path, entry.name)).catch(() => null);
    if (!file) continue;
    bytes += file.size;
    mtimeMs = Math.max(mtimeMs, file.mtimeMs);
  }
  return { path: absolute, display, kind: "folder", bytes, mtimeMs };
}

function errorText(error: NodeJS.ErrnoException, where: string): string {
  if (error.code === "ENOENT") return `${where} does not exist`;
  if (error.code === "EACCES") return `${where} cannot be read (permission denied)`;
  return `${where}: ${error.message}`;
}
