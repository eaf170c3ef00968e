// The "done when" with the real binary: a `gauntlet proxy` started with no token prints a fresh one once, and
// its control API refuses a cross-site page (Origin, text/plain), a DNS-rebound one (foreign Host) and a request
// without the token, so no such request can add a toxic; with the token it works. A resilience check whose spec holds
// no or a wrong token reports the fault as not injected (UNVERIFIED), naming the setting to fix, and leaves no toxic.
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import blink from "../../../src/checks/resilience/dependencyBlinkSurvived.js";
import latency from "../../../src/checks/resilience/dependencyLatencyTolerated.js";
import outage from "../../../src/checks/resilience/dependencyOutageDegradesGracefully.js";
import { startProxiedSystem } from "../../fixtures/services/system.js";
import { makeCheckContext } from "../../support/checkContext.js";
import { cleanupAfterEach } from "../../support/cleanups.js";
import { startCli } from "../../support/cli.js";
import { freePort } from "../../support/ports.js";

const onCleanup = cleanupAfterEach();

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function ask(
  port: number,
  method: string,
  target: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port, method, path: target, headers, agent: false },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          text += c;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return condition();
}

/** `gauntlet proxy` in front of an echo server, as a real process; resolves once its control API listens. */
async function startProxyProcess(args: string[] = [], env: NodeJS.ProcessEnv = {}) {
  const echo = net.createServer((s) => {
    s.on("error", () => {});
    s.pipe(s);
  });
  await new Promise<void>((r) => echo.listen(0, "127.0.0.1", r));
  onCleanup(() => new Promise<void>((r) => echo.close(() => r())));
  const [listenPort, apiPort] = [await freePort(), await freePort()];
  const upstream = `127.0.0.1:${(echo.address() as net.AddressInfo).port}`;
  const run = startCli(
    [
      "proxy",
      "--listen",
      `127.0.0.1:${listenPort}`,
      "--upstream",
      upstream,
      "--api",
      `127.0.0.1:${apiPort}`,
      ...args,
    ],
    { env: { GAUNTLET_PROXY_TOKEN: undefined, ...env } },
  );
  onCleanup(() => {
    run.child.kill("SIGKILL");
  });
  expect(await until(() => run.output().includes("control API http")), run.output()).toBe(true);
  return { run, listenPort, apiPort };
}

/** ms for one echo through the proxy. */
function roundTrip(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = net.connect(port, "127.0.0.1", () => socket.write("ping"));
    socket.once("data", () => {
      resolve(performance.now() - started);
      socket.destroy();
    });
    socket.once("error", reject);
  });
}

const csrf = JSON.stringify({ name: "csrf", type: "latency", attributes: { latency: 1_500 } });

describe("gauntlet proxy's control API, the real binary", () => {
  it("refuses cross-site, rebound and tokenless requests, so no page can slow the link; the token works", async () => {
    const { run, listenPort, apiPort } = await startProxyProcess();
    const match = /control API token: ([A-Za-z0-9_-]{43})\n/.exec(run.output());
    expect(match, run.output()).not.toBeNull();
    const token = match![1]!;
    expect(run.output().split(token).length - 1).toBe(1);

    // What a web page can send: a text/plain POST (no preflight) with its Origin; after DNS rebinding, its own Host.
    const attempts: { headers: Record<string, string>; status: number }[] = [
      { headers: { origin: "https://evil.example", "content-type": "text/plain" }, status: 403 },
      { headers: { host: `attacker.example:${apiPort}`, "content-type": "text/plain" }, status: 421 },
      {
        headers: {
          host: `attacker.example:${apiPort}`,
          authorization: `Bearer ${token}`,
          "content-type": "application/json",
        },
        status: 421,
      },
      { headers: { "content-type": "application/json" }, status: 401 },
      { headers: { authorization: `Bearer ${token}`, "content-type": "text/plain" }, status: 415 },
    ];
    for (const attempt of attempts) {
      const answer = await ask(apiPort, "POST", "/toxics", attempt.headers, csrf);
      expect(answer.status, JSON.stringify(attempt.headers)).toBe(attempt.status);
      expect(Object.keys(answer.headers).filter((h) => h.startsWith("access-control-"))).toEqual([]);
    }
    const auth = { authorization: `Bearer ${token}` };
    expect(JSON.parse((await ask(apiPort, "GET", "/toxics", auth)).body)).toEqual([]);
    expect(await roundTrip(listenPort)).toBeLessThan(500);

    const added = await ask(
      apiPort,
      "POST",
      "/toxics",
      { ...auth, "content-type": "application/json" },
      csrf,
    );
    expect(added.status).toBe(200);
    expect(await roundTrip(listenPort)).toBeGreaterThanOrEqual(1_400);
    expect((await ask(apiPort, "GET", "/health")).status).toBe(200);

    run.child.kill("SIGTERM");
    const result = await run.done;
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("SIGTERM: proxy stopped");
  }, 30_000);

  it("takes $GAUNTLET_PROXY_TOKEN and writes --token-file 0600, printing no token, and removes the file on stop", async () => {
    const token = "env-token-for-the-binary-0123456789";
    const file = path.join(mkdtempSync(path.join(tmpdir(), "gauntlet-proxy-file-")), "token");
    const { run, apiPort } = await startProxyProcess(["--token-file", file], { GAUNTLET_PROXY_TOKEN: token });
    expect(readFileSync(file, "utf8")).toBe(token);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(run.output()).not.toContain(token);
    expect((await ask(apiPort, "GET", "/toxics", { authorization: `Bearer ${token}` })).status).toBe(200);
    run.child.kill("SIGINT");
    expect((await run.done).code).toBe(0);
    expect(() => statSync(file)).toThrow();
  }, 30_000);
});

describe("resilience checks against a proxy that refuses the token", () => {
  const experiments = {
    dependencyBlinkSurvived: {
      check: blink,
      experiment: { name: "cache-blink", target: "cache", fault: "restart" as const, duration: "1s" },
    },
    dependencyOutageDegradesGracefully: {
      check: outage,
      experiment: { name: "cache-outage", target: "cache", fault: "blackhole" as const, duration: "1s" },
    },
    dependencyLatencyTolerated: {
      check: latency,
      experiment: {
        name: "cache-slow",
        target: "cache",
        fault: "latency" as const,
        latency: "200ms",
        duration: "1s",
      },
    },
  };

  for (const [id, { check, experiment }] of Object.entries(experiments)) {
    it(`${id}: UNVERIFIED (not injected) with no or a wrong token, naming resilience.proxies.cache.token`, async () => {
      const setup = await startProxiedSystem("sturdy", { apiEnv: { REDIS_TIMEOUT_MS: "1000" } });
      onCleanup(setup.stop);
      // Only the API is controllable: the fault must go through the proxy.
      const targets = {
        get: (name: string) => (name === "api" ? setup.system.targets.get("api") : undefined),
      };
      for (const token of [undefined, `${setup.proxy.token}-not`]) {
        const spec = {
          ...setup.system.spec,
          resilience: {
            experiments: [{ ...experiment, recoverWithin: "5s" }],
            proxies: { cache: { api: setup.proxy.apiUrl, ...(token ? { token } : {}) } },
          },
        };
        const { ctx, rollbacks } = makeCheckContext(spec, { targets });
        const [finding] = await check.run(ctx);
        await rollbacks.runAll();
        expect(finding, finding?.message).toMatchObject({
          status: "UNVERIFIED",
          subject: "cache",
          messageId: "notInjected",
        });
        expect(finding!.message).toContain("the proxy refused the token: set resilience.proxies.cache.token");
        expect(finding!.message).not.toContain(setup.proxy.token);
        expect(setup.proxy.proxy.toxics()).toEqual([]);
      }
    }, 60_000);
  }
});
