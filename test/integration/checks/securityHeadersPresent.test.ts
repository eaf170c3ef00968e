// Real nginx configured per case (full security headers, HSTS over TLS with a CA the spec names, bare server_tokens on,
// cookies without flags, a JSON API, an unsafe CSP) and a node:http server for Express-style headers and a redirect.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import check from "../../../src/checks/security/securityHeadersPresent.js";
import type { FindingInput } from "../../../src/core/types.js";
import { makeCheckContext } from "../../support/checkContext.js";
import { cleanupAfterEach } from "../../support/cleanups.js";
import { recordObservation } from "../../support/judgeFixtures.js";
import { startNginx } from "../../support/nginx.js";
import { requireTool } from "../../support/services.js";

const onCleanup = cleanupAfterEach();

const verdicts = (findings: FindingInput[]) => findings.map((f) => [f.subject, f.status, f.messageId]);

const STRICT_CSP =
  "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";
const PAGE = "<!doctype html><html><head><title>Shop</title></head><body>hello</body></html>";

function allEvidence(dir: string): string {
  return readdirSync(dir, { recursive: true })
    .map((f) => path.join(dir, String(f)))
    .filter((f) => statSync(f).isFile())
    .map((f) => readFileSync(f, "utf8"))
    .join("\n");
}

/** A self-signed certificate for 127.0.0.1 (its own CA), written to a folder the test removes. */
function selfSigned(): { dir: string; key: string; cert: string } {
  requireTool("openssl", "openssl");
  const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-headers-tls-"));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "2",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
      "-keyout",
      path.join(dir, "key.pem"),
      "-out",
      path.join(dir, "cert.pem"),
    ],
    { stdio: "pipe" },
  );
  return {
    dir,
    key: readFileSync(path.join(dir, "key.pem"), "utf8"),
    cert: readFileSync(path.join(dir, "cert.pem"), "utf8"),
  };
}

describe("securityHeadersPresent against real nginx", () => {
  it("passes full headers on an HTML page and a JSON API, and fails a bare server_tokens on with a flagless cookie", async () => {
    const session = randomBytes(16).toString("hex");
    const sid = randomBytes(16).toString("hex");
    const nginx = await startNginx(onCleanup, {
      files: { "html/index.html": PAGE },
      servers: `
        server {
          listen 127.0.0.1:{{port0}};
          root {{dir}}/html;
          server_tokens off;
          add_header Content-Security-Policy "${STRICT_CSP}" always;
          add_header X-Content-Type-Options nosniff always;
          add_header Referrer-Policy strict-origin-when-cross-origin always;
          add_header Set-Cookie "sid=${sid}; Path=/; HttpOnly; SameSite=Lax" always;
        }
        server {
          listen 127.0.0.1:{{port1}};
          server_tokens off;
          add_header X-Content-Type-Options nosniff always;
          location / { default_type application/json; return 200 '{"ok":true}'; }
        }
        server {
          listen 127.0.0.1:{{port2}};
          root {{dir}}/html;
          server_tokens on;
          add_header Set-Cookie "session=${session}";
        }`,
    });
    const good = {
      services: {
        shop: { url: `http://127.0.0.1:${nginx.ports[0]}` },
        api: { url: `http://127.0.0.1:${nginx.ports[1]}` },
      },
    };
    const context = makeCheckContext(good);
    const observation = await check.observe(context.ctx);
    recordObservation(check.meta.id, "ok.nginx-full-headers-and-json-api", observation, good);
    const findings = check.judge(observation, context.ctx.spec);
    expect(verdicts(findings)).toEqual([
      ["shop", "PASS", "headersSound"],
      ["api", "PASS", "headersSound"],
    ]);
    expect(findings[1]!.message).toMatch(/no HTML page, so CSP and frame protection were not required/);
    expect(observation.services[0]!.responses[0]!.cookies).toEqual([
      { name: "sid", secure: false, httpOnly: true, sameSite: "Lax", role: "session" },
    ]);

    const bare = { services: { legacy: { url: `http://127.0.0.1:${nginx.ports[2]}` } } };
    const bareContext = makeCheckContext(bare);
    const bareObservation = await check.observe(bareContext.ctx);
    recordObservation(check.meta.id, "ng.nginx-bare-server-tokens", bareObservation, bare);
    const bareFindings = check.judge(bareObservation, bareContext.ctx.spec);
    expect(verdicts(bareFindings)).toEqual([
      ["legacy", "WARN", "nosniffMissing"],
      ["legacy", "FAIL", "cspMissing"],
      ["legacy", "FAIL", "framingAllowed"],
      ["legacy", "WARN", "versionLeak"],
      ["legacy", "FAIL", "cookieNotHttpOnly"],
      ["legacy", "WARN", "cookieSameSite"],
    ]);
    expect(bareFindings[3]!.message).toMatch(/Server: nginx\/\d+\.\d+\.\d+/);
    // Cookie values are secrets: registered, never recorded.
    for (const value of [session, sid]) {
      expect(allEvidence(bareContext.evidenceDir) + allEvidence(context.evidenceDir)).not.toContain(value);
      expect(JSON.stringify(bareObservation) + JSON.stringify(observation)).not.toContain(value);
    }
  });

  it("judges HSTS and Secure cookies over TLS, with the CA security.tls names for the service", async () => {
    const tls = selfSigned();
    const nginx = await startNginx(onCleanup, {
      files: { "html/index.html": PAGE, "tls/key.pem": tls.key, "tls/cert.pem": tls.cert },
      servers: `
        server {
          listen 127.0.0.1:{{port0}} ssl;
          ssl_certificate {{dir}}/tls/cert.pem; ssl_certificate_key {{dir}}/tls/key.pem;
          root {{dir}}/html;
          server_tokens off;
          add_header Strict-Transport-Security "max-age=31536000; includeSubDomains" always;
          add_header Content-Security-Policy "${STRICT_CSP}" always;
          add_header X-Content-Type-Options nosniff always;
          add_header Set-Cookie "__Host-session=x${randomBytes(8).toString("hex")}; Path=/; Secure; HttpOnly; SameSite=Strict" always;
        }
        server {
          listen 127.0.0.1:{{port1}} ssl;
          ssl_certificate {{dir}}/tls/cert.pem; ssl_certificate_key {{dir}}/tls/key.pem;
          root {{dir}}/html;
          server_tokens off;
          add_header Strict-Transport-Security "max-age=86400" always;
          add_header Content-Security-Policy "${STRICT_CSP}" always;
          add_header X-Content-Type-Options nosniff always;
          add_header Set-Cookie "session=x${randomBytes(8).toString("hex")}; Path=/; HttpOnly; SameSite=Lax" always;
        }
        server {
          listen 127.0.0.1:{{port2}} ssl;
          ssl_certificate {{dir}}/tls/cert.pem; ssl_certificate_key {{dir}}/tls/key.pem;
          root {{dir}}/html;
          server_tokens off;
          add_header Content-Security-Policy "${STRICT_CSP}" always;
          add_header X-Content-Type-Options nosniff always;
        }`,
    });
    const [strict, short, none] = nginx.ports.map((p) => `https://127.0.0.1:${p}`);
    const withCa = (url: string) => ({ url: url!, ca: path.join(tls.dir, "cert.pem") });
    const okSpec = { services: { strict: { url: strict! } }, security: { tls: [withCa(strict!)] } };
    const context = makeCheckContext(okSpec, { specDir: tls.dir });
    const observation = await check.observe(context.ctx);
    recordObservation(check.meta.id, "ok.nginx-tls-hsts", observation, okSpec);
    expect(verdicts(check.judge(observation, context.ctx.spec))).toEqual([
      ["strict", "PASS", "headersSound"],
    ]);

    const ngSpec = {
      services: { short: { url: short! }, none: { url: none! }, untrusted: { url: strict! } },
      security: { tls: [withCa(short!), withCa(none!)] },
    };
    const ngContext = makeCheckContext(ngSpec, { specDir: tls.dir });
    const ngObservation = await check.observe(ngContext.ctx);
    recordObservation(check.meta.id, "ng.nginx-tls-hsts-cookies", ngObservation, ngSpec);
    const findings = check.judge(ngObservation, ngContext.ctx.spec);
    expect(verdicts(findings)).toEqual([
      ["short", "WARN", "hstsShort"],
      ["short", "FAIL", "cookieNotSecure"],
      ["none", "FAIL", "hstsMissing"],
      ["untrusted", "UNVERIFIED", "tlsFailed"],
    ]);
    expect(findings[3]!.toVerify).toMatch(/security\.tls/);
  });

  it("fails a CSP with 'unsafe-inline' and an obsolete ALLOW-FROM, warns about plain http on a public service", async () => {
    const nginx = await startNginx(onCleanup, {
      files: { "html/index.html": PAGE },
      servers: `
        server {
          listen 127.0.0.1:{{port0}};
          root {{dir}}/html;
          server_tokens off;
          add_header Content-Security-Policy "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; object-src 'none'" always;
          add_header X-Frame-Options "ALLOW-FROM https://partner.example" always;
          add_header X-Content-Type-Options nosniff always;
          add_header Referrer-Policy unsafe-url always;
        }`,
    });
    const spec = {
      services: { web: { url: `http://127.0.0.1:${nginx.ports[0]}`, exposure: "public" as const } },
    };
    const context = makeCheckContext(spec);
    const observation = await check.observe(context.ctx);
    recordObservation(check.meta.id, "ng.nginx-unsafe-csp", observation, spec);
    const findings = check.judge(observation, context.ctx.spec);
    expect(verdicts(findings)).toEqual([
      ["web", "WARN", "plainHttp"],
      ["web", "FAIL", "cspUnsafe"],
      ["web", "WARN", "cspWeak"],
      ["web", "FAIL", "framingAllowed"],
      ["web", "WARN", "referrerUnsafe"],
    ]);
    expect(findings[1]!.message).toMatch(/script-src 'unsafe-inline'/);
    expect(findings[2]!.message).toMatch(/'unsafe-eval'/);
    expect(findings[3]!.message).toMatch(/ALLOW-FROM is ignored/);
  });
});

describe("securityHeadersPresent against node:http", () => {
  it("follows / to the app page, judges the performance paths by their kind, and names X-Powered-By", async () => {
    const server = http.createServer((req, res) => {
      const headers = { "x-powered-by": "Express", "x-content-type-options": "nosniff" };
      if (req.url === "/") {
        res.writeHead(302, { ...headers, location: "/app/" });
        res.end();
      } else if (req.url === "/app/") {
        res.writeHead(200, {
          ...headers,
          "content-type": "text/html; charset=utf-8",
          "content-security-policy-report-only": STRICT_CSP,
          "x-frame-options": "DENY",
        });
        res.end(PAGE);
      } else if (req.url === "/api/items") {
        res.writeHead(req.headers["x-api-key"] === "k-123456" ? 200 : 401, {
          ...headers,
          "content-type": "application/json",
        });
        res.end("[]");
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const spec = {
      services: {
        app: { url },
        admin: { url, exposure: "internal" as const },
      },
      performance: {
        target: "app",
        requests: [{ method: "GET" as const, path: "/api/items", headers: { "x-api-key": "k-123456" } }],
      },
    };
    const context = makeCheckContext(spec);
    const observation = await check.observe(context.ctx);
    recordObservation(check.meta.id, "ng.node-express-report-only", observation, spec);
    const findings = check.judge(observation, context.ctx.spec);
    expect(verdicts(findings)).toEqual([
      ["app", "FAIL", "cspMissing"],
      ["app", "WARN", "versionLeak"],
    ]);
    expect(findings[0]!.message).toMatch(/\/app\/ .*only Content-Security-Policy-Report-Only/);
    expect(
      observation.services[0]!.responses.map((r) => [r.target, r.status, r.redirectedFrom?.status]),
    ).toEqual([
      ["/app/", 200, 302],
      ["/api/items", 200, undefined],
    ]);
    // The performance request's own header was sent, and is a secret of the run.
    expect(allEvidence(context.evidenceDir)).not.toContain("k-123456");

    const internalOnly = makeCheckContext({ services: { admin: { url, exposure: "internal" } } });
    expect(check.applies(internalOnly.ctx.spec, { allowDestructive: false })).toMatchObject({
      applies: false,
    });
  });
});
