// Evidence store: every file a check writes lands under <runDir>/evidence/<checkId>/, redacted, and is listed with its
// sha256 in evidence/manifest.json. The certificate signs the manifest's digest, so one changed byte is detectable.
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { Redactor } from "../secrets/redactor.js";
import type { EvidenceWriter } from "./types.js";

export const MANIFEST_FILE = "manifest.json";

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

  constructor(dir: string, secrets: Redactor = new Redactor()) {
    this.dir = dir;
    this.secrets = secrets;
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
    await mkdir(path.dirname(absolute), { recursive: true });
    // Binary evidence goes through latin1, which maps bytes to characters one to one, so redaction keeps every
    // other byte intact (ASCII secrets are still found).
    const bytes =
      typeof content === "string"
        ? this.secrets.redact(content)
        : Buffer.from(this.secrets.redact(Buffer.from(content).toString("latin1")), "latin1");
    await writeFile(absolute, bytes);
    return relative;
  }

  /** Hashes every file under the evidence folder and writes manifest.json; returns the manifest and its digest. */
  async seal(): Promise<{ manifest: EvidenceManifest; digest: string }> {
    await mkdir(this.dir, { recursive: true });
    const files: Record<string, string> = {};
    for (const relative of await listFiles(this.dir)) {
      if (relative === MANIFEST_FILE) continue;
      files[relative] = sha256(await readFile(path.join(this.dir, relative)));
    }
    const manifest: EvidenceManifest = { version: 1, algorithm: "sha256", files };
    const bytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
    await writeFile(path.join(this.dir, MANIFEST_FILE), bytes);
    return { manifest, digest: sha256(bytes) };
  }
}

export function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Files below dir, relative, with forward slashes, sorted. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join("/"))
    .sort();
}
