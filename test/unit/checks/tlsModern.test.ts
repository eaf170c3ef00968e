// Which endpoints tlsModern judges (security.tls merged with https services, the service name as the subject waivers
// use, `ca` resolved against the spec's folder), the hand-written SSL 3.0 ClientHello's framing, and which certificate
// signature algorithms count as broken.
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tlsEndpoints } from "../../../src/checks/security/tlsModern.js";
import { isWeakSignature, signatureAlgorithmOf } from "../../../src/engines/tls/certificate.js";
import { clientHelloSslv3 } from "../../../src/engines/tls/sslv3.js";
import { specSchema } from "../../../src/spec/schema.js";

const spec = (input: Record<string, unknown>) =>
  specSchema.parse({ version: 1, system: { name: "t" }, ...input });

describe("tlsEndpoints", () => {
  it("merges a security.tls entry into the https service on the same address, keeping the service name", () => {
    const endpoints = tlsEndpoints(
      spec({
        services: {
          api: { url: "https://127.0.0.1:8443" },
          web: { url: "http://127.0.0.1:8080" },
          db: { kind: "postgres", url: "postgres://127.0.0.1:5432/app" },
        },
        security: {
          tls: [
            { url: "https://127.0.0.1:8443", ca: "certs/ca.pem" },
            "tls://mail.example.internal:993",
            { url: "https://127.0.0.1:8443", servername: "api.example.internal" },
          ],
        },
      }),
      "/srv/app",
    );
    expect(endpoints).toEqual([
      {
        subject: "api",
        url: "https://127.0.0.1:8443",
        sources: ["services.api.url", "security.tls[0]"],
        host: "127.0.0.1",
        port: 8443,
        ca: { given: "certs/ca.pem", resolved: path.resolve("/srv/app", "certs/ca.pem") },
      },
      {
        subject: "tls://mail.example.internal:993",
        url: "tls://mail.example.internal:993",
        sources: ["security.tls[1]"],
        host: "mail.example.internal",
        port: 993,
      },
      {
        subject: "api",
        url: "https://127.0.0.1:8443",
        sources: ["security.tls[2]"],
        host: "127.0.0.1",
        port: 8443,
        servername: "api.example.internal",
      },
    ]);
  });

  it("finds none on plain http, and defaults https and tls:// to port 443", () => {
    expect(tlsEndpoints(spec({ services: { api: { url: "http://127.0.0.1:80" } } }), ".")).toEqual([]);
    expect(tlsEndpoints(spec({ security: { tls: ["tls://example.internal"] } }), ".")[0]?.port).toBe(443);
  });
});

describe("the SSL 3.0 ClientHello", () => {
  it("is one handshake record of version 3.0 whose lengths add up", () => {
    const hello = clientHelloSslv3();
    expect([...hello.subarray(0, 3)]).toEqual([0x16, 0x03, 0x00]);
    expect(hello.readUInt16BE(3)).toBe(hello.length - 5);
    expect(hello[5]).toBe(0x01); // ClientHello
    expect(hello.readUIntBE(6, 3)).toBe(hello.length - 9);
    expect([...hello.subarray(9, 11)]).toEqual([0x03, 0x00]);
    const suites = hello.readUInt16BE(9 + 2 + 32 + 1);
    expect(suites % 2).toBe(0);
    expect(hello.length).toBe(9 + 2 + 32 + 1 + 2 + suites + 2);
  });
});

describe("certificate signature algorithms", () => {
  it("names SHA-1 and MD5 signatures broken, SHA-2 and EdDSA not", () => {
    for (const weak of ["sha1WithRSAEncryption", "ecdsaWithSHA1", "md5WithRSAEncryption", "dsaWithSHA1"])
      expect(isWeakSignature(weak), weak).toBe(true);
    for (const good of ["sha256WithRSAEncryption", "ecdsaWithSHA384", "ed25519", "rsassaPss"])
      expect(isWeakSignature(good), good).toBe(false);
  });

  it("answers unknown for bytes that are not a certificate", () => {
    expect(signatureAlgorithmOf(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01]))).toBe("unknown");
    expect(signatureAlgorithmOf(Buffer.alloc(0))).toBe("unknown");
  });
});
