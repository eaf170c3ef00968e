// Real nginx servers (open /admin, auth_basic /admin, a served .git and .env, an SPA catch-all, auth only in the
// proxy in front of a case-insensitive app) and small node:http servers for what nginx cannot express (any bearer
// accepted, 401 without a challenge, HEAD served, redirects to login and to content, debug endpoints).
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { describe, expect, it } from "vitest";
import check from "../../../src/checks/security/protectedEndpointsRequireAuth.js";
import type { FindingInput } from "../../../src/core/types.js";
import { makeCheckContext } from "../../support/checkContext.js";
import { cleanupAfterEach } from "../../support/cleanups.js";
import { recordObservation } from "../../support/judgeFixtures.js";
import { startNginx } from "../../support/nginx.js";
import { freePort } from "../../support/ports.js";
import { requireTool } from "../../support/services.js";

const onCleanup = cleanupAfterEach();

const verdicts = (findings: FindingInput[]) => findings.map((f) => [f.subject, f.status, f.messageId]);
const pathOf = (f: FindingInput) => (f.data as { path?: string } | undefined)?.path;

async function serve(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onCleanup(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function htpasswd(user: string, password: string): string {
  requireTool("openssl", "openssl");
  const hash = execFileSync("openssl", ["passwd", "-apr1", password], { encoding: "utf8" }).trim();
  return `${user}:${hash}\n`;
}

/** Every file under the evidence folder, concatenated: what a reader of the evidence could see. */
function allEvidence(dir: string): string {
  return readdirSync(dir, { recursive: true })
    .map((f) => path.join(dir, String(f)))
    .filter((f) => statSync(f).isFile())
    .map((f) => readFileSync(f, "utf8"))
    .join("\n");
}

describe("protectedEndpointsRequireAuth against real nginx", () => {
  it("passes auth_basic on /admin (every credential, HEAD and spelling refused) and fails an open /admin", async () => {
    const password = randomBytes(12).toString("hex");
    const nginx = await startNginx(onCleanup, {
      files: {
        htpasswd: htpasswd("admin", password),
        "html/admin/index.html": "<html><title>Admin</title><body>users: alice, bob</body></html>",
      },
      servers: `
        server {
          listen 127.0.0.1:{{port0}};
          root {{dir}}/html;
          location /admin { auth_basic "Admin area"; auth_basic_user_file {{dir}}/htpasswd; }
        }
        server {
          listen 127.0.0.1:{{port1}};
          location /admin { default_type text/plain; return 200 "admin panel: users alice, bob\\n"; }
          location / { return 404; }
        }`,
    });
    const spec = {
      services: {
        guarded: { url: `http://127.0.0.1:${nginx.ports[0]}`, protected: ["/admin"] },
        open: {
          url: `http://127.0.0.1:${nginx.ports[1]}`,
          protected: ["/admin"],
          exposure: "public" as const,
        },
      },
    };
    const guarded = makeCheckContext({ services: { guarded: spec.services.guarded } });
    const observation = await check.observe(guarded.ctx);
    recordObservation(check.meta.id, "ok.nginx-auth-basic", observation, {
      services: { guarded: spec.services.guarded },
    });
    const findings = check.judge(observation, guarded.ctx.spec);
    expect(verdicts(findings)).toEqual([
      ["guarded", "PASS", "refused"],
      ["guarded", "PASS", "noLeaks"],
    ]);
    const probe = observation.services[0]!.protected[0]!;
    expect(probe.anonymous.status).toBe(401);
    expect(probe.anonymous.headers?.["www-authenticate"]).toMatch(/^Basic realm="Admin area"/);
    expect([probe.wrongBearer?.status, probe.wrongBasic?.status, probe.head?.status]).toEqual([
      401, 401, 401,
    ]);
    // nginx normalises %2e, //, %61 and matches /admin; and /admin; by prefix: all refused. /ADMIN is another path.
    expect(Object.fromEntries(probe.variants.map((v) => [v.variant, v.status]))).toEqual({
      trailingSlash: 401,
      upperCase: 404,
      dotSegment: 401,
      doubleSlash: 401,
      pathParameter: 401,
      percentEncoded: 401,
    });
    // The wrong credentials never appear in the evidence (they are random and registered as secrets).
    const evidence = allEvidence(guarded.evidenceDir);
    expect(evidence).toContain('"target": "/%2e/admin"');
    expect(evidence).not.toMatch(/Bearer ey|Basic Z2F1/);

    const open = makeCheckContext({ services: { open: spec.services.open } });
    const openObservation = await check.observe(open.ctx);
    recordObservation(check.meta.id, "ng.nginx-open-admin", openObservation, {
      services: { open: spec.services.open },
    });
    const openFindings = check.judge(openObservation, open.ctx.spec);
    expect(verdicts(openFindings)).toEqual([
      ["open", "FAIL", "openToAnonymous"],
      ["open", "PASS", "noLeaks"],
    ]);
    expect(openFindings[0]!.data).toMatchObject({ path: "/admin", status: 200 });
    // An open path is not asked again with wrong credentials: there is nothing to learn.
    expect(openObservation.services[0]!.protected[0]!.wrongBearer).toBeUndefined();
  });

  it("fails a served .git/config and .env by their content and never records their secrets; warns about public /metrics", async () => {
    const token = `ghp_${randomBytes(18).toString("hex")}`;
    const dbPassword = randomBytes(16).toString("base64url");
    const nginx = await startNginx(onCleanup, {
      files: {
        "html/index.html": "<!doctype html><html><title>Shop</title></html>",
        "html/.git/config": `[core]\n\trepositoryformatversion = 0\n\tbare = false\n[remote "origin"]\n\turl = https://deploy:${token}@github.com/acme/shop.git\n`,
        "html/.git/HEAD": "ref: refs/heads/main\n",
        "html/.env": `# production\nDB_PASSWORD=${dbPassword}\nAPP_ENV=production\n`,
        "html/metrics":
          '# HELP http_requests_total Requests.\n# TYPE http_requests_total counter\nhttp_requests_total{code="200"} 7\n',
      },
      servers: `
        server {
          listen 127.0.0.1:{{port0}};
          root {{dir}}/html;
          location = /metrics { default_type text/plain; }
        }`,
    });
    const spec = {
      services: { shop: { url: `http://127.0.0.1:${nginx.ports[0]}`, exposure: "public" as const } },
    };
    const context = makeCheckContext(spec);
    const observation = await check.observe(context.ctx);
    recordObservation(check.meta.id, "ng.nginx-git-env-metrics", observation, spec);
    const findings = check.judge(observation, context.ctx.spec);
    expect(findings.map((f) => [f.status, f.messageId, pathOf(f)])).toEqual([
      ["FAIL", "leak", "/.env"],
      ["FAIL", "leak", "/.git/config"],
      ["FAIL", "leak", "/.git/HEAD"],
      ["WARN", "metricsPublic", "/metrics"],
    ]);
    const env = observation.services[0]!.leaks.find((l) => l.path === "/.env")!;
    expect(env.matched?.excerpt).toEqual(["DB_PASSWORD=…", "APP_ENV=…"]);
    const evidence = allEvidence(context.evidenceDir);
    expect(evidence).toContain("/.git/config");
    for (const secret of [token, dbPassword]) {
      expect(evidence).not.toContain(secret);
      expect(JSON.stringify(observation)).not.toContain(secret);
      expect(JSON.stringify(findings)).not.toContain(secret);
    }
    // The values were registered, so nothing else in this run can print them either.
    expect(context.ctx.secrets.redact(`x ${token} ${dbPassword}`)).not.toMatch(
      new RegExp(`${token}|${dbPassword}`),
    );

    // The same files on a service on loopback with no exposure declared: leaks fail, /metrics is not warned about.
    const quiet = makeCheckContext({ services: { shop: { url: spec.services.shop.url } } });
    const quietFindings = await check.run(quiet.ctx);
    expect(quietFindings.map((f) => f.messageId)).not.toContain("metricsPublic");
    expect(quietFindings.filter((f) => f.messageId === "leak")).toHaveLength(3);
  });

  it("an SPA that answers index.html everywhere triggers no leak, and a protected path it serves is a catch-all, not a pass", async () => {
    const password = randomBytes(12).toString("hex");
    const nginx = await startNginx(onCleanup, {
      files: {
        htpasswd: htpasswd("ops", password),
        "html/index.html": `<!doctype html><html><head><title>Dashboard</title></head><body><div id="app"></div><script src="/app.js"></script></body></html>`,
        "html/api/admin/index.html": "secret admin api",
      },
      servers: `
        server {
          listen 127.0.0.1:{{port0}};
          root {{dir}}/html;
          location /api/ { auth_basic "api"; auth_basic_user_file {{dir}}/htpasswd; }
          location / { try_files $uri /index.html; }
        }`,
    });
    const spec = {
      services: {
        spa: {
          url: `http://127.0.0.1:${nginx.ports[0]}`,
          exposure: "public" as const,
          protected: ["/admin", "/api/admin/"],
        },
      },
    };
    const context = makeCheckContext(spec);
    const observation = await check.observe(context.ctx);
    recordObservation(check.meta.id, "ng.nginx-spa-catch-all", observation, spec);
    const findings = check.judge(observation, context.ctx.spec);
    expect(findings.map((f) => [f.status, f.messageId, pathOf(f)])).toEqual([
      ["UNVERIFIED", "catchAllPage", "/admin"],
      ["PASS", "refused", "/api/admin/"],
      ["PASS", "noLeaks", undefined],
    ]);
    // Every leak path was answered 200 with the page, which is not what the path names.
    const leaks = observation.services[0]!.leaks;
    expect(leaks.every((l) => l.exchange.status === 200 && !l.matched)).toBe(true);
    expect(findings.at(-1)!.message).toMatch(
      /answered 2xx with something else \(\d+ with the catch-all page\)/,
    );
    // /API/ADMIN/ falls through to the SPA: the same page as any path, not a bypass.
    const api = observation.services[0]!.protected[1]!;
    expect(api.variants.find((v) => v.variant === "upperCase")?.status).toBe(200);
  });

  it("fails auth written only in the proxy when the app behind it routes case-insensitively", async () => {
    const password = randomBytes(12).toString("hex");
    const app = await serve((req, res) => {
      if ((req.url ?? "").toLowerCase().startsWith("/admin")) {
        res.writeHead(200, { "content-type": "text/html" });
        res.end("<html><title>Admin console</title><body>delete user</body></html>");
        return;
      }
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found");
    });
    const nginx = await startNginx(onCleanup, {
      files: { htpasswd: htpasswd("ops", password) },
      servers: `
        server {
          listen 127.0.0.1:{{port0}};
          location /admin { auth_basic "ops"; auth_basic_user_file {{dir}}/htpasswd; proxy_pass ${app}; }
          location / { proxy_pass ${app}; }
        }`,
    });
    const spec = {
      services: { console: { url: `http://127.0.0.1:${nginx.ports[0]}`, protected: ["/admin"] } },
    };
    const context = makeCheckContext(spec);
    const observation = await check.observe(context.ctx);
    recordObservation(check.meta.id, "ng.proxy-auth-case-bypass", observation, spec);
    const findings = check.judge(observation, context.ctx.spec);
    expect(verdicts(findings)).toEqual([
      ["console", "FAIL", "pathBypass"],
      ["console", "PASS", "noLeaks"],
    ]);
    const variants = (findings[0]!.data as { variants: { variant: string; status: number }[] }).variants;
    expect(variants).toEqual([
      expect.objectContaining({ variant: "upperCase", status: 200, target: "/ADMIN" }),
    ]);
  });
});

describe("protectedEndpointsRequireAuth against node:http servers", () => {
  it("tells each way a server gets authentication wrong, and what it cannot tell", async () => {
    const app = await serve((req, res) => {
      const url = req.url ?? "/";
      const auth = req.headers.authorization ?? "";
      if (url === "/any-token") {
        // Checks that a bearer token is there, never that it is valid.
        if (auth.startsWith("Bearer ")) {
          res.writeHead(200, { "content-type": "application/json" });
          res.end('{"orders":[1,2,3]}');
        } else {
          res.writeHead(401, { "www-authenticate": 'Bearer realm="api"' });
          res.end();
        }
        return;
      }
      if (url === "/no-challenge") {
        res.writeHead(401, { "content-type": "application/json" });
        res.end('{"error":"unauthorized"}');
        return;
      }
      if (url === "/get-only") {
        // The access rule is written for GET.
        if (req.method === "GET") {
          res.writeHead(403);
          res.end();
        } else {
          res.writeHead(200, { "content-type": "text/html" });
          res.end("<html>exports</html>");
        }
        return;
      }
      if (url === "/account") {
        res.writeHead(302, { location: "/login?next=%2Faccount" });
        res.end();
        return;
      }
      if (url === "/reports") {
        res.writeHead(301, { location: "/reports/" });
        res.end();
        return;
      }
      if (url === "/reports/") {
        res.writeHead(200, { "content-type": "text/html" });
        res.end("<html><title>Reports</title>revenue 2026</html>");
        return;
      }
      if (url === "/debug/pprof/") {
        res.writeHead(200, { "content-type": "text/html" });
        res.end("<html><body>/debug/pprof/<br>Types of profiles available:<table></table></body></html>");
        return;
      }
      if (url === "/actuator/env") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            activeProfiles: ["prod"],
            propertySources: [
              { name: "env", properties: { SPRING_DATASOURCE_PASSWORD: { value: "******" } } },
            ],
          }),
        );
        return;
      }
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("no such page");
    });
    const closed = `http://127.0.0.1:${await freePort()}`;
    const spec = {
      services: {
        api: {
          url: app,
          protected: ["/any-token", "/no-challenge", "/get-only", "/account", "/reports", "/missing"],
        },
        down: { url: closed, protected: ["/admin"] },
        db: { kind: "postgres" as const, url: "postgres://127.0.0.1:5432/app" },
      },
    };
    const context = makeCheckContext(spec);
    const observation = await check.observe(context.ctx);
    recordObservation(check.meta.id, "ng.node-auth-mistakes", observation, spec);
    const findings = check.judge(observation, context.ctx.spec);
    expect(findings.map((f) => [f.subject, f.status, f.messageId, pathOf(f)])).toEqual([
      ["api", "FAIL", "acceptsWrongCredentials", "/any-token"],
      ["api", "WARN", "noChallenge", "/no-challenge"],
      ["api", "FAIL", "methodBypass", "/get-only"],
      ["api", "PASS", "redirectsToLogin", "/account"],
      ["api", "FAIL", "redirectsToContent", "/reports"],
      ["api", "UNVERIFIED", "protectedPathMissing", "/missing"],
      ["api", "FAIL", "leak", "/actuator/env"],
      ["api", "FAIL", "leak", "/debug/pprof/"],
      ["down", "UNVERIFIED", "unreachable", undefined],
    ]);
    expect(findings[0]!.message).toMatch(/accepts a wrong bearer token → 200/);
    expect(findings[0]!.message).not.toMatch(/basic/);
    for (const f of findings.filter((f) => f.status === "UNVERIFIED")) expect(f.toVerify).toBeTruthy();
  });

  it("is N/A without an HTTP service", () => {
    const context = makeCheckContext({ services: { db: { kind: "redis", url: "redis://127.0.0.1:6379" } } });
    expect(check.applies(context.ctx.spec, { allowDestructive: false })).toMatchObject({ applies: false });
  });
});
