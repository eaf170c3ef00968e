import { execFileSync } from "node:child_process";
import { copyFile, cp, mkdir, mkdtemp, readFile, rm, symlink, unlink, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { type DsseSignature, parseEnvelope, signEnvelope } from "../../../src/attest/dsse.js";
import { generateKeyPair, loadPrivateKey } from "../../../src/attest/keys.js";
import { computeRevision } from "../../../src/attest/revision.js";
import { createCertificate, writeCertificate } from "../../../src/attest/statement.js";
import { type VerifyCheckResult, type VerifyOptions, verifyCertificate } from "../../../src/attest/verify.js";
import { UserError } from "../../../src/cli/io.js";
import type { Revision } from "../../../src/core/assessment.js";
import { EvidenceStore } from "../../../src/core/evidence.js";
import { specSchema } from "../../../src/spec/schema.js";
import { sampleAssessment } from "../../fixtures/assessment.js";

const DAY = 86_400_000;
const issuedAt = new Date("2026-03-14T09:19:41.907Z");
const during = new Date("2026-03-20T00:00:00.000Z");

interface Issued {
  root: string;
  runDir: string;
  certPath: string;
  evidenceDir: string;
  keys: { privateKeyPath: string; publicKeyPath: string; keyid: string };
  base: VerifyOptions;
}

/** A run folder with evidence and a certificate; the key pair lives in root/keys, the cwd is root/cwd (empty). */
async function issue(
  options: { signed?: boolean; revision?: Revision; validForMs?: number } = {},
): Promise<Issued> {
  const root = await mkdtemp(path.join(tmpdir(), "gauntlet-verify-"));
  const runDir = path.join(root, "run");
  const evidenceDir = path.join(runDir, "evidence");
  const store = new EvidenceStore(evidenceDir);
  await store.writerFor("alertRulesValid").writeJson("rules.json", { rules: 9 });
  await store.writerFor("composeFileValid").write("docker-compose.resolved.yml", "services: {}\n");
  const sealed = await store.seal();
  const keys = await generateKeyPair(path.join(root, "keys"));
  const assessment = sampleAssessment();
  if (options.revision) assessment.revision = options.revision;
  const cert = await createCertificate(assessment, sealed.manifest, sealed.digest, {
    ...(options.signed === false ? {} : { keyPath: keys.privateKeyPath }),
    validForMs: options.validForMs ?? 30 * DAY,
    now: issuedAt,
  });
  const certPath = path.join(runDir, "certificate.intoto.json");
  await writeCertificate(certPath, cert.envelope);
  const cwd = path.join(root, "cwd");
  await mkdir(cwd);
  return {
    root,
    runDir,
    certPath,
    evidenceDir,
    keys,
    base: { certPath, publicKeyPath: keys.publicKeyPath, now: during, cwd },
  };
}

const byCheck = (results: VerifyCheckResult[]): Record<string, VerifyCheckResult> =>
  Object.fromEntries(results.map((r) => [r.check, r]));

describe("sealing evidence", () => {
  it("never writes evidence through a symbolic link planted where the file goes", async () => {
    if (process.platform === "win32") return;
    const root = await mkdtemp(path.join(tmpdir(), "gauntlet-seal-"));
    const outside = path.join(root, "outside.txt");
    await writeFile(outside, "untouched\n");
    const store = new EvidenceStore(path.join(root, "evidence"));
    await mkdir(path.join(root, "evidence", "alertRulesValid"), { recursive: true });
    await symlink(outside, path.join(root, "evidence", "alertRulesValid", "rules.json"));
    await expect(store.writerFor("alertRulesValid").write("rules.json", "evidence\n")).rejects.toThrow(
      /already exists/,
    );
    expect(await readFile(outside, "utf8")).toBe("untouched\n");
  });

  it("hashes regular files only: a symbolic link is neither followed nor listed", async () => {
    if (process.platform === "win32") return;
    const root = await mkdtemp(path.join(tmpdir(), "gauntlet-seal-"));
    await writeFile(path.join(root, "outside.txt"), "secret\n");
    const store = new EvidenceStore(path.join(root, "evidence"));
    await store.writerFor("alertRulesValid").write("rules.json", "{}\n");
    await symlink(path.join(root, "outside.txt"), path.join(root, "evidence", "alertRulesValid", "link.txt"));
    await symlink(root, path.join(root, "evidence", "folder"));
    const sealed = await store.seal();
    expect(Object.keys(sealed.manifest.files)).toEqual(["alertRulesValid/rules.json"]);
  });
});

describe("verifyCertificate", () => {
  it("accepts an intact, signed, current certificate and reports every check", async () => {
    const { base } = await issue();
    const result = await verifyCertificate(base);
    expect(result.results.map((r) => r.check)).toEqual([
      "envelope",
      "payloadType",
      "key",
      "signature",
      "statement",
      "validity",
      "evidence",
      "reports",
      "subject",
    ]);
    expect(result.results.filter((r) => !r.ok)).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.statement?.predicate.system.name).toBe("orders");
    const checks = byCheck(result.results);
    expect(checks.evidence).toMatchObject({
      ok: true,
      detail: expect.stringMatching(/manifest and 2 files match/),
    });
    expect(checks.subject).toMatchObject({
      ok: true,
      skipped: true,
      detail: expect.stringMatching(/^not checked/),
    });
    expect(checks.validity!.detail).toMatch(/valid until 2026-04-13T09:19:41.907Z/);
  });

  it("fails an unsigned certificate", async () => {
    const { base } = await issue({ signed: false });
    const result = await verifyCertificate(base);
    expect(result.ok).toBe(false);
    expect(byCheck(result.results).signature).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/^certificate is unsigned/),
    });
  });

  it("explains malformed JSON and a missing certificate", async () => {
    const { base, certPath } = await issue();
    await writeFile(certPath, '{"payloadType": ');
    const result = await verifyCertificate(base);
    expect(result.ok).toBe(false);
    expect(result.results).toHaveLength(1);
    expect(result.results[0]).toMatchObject({ check: "envelope", ok: false });
    expect(result.results[0]!.detail).toMatch(/is not a valid certificate: not valid JSON/);

    const missing = await verifyCertificate({ ...base, certPath: `${certPath}.nope` }).catch(
      (e: unknown) => e,
    );
    expect(missing).toBeInstanceOf(UserError);
    expect((missing as UserError).message).toMatch(/no certificate at/);
    expect((missing as UserError).exitCode).toBe(3);
  });

  describe("key resolution", () => {
    it("never trusts gauntlet.pub beside the certificate: whoever replaces one can replace both", async () => {
      const { base, keys, runDir } = await issue();
      await copyFile(keys.publicKeyPath, path.join(runDir, "gauntlet.pub"));
      const result = await verifyCertificate({ ...base, publicKeyPath: undefined });
      expect(result.ok).toBe(false);
      expect(byCheck(result.results).key!.detail).toMatch(/never trusted.*|pass --key/);
    });

    it("trusts the verifier's own .gauntlet/keys/gauntlet.pub in the current folder", async () => {
      const { base, keys } = await issue();
      const keyDir = path.join(base.cwd!, ".gauntlet", "keys");
      await mkdir(keyDir, { recursive: true });
      await copyFile(keys.publicKeyPath, path.join(keyDir, "gauntlet.pub"));
      const result = await verifyCertificate({ ...base, publicKeyPath: undefined });
      expect(result.ok).toBe(true);
      expect(byCheck(result.results).key!.detail).toMatch(/\.gauntlet\/keys\/gauntlet\.pub/);
    });

    it("skips a key whose keyid does not match and asks for --key", async () => {
      const { base, runDir, root } = await issue();
      const other = await generateKeyPair(path.join(root, "other"));
      await copyFile(other.publicKeyPath, path.join(runDir, "gauntlet.pub"));
      const result = await verifyCertificate({ ...base, publicKeyPath: undefined });
      expect(result.ok).toBe(false);
      expect(byCheck(result.results).key!.detail).toMatch(
        /^no public key: pass --key PATH; found .*none with keyid/,
      );
      expect(byCheck(result.results).signature!.ok).toBe(false);
    });

    it("asks for --key when there is no key at all", async () => {
      const { base } = await issue();
      const result = await verifyCertificate({ ...base, publicKeyPath: undefined });
      expect(byCheck(result.results).key).toMatchObject({
        ok: false,
        detail: "no public key: pass --key PATH",
      });
    });

    it("fails with a wrong --key and refuses a missing one as a usage error", async () => {
      const { base, root } = await issue();
      const other = await generateKeyPair(path.join(root, "other"));
      const result = await verifyCertificate({ ...base, publicKeyPath: other.publicKeyPath });
      expect(result.ok).toBe(false);
      expect(byCheck(result.results).key!.detail).toMatch(/did not sign this certificate/);
      await expect(
        verifyCertificate({ ...base, publicKeyPath: path.join(root, "none.pub") }),
      ).rejects.toThrow(/no public key at/);
    });
  });

  describe("validity window", () => {
    it("fails before issuedAt and after validUntil, naming the date", async () => {
      const { base } = await issue();
      const early = await verifyCertificate({ ...base, now: new Date("2026-03-01T00:00:00Z") });
      expect(byCheck(early.results).validity!.detail).toMatch(
        /^not yet valid: issued at 2026-03-14T09:19:41.907Z/,
      );
      const late = await verifyCertificate({ ...base, now: new Date("2026-05-01T00:00:00Z") });
      expect(late.ok).toBe(false);
      expect(byCheck(late.results).validity!.detail).toMatch(
        /^expired on 2026-04-13T09:19:41.907Z \(17 days ago\)/,
      );
      const lastMoment = await verifyCertificate({ ...base, now: new Date("2026-04-13T09:19:41.907Z") });
      expect(lastMoment.ok).toBe(true);
    });
  });

  describe("evidence", () => {
    it("fails when the default evidence folder is missing, and skips it with evidenceDir false", async () => {
      const { base, evidenceDir } = await issue();
      await rm(evidenceDir, { recursive: true });
      const result = await verifyCertificate(base);
      expect(result.ok).toBe(false);
      expect(byCheck(result.results).evidence!.detail).toMatch(
        /^not checked: no evidence folder at .*--no-evidence/,
      );
      const skipped = await verifyCertificate({ ...base, evidenceDir: false });
      expect(skipped.ok).toBe(true);
      expect(byCheck(skipped.results).evidence).toMatchObject({ ok: true, skipped: true });
    });

    it("uses an explicit evidence folder and refuses a missing one", async () => {
      const { base, evidenceDir, root } = await issue();
      const moved = path.join(root, "moved-evidence");
      await cp(evidenceDir, moved, { recursive: true });
      await rm(evidenceDir, { recursive: true });
      expect((await verifyCertificate({ ...base, evidenceDir: moved })).ok).toBe(true);
      await expect(verifyCertificate({ ...base, evidenceDir: path.join(root, "none") })).rejects.toThrow(
        /no evidence folder at/,
      );
    });

    it("names a missing, an added and an altered file", async () => {
      const { base, evidenceDir } = await issue();
      await unlink(path.join(evidenceDir, "alertRulesValid/rules.json"));
      await writeFile(path.join(evidenceDir, "composeFileValid/extra.txt"), "x");
      await writeFile(
        path.join(evidenceDir, "composeFileValid/docker-compose.resolved.yml"),
        "services: {x}\n",
      );
      const detail = byCheck((await verifyCertificate(base)).results).evidence!.detail;
      expect(detail).toMatch(/3 problems/);
      expect(detail).toMatch(/alertRulesValid\/rules\.json: missing/);
      expect(detail).toMatch(/composeFileValid\/extra\.txt: not in the manifest/);
      expect(detail).toMatch(/composeFileValid\/docker-compose\.resolved\.yml: altered/);
    });

    it("names a symbolic link, a FIFO, a socket and an empty folder added inside evidence/", async () => {
      if (process.platform === "win32") return;
      const { base, evidenceDir, root } = await issue();
      await writeFile(path.join(root, "outside.txt"), "not evidence\n");
      await symlink(path.join(root, "outside.txt"), path.join(evidenceDir, "alertRulesValid", "link.json"));
      await symlink(root, path.join(evidenceDir, "linked-folder"));
      execFileSync("mkfifo", [path.join(evidenceDir, "composeFileValid", "pipe")]);
      await mkdir(path.join(evidenceDir, "composeFileValid", "empty"));
      const server = createServer();
      await new Promise<void>((resolve) => server.listen(path.join(evidenceDir, "sock"), resolve));
      try {
        const result = await verifyCertificate(base);
        expect(result.ok).toBe(false);
        const evidence = byCheck(result.results).evidence!;
        expect(evidence.detail).toMatch(/^5 problems/);
        expect(evidence.detail).toMatch(/alertRulesValid\/link\.json: a symbolic link/);
        expect(evidence.detail).toMatch(/linked-folder: a symbolic link/);
        expect(evidence.detail).toMatch(/composeFileValid\/pipe: a FIFO/);
        expect(evidence.detail).toMatch(/composeFileValid\/empty\/: an empty folder/);
        expect(evidence.detail).toMatch(/sock: a socket/);
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    });

    it("does not accept a listed file replaced by a symbolic link to the same bytes", async () => {
      if (process.platform === "win32") return;
      const { base, evidenceDir, root } = await issue();
      const listed = path.join(evidenceDir, "alertRulesValid", "rules.json");
      await copyFile(listed, path.join(root, "copy.json"));
      await unlink(listed);
      await symlink(path.join(root, "copy.json"), listed);
      const detail = byCheck((await verifyCertificate(base)).results).evidence!.detail;
      expect(detail).toMatch(/^1 problem in/);
      expect(detail).toMatch(/alertRulesValid\/rules\.json: a symbolic link/);
    });

    it("fails when manifest.json is not the one the certificate signs", async () => {
      const { base, evidenceDir } = await issue();
      const file = path.join(evidenceDir, "manifest.json");
      await writeFile(file, (await readFile(file, "utf8")).replace('"version": 1', '"version":  1'));
      const detail = byCheck((await verifyCertificate(base)).results).evidence!.detail;
      expect(detail).toMatch(/manifest\.json has sha256 .* but the certificate signs/);
    });
  });

  describe("several signatures", () => {
    async function withSignatures(add: (genuine: DsseSignature, keyid: string) => DsseSignature[]) {
      const issued = await issue();
      const envelope = parseEnvelope(await readFile(issued.certPath));
      if (!envelope.ok) throw new Error(envelope.detail);
      const genuine = envelope.envelope.signatures[0]!;
      envelope.envelope.signatures = add(genuine, issued.keys.keyid);
      await writeCertificate(issued.certPath, envelope.envelope);
      return issued;
    }
    const bogus = Buffer.alloc(64, 7).toString("base64");

    it("a second, bogus signature by another keyid is named and makes the certificate invalid", async () => {
      const { base } = await withSignatures((genuine) => [genuine, { keyid: "f".repeat(64), sig: bogus }]);
      const result = await verifyCertificate(base);
      expect(result.ok).toBe(false);
      const checks = byCheck(result.results);
      expect(checks.envelope!.detail).toBe("DSSE envelope with 2 signatures");
      expect(checks.signature!.ok).toBe(false);
      expect(checks.signature!.detail).toMatch(/1 of 2 signatures does not verify/);
      expect(checks.signature!.detail).toMatch(
        /#2 by keyid ffffffffffffffff… was not made by the pinned key/,
      );
      expect(result.signatures).toEqual([
        expect.objectContaining({ index: 1, ok: true }),
        expect.objectContaining({ index: 2, keyid: "f".repeat(64), ok: false }),
      ]);
    });

    it("a bogus signature claiming the pinned keyid fails, before or after the genuine one", async () => {
      for (const order of ["after", "before"] as const) {
        const { base } = await withSignatures((genuine, keyid) =>
          order === "after" ? [genuine, { keyid, sig: bogus }] : [{ keyid, sig: bogus }, genuine],
        );
        const result = await verifyCertificate(base);
        expect(result.ok, order).toBe(false);
        const detail = byCheck(result.results).signature!.detail;
        expect(detail, order).toMatch(
          new RegExp(`#${order === "after" ? 2 : 1} by keyid [0-9a-f]{16}… does not match`),
        );
        expect(result.signatures!.filter((s) => s.ok)).toHaveLength(1);
      }
    });

    it("is accepted when every signature is the pinned key's and verifies", async () => {
      const { base } = await withSignatures((genuine) => [genuine, { ...genuine }]);
      const result = await verifyCertificate(base);
      expect(result.ok).toBe(true);
      expect(byCheck(result.results).signature!.detail).toMatch(/^both signatures, by keyid .*, are valid/);
    });
  });

  describe("statement", () => {
    it("fails a validly signed envelope of another payload type or shape", async () => {
      const { base, certPath, keys } = await issue();
      const key = await loadPrivateKey(keys.privateKeyPath);
      const other = signEnvelope("application/json", Buffer.from('{"_type":"x"}'), key);
      await writeCertificate(certPath, other);
      const result = await verifyCertificate(base);
      const checks = byCheck(result.results);
      expect(checks.signature!.ok).toBe(true);
      expect(checks.payloadType).toMatchObject({
        ok: false,
        detail: expect.stringMatching(/expected application\/vnd/),
      });
      expect(checks.statement).toMatchObject({
        ok: false,
        detail: expect.stringMatching(/not a Gauntlet readiness/),
      });
      expect(result.ok).toBe(false);
    });
  });

  describe("subject", () => {
    it("compares a spec-bound certificate with the spec's current digest", async () => {
      const { base, root } = await issue();
      const system = path.join(root, "system");
      await mkdir(system);
      const specPath = path.join(system, "gauntlet.yaml");
      await writeFile(
        specPath,
        // A secret the verifier does not have must not stop the comparison.
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a spec ${VAR} reference, not a template
        'version: 1\nsystem: { name: orders }\ndeployment: { dockerfiles: [Dockerfile] }\nservices: { db: { kind: postgres, url: "postgres://app:${GAUNTLET_TEST_UNSET_SECRET}@127.0.0.1/db" } }\n',
      );
      await writeFile(path.join(system, "Dockerfile"), "FROM node:20\n");
      const spec = specSchema.parse({
        version: 1,
        system: { name: "orders" },
        deployment: { dockerfiles: ["Dockerfile"] },
      });
      const revision = await computeRevision(specPath, spec);
      const issued = await issue({ revision });
      const ok = await verifyCertificate({ ...issued.base, repoCheck: { specPath } });
      expect(byCheck(ok.results).subject).toMatchObject({
        ok: true,
        detail: expect.stringMatching(/the 1 file it names/),
      });

      await writeFile(path.join(system, "Dockerfile"), "FROM node:22\n");
      const changed = await verifyCertificate({ ...issued.base, repoCheck: { specPath } });
      expect(changed.ok).toBe(false);
      expect(byCheck(changed.results).subject!.detail).toMatch(
        /names spec digest .* now hash to .*changed since/,
      );

      // The git-bound sample certificate compared with a folder that is not a git work tree.
      const mismatch = await verifyCertificate({ ...base, repoCheck: { specPath } });
      expect(byCheck(mismatch.results).subject!.detail).toMatch(
        /names commit 3f9c2b7e1d4a but .* not in a git work tree/,
      );
    });

    it("picks up gauntlet.yaml in the current folder only when it describes the same system", async () => {
      const { base } = await issue();
      await writeFile(path.join(base.cwd!, "gauntlet.yaml"), "version: 1\nsystem: { name: payments }\n");
      const result = await verifyCertificate(base);
      expect(byCheck(result.results).subject).toMatchObject({
        ok: true,
        skipped: true,
        detail: expect.stringMatching(/describes system payments, the certificate orders/),
      });
      await writeFile(path.join(base.cwd!, "gauntlet.yaml"), "version: 1\nsystem: { name: orders }\n");
      const same = await verifyCertificate(base);
      expect(byCheck(same.results).subject).toMatchObject({ ok: false });
      await expect(verifyCertificate({ ...base, repoCheck: { specPath: "nope.yaml" } })).rejects.toThrow(
        /no spec at/,
      );
    });
  });
});
