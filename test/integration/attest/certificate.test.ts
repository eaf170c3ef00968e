// End to end through the real pieces: EvidenceStore → seal → keygen → createCertificate → writeCertificate → verify,
// then every way a certificate can stop being true: a changed byte anywhere, another key, time, a new commit.
import { execFileSync } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { IN_TOTO_PAYLOAD_TYPE, signEnvelope } from "../../../src/attest/dsse.js";
import { generateKeyPair, loadPrivateKey } from "../../../src/attest/keys.js";
import { computeRevision } from "../../../src/attest/revision.js";
import { type Certificate, createCertificate, writeCertificate } from "../../../src/attest/statement.js";
import { type VerifyOptions, type VerifyResult, verifyCertificate } from "../../../src/attest/verify.js";
import { memoryIO } from "../../../src/cli/io.js";
import { verifyCommand } from "../../../src/cli/verify.js";
import type { Assessment } from "../../../src/core/assessment.js";
import { EvidenceStore, listFiles } from "../../../src/core/evidence.js";
import { specSchema } from "../../../src/spec/schema.js";
import { sampleAssessment } from "../../fixtures/assessment.js";

const DAY = 86_400_000;
const issuedAt = new Date("2026-03-14T09:19:41.907Z");
const during = new Date("2026-03-20T12:00:00.000Z");
const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const ENVELOPE_CHECKS = ["envelope", "payloadType", "key", "signature"];

interface Run {
  root: string;
  runDir: string;
  certPath: string;
  evidenceDir: string;
  keys: { privateKeyPath: string; publicKeyPath: string; keyid: string };
  certificate: Certificate;
  options: VerifyOptions;
}

async function certifiedRun(assessment: Assessment = sampleAssessment()): Promise<Run> {
  const root = await mkdtemp(path.join(tmpdir(), "gauntlet-attest-it-"));
  const runDir = path.join(root, "run");
  const evidenceDir = path.join(runDir, "evidence");
  const store = new EvidenceStore(evidenceDir);
  await store.writerFor("healthEndpointsRespond").writeJson("api.json", { status: 200, ms: 412 });
  await store
    .writerFor("alertRulesValid")
    .writeJson("rules.json", { rules: 9, missingRunbook: ["ApiErrorBudgetBurn"] });
  await store.writerFor("alertRulesValid").write("rules.json", "second file with the same name\n");
  await store.writerFor("composeFileValid").write("docker-compose.resolved.yml", "services:\n  api: {}\n");
  await store
    .writerFor("latencyWithinThresholds")
    .write("fixed-rate.hgrm", new Uint8Array([0x41, 0x0a, 0x42]));
  const sealed = await store.seal();
  const keys = await generateKeyPair(path.join(root, ".gauntlet", "keys"));
  const certificate = await createCertificate(assessment, sealed.manifest, sealed.digest, {
    keyPath: keys.privateKeyPath,
    validForMs: 30 * DAY,
    now: issuedAt,
  });
  const certPath = path.join(runDir, "certificate.intoto.json");
  await writeCertificate(certPath, certificate.envelope);
  const cwd = path.join(root, "elsewhere");
  await mkdir(cwd);
  return {
    root,
    runDir,
    certPath,
    evidenceDir,
    keys,
    certificate,
    options: { certPath, publicKeyPath: keys.publicKeyPath, now: during, cwd },
  };
}

function firstFailure(result: VerifyResult) {
  return result.results.find((r) => !r.ok);
}

/** Two changes per byte: a bit flip, and a substitute that keeps the file plausible (another base64 letter, a tab). */
function mutations(byte: number): number[] {
  const out = new Set<number>([byte ^ 0x01]);
  const index = BASE64.indexOf(String.fromCharCode(byte));
  if (index >= 0) out.add(BASE64.charCodeAt((index + 1) % BASE64.length));
  if (byte === 0x20) out.add(0x09);
  if (byte === 0x0a) out.add(0x20);
  out.delete(byte);
  return [...out];
}

describe("certificate: issue and verify", () => {
  let run: Run;
  beforeAll(async () => {
    run = await certifiedRun();
  });

  it("verifies a freshly issued certificate against its evidence", async () => {
    const result = await verifyCertificate(run.options);
    expect(result.results.filter((r) => !r.ok)).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.statement?.predicate.evidence.files).toBe(5);
    const checks = result.statement!.predicate.checks;
    expect(Object.keys(checks.find((c) => c.id === "alertRulesValid")!.evidence)).toEqual([
      "alertRulesValid/rules-2.json",
      "alertRulesValid/rules.json",
    ]);

    const io = memoryIO();
    expect(
      await verifyCommand(run.certPath, { key: run.keys.publicKeyPath, now: during, cwd: run.root }, io),
    ).toBe(0);
    expect(io.stdout.at(-1)).toMatch(/^VALID: orders NOT READY, valid until 2026-04-13T09:19:41.907Z/);
  });

  it("fails on every single changed byte of the envelope file", { timeout: 300_000 }, async () => {
    const original = await readFile(run.certPath);
    expect(original.length).toBeGreaterThan(2000);
    const cases: { at: number; value: number }[] = [];
    for (let at = 0; at < original.length; at++) {
      for (const value of mutations(original[at]!)) cases.push({ at, value });
    }
    const payloadStart = original.indexOf('"payload": "') + 12;
    const payloadEnd = original.indexOf('"', payloadStart);
    const sigStart = original.indexOf('"sig": "') + 8;
    const sigEnd = original.indexOf('"', sigStart);
    const survivors: string[] = [];
    const reasons = new Map<string, Set<string>>();
    // Eight lanes, each with its own copy of the certificate, so the sweep (about 10k verifications) stays quick.
    // Evidence is left out here: the next test sweeps it on its own.
    const lanes = Array.from({ length: 8 }, async (_, lane) => {
      const file = path.join(run.runDir, `tampered-${lane}.intoto.json`);
      for (let n = lane; n < cases.length; n += 8) {
        const { at, value } = cases[n]!;
        const changed = Buffer.from(original);
        changed[at] = value;
        await writeFile(file, changed);
        const result = await verifyCertificate({ ...run.options, certPath: file, evidenceDir: false });
        const failure = firstFailure(result);
        if (result.ok || !failure || !ENVELOPE_CHECKS.includes(failure.check) || failure.detail.length < 10) {
          survivors.push(
            `byte ${at}: 0x${original[at]!.toString(16)} → 0x${value.toString(16)}: ${failure?.check}`,
          );
          continue;
        }
        const region =
          at < payloadStart
            ? "head"
            : at < payloadEnd
              ? "payload"
              : at < sigStart
                ? "middle"
                : at < sigEnd
                  ? "sig"
                  : "tail";
        if (!reasons.has(region)) reasons.set(region, new Set());
        reasons.get(region)!.add(failure.check);
      }
    });
    await Promise.all(lanes);
    expect(survivors).toEqual([]);
    expect(cases.length).toBeGreaterThan(original.length);
    // Every region of the file was swept: inside the base64 payload and signature, changes break the signature.
    expect([...reasons.keys()].sort()).toEqual(["head", "middle", "payload", "sig", "tail"]);
    expect(reasons.get("payload")).toContain("signature");
    expect(reasons.get("sig")).toContain("signature");
    expect((await verifyCertificate(run.options)).ok).toBe(true);
  });

  it("fails on every single changed byte of every evidence file, naming the file", {
    timeout: 300_000,
  }, async () => {
    const files = await listFiles(run.evidenceDir);
    expect(files).toHaveLength(6);
    expect(files).toContain("manifest.json");
    for (const file of files) {
      const absolute = path.join(run.evidenceDir, file);
      const original = await readFile(absolute);
      try {
        for (let i = 0; i < original.length; i++) {
          for (const value of mutations(original[i]!)) {
            const changed = Buffer.from(original);
            changed[i] = value;
            await writeFile(absolute, changed);
            const result = await verifyCertificate(run.options);
            expect(result.ok, `${file} byte ${i}`).toBe(false);
            const failure = firstFailure(result)!;
            expect(failure.check).toBe("evidence");
            expect(failure.detail).toContain(file);
          }
        }
      } finally {
        await writeFile(absolute, original);
      }
    }
    expect((await verifyCertificate(run.options)).ok).toBe(true);
  });

  it("fails when the evidence was tampered with and re-sealed", async () => {
    const other = await certifiedRun();
    await writeFile(path.join(other.evidenceDir, "healthEndpointsRespond", "api.json"), '{"status":200}\n');
    await new EvidenceStore(other.evidenceDir).seal();
    const result = await verifyCertificate(other.options);
    expect(firstFailure(result)).toMatchObject({
      check: "evidence",
      detail: expect.stringMatching(/manifest\.json has sha256 .* but the certificate signs/),
    });
  });

  it("fails with another key, including a forger's key placed beside the certificate", async () => {
    const other = await generateKeyPair(path.join(run.root, "other-keys"));
    const wrong = await verifyCertificate({ ...run.options, publicKeyPath: other.publicKeyPath });
    expect(wrong.ok).toBe(false);
    expect(firstFailure(wrong)).toMatchObject({
      check: "key",
      detail: expect.stringMatching(/did not sign/),
    });

    // A forger re-signs a better verdict with their own key: the pinned key catches it.
    const forged = await certifiedRun();
    const statement = structuredClone(forged.certificate.statement);
    statement.predicate.verdict = "CERTIFIED";
    const forger = await loadPrivateKey(other.privateKeyPath);
    const envelope = signEnvelope(IN_TOTO_PAYLOAD_TYPE, Buffer.from(JSON.stringify(statement)), forger);
    await writeCertificate(forged.certPath, envelope);
    await copyFile(other.publicKeyPath, path.join(forged.runDir, "gauntlet.pub"));
    const pinned = await verifyCertificate(forged.options);
    expect(pinned.ok).toBe(false);
    expect(firstFailure(pinned)!.check).toBe("key");
  });

  it("fails once expired, naming the date, and before it was issued", async () => {
    const validUntil = run.certificate.validUntil;
    const expired = await verifyCertificate({ ...run.options, now: new Date(Date.parse(validUntil) + 1) });
    expect(expired.ok).toBe(false);
    expect(firstFailure(expired)).toMatchObject({
      check: "validity",
      detail: expect.stringContaining(`expired on ${validUntil}`),
    });
    const early = await verifyCertificate({ ...run.options, now: new Date(issuedAt.getTime() - 60_000) });
    expect(firstFailure(early)!.detail).toMatch(/^not yet valid/);
  });
});

describe("certificate: bound to the git revision", () => {
  function git(cwd: string, ...args: string[]): string {
    return execFileSync(
      "git",
      ["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false", ...args],
      { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
    ).trim();
  }

  it("verifies at the certified commit and fails after a new commit, naming both", async () => {
    const repo = await mkdtemp(path.join(tmpdir(), "gauntlet-attest-repo-"));
    const specPath = path.join(repo, "gauntlet.yaml");
    await writeFile(specPath, "version: 1\nsystem: { name: orders }\n");
    await writeFile(path.join(repo, "server.js"), "console.log('v1')\n");
    git(repo, "init", "-q");
    git(repo, "add", ".");
    git(repo, "commit", "-q", "-m", "v1");
    const first = git(repo, "rev-parse", "HEAD");

    const spec = specSchema.parse({ version: 1, system: { name: "orders" } });
    const assessment = sampleAssessment();
    assessment.revision = await computeRevision(specPath, spec);
    expect(assessment.revision).toEqual({ kind: "git", digest: first, dirty: false });
    const run = await certifiedRun(assessment);
    expect(run.certificate.statement.subject).toEqual([{ name: "git+orders", digest: { gitCommit: first } }]);

    const atCommit = await verifyCertificate({ ...run.options, repoCheck: { specPath } });
    expect(atCommit.results.find((r) => r.check === "subject")).toMatchObject({
      ok: true,
      detail: `HEAD ${first.slice(0, 12)} is the certified commit`,
    });
    expect(atCommit.ok).toBe(true);

    await writeFile(path.join(repo, "server.js"), "console.log('v2')\n");
    git(repo, "commit", "-q", "-am", "v2");
    const second = git(repo, "rev-parse", "HEAD");
    const explicit = await verifyCertificate({ ...run.options, repoCheck: { specPath } });
    expect(explicit.ok).toBe(false);
    expect(firstFailure(explicit)).toMatchObject({
      check: "subject",
      detail: `the certificate names commit ${first.slice(0, 12)} but HEAD is ${second.slice(0, 12)}: the system changed since it was certified`,
    });

    // Run inside the repo: gauntlet.yaml in the current folder is picked up without --spec.
    const inRepo = await verifyCertificate({ ...run.options, cwd: repo });
    expect(firstFailure(inRepo)).toMatchObject({ check: "subject" });

    const io = memoryIO();
    expect(
      await verifyCommand(run.certPath, { key: run.keys.publicKeyPath, spec: specPath, now: during }, io),
    ).toBe(2);
    expect(io.stdout.at(-1)).toMatch(/^INVALID: subject: the certificate names commit/);
  });

  it("binds uncommitted changes: the same commit with other changes, or none, does not verify", async () => {
    const repo = await mkdtemp(path.join(tmpdir(), "gauntlet-attest-dirty-"));
    const specPath = path.join(repo, "gauntlet.yaml");
    await writeFile(specPath, "version: 1\nsystem: { name: orders }\n");
    await writeFile(path.join(repo, "server.js"), "console.log('v1')\n");
    git(repo, "init", "-q");
    git(repo, "add", ".");
    git(repo, "commit", "-q", "-m", "v1");
    await writeFile(path.join(repo, "server.js"), "console.log('uncommitted')\n");

    const spec = specSchema.parse({ version: 1, system: { name: "orders" } });
    const assessment = sampleAssessment();
    assessment.revision = await computeRevision(specPath, spec);
    const run = await certifiedRun(assessment);
    const same = await verifyCertificate({ ...run.options, repoCheck: { specPath } });
    expect(same.results.find((r) => r.check === "subject")).toMatchObject({ ok: true });

    await writeFile(path.join(repo, "server.js"), "console.log('other uncommitted')\n");
    const other = await verifyCertificate({ ...run.options, repoCheck: { specPath } });
    expect(firstFailure(other)).toMatchObject({ check: "subject", detail: expect.stringMatching(/differ/) });

    git(repo, "checkout", "-q", "--", "server.js");
    const clean = await verifyCertificate({ ...run.options, repoCheck: { specPath } });
    expect(firstFailure(clean)).toMatchObject({
      check: "subject",
      detail: expect.stringMatching(/now clean/),
    });
  });
});
