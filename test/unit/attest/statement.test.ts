import { createPublicKey, verify } from "node:crypto";
import { chmod, mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { IN_TOTO_PAYLOAD_TYPE, pae, parseEnvelope } from "../../../src/attest/dsse.js";
import { generateKeyPair, loadPrivateKey } from "../../../src/attest/keys.js";
import {
  buildStatement,
  createCertificate,
  READINESS_PREDICATE_TYPE,
  STATEMENT_TYPE,
  subjectFor,
  writeCertificate,
} from "../../../src/attest/statement.js";
import type { EvidenceManifest } from "../../../src/core/evidence.js";
import { sampleAssessment } from "../../fixtures/assessment.js";

const DAY = 86_400_000;
const issuedAt = new Date("2026-03-14T09:19:41.907Z");
const manifestDigest = "a".repeat(64);
const manifest: EvidenceManifest = {
  version: 1,
  algorithm: "sha256",
  files: {
    "composeFileValid/docker-compose.resolved.yml": "1".repeat(64),
    "alertRulesValid/rules.json": "2".repeat(64),
    "alertRulesValid/rules-2.json": "3".repeat(64),
    "alertRulesValidExtra/x.txt": "4".repeat(64),
    "supervision/api.log": "5".repeat(64),
  },
};

describe("buildStatement", () => {
  it("builds an in-toto Statement v1 bound to the git commit", () => {
    const assessment = sampleAssessment();
    const statement = buildStatement(assessment, manifest, manifestDigest, {
      issuedAt,
      validForMs: 30 * DAY,
    });
    expect(statement._type).toBe(STATEMENT_TYPE);
    expect(statement._type).toBe("https://in-toto.io/Statement/v1");
    expect(statement.predicateType).toBe(READINESS_PREDICATE_TYPE);
    expect(statement.subject).toEqual([
      { name: "git+orders", digest: { gitCommit: "3f9c2b7e1d4a5c6b8e0f1a2b3c4d5e6f7a8b9c0d" } },
    ]);
    const p = statement.predicate;
    expect(p.system).toEqual({ name: "orders", version: "1.4.2", owner: "team-orders" });
    expect(p.verdict).toBe("NOT READY");
    expect(p.conditions).toEqual(assessment.verdict.conditions);
    expect(p.overall).toBe(61.71);
    expect(p.coverage).toBe(85.71);
    expect(p.categories).toEqual({
      deployment: 58.33,
      observability: 59.09,
      resilience: 22.22,
      security: 86.36,
      performance: 100,
      recovery: null,
      operations: null,
    });
    expect(p.evidence).toEqual({ manifestDigest, files: 5 });
    expect(p.issuedAt).toBe("2026-03-14T09:19:41.907Z");
    expect(p.validUntil).toBe("2026-04-13T09:19:41.907Z");
    expect(p.runId).toBe(assessment.runId);
    expect(p.tool).toEqual({ name: "gauntlet", version: "0.1.0" });
    expect(p.environment).toEqual(assessment.environment);
    expect(p.revision).toEqual({ kind: "git", digest: assessment.revision.digest, dirty: false });
    expect(p.checks).toHaveLength(assessment.checks.length);
  });

  it("gives each check the digests of the files under its own folder only", () => {
    const statement = buildStatement(sampleAssessment(), manifest, manifestDigest, {
      issuedAt,
      validForMs: DAY,
    });
    const byId = Object.fromEntries(statement.predicate.checks.map((c) => [c.id, c]));
    expect(byId.alertRulesValid).toEqual({
      id: "alertRulesValid",
      category: "observability",
      risk: "high",
      status: "WARN",
      evidence: {
        "alertRulesValid/rules-2.json": "3".repeat(64),
        "alertRulesValid/rules.json": "2".repeat(64),
      },
    });
    expect(byId.composeFileValid!.evidence).toEqual({
      "composeFileValid/docker-compose.resolved.yml": "1".repeat(64),
    });
    expect(byId.tlsModern!.evidence).toEqual({});
  });

  it("binds a spec revision to its sha256", () => {
    const assessment = sampleAssessment();
    assessment.revision = { kind: "spec", digest: "b".repeat(64), files: ["gauntlet.yaml"] };
    const statement = buildStatement(assessment, manifest, manifestDigest, { issuedAt, validForMs: DAY });
    expect(statement.subject).toEqual([{ name: "spec:orders", digest: { sha256: "b".repeat(64) } }]);
    expect(statement.predicate.revision).toEqual({ kind: "spec", digest: "b".repeat(64) });
    expect(subjectFor("x", { kind: "git", digest: "c" })).toEqual({
      name: "git+x",
      digest: { gitCommit: "c" },
    });
  });

  it("refuses a validity that is not positive", () => {
    expect(() =>
      buildStatement(sampleAssessment(), manifest, manifestDigest, { issuedAt, validForMs: 0 }),
    ).toThrow(/positive duration/);
  });
});

describe("createCertificate", () => {
  it("signs the statement with the key and the payload decodes to it", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "gauntlet-cert-"));
    const keys = await generateKeyPair(dir);
    const cert = await createCertificate(sampleAssessment(), manifest, manifestDigest, {
      keyPath: keys.privateKeyPath,
      validForMs: 90 * DAY,
      now: issuedAt,
    });
    expect(cert.signed).toBe(true);
    expect(cert.keyid).toBe(keys.keyid);
    expect(cert.validUntil).toBe("2026-06-12T09:19:41.907Z");
    expect(cert.warnings).toEqual([]);
    expect(cert.envelope.payloadType).toBe(IN_TOTO_PAYLOAD_TYPE);
    const payload = Buffer.from(cert.envelope.payload, "base64");
    expect(JSON.parse(payload.toString("utf8"))).toEqual(cert.statement);
    const publicKey = createPublicKey(await readFile(keys.publicKeyPath, "utf8"));
    const sig = Buffer.from(cert.envelope.signatures[0]!.sig, "base64");
    expect(verify(null, pae(IN_TOTO_PAYLOAD_TYPE, payload), publicKey, sig)).toBe(true);

    const file = path.join(dir, "certificate.intoto.json");
    await writeCertificate(file, cert.envelope);
    expect(parseEnvelope(await readFile(file))).toEqual({ ok: true, envelope: cert.envelope });
  });

  it("leaves the certificate unsigned without a key", async () => {
    const cert = await createCertificate(sampleAssessment(), manifest, manifestDigest, { validForMs: DAY });
    expect(cert.signed).toBe(false);
    expect(cert.keyid).toBeUndefined();
    expect(cert.envelope.signatures).toEqual([]);
  });

  it("refuses a readable private key, and passes on the warning when told to sign anyway", async () => {
    if (process.platform === "win32") return;
    const dir = await mkdtemp(path.join(tmpdir(), "gauntlet-cert-"));
    const keys = await generateKeyPair(dir);
    await chmod(keys.privateKeyPath, 0o640);
    await expect(
      createCertificate(sampleAssessment(), manifest, manifestDigest, {
        keyPath: keys.privateKeyPath,
        validForMs: DAY,
      }),
    ).rejects.toThrow(/--insecure-key-permissions/);
    const cert = await createCertificate(sampleAssessment(), manifest, manifestDigest, {
      key: await loadPrivateKey(keys.privateKeyPath, { allowInsecurePermissions: true }),
      validForMs: DAY,
    });
    expect(cert.warnings[0]).toMatch(/readable by group or others/);
  });

  it("explains a missing key file", async () => {
    await expect(
      createCertificate(sampleAssessment(), manifest, manifestDigest, {
        keyPath: "/nonexistent/k.key",
        validForMs: DAY,
      }),
    ).rejects.toThrow(/no private key at \/nonexistent\/k\.key/);
  });
});
