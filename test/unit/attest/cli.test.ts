import { copyFile, mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { createCertificate, writeCertificate } from "../../../src/attest/statement.js";
import { memoryIO } from "../../../src/cli/io.js";
import { keygenCommand, registerKeygen } from "../../../src/cli/keygen.js";
import { registerVerify, verifyCommand } from "../../../src/cli/verify.js";
import { EvidenceStore } from "../../../src/core/evidence.js";
import { sampleAssessment } from "../../fixtures/assessment.js";

const tempDir = () => mkdtemp(path.join(tmpdir(), "gauntlet-cli-attest-"));
const now = new Date("2026-03-20T00:00:00Z");

async function certify(dir: string) {
  const io = memoryIO();
  expect(await keygenCommand({ out: path.join(dir, "keys") }, io)).toBe(0);
  const store = new EvidenceStore(path.join(dir, "run", "evidence"));
  await store.writerFor("alertRulesValid").write("rules.json", "{}\n");
  const sealed = await store.seal();
  const cert = await createCertificate(sampleAssessment(), sealed.manifest, sealed.digest, {
    keyPath: path.join(dir, "keys", "gauntlet.key"),
    validForMs: 30 * 86_400_000,
    now: new Date("2026-03-14T00:00:00Z"),
  });
  const certPath = path.join(dir, "run", "certificate.intoto.json");
  await writeCertificate(certPath, cert.envelope);
  return { certPath, pub: path.join(dir, "keys", "gauntlet.pub"), keyid: cert.keyid! };
}

describe("gauntlet keygen", () => {
  it("prints the paths and the keyid, then refuses to overwrite without --force", async () => {
    const dir = await tempDir();
    const out = path.join(dir, "k");
    const io = memoryIO();
    expect(await keygenCommand({ out }, io)).toBe(0);
    expect(io.stdout[0]).toMatch(/^private key {2}.*k\/gauntlet\.key {2}\(mode 0600/);
    expect(io.stdout[1]).toMatch(/^public key {3}.*k\/gauntlet\.pub/);
    expect(io.stdout[2]).toMatch(/^keyid {8}[0-9a-f]{64}$/);

    const again = memoryIO();
    expect(await keygenCommand({ out }, again)).toBe(3);
    expect(again.stderr.join("\n")).toMatch(/^error: .*already exists.*--force/);
    expect(again.stderr.join("\n")).not.toMatch(/\n\s+at /);

    const forced = memoryIO();
    expect(await keygenCommand({ out, force: true }, forced)).toBe(0);
    expect(forced.stdout[2]).not.toBe(io.stdout[2]);
  });

  it("registers keygen with --out and --force", async () => {
    const dir = await tempDir();
    const codes: number[] = [];
    const program = new Command().exitOverride();
    registerKeygen(program, memoryIO(), (code) => codes.push(code));
    await program.parseAsync(["keygen", "--out", path.join(dir, "x")], { from: "user" });
    await program.parseAsync(["keygen", "--out", path.join(dir, "x"), "--force"], { from: "user" });
    expect(codes).toEqual([0, 0]);
    expect((await stat(path.join(dir, "x", "gauntlet.key"))).isFile()).toBe(true);
  });

  it("reports an unwritable folder as a usage error", async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, "file"), "");
    const io = memoryIO();
    expect(await keygenCommand({ out: path.join(dir, "file", "keys") }, io)).toBe(3);
    expect(io.stderr[0]).toMatch(/cannot write keys to .*--out DIR/);
  });
});

describe("gauntlet verify", () => {
  it("prints one line per check and VALID, exit 0", async () => {
    const dir = await tempDir();
    const { certPath, pub } = await certify(dir);
    const io = memoryIO();
    expect(await verifyCommand(certPath, { key: pub, now, cwd: dir }, io)).toBe(0);
    expect(io.stdout).toHaveLength(10);
    expect(io.stdout[0]).toMatch(/^✓ envelope +DSSE envelope with 1 signature$/);
    expect(io.stdout[3]).toMatch(/^✓ signature/);
    expect(io.stdout[7]).toMatch(/^– reports +the certificate binds no report files/);
    expect(io.stdout[8]).toMatch(/^– subject +not checked/);
    expect(io.stdout[9]).toBe(
      "VALID: orders NOT READY, valid until 2026-04-13T00:00:00.000Z (not checked: reports, subject)",
    );
  });

  it("prints INVALID with the first failing check, exit 2", async () => {
    const dir = await tempDir();
    const { certPath, pub } = await certify(dir);
    await writeFile(path.join(path.dirname(certPath), "evidence", "alertRulesValid", "rules.json"), "{ }\n");
    const io = memoryIO();
    expect(await verifyCommand(certPath, { key: pub, now, cwd: dir }, io)).toBe(2);
    expect(io.stdout.filter((l) => l.startsWith("✗"))).toHaveLength(1);
    expect(io.stdout.at(-1)).toMatch(/^INVALID: evidence: 1 problem in .*rules\.json: altered/);
    const expired = memoryIO();
    expect(
      await verifyCommand(
        certPath,
        { key: pub, evidence: false, now: new Date("2027-01-01"), cwd: dir },
        expired,
      ),
    ).toBe(2);
    expect(expired.stdout.at(-1)).toMatch(/^INVALID: validity: expired on 2026-04-13T00:00:00.000Z/);
  });

  it("prints a line per signature when there are several, marking the bogus one", async () => {
    const dir = await tempDir();
    const { certPath, pub, keyid } = await certify(dir);
    const envelope = JSON.parse(await readFile(certPath, "utf8"));
    envelope.signatures.push({ keyid: "e".repeat(64), sig: Buffer.alloc(64).toString("base64") });
    await writeFile(certPath, `${JSON.stringify(envelope, null, 2)}\n`);
    const io = memoryIO();
    expect(await verifyCommand(certPath, { key: pub, now, cwd: dir }, io)).toBe(2);
    const signature = io.stdout.findIndex((l) => l.startsWith("✗ signature"));
    expect(io.stdout[signature]).toMatch(/1 of 2 signatures does not verify/);
    expect(io.stdout[signature + 1]).toBe(`    ✓ #1 keyid ${keyid.slice(0, 16)}…  is valid (Ed25519)`);
    expect(io.stdout[signature + 2]).toMatch(/^ {4}✗ #2 keyid e{16}… {2}was not made by the pinned key/);
    expect(io.stdout.at(-1)).toMatch(/^INVALID: signature: the pinned key's signature is valid, but 1 of 2/);
    const json = memoryIO();
    await verifyCommand(certPath, { key: pub, now, cwd: dir, json: true }, json);
    expect(JSON.parse(json.stdout.join("")).signatures).toMatchObject([
      { ok: true },
      { ok: false, index: 2 },
    ]);
  });

  it("says an unsigned certificate is unsigned", async () => {
    const dir = await tempDir();
    const store = new EvidenceStore(path.join(dir, "evidence"));
    const sealed = await store.seal();
    const cert = await createCertificate(sampleAssessment(), sealed.manifest, sealed.digest, {
      validForMs: 30 * 86_400_000,
      now: new Date("2026-03-14T00:00:00Z"),
    });
    const certPath = path.join(dir, "certificate.intoto.json");
    await writeCertificate(certPath, cert.envelope);
    const io = memoryIO();
    expect(await verifyCommand(certPath, { now, cwd: dir }, io)).toBe(2);
    expect(io.stdout.at(-1)).toMatch(/^INVALID: signature: certificate is unsigned/);
  });

  it("exits 3 without a stack trace for a missing certificate or key", async () => {
    const dir = await tempDir();
    const { certPath } = await certify(dir);
    const io = memoryIO();
    expect(await verifyCommand(path.join(dir, "none.json"), {}, io)).toBe(3);
    expect(io.stderr).toEqual([`error: no certificate at ${path.join(dir, "none.json")}.`]);
    const noKey = memoryIO();
    expect(await verifyCommand(certPath, { key: path.join(dir, "none.pub") }, noKey)).toBe(3);
    expect(noKey.stderr[0]).toMatch(/^error: no public key at .*none\.pub: pass --key PATH\.$/);
  });

  it("prints JSON with --json", async () => {
    const dir = await tempDir();
    const { certPath, pub } = await certify(dir);
    const io = memoryIO();
    expect(await verifyCommand(certPath, { key: pub, json: true, now, cwd: dir }, io)).toBe(0);
    const parsed = JSON.parse(io.stdout.join("\n"));
    expect(parsed.valid).toBe(true);
    expect(parsed.results).toHaveLength(9);
    expect(parsed.certificate).toMatchObject({ system: { name: "orders" }, verdict: "NOT READY" });
  });

  it("registers verify with --key, --evidence, --no-evidence, --spec and --json", async () => {
    const dir = await tempDir();
    const { certPath, pub } = await certify(dir);
    await copyFile(pub, path.join(path.dirname(certPath), "gauntlet.pub"));
    const run = async (...args: string[]) => {
      const io = memoryIO();
      const codes: number[] = [];
      const program = new Command().exitOverride();
      registerVerify(program, io, (code) => codes.push(code));
      await program.parseAsync(["verify", certPath, ...args], { from: "user" });
      return { code: codes[0], out: io.stdout.join("\n") };
    };
    // The certificate was issued for 2026-03-14 + 30 days: by the real clock it may have expired, so look at lines.
    const untrusted = await run();
    expect(untrusted.out).toMatch(/✗ key .*never trusted/);
    const plain = await run("--key", pub);
    expect(plain.out).toMatch(/✓ evidence .*manifest and 1 file match/);
    const noEvidence = await run("--no-evidence", "--key", pub);
    expect(noEvidence.out).toMatch(/– evidence .*skipped \(--no-evidence\)/);
    const evidence = await run("--evidence", path.join(dir, "nowhere"));
    expect(evidence.code).toBe(3);
    const json = await run("--json", "--key", pub);
    expect(JSON.parse(json.out).results).toHaveLength(9);
    const spec = path.join(dir, "gauntlet.yaml");
    await writeFile(spec, "version: 1\nsystem: { name: orders }\n");
    const withSpec = await run("--spec", spec, "--key", pub);
    expect(withSpec.out).toMatch(/✗ subject .*names commit 3f9c2b7e1d4a/);
    expect(await readFile(certPath, "utf8")).toContain('"payloadType"');
  });
});
