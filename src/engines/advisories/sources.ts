// Loads OSV advisories from what `security.advisories` names: a folder of OSV JSON files (read recursively), one OSV
// JSON file (an object or a list of them), or a zip such as osv.dev's per-ecosystem
// https://osv-vulnerabilities.storage.googleapis.com/<ecosystem>/all.zip, read entry by entry (fflate inflates each)
// so that the archive is never held in memory whole. Every advisory is parsed and counted per ecosystem; only those about a
// package the lockfiles hold are kept. A file that cannot be read is a located problem; the rest are still used.
import type { Dirent } from "node:fs";
import { type FileHandle, open, readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { inflateSync } from "fflate";
import { toPosix } from "../files/glob.js";
import { parseJson, type TextError } from "./jsonText.js";
import { type Advisory, parseOsv } from "./osv.js";
import type { Ecosystem } from "./packages.js";

/** One OSV file larger than this is not an advisory (the largest on osv.dev are a few hundred KB). */
export const MAX_ADVISORY_BYTES = 16 * 1024 * 1024;
/** Entries read from one zip; osv.dev's largest archive (npm, with its malicious-package reports) holds ~250 000. */
export const MAX_ZIP_ENTRIES = 2_000_000;
/** Uncompressed bytes read from one zip (npm's all.zip is ~1.5 GB unpacked). */
export const MAX_ZIP_BYTES = 8 * 1024 * 1024 * 1024;
const MAX_FOLDER_FILES = 2_000_000;
const MAX_PROBLEMS_KEPT = 50;

export interface AdvisoryProblem {
  /** The file, or `archive.zip:entry.json`, relative to the spec's folder. */
  file: string;
  line?: number;
  column?: number;
  message: string;
}

export interface AdvisorySource {
  /** As the spec names it. */
  configured: string;
  /** Relative to the spec's folder. */
  path: string;
  kind: "folder" | "zip" | "file" | "missing";
  /** Why nothing could be read from it. */
  error?: string;
  /** JSON files (or zip entries) read. */
  files: number;
  /** Advisories that are not withdrawn, per ecosystem Gauntlet reads lockfiles of. */
  perEcosystem: Partial<Record<Ecosystem, number>>;
  /** Advisories only about other ecosystems (Maven, Debian, …). */
  otherEcosystems: number;
  withdrawn: number;
  gitRangesIgnored: number;
  /** Files or entries that are not OSV advisories; the first MAX_PROBLEMS_KEPT are in `problems`. */
  invalid: number;
  problems: AdvisoryProblem[];
  /** Set when a cap stopped the read early. */
  truncated?: string;
}

export interface LoadedAdvisories {
  sources: AdvisorySource[];
  /** Advisories per ecosystem over every source (an id counted once). */
  perEcosystem: Record<Ecosystem, number>;
  /** Only those about a wanted package, by `ecosystem|name`; an id read twice is kept once. */
  relevant: Map<string, Advisory[]>;
}

export function packageKey(ecosystem: Ecosystem, name: string): string {
  return `${ecosystem}|${name}`;
}

export async function loadAdvisories(
  configured: readonly string[],
  baseDir: string,
  wanted: ReadonlySet<string>,
  signal?: AbortSignal,
): Promise<LoadedAdvisories> {
  const perEcosystem: Record<Ecosystem, number> = { npm: 0, PyPI: 0, Go: 0, "crates.io": 0 };
  const seenIds = new Map<Ecosystem, Set<string>>();
  const relevant = new Map<string, Advisory[]>();
  const keptIds = new Set<string>();
  const sources: AdvisorySource[] = [];
  for (const entry of configured) {
    const absolute = path.resolve(baseDir, entry);
    const source: AdvisorySource = {
      configured: entry,
      path: toPosix(path.relative(baseDir, absolute)) || ".",
      kind: "missing",
      files: 0,
      perEcosystem: {},
      otherEcosystems: 0,
      withdrawn: 0,
      gitRangesIgnored: 0,
      invalid: 0,
      problems: [],
    };
    sources.push(source);
    const take = (text: string, file: string) => {
      source.files++;
      let value: unknown;
      try {
        value = parseJson(text, file);
      } catch (error) {
        const e = error as TextError;
        problem(source, {
          file,
          ...(e.line ? { line: e.line } : {}),
          ...(e.column ? { column: e.column } : {}),
          message: e.message,
        });
        return;
      }
      const items = Array.isArray(value) ? value : [value];
      for (const [index, item] of items.entries()) {
        const where = Array.isArray(value) ? `${file}[${index}]` : file;
        const parsed = parseOsv(item, where);
        if (parsed.kind === "invalid") {
          problem(source, { file: where, message: `${where}: ${parsed.message}` });
          continue;
        }
        if (parsed.kind === "withdrawn") {
          source.withdrawn++;
          continue;
        }
        source.gitRangesIgnored += parsed.gitRanges;
        if (parsed.ecosystems.length === 0) source.otherEcosystems++;
        for (const ecosystem of parsed.ecosystems) {
          source.perEcosystem[ecosystem] = (source.perEcosystem[ecosystem] ?? 0) + 1;
          const ids = seenIds.get(ecosystem) ?? new Set<string>();
          seenIds.set(ecosystem, ids);
          if (!ids.has(parsed.advisory.id)) {
            ids.add(parsed.advisory.id);
            perEcosystem[ecosystem]++;
          }
        }
        const keys = parsed.advisory.affected.map((a) => packageKey(a.ecosystem, a.name));
        if (!keys.some((k) => wanted.has(k)) || keptIds.has(parsed.advisory.id)) continue;
        keptIds.add(parsed.advisory.id);
        for (const key of new Set(keys)) {
          if (wanted.has(key)) relevant.set(key, [...(relevant.get(key) ?? []), parsed.advisory]);
        }
      }
    };
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(entry)) {
      // Downloading hundreds of MB inside an assessment would make its result depend on the network and the hour.
      source.error = `${entry} is a URL: Gauntlet reads advisories from files only. Download it first (curl -fLo advisories/all.zip ${entry}) and name the file`;
      continue;
    }
    const info = await stat(absolute).catch(() => null);
    if (!info) {
      source.error = `${source.path} does not exist`;
      continue;
    }
    try {
      if (info.isDirectory()) {
        source.kind = "folder";
        await readFolder(absolute, baseDir, source, take, signal);
      } else if (await isZip(absolute)) {
        source.kind = "zip";
        await readZip(absolute, source, take, signal);
      } else {
        source.kind = "file";
        if (info.size > MAX_ADVISORY_BYTES)
          source.error = `${source.path} is larger than ${MAX_ADVISORY_BYTES / 1048576} MiB`;
        else take(await readFile(absolute, "utf8"), source.path);
      }
    } catch (error) {
      if (signal?.aborted) throw error;
      source.error = `${source.path}: ${(error as Error).message}`;
    }
    if (!source.error && source.files === 0) {
      source.error =
        source.kind === "zip"
          ? `${source.path} holds no .json entry: it is not an OSV archive (osv.dev's all.zip) or not a zip`
          : `${source.path} holds no .json file`;
    }
  }
  return { sources, perEcosystem, relevant };
}

function problem(source: AdvisorySource, found: AdvisoryProblem): void {
  source.invalid++;
  if (source.problems.length < MAX_PROBLEMS_KEPT) source.problems.push(found);
}

async function readFolder(
  root: string,
  baseDir: string,
  source: AdvisorySource,
  take: (text: string, file: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  const pending = [root];
  let files = 0;
  while (pending.length > 0) {
    signal?.throwIfAborted();
    const dir = pending.pop()!;
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => [] as Dirent[]);
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      const absolute = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!entry.name.startsWith(".")) pending.push(absolute);
        continue;
      }
      if (!entry.name.endsWith(".json") || !(entry.isFile() || entry.isSymbolicLink())) continue;
      if (++files > MAX_FOLDER_FILES) {
        source.truncated = `stopped after ${MAX_FOLDER_FILES} files`;
        return;
      }
      const relative = toPosix(path.relative(baseDir, absolute));
      const info = await stat(absolute).catch(() => null);
      if (!info?.isFile()) continue;
      if (info.size > MAX_ADVISORY_BYTES) {
        source.files++;
        problem(source, {
          file: relative,
          message: `${relative} is larger than ${MAX_ADVISORY_BYTES / 1048576} MiB: not an advisory`,
        });
        continue;
      }
      take(await readFile(absolute, "utf8"), relative);
    }
  }
}

async function isZip(file: string): Promise<boolean> {
  const handle = await open(file, "r");
  try {
    const head = Buffer.alloc(4);
    await handle.read(head, 0, 4, 0);
    const magic = head.readUInt32LE(0);
    return magic === 0x04034b50 || magic === 0x06054b50 || file.toLowerCase().endsWith(".zip");
  } finally {
    await handle.close();
  }
}

/**
 * Reads the zip's central directory (zip64 too: npm's all.zip has more than 65 535 entries), then each .json entry in
 * file order through a sliding window of large sequential reads, inflated with fflate into a buffer of its declared
 * size (so an entry cannot unpack beyond MAX_ADVISORY_BYTES). fflate's streaming Unzip was tried first: it recurses
 * once per entry within a chunk, overflows the stack on archives of small files, and slows down quadratically.
 */
async function readZip(
  file: string,
  source: AdvisorySource,
  take: (text: string, file: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  const handle = await open(file, "r");
  try {
    const reader = windowReader(handle, (await handle.stat()).size);
    const entries = await centralDirectory(reader);
    const decoder = new TextDecoder("utf-8");
    let total = 0;
    let read = 0;
    for (const entry of entries.sort((a, b) => a.offset - b.offset)) {
      if (!entry.name.endsWith(".json")) continue;
      if (++read > MAX_ZIP_ENTRIES) {
        source.truncated = `stopped after ${MAX_ZIP_ENTRIES} entries`;
        return;
      }
      if (read % 1000 === 0) signal?.throwIfAborted();
      const where = `${source.path}:${entry.name}`;
      const skip = (message: string) => {
        source.files++;
        problem(source, { file: where, message: `${where} ${message}` });
      };
      if (entry.encrypted) {
        skip("is encrypted");
        continue;
      }
      if (entry.size > MAX_ADVISORY_BYTES || entry.compressedSize > 2 * MAX_ADVISORY_BYTES) {
        skip(`is larger than ${MAX_ADVISORY_BYTES / 1048576} MiB: not an advisory`);
        continue;
      }
      if (entry.method !== 0 && entry.method !== 8) {
        skip(`is compressed with method ${entry.method}; only stored and deflated entries are read`);
        continue;
      }
      total += entry.size;
      if (total > MAX_ZIP_BYTES) {
        source.truncated = `stopped after ${MAX_ZIP_BYTES / 1073741824} GiB unpacked`;
        return;
      }
      const local = await reader.bytes(entry.offset, 30);
      if (local.readUInt32LE(0) !== 0x04034b50) {
        skip("has no local header where the central directory says: the archive is damaged");
        continue;
      }
      const dataStart = entry.offset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
      const data = await reader.bytes(dataStart, entry.compressedSize);
      let content: Uint8Array;
      try {
        content = entry.method === 0 ? data : inflateSync(data, { out: new Uint8Array(entry.size) });
      } catch (error) {
        skip(`cannot be unpacked: ${(error as Error).message}`);
        continue;
      }
      take(decoder.decode(content), where);
    }
  } finally {
    await handle.close();
  }
}

interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  offset: number;
  encrypted: boolean;
}

/** A file read through one large window that moves forward: entries in offset order cost one read per window. */
function windowReader(handle: FileHandle, fileSize: number) {
  const WINDOW = 8 * 1024 * 1024;
  let start = 0;
  let buffer = Buffer.alloc(0);
  return {
    fileSize,
    async bytes(offset: number, length: number): Promise<Buffer> {
      if (offset < 0 || offset + length > fileSize)
        throw new Error("an entry points outside the archive: it is damaged");
      if (offset < start || offset + length > start + buffer.length) {
        const size = Math.min(Math.max(length, WINDOW), fileSize - offset);
        buffer = Buffer.alloc(size);
        const { bytesRead } = await handle.read(buffer, 0, size, offset);
        buffer = buffer.subarray(0, bytesRead);
        start = offset;
        if (bytesRead < length) throw new Error("the archive ends early: it is damaged");
      }
      return buffer.subarray(offset - start, offset - start + length);
    },
  };
}

async function centralDirectory(reader: ReturnType<typeof windowReader>): Promise<ZipEntry[]> {
  const tailLength = Math.min(reader.fileSize, 22 + 0xffff + 20);
  const tail = Buffer.from(await reader.bytes(reader.fileSize - tailLength, tailLength));
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd === -1) throw new Error("no end of central directory: not a zip, or a damaged one");
  let count = tail.readUInt16LE(eocd + 10);
  let size = tail.readUInt32LE(eocd + 12);
  let offset = tail.readUInt32LE(eocd + 16);
  if (count === 0xffff || size === 0xffffffff || offset === 0xffffffff) {
    const locator = eocd - 20;
    if (locator < 0 || tail.readUInt32LE(locator) !== 0x07064b50)
      throw new Error("a zip64 archive without its locator");
    const record = Buffer.from(await reader.bytes(Number(tail.readBigUInt64LE(locator + 8)), 56));
    if (record.readUInt32LE(0) !== 0x06064b50) throw new Error("a zip64 archive without its end record");
    count = Number(record.readBigUInt64LE(32));
    size = Number(record.readBigUInt64LE(40));
    offset = Number(record.readBigUInt64LE(48));
  }
  if (size > 1024 * 1024 * 1024) throw new Error("its central directory is larger than 1 GiB");
  const directory = Buffer.from(await reader.bytes(offset, size));
  const entries: ZipEntry[] = [];
  let at = 0;
  for (let n = 0; n < count; n++) {
    if (at + 46 > directory.length || directory.readUInt32LE(at) !== 0x02014b50) {
      throw new Error(`entry ${n + 1} of ${count} of its central directory is damaged`);
    }
    const nameLength = directory.readUInt16LE(at + 28);
    const extraLength = directory.readUInt16LE(at + 30);
    const commentLength = directory.readUInt16LE(at + 32);
    const entry: ZipEntry = {
      name: directory.toString("utf8", at + 46, at + 46 + nameLength),
      method: directory.readUInt16LE(at + 10),
      compressedSize: directory.readUInt32LE(at + 20),
      size: directory.readUInt32LE(at + 24),
      offset: directory.readUInt32LE(at + 42),
      encrypted: (directory.readUInt16LE(at + 8) & 1) === 1,
    };
    // Zip64: the fields written as 0xFFFFFFFF are in the 0x0001 extra field, in this order.
    const extra = directory.subarray(at + 46 + nameLength, at + 46 + nameLength + extraLength);
    for (let e = 0; e + 4 <= extra.length; ) {
      const id = extra.readUInt16LE(e);
      const length = extra.readUInt16LE(e + 2);
      if (id === 0x0001) {
        let field = e + 4;
        for (const key of ["size", "compressedSize", "offset"] as const) {
          if (entry[key] === 0xffffffff && field + 8 <= e + 4 + length) {
            entry[key] = Number(extra.readBigUInt64LE(field));
            field += 8;
          }
        }
      }
      e += 4 + length;
    }
    entries.push(entry);
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}
