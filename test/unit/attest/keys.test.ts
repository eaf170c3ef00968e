import { createPublicKey, generateKeyPairSync } from "node:crypto";
import { chmod, mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { generateKeyPair, keyidOf, loadPrivateKey, loadPublicKey } from "../../../src/attest/keys.js";
import { UserError } from "../../../src/cli/io.js";
import { sha256 } from "../../../src/core/evidence.js";

const tempDir = () => mkdtemp(path.join(tmpdir(), "gauntlet-keys-"));
const posix = process.platform !== "win32";

describe("generateKeyPair", () => {
  it("writes an Ed25519 PKCS8 private key with mode 0600 and an SPKI public key", async () => {
    const dir = path.join(await tempDir(), "nested", "keys");
    const keys = await generateKeyPair(dir);
    expect(keys.privateKeyPath).toBe(path.join(dir, "gauntlet.key"));
    expect(keys.publicKeyPath).toBe(path.join(dir, "gauntlet.pub"));
    const privatePem = await readFile(keys.privateKeyPath, "utf8");
    const publicPem = await readFile(keys.publicKeyPath, "utf8");
    expect(privatePem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(publicPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    if (posix) expect((await stat(keys.privateKeyPath)).mode & 0o777).toBe(0o600);
    const der = createPublicKey(publicPem).export({ type: "spki", format: "der" });
    expect(keys.keyid).toBe(sha256(der));
    expect(keys.keyid).toMatch(/^[0-9a-f]{64}$/);
  });

  it("creates the private key 0600 even under a permissive umask", async () => {
    if (!posix) return;
    const previous = process.umask(0);
    try {
      const keys = await generateKeyPair(await tempDir());
      expect((await stat(keys.privateKeyPath)).mode & 0o777).toBe(0o600);
    } finally {
      process.umask(previous);
    }
  });

  it("refuses to overwrite an existing key unless forced", async () => {
    const dir = await tempDir();
    const first = await generateKeyPair(dir);
    const error = await generateKeyPair(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toMatch(/already exists.*--force/);
    expect(await readFile(first.privateKeyPath, "utf8")).toContain("PRIVATE KEY");

    const second = await generateKeyPair(dir, { force: true });
    expect(second.keyid).not.toBe(first.keyid);
    expect((await loadPublicKey(second.publicKeyPath)).keyid).toBe(second.keyid);
    if (posix) expect((await stat(second.privateKeyPath)).mode & 0o777).toBe(0o600);
  });

  it("refuses when only the public key exists", async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, "gauntlet.pub"), "x");
    await expect(generateKeyPair(dir)).rejects.toThrow(/gauntlet\.pub already exists/);
  });
});

describe("loadPrivateKey / loadPublicKey", () => {
  it("loads the pair and agrees on the keyid", async () => {
    const keys = await generateKeyPair(await tempDir());
    const signing = await loadPrivateKey(keys.privateKeyPath);
    const verifying = await loadPublicKey(keys.publicKeyPath);
    expect(signing.keyid).toBe(keys.keyid);
    expect(verifying.keyid).toBe(keys.keyid);
    expect(keyidOf(signing.publicKey)).toBe(keys.keyid);
    expect(signing.warnings).toEqual([]);
  });

  it("explains a missing file", async () => {
    const dir = await tempDir();
    await expect(loadPrivateKey(path.join(dir, "nope.key"))).rejects.toThrow(
      /no private key at .*nope\.key.*keygen/,
    );
    await expect(loadPublicKey(path.join(dir, "nope.pub"))).rejects.toThrow(/no public key at .*--key PATH/);
  });

  it("refuses an RSA key with the key type in the message", async () => {
    const dir = await tempDir();
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const priv = path.join(dir, "rsa.key");
    const pub = path.join(dir, "rsa.pub");
    await writeFile(priv, rsa.privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
    await writeFile(pub, rsa.publicKey.export({ type: "spki", format: "pem" }));
    const error = await loadPrivateKey(priv).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toMatch(/rsa key; Gauntlet signs with Ed25519/);
    await expect(loadPublicKey(pub)).rejects.toThrow(/rsa key/);
  });

  it("refuses garbage and swapped PEM files", async () => {
    const dir = await tempDir();
    const garbage = path.join(dir, "garbage.pem");
    await writeFile(garbage, "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n");
    await expect(loadPrivateKey(garbage)).rejects.toThrow(/is not a PEM private key/);
    await writeFile(garbage, "hello");
    await expect(loadPublicKey(garbage)).rejects.toThrow(/is not a PEM public key/);

    const keys = await generateKeyPair(dir);
    await expect(loadPrivateKey(keys.publicKeyPath)).rejects.toThrow(
      /holds a public key; pass the \.key file/,
    );
    await expect(loadPublicKey(keys.privateKeyPath)).rejects.toThrow(/holds a private key/);
  });

  it("refuses a private key that group or others can read, unless told to sign anyway", async () => {
    if (!posix) return;
    const keys = await generateKeyPair(await tempDir());
    await chmod(keys.privateKeyPath, 0o644);
    const error = await loadPrivateKey(keys.privateKeyPath).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toMatch(
      /readable by group or others \(mode 0644\), so others could sign .*: run chmod 600 .*, or pass --insecure-key-permissions/,
    );
    const signing = await loadPrivateKey(keys.privateKeyPath, { allowInsecurePermissions: true });
    expect(signing.warnings).toHaveLength(1);
    expect(signing.warnings[0]).toMatch(/readable by group or others \(mode 0644\); run chmod 600/);
  });
});
