// The pure parts of the web security probes: what is sent (wrong credentials, path variants), how answers are read
// (login redirects, same page, leak content, headers, CSP, cookies), and probeHttp's raw paths and Set-Cookie lists.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { probeHttp } from "../../../src/engines/http/probe.js";
import {
  isLoginLocation,
  pathVariants,
  unknownPath,
  wrongCredentials,
} from "../../../src/engines/webSecurity/authProbes.js";
import {
  type Exchange,
  maskAssignments,
  maskedExcerpt,
  samePage,
  summarisePage,
} from "../../../src/engines/webSecurity/exchange.js";
import {
  evaluateCsp,
  frameProtection,
  isNosniff,
  parseHsts,
  parseSetCookie,
  referrerPolicy,
  sameSiteProblem,
  versionLeaks,
} from "../../../src/engines/webSecurity/headers.js";
import {
  baseUrl,
  hostScope,
  httpTargets,
  publicReason,
  requestTarget,
  serviceBase,
  tlsTrustFor,
} from "../../../src/engines/webSecurity/httpTargets.js";
import { LEAK_PROBES } from "../../../src/engines/webSecurity/leaks.js";
import { specSchema } from "../../../src/spec/schema.js";

const detector = (p: string) => LEAK_PROBES.find((l) => l.path === p)!.detect;
const spec = (input: Record<string, unknown>) =>
  specSchema.parse({ version: 1, system: { name: "t" }, ...input });

describe("wrong credentials", () => {
  it("are fresh every time: a JWT-shaped bearer with a random signature, basic with a random password", () => {
    const a = wrongCredentials(0);
    const b = wrongCredentials(0);
    expect(a.bearer).not.toBe(b.bearer);
    expect(a.basicPassword).not.toBe(b.basicPassword);
    const [header, payload, signature] = a.bearer.split(".");
    expect(JSON.parse(Buffer.from(header!, "base64url").toString())).toEqual({ alg: "HS256", typ: "JWT" });
    expect(JSON.parse(Buffer.from(payload!, "base64url").toString())).toMatchObject({
      sub: "gauntlet-probe",
    });
    expect(Buffer.from(signature!, "base64url")).toHaveLength(32);
    expect(Buffer.from(a.basicHeader.slice(6), "base64").toString()).toBe(
      `gauntlet-probe:${a.basicPassword}`,
    );
    expect(unknownPath()).toMatch(/^\/gauntlet-[0-9a-f]{16}$/);
  });
});

describe("pathVariants", () => {
  it("spells a path the ways access rules have been bypassed, query kept, never the path itself", () => {
    expect(pathVariants("/admin?tab=users").map((v) => [v.name, v.target])).toEqual([
      ["trailingSlash", "/admin/?tab=users"],
      ["upperCase", "/ADMIN?tab=users"],
      ["dotSegment", "/%2e/admin?tab=users"],
      ["doubleSlash", "//admin?tab=users"],
      ["pathParameter", "/admin;gauntlet?tab=users"],
      ["percentEncoded", "/%61dmin?tab=users"],
    ]);
    expect(pathVariants("/api/v1/")[0]).toMatchObject({ name: "trailingSlash", target: "/api/v1" });
    expect(pathVariants("/api/v1/").find((v) => v.name === "pathParameter")?.target).toBe("/api/v1;gauntlet");
    // Nothing to upper-case in digits: the variant that equals the path is left out.
    expect(pathVariants("/123").map((v) => v.name)).not.toContain("upperCase");
    expect(pathVariants("/")).toEqual([]);
  });
});

describe("isLoginLocation", () => {
  it("knows login and SSO pages by path or host, not by a word inside another", () => {
    const base = "http://127.0.0.1:8080/admin";
    for (const yes of [
      "/login?next=/admin",
      "/users/sign_in",
      "/auth/realms/x/protocol/openid-connect/auth?client_id=a",
      "https://login.microsoftonline.com/common/oauth2/authorize",
      "https://accounts.google.com/o/oauth2/v2/auth",
      "/sso/start",
      "/signin",
    ])
      expect(isLoginLocation(yes, base), yes).toBe(true);
    for (const no of ["/admin/", "/author/42", "/dashboard", "https://partner.example/welcome", "/catalog"])
      expect(isLoginLocation(no, base), no).toBe(false);
  });
});

describe("pages", () => {
  const exchange = (status: number, body: string): Exchange => ({
    method: "GET",
    target: "/",
    credentials: "none",
    status,
    page: summarisePage(body, false, status),
  });

  it("are the same by digest, or by title and length when a per-request token changes the bytes", () => {
    const shell = (nonce: string) =>
      `<html><head><title>App</title></head><body data-n="${nonce}"></body></html>`;
    expect(samePage(exchange(200, shell("aaaa")), exchange(200, shell("aaaa")))).toBe(true);
    expect(samePage(exchange(200, shell("aaaa")), exchange(200, shell("bbbb")))).toBe(true);
    expect(samePage(exchange(200, shell("aaaa")), exchange(404, shell("aaaa")))).toBe(false);
    const admin =
      "<html><head><title>App</title></head><body>users: alice, bob, carol, dave and eve</body></html>";
    expect(samePage(exchange(200, shell("aaaa")), exchange(200, admin))).toBe(false);
  });

  it("recognise a login form and mask values in excerpts", () => {
    expect(summarisePage('<form><input name="p" type="password"></form>', false, 200).loginForm).toBe(true);
    expect(summarisePage("<form><input name=q></form>", false, 200).loginForm).toBe(false);
    const token = randomBytes(10).toString("hex");
    expect(maskAssignments(`API_TOKEN=${token}\n{"password": "${token}"}`)).toBe(
      'API_TOKEN=…\n{"password": "…"}',
    );
    expect(maskedExcerpt(`A=1\nB=${token}\n${"x".repeat(300)}`)).toMatch(/^A=… B=… x+…$/);
  });
});

describe("leak detectors", () => {
  it("recognise a dotenv file, not an HTML page or JSON, and keep only key names", () => {
    const secret = randomBytes(12).toString("base64url");
    const env = detector("/.env")(
      `# prod\nDB_PASSWORD=${secret}\nexport PORT=8080\nNAME="shop"\n`,
      "text/plain",
    );
    expect(env).toEqual({
      marker: "3 KEY=VALUE line(s)",
      excerpt: ["DB_PASSWORD=…", "PORT=…", "NAME=…"],
      secrets: [secret],
    });
    expect(detector("/.env")("<!doctype html><html>A=B</html>", "text/html")).toBeNull();
    expect(detector("/.env")('{"A":"B"}', "application/json")).toBeNull();
    expect(detector("/.env")("hello world\nthis is text\n", "text/plain")).toBeNull();
  });

  it("recognise git metadata and return the credentials of remote URLs as secrets", () => {
    const token = randomBytes(10).toString("hex");
    const config = `[core]\n\tbare = false\n[remote "origin"]\n\turl = https://ci:${token}@git.example/a.git\n[http]\n\textraheader = AUTHORIZATION: basic ${token}x\n`;
    const match = detector("/.git/config")(config, "text/plain")!;
    expect(match.excerpt).toEqual([
      "[core]",
      "  bare = …",
      '[remote "origin"]',
      "  url = …",
      "[http]",
      "  extraheader = …",
    ]);
    expect(match.secrets).toEqual([token, `basic ${token}x`]);
    expect(detector("/.git/config")("<html>[core]</html>", "text/html")).toBeNull();
    expect(detector("/.git/HEAD")("ref: refs/heads/main\n", "")).toMatchObject({ marker: "ref: refs/…" });
    expect(detector("/.git/HEAD")(`${"a".repeat(40)}\n`, "")).toMatchObject({
      marker: "a detached commit id",
    });
    expect(detector("/.git/HEAD")("<html>ref: refs/heads/main</html>", "")).toBeNull();
  });

  it("recognise binary and debug pages by their magic, Prometheus metrics by parsing them", () => {
    expect(
      detector("/actuator/heapdump")("JAVA PROFILE 1.0.2\0\0\0\x04", "application/octet-stream"),
    ).not.toBeNull();
    expect(detector("/.DS_Store")("\0\0\0\x01Bud1\0\0", "application/octet-stream")).not.toBeNull();
    expect(
      detector("/server-status")("<h1>Apache Server Status for localhost</h1>", "text/html"),
    ).not.toBeNull();
    expect(detector("/phpinfo.php")("<title>phpinfo()</title>", "text/html")).not.toBeNull();
    expect(
      detector("/actuator/env")('{"activeProfiles":[],"propertySources":[]}', "application/json"),
    ).not.toBeNull();
    expect(detector("/actuator/env")('{"status":"UP"}', "application/json")).toBeNull();
    const metrics = "# TYPE up gauge\nup 1\nprocess_cpu_seconds_total 3.2\nhttp_requests_tot";
    expect(detector("/metrics")(metrics, "text/plain; version=0.0.4")).toMatchObject({
      excerpt: ["up", "process_cpu_seconds_total"],
    });
    expect(detector("/metrics")('{"up":1}', "application/json")).toBeNull();
    expect(detector("/metrics")("<html><title>Metrics</title></html>", "text/html")).toBeNull();
    expect(detector("/metrics")("welcome to our shop", "text/plain")).toBeNull();
  });
});

describe("header readers", () => {
  it("read HSTS like the Observatory (max-age required, sent once)", () => {
    expect(parseHsts("max-age=31536000; includeSubDomains; preload")).toMatchObject({
      valid: true,
      maxAge: 31536000,
      includeSubDomains: true,
      preload: true,
    });
    expect(parseHsts('max-age="600"')).toMatchObject({ valid: true, maxAge: 600 });
    expect(parseHsts("includeSubDomains")).toMatchObject({ valid: false, problem: "no valid max-age" });
    expect(parseHsts("max-age=1, max-age=2").valid).toBe(false);
  });

  it("read framing, nosniff, referrer policy and version leaks", () => {
    expect(frameProtection("DENY", undefined)).toMatchObject({ protected: true, by: "x-frame-options" });
    expect(frameProtection(undefined, evaluateCsp("frame-ancestors 'self'"))).toMatchObject({
      protected: true,
      by: "frame-ancestors",
    });
    expect(frameProtection("ALLOW-FROM https://a.example", undefined).protected).toBe(false);
    expect(frameProtection(undefined, evaluateCsp("default-src 'self'")).protected).toBe(false);
    expect([isNosniff("nosniff"), isNosniff(" NoSniff "), isNosniff("sniff"), isNosniff(undefined)]).toEqual([
      true,
      true,
      false,
      false,
    ]);
    expect(referrerPolicy("unsafe-url, strict-origin")).toEqual({
      policy: "strict-origin",
      verdict: "private",
    });
    expect(referrerPolicy("no-referrer-when-downgrade").verdict).toBe("unsafe");
    expect(referrerPolicy("bogus").verdict).toBe("invalid");
    expect(referrerPolicy(undefined).verdict).toBe("absent");
    expect(versionLeaks({ server: "nginx" })).toEqual([]);
    expect(versionLeaks({ server: "Apache/2.4.57 (Debian)", "x-powered-by": "PHP/8.2.7" })).toEqual([
      { header: "server", value: "Apache/2.4.57 (Debian)" },
      { header: "x-powered-by", value: "PHP/8.2.7" },
    ]);
  });

  it("read cookies by name and attributes, and tell session and anti-CSRF cookies", () => {
    const value = randomBytes(8).toString("hex");
    expect(parseSetCookie(`JSESSIONID=${value}; Path=/; Secure; HttpOnly; SameSite=Strict`)).toEqual({
      cookie: { name: "JSESSIONID", secure: true, httpOnly: true, sameSite: "Strict", role: "session" },
      value,
    });
    expect(parseSetCookie("XSRF-TOKEN=a; Expires=Wed, 21 Oct 2037 07:28:00 GMT")?.cookie).toMatchObject({
      role: "csrf",
      secure: false,
    });
    expect(parseSetCookie("theme=dark")?.cookie.role).toBe("other");
    expect(parseSetCookie("garbage")).toBeNull();
    const none = parseSetCookie("a=b; SameSite=None")!.cookie;
    expect(sameSiteProblem(none)).toMatch(/without Secure/);
    expect(sameSiteProblem({ ...none, secure: true })).toBeNull();
    expect(sameSiteProblem({ ...none, sameSite: "Loose" })).toMatch(/not Strict, Lax or None/);
  });

  it("evaluate a CSP with csp_evaluator: unsafe-inline without nonce is high, with a nonce and strict-dynamic it is not", () => {
    const inline = evaluateCsp("script-src 'self' 'unsafe-inline'; object-src 'none'");
    expect(inline.problems.filter((p) => p.severity === "high").map((p) => p.type)).toEqual([
      "SCRIPT_UNSAFE_INLINE",
    ]);
    const nonce = evaluateCsp(
      `script-src 'nonce-${randomBytes(12).toString("base64")}' 'unsafe-inline' 'strict-dynamic'; object-src 'none'; base-uri 'none'`,
    );
    expect(nonce.problems.filter((p) => p.severity === "high")).toEqual([]);
    expect(evaluateCsp("default-src *").problems.map((p) => p.type)).toContain("PLAIN_WILDCARD");
    expect(evaluateCsp("frame-ancestors 'none'").problems.filter((p) => p.severity === "high").length).toBe(
      2,
    );
    expect(evaluateCsp("script-src 'self'; bogus-directive x").problems.map((p) => p.severity)).toContain(
      "syntax",
    );
    // Two policies: both are enforced, so a weakness only one of them has is no weakness.
    const two = evaluateCsp(
      "script-src 'unsafe-inline', script-src 'self'; object-src 'none'; frame-ancestors 'none'",
    );
    expect(two.policies).toHaveLength(2);
    expect(two.problems.filter((p) => p.severity === "high")).toEqual([]);
    expect(two.frameAncestors).toBe("'none'");
  });
});

describe("http targets", () => {
  it("are the HTTP services, with credentials dropped from the base and a health URL as fallback", () => {
    const targets = httpTargets(
      spec({
        services: {
          api: { url: "http://user:pw@127.0.0.1:8080/app/?x=1#y" },
          web: { health: "https://web.example/healthz" },
          odd: { kind: "other", url: "tcp://127.0.0.1:9000" },
          db: { kind: "postgres", url: "postgres://127.0.0.1:5432/app" },
        },
      }),
    );
    expect(targets.map((t) => [t.name, t.base, t.exposure])).toEqual([
      ["api", "http://127.0.0.1:8080/app", "undeclared"],
      ["web", "https://web.example", "undeclared"],
    ]);
    expect(baseUrl("ftp://x")).toBeNull();
    expect(serviceBase({ kind: "http", url: "not a url" } as never)).toBeNull();
    expect(requestTarget("http://127.0.0.1:8080/app", "/.env")).toBe("/app/.env");
  });

  it("count as public when declared so, or undeclared on a host that is not loopback or private", () => {
    expect(hostScope("http://127.0.0.1:1")).toBe("loopback");
    expect(hostScope("http://localhost:1")).toBe("loopback");
    expect(hostScope("http://10.1.2.3:1")).toBe("private");
    expect(hostScope("http://[::1]:1")).toBe("loopback");
    expect(hostScope("http://8.8.8.8")).toBe("public");
    expect(hostScope("http://shop.example")).toBe("name");
    expect(publicReason("public", "http://127.0.0.1:1")).toBe("exposure: public");
    expect(publicReason("internal", "http://8.8.8.8")).toBeNull();
    expect(publicReason("undeclared", "http://192.168.1.2")).toBeNull();
    expect(publicReason("undeclared", "https://shop.example")).toMatch(/host name/);
  });

  it("trust an https service with the CA its security.tls entry names, and say when the file cannot be read", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-trust-"));
    try {
      writeFileSync(path.join(dir, "ca.pem"), "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n");
      const s = spec({
        services: { a: { url: "https://127.0.0.1:8443" } },
        security: {
          tls: [
            { url: "https://127.0.0.1:8443", ca: "ca.pem", servername: "a.internal" },
            { url: "https://127.0.0.1:9443", ca: "missing.pem" },
          ],
        },
      });
      expect(await tlsTrustFor(s, dir, "https://127.0.0.1:8443/x")).toMatchObject({
        ca: expect.stringContaining("BEGIN CERTIFICATE"),
        servername: "a.internal",
      });
      expect((await tlsTrustFor(s, dir, "https://127.0.0.1:9443")).caError).toMatch(/missing\.pem: ENOENT/);
      expect(await tlsTrustFor(s, dir, "http://127.0.0.1:8443")).toEqual({});
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("probeHttp for the security probes", () => {
  let server: http.Server;
  let base: string;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      res.setHeader("set-cookie", ["a=1; Expires=Wed, 21 Oct 2037 07:28:00 GMT", "b=2; HttpOnly"]);
      res.end(req.url);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it("sends a raw path as written (URL parsing would turn /%2e/admin into /admin) and lists Set-Cookie headers", async () => {
    const normalised = await probeHttp({ url: `${base}/%2e/admin`, timeoutMs: 2_000 });
    const raw = await probeHttp({ url: base, rawPath: "/%2e/admin", timeoutMs: 2_000 });
    expect(normalised.ok && normalised.body).toBe("/admin");
    expect(raw.ok && raw.body).toBe("/%2e/admin");
    expect(raw.ok && raw.setCookies).toEqual(["a=1; Expires=Wed, 21 Oct 2037 07:28:00 GMT", "b=2; HttpOnly"]);
  });
});
