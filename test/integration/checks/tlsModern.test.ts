// tlsModern against a real nginx serving certificates made by openssl at test time: a good endpoint (TLS 1.2/1.3,
// 300 days) passes; 3 days to expiry fails, 20 days warns, an expired one fails; TLS 1.0/1.1 at SECLEVEL=0 fails (Debian's
// nginx on OpenSSL 3 does serve them then); a name mismatch, a self-signed certificate, a 1024-bit SHA-1 leaf and a
// NULL suite each fail. testssl.sh, run on two endpoints, agrees and is recorded.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import check, { NO_ENDPOINT } from "../../../src/checks/security/tlsModern.js";
import { makeCheckContext } from "../../support/checkContext.js";
import { cleanupAfterEach } from "../../support/cleanups.js";
import { freePort } from "../../support/datastores.js";
import { recordObservation } from "../../support/judgeFixtures.js";
import { requireTool } from "../../support/services.js";
import { makeCa, makeLeaf, startNginxTls } from "../../support/tlsServers.js";

const onCleanup = cleanupAfterEach();
/** A PATH without testssl.sh, so the handshakes alone are judged (testssl takes 20–40 s per endpoint). */
const noTestssl = () => ({ PATH: mkdtempSync(path.join(tmpdir(), "gauntlet-empty-path-")) });

describe("tlsModern against a real nginx", () => {
  it("passes the good endpoint and fails or warns each broken one for its reason", async () => {
    const ca = makeCa(onCleanup);
    const good = makeLeaf(ca, "good", { days: 300 });
    const blocks = {
      good: { leaf: good },
      soon: { leaf: makeLeaf(ca, "soon", { days: 3 }) },
      month: { leaf: makeLeaf(ca, "month", { days: 20 }) },
      expired: { leaf: makeLeaf(ca, "expired", { days: 0 }) },
      legacy: { leaf: good, protocols: "TLSv1 TLSv1.1 TLSv1.2", ciphers: "DEFAULT@SECLEVEL=0" },
      mismatch: { leaf: makeLeaf(ca, "mismatch", { days: 300, names: ["DNS:other.example"] }) },
      selfSigned: { leaf: makeLeaf(ca, "self", { days: 300, selfSigned: true }) },
      weak: {
        leaf: makeLeaf(ca, "weak", { days: 300, bits: 1024, digest: "sha1" }),
        protocols: "TLSv1.2",
        // OpenSSL 3 has no 3DES or RC4 suites at all (no-weak-ssl-ciphers); NULL suites it still has, at level 0.
        ciphers: "ECDHE+AESGCM:ECDHE-RSA-NULL-SHA:@SECLEVEL=0",
      },
    };
    const names = Object.keys(blocks) as (keyof typeof blocks)[];
    const ports = await startNginxTls(onCleanup, Object.values(blocks));
    const port = Object.fromEntries(names.map((n, i) => [n, ports[i]!])) as Record<
      keyof typeof blocks,
      number
    >;
    const url = (n: keyof typeof blocks) => `https://127.0.0.1:${port[n]}`;
    const { ctx, readEvidence } = makeCheckContext(
      {
        services: { api: { url: url("good"), exposure: "public" } },
        security: {
          tls: [
            { url: url("good"), ca: ca.cert },
            ...names.filter((n) => n !== "good").map((n) => ({ url: url(n), ca: ca.cert })),
          ],
        },
      },
      { env: noTestssl() },
    );
    const observation = await check.observe(ctx);
    const findings = check.judge(observation, ctx.spec);
    const of = (n: keyof typeof blocks) =>
      findings
        .filter((f) => f.subject === (n === "good" ? "api" : url(n)))
        .map((f) => [f.status, f.messageId])
        .sort();
    expect(of("good")).toEqual([["PASS", "modern"]]);
    expect(of("soon")).toEqual([["FAIL", "expiresSoon"]]);
    expect(of("month")).toEqual([["WARN", "expiresWithin30Days"]]);
    expect(of("expired")).toEqual([["FAIL", "expired"]]);
    expect(of("legacy")).toEqual([["FAIL", "legacyProtocol"]]);
    expect(of("mismatch")).toEqual([["FAIL", "hostnameMismatch"]]);
    expect(of("selfSigned")).toEqual([["FAIL", "untrustedChain"]]);
    expect(of("weak")).toEqual(
      expect.arrayContaining([
        ["FAIL", "weakCipher"],
        ["FAIL", "weakKey"],
        ["FAIL", "weakSignature"],
      ]),
    );

    const message = (n: keyof typeof blocks, id: string) =>
      findings.find((f) => f.subject === (n === "good" ? "api" : url(n)) && f.messageId === id)!;
    expect(message("good", "modern").message).toMatch(/accepts TLS 1\.2 and TLS 1\.3 only/);
    expect(message("good", "modern").measurements![0]).toMatchObject({ name: "daysToExpiry" });
    expect(message("good", "modern").measurements![0]!.value).toBeGreaterThan(298);
    expect(message("soon", "expiresSoon").data?.days).toBeLessThan(3.01);
    expect(message("legacy", "legacyProtocol").message).toMatch(/accepts TLS 1\.0, TLS 1\.1/);
    expect(message("selfSigned", "untrustedChain").data?.code).toBe("DEPTH_ZERO_SELF_SIGNED_CERT");
    expect(message("mismatch", "hostnameMismatch").message).toMatch(/not for 127\.0\.0\.1/);
    expect(message("weak", "weakCipher").message).toMatch(/NULL \(no encryption\) \(ECDHE-RSA-NULL-SHA\)/);
    expect(message("weak", "weakKey").message).toMatch(/rsa 1024 bits/);
    expect(message("weak", "weakSignature").message).toMatch(/sha1WithRSAEncryption/);
    // SSL 3.0 was asked by hand and refused; the evidence holds the chain with its PEM.
    const evidence = JSON.parse(readEvidence(message("good", "modern").evidence![0]!));
    expect(evidence.protocols.SSLv3.outcome).toBe("refused");
    expect(evidence.inspect.chain[0].pem).toBe(readFileSync(good.cert, "utf8").trim() + "\n");
    expect(evidence.inspect.chain[0].subjectAltNames).toEqual(["DNS:localhost", "IP Address:127.0.0.1"]);

    recordObservation("tlsModern", "ng.nginx-broken-endpoints", observation, ctx.spec);
    recordObservation(
      "tlsModern",
      "ok.nginx-modern",
      { endpoints: observation.endpoints.filter((e) => e.subject === "api") },
      { services: ctx.spec.services },
    );
  }, 60_000);

  it("runs testssl.sh beside the handshakes, records it and agrees on the protocols", async () => {
    requireTool("testssl", "testssl.sh");
    const ca = makeCa(onCleanup);
    const leaf = makeLeaf(ca, "leaf", { days: 300 });
    const [modern, legacy] = await startNginxTls(onCleanup, [
      { leaf },
      { leaf, protocols: "TLSv1 TLSv1.1 TLSv1.2", ciphers: "DEFAULT@SECLEVEL=0" },
    ]);
    const { ctx, readEvidence } = makeCheckContext({
      security: {
        tls: [
          { url: `https://127.0.0.1:${modern}`, ca: ca.cert },
          { url: `tls://127.0.0.1:${legacy}`, ca: ca.cert },
        ],
      },
    });
    const findings = await check.run(ctx);
    expect(findings.map((f) => [f.status, f.messageId])).toEqual([
      ["PASS", "modern"],
      ["FAIL", "legacyProtocol"],
    ]);
    expect(findings[0]!.message).toMatch(/testssl\.sh agrees on the protocols/);
    const testssl = JSON.parse(readEvidence(findings[1]!.evidence![1]!));
    expect(testssl.protocols).toMatchObject({
      TLS1: true,
      TLS1_1: true,
      TLS1_2: true,
      TLS1_3: false,
      SSLv3: false,
    });
    expect(testssl.findings.length).toBeGreaterThan(10);
  }, 130_000);

  it("is UNVERIFIED when the endpoint refuses the connection, and N/A without any", async () => {
    const port = await freePort();
    const { ctx } = makeCheckContext(
      { services: { api: { url: `https://127.0.0.1:${port}` } } },
      { env: noTestssl() },
    );
    const [finding] = await check.run(ctx);
    expect(finding).toMatchObject({ status: "UNVERIFIED", messageId: "unreachable", subject: "api" });
    expect(finding!.data?.code).toBe("ECONNREFUSED");
    const plain = makeCheckContext({ services: { api: { url: "http://127.0.0.1:9" } } }).ctx.spec;
    expect(check.applies(plain, { allowDestructive: false })).toEqual({
      applies: false,
      reason: NO_ENDPOINT,
    });
  });
});
