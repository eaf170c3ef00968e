// Files a spec entry names: a plain path (a file, or every file under a folder) or a glob with `*`, `?` and `**`,
// relative to the spec's folder. Used wherever the spec lists files (rule files, logs, scripts); the revision digest
// walks the same patterns with its own filters (systemFiles.ts).
import { readdir, stat } from "node:fs/promises";
import path from "node:path";

const SKIPPED_FOLDERS = new Set([".git", "node_modules", ".gauntlet"]);
/** A folder holding this file is Gauntlet's output (a run copied with --out), never the system. */
export const CERTIFICATE_FILE = "certificate.dsse.json";

async function isFileAt(file: string): Promise<boolean> {
  return (await stat(file).catch(() => null))?.isFile() ?? false;
}

/**
 * Files a spec entry names, as absolute paths: a plain path (a file, or every file under a folder) or a glob with
 * `*`, `?` and `**`. Entries that match nothing are skipped; checks report missing files, the digest only covers what
 * exists.
 */
export async function expandPattern(baseDir: string, pattern: string): Promise<string[]> {
  const glob = splitGlob(baseDir, pattern);
  if (!glob) return filesAt(path.resolve(baseDir, pattern));
  const found: string[] = [];
  for (const relative of await walk(glob.root)) {
    if (glob.matcher.test(relative)) found.push(path.join(glob.root, relative));
  }
  return found.sort();
}

export function isGlob(pattern: string): boolean {
  return /[*?]/.test(pattern);
}

/**
 * A glob as the folder to walk (everything before the first segment with `*` or `?`, absolute) and a matcher for
 * paths relative to it; null for a plain path.
 */
export function splitGlob(baseDir: string, pattern: string): { root: string; matcher: RegExp } | null {
  if (!isGlob(pattern)) return null;
  const segments = toPosix(path.resolve(baseDir, pattern)).split("/");
  const firstGlob = segments.findIndex((s) => isGlob(s));
  const root = segments.slice(0, firstGlob).join("/") || "/";
  return { root, matcher: globToRegExp(segments.slice(firstGlob).join("/")) };
}

/** `*` and `?` within one path segment, `**` across segments; anchored at both ends. */
export function globToRegExp(glob: string): RegExp {
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i]!;
    if (char === "*" && glob[i + 1] === "*") {
      // "**/" matches zero or more folders; a trailing "**" matches everything below.
      if (glob[i + 2] === "/") {
        source += "(?:[^/]+/)*";
        i += 2;
      } else {
        source += ".*";
        i += 1;
      }
    } else if (char === "*") {
      source += "[^/]*";
    } else if (char === "?") {
      source += "[^/]";
    } else {
      source += char.replace(/[.+^${}()|[\]\\]/g, "\\$&");
    }
  }
  return new RegExp(`^${source}$`);
}

async function filesAt(target: string): Promise<string[]> {
  const info = await stat(target).catch(() => null);
  if (!info) return [];
  if (info.isFile()) return [target];
  if (info.isDirectory()) return (await walk(target)).map((relative) => path.join(target, relative));
  return [];
}

/**
 * Files under dir, relative with forward slashes; skips .git, node_modules and Gauntlet's own output (.gauntlet/, a
 * folder holding a certificate) — written after the digest, they would make every later verification fail — and does
 * not follow folder links.
 */
export async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  const visit = async (relative: string): Promise<void> => {
    const entries = await readdir(path.join(dir, relative), { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const child = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (SKIPPED_FOLDERS.has(entry.name)) continue;
        if (await isFileAt(path.join(dir, child, CERTIFICATE_FILE))) continue;
        await visit(child);
      } else if (entry.isFile()) {
        out.push(child);
      } else if (entry.isSymbolicLink()) {
        const info = await stat(path.join(dir, child)).catch(() => null);
        if (info?.isFile()) out.push(child);
      }
    }
  };
  await visit("");
  return out.sort();
}

/** Whether `file` is `dir` or lies below it (both absolute). */
export function isInside(dir: string, file: string): boolean {
  const relative = path.relative(dir, file);
  return (
    relative === "" ||
    (relative !== ".." && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative))
  );
}

export function toPosix(file: string): string {
  return file.split(path.sep).join("/");
}
