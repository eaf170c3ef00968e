// Evidence store: every file a check writes lands under <runDir>/evidence/<checkId>/, redacted, and is listed with its
// sha256 in evidence/manifest.json. The certificate signs the manifest's digest, so one changed byte is detectable.
// Evidence is only regular files: nothing here follows a symbolic link, and anything else found in the folder (a link,
// a FIFO, a socket, a device, an empty folder) was not written by the run, so `gauntlet verify` names it.
import { createHash } from "node:crypto";
import { constants, type Dirent } from "node:fs";
import { lstat, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { UserError } from "../errors.js";
import { Redactor } from "../secrets/redactor.js";
import type { EvidenceWriter } from "./types.js";

export const MANIFEST_FILE = "manifest.json";
/** Marks an evidence folder whose run has not sealed it yet (it was killed, or is still running). */
export const IN_PROGRESS_FILE = ".in-progress";

/** The modes a run creates its folders and files with (evidence, reports, certificate, history). */
export interface OutputModes {
  dir: number;
  file: number;
}

/** Names an explicit umask for Gauntlet's output, e.g. 027 to let a group read it; unset means 077 (private). */
export const UMASK_ENV = "GAUNTLET_UMASK";
const PRIVATE_UMASK = 0o077;

/**
 * 0700 folders and 0600 files, whatever the process umask lets through (it can only narrow them further), unless
 * $GAUNTLET_UMASK replaces the private 077 with an explicit umask of its own.
 */
export function outputModes(env: NodeJS.ProcessEnv = process.env): OutputModes {
  const text = env[UMASK_ENV]?.trim();
  let umask = PRIVATE_UMASK;
  if (text) {
    const value = /^[0-7]{1,4}$/.test(text) ? Number.parseInt(text, 8) : Number.NaN;
    if (!(value <= 0o777)) {
      throw new UserError(
        `${UMASK_ENV}=${text} is not an octal umask: write one like 027 (the group may read), or unset it to keep Gauntlet's output private (077).`,
      );
    }
    if ((value & 0o700) !== 0) {
      throw new UserError(
        `${UMASK_ENV}=${text} takes away your own access to Gauntlet's output: keep its first digit 0, e.g. 027.`,
      );
    }
    umask = value;
  }
  return { dir: 0o777 & ~umask, file: 0o666 & ~umask };
}

export interface EvidenceManifest {
  version: 1;
  algorithm: "sha256";
  /** Path relative to the evidence folder (forward slashes) → hex sha256. */
  files: Record<string, string>;
}

export class EvidenceStore {
  readonly dir: string;
  /** The run's secrets: every file is redacted with them before it is written. */
  readonly secrets: Redactor;
  readonly #used = new Set<string>();
  readonly #closed = new Set<string>();

  /** What the evidence folders and files are created with. */
  readonly modes: OutputModes;

  constructor(dir: string, secrets: Redactor = new Redactor(), modes: OutputModes = outputModes()) {
    this.dir = dir;
    this.secrets = secrets;
    this.modes = modes;
  }

  writerFor(checkId: string): EvidenceWriter {
    return {
      write: (name, content) => this.#write(checkId, name, content),
      writeJson: (name, value) => this.#write(checkId, name, `${JSON.stringify(value, null, 2)}\n`),
    };
  }

  /** Whether this run wrote the file (path relative to the evidence folder). */
  has(relative: string): boolean {
    return this.#used.has(relative);
  }

  /** After a check has ended its writer refuses: a late file would be missing from the sealed manifest. */
  close(checkId: string): void {
    this.#closed.add(checkId);
  }

  async #write(checkId: string, name: string, content: string | Uint8Array): Promise<string> {
    if (this.#closed.has(checkId)) {
      throw new Error(`evidence "${name}" written after the check ${checkId} had ended`);
    }
    const safe = name.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^\.+/, "_");
    let relative = `${checkId}/${safe}`;
    // Two findings may name the same file: keep both rather than overwrite evidence.
    for (let n = 2; this.#used.has(relative); n++) {
      const ext = path.extname(safe);
      relative = `${checkId}/${path.basename(safe, ext)}-${n}${ext}`;
    }
    this.#used.add(relative);
    const absolute = path.join(this.dir, relative);
    await mkdir(path.dirname(absolute), { recursive: true, mode: this.modes.dir });
    if (!(await lstat(path.dirname(absolute))).isDirectory()) {
      throw new Error(
        `evidence folder ${path.dirname(absolute)} is not a folder (a symbolic link?): not written through`,
      );
    }
    // Binary evidence goes through latin1, which maps bytes to characters one to one, so redaction keeps every
    // other byte intact (ASCII secrets are still found).
    const bytes =
      typeof content === "string"
        ? this.secrets.redact(content)
        : Buffer.from(this.secrets.redact(Buffer.from(content).toString("latin1")), "latin1");
    // "wx": the name is new to this run, so anything already there (a planted symbolic link) is refused, not followed.
    await writeFile(absolute, bytes, { flag: "wx", mode: this.modes.file }).catch(
      (error: NodeJS.ErrnoException) => {
        if (error.code !== "EEXIST") throw error;
        throw new Error(
          `evidence ${relative} already exists in ${this.dir}: something other than the run wrote it`,
        );
      },
    );
    return relative;
  }

  /**
   * Hashes every regular file under the evidence folder and writes manifest.json; returns the manifest, its digest
   * and what was left out because it is not a regular file (verify will name those too).
   */
  async seal(): Promise<{ manifest: EvidenceManifest; digest: string; unexpected: UnexpectedEntry[] }> {
    await mkdir(this.dir, { recursive: true, mode: this.modes.dir });
    await rm(path.join(this.dir, IN_PROGRESS_FILE), { force: true });
    const listing = await listEvidence(this.dir);
    const files: Record<string, string> = {};
    for (const relative of listing.files) {
      if (relative === MANIFEST_FILE) continue;
      files[relative] = sha256(await readEvidenceFile(path.join(this.dir, relative)));
    }
    const manifest: EvidenceManifest = { version: 1, algorithm: "sha256", files };
    const bytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
    await writeFile(path.join(this.dir, MANIFEST_FILE), bytes, {
      flag: WRITE_NO_FOLLOW,
      mode: this.modes.file,
    });
    return { manifest, digest: sha256(bytes), unexpected: listing.unexpected };
  }
}

/** Create or truncate, but never through a symbolic link (ELOOP). */
const WRITE_NO_FOLLOW = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;

/** Reads a file without following a symbolic link: one swapped in after listing fails (ELOOP) instead. */
export function readEvidenceFile(file: string): Promise<Buffer> {
  return readFile(file, { flag: constants.O_RDONLY | constants.O_NOFOLLOW });
}

export function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Something in an evidence folder that is not a regular file; path relative, with forward slashes. */
export interface UnexpectedEntry {
  path: string;
  kind:
    | "symbolic link"
    | "FIFO"
    | "socket"
    | "block device"
    | "character device"
    | "empty folder"
    | "unknown entry";
}

/**
 * Regular files below dir and everything else found there, each relative with forward slashes and sorted. Symbolic
 * links are listed, never followed (readdir reports a link as a link, even one to a folder).
 */
export async function listEvidence(dir: string): Promise<{ files: string[]; unexpected: UnexpectedEntry[] }> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const relative = (e: Dirent) =>
    path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join("/");
  const parents = new Set(entries.map((e) => path.resolve(e.parentPath)));
  const files: string[] = [];
  const unexpected: UnexpectedEntry[] = [];
  for (const entry of entries) {
    if (entry.isFile()) files.push(relative(entry));
    else if (entry.isDirectory()) {
      if (!parents.has(path.resolve(entry.parentPath, entry.name))) {
        unexpected.push({ path: relative(entry), kind: "empty folder" });
      }
    } else unexpected.push({ path: relative(entry), kind: kindOf(entry) });
  }
  const byPath = (a: { path: string }, b: { path: string }) =>
    a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
  return { files: files.sort(), unexpected: unexpected.sort(byPath) };
}

/** Regular files below dir, relative, with forward slashes, sorted. */
export async function listFiles(dir: string): Promise<string[]> {
  return (await listEvidence(dir)).files;
}

function kindOf(entry: Dirent): UnexpectedEntry["kind"] {
  if (entry.isSymbolicLink()) return "symbolic link";
  if (entry.isFIFO()) return "FIFO";
  if (entry.isSocket()) return "socket";
  if (entry.isBlockDevice()) return "block device";
  if (entry.isCharacterDevice()) return "character device";
  return "unknown entry";
}
