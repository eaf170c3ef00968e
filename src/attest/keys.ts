// Ed25519 signing keys for certificates: a PKCS8 private key (mode 0600) and an SPKI public key, both PEM.
// A keyid is the hex sha256 of the public key's SPKI DER, so anyone holding the .pub file can recompute it.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { mkdir, open, readFile, rename, stat, unlink } from "node:fs/promises";
import path from "node:path";
import { sha256 } from "../core/evidence.js";
import { UserError } from "../errors.js";

export const PRIVATE_KEY_FILE = "gauntlet.key";
export const PUBLIC_KEY_FILE = "gauntlet.pub";
/** Where keygen writes the pair and verify looks for the trusted public key. */
export const DEFAULT_KEY_DIR = path.join(".gauntlet", "keys");

export interface KeyPairFiles {
  privateKeyPath: string;
  publicKeyPath: string;
  keyid: string;
}

export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  keyid: string;
  /** Problems worth telling the user that do not stop signing (a readable key with --insecure-key-permissions). */
  warnings: string[];
}

export interface VerifyingKey {
  publicKey: KeyObject;
  keyid: string;
}

/** Hex sha256 of the SPKI DER encoding of a public key. */
export function keyidOf(publicKey: KeyObject): string {
  return sha256(publicKey.export({ type: "spki", format: "der" }));
}

/** Writes gauntlet.key (PKCS8, 0600) and gauntlet.pub (SPKI) into outDir; refuses to replace a key unless forced. */
export async function generateKeyPair(
  outDir: string,
  options: { force?: boolean } = {},
): Promise<KeyPairFiles> {
  const privateKeyPath = path.join(outDir, PRIVATE_KEY_FILE);
  const publicKeyPath = path.join(outDir, PUBLIC_KEY_FILE);
  if (!options.force) {
    for (const file of [privateKeyPath, publicKeyPath]) {
      if (await exists(file)) {
        throw new UserError(
          `${file} already exists; keep it, or pass --force to replace it (certificates signed with the old key will no longer verify against the new one).`,
        );
      }
    }
  }
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const privatePem = privateKey.export({ type: "pkcs8", format: "pem" }) as string;
  const publicPem = publicKey.export({ type: "spki", format: "pem" }) as string;
  await mkdir(outDir, { recursive: true, mode: 0o700 });
  await writeNew(privateKeyPath, privatePem, 0o600, Boolean(options.force));
  await writeNew(publicKeyPath, publicPem, 0o644, Boolean(options.force));
  return { privateKeyPath, publicKeyPath, keyid: keyidOf(publicKey) };
}

/**
 * Loads an Ed25519 private key from a PEM file. A key that group or others may read is refused (anyone who read it can
 * sign certificates): unless allowInsecurePermissions (--insecure-key-permissions), which turns that into a warning.
 */
export async function loadPrivateKey(
  file: string,
  options: { allowInsecurePermissions?: boolean } = {},
): Promise<SigningKey> {
  const pem = await readKeyFile(file, "private");
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch {
    const hint = pem.includes("PUBLIC KEY") ? " (it holds a public key; pass the .key file)" : "";
    throw new UserError(`${file} is not a PEM private key${hint}; create one with gauntlet keygen.`);
  }
  requireEd25519(privateKey, file);
  const publicKey = createPublicKey(privateKey);
  const warnings: string[] = [];
  const mode = (await stat(file)).mode & 0o777;
  if (process.platform !== "win32" && (mode & 0o077) !== 0) {
    const readable = `private key ${file} is readable by group or others (mode ${mode.toString(8).padStart(4, "0")})`;
    if (!options.allowInsecurePermissions) {
      throw new UserError(
        `${readable}, so others could sign certificates with it: run chmod 600 ${file}, or pass --insecure-key-permissions to sign anyway.`,
      );
    }
    warnings.push(`${readable}; run chmod 600 ${file}.`);
  }
  return { privateKey, publicKey, keyid: keyidOf(publicKey), warnings };
}

/** Loads an Ed25519 public key from a PEM file; a private key is refused so it is never passed around by mistake. */
export async function loadPublicKey(file: string): Promise<VerifyingKey> {
  const pem = await readKeyFile(file, "public");
  if (pem.includes("PRIVATE KEY")) {
    throw new UserError(`${file} holds a private key; pass the public key (${PUBLIC_KEY_FILE}) instead.`);
  }
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(pem);
  } catch {
    throw new UserError(
      `${file} is not a PEM public key; pass the ${PUBLIC_KEY_FILE} written by gauntlet keygen.`,
    );
  }
  requireEd25519(publicKey, file);
  return { publicKey, keyid: keyidOf(publicKey) };
}

function requireEd25519(key: KeyObject, file: string): void {
  if (key.asymmetricKeyType !== "ed25519") {
    throw new UserError(
      `${file} holds a${key.asymmetricKeyType === "ec" ? "n" : ""} ${key.asymmetricKeyType ?? "unknown"} key; Gauntlet signs with Ed25519: create a key with gauntlet keygen.`,
    );
  }
}

async function readKeyFile(file: string, kind: "private" | "public"): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      const fix = kind === "private" ? "create one with gauntlet keygen" : "pass --key PATH";
      throw new UserError(`no ${kind} key at ${file}: ${fix}.`);
    }
    throw new UserError(`cannot read ${kind} key ${file}: ${(error as Error).message}.`);
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

// The file is created with its final mode (umask can only narrow it), so a private key is never readable by others,
// even for a moment. With force, the new key goes to a fresh temp file first and replaces the old one atomically.
async function writeNew(file: string, content: string, mode: number, replace: boolean): Promise<void> {
  const target = replace ? `${file}.${process.pid}.${Date.now()}.tmp` : file;
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(target, "wx", mode);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") {
      throw new UserError(`${file} already exists; keep it, or pass --force to replace it.`);
    }
    throw error;
  }
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  if (replace) {
    try {
      await rename(target, file);
    } catch (error) {
      await unlink(target).catch(() => undefined);
      throw error;
    }
  }
}
