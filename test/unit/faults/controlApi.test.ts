// The proxy's HTTP control API, driven the way another tool would: add, list, remove toxics; enable and disable. Who
// may drive it, over real HTTP: only a tool holding the token, addressing the API by its own address, never a web page
// (cross-site form, fetch or DNS rebinding); bad input is a 400, never a 500.
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { memoryIO } from "../../../src/cli/io.js";
import { proxyCommand } from "../../../src/cli/proxy.js";
import { startControlApi } from "../../../src/engines/faults/proxy/controlApi.js";
import { FaultProxy } from "../../../src/engines/faults/proxy/faultProxy.js";
import { remoteToxics } from "../../../src/engines/faults/proxy/proxyClient.js";
import { cleanupAfterEach } from "../../support/cleanups.js";

const onCleanup = cleanupAfterEach();

async function upstreamPort(): Promise<number> {
  const server = net.createServer((s) => s.end("hello"));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  onCleanup(() => new Promise<void>((r) => server.close(() => r())));
  return (server.address() as net.AddressInfo).port;
}

describe("gauntlet proxy control API", () => {
  it("lists, adds, removes toxics and toggles the proxy", async () => {
    const io = memoryIO();
    const running = await proxyCommand(
      { listen: "127.0.0.1:0", upstream: `127.0.0.1:${await upstreamPort()}`, api: "127.0.0.1:0" },
      io,
    );
    onCleanup(() => running.close());
    expect(io.stdout.join("")).toContain(running.apiUrl);
    const api = running.apiUrl;
    const auth = { authorization: `Bearer ${running.token}` };
    const headers = { ...auth, "content-type": "application/json" };

    expect(await (await fetch(`${api}/toxics`, { headers: auth })).json()).toEqual([]);
    const added = await fetch(`${api}/toxics`, {
      method: "POST",
      headers,
      body: JSON.stringify({ name: "slow", type: "latency", attributes: { latency: 100, jitter: 10 } }),
    });
    expect(added.status).toBe(200);
    expect(running.proxy.toxics()).toMatchObject([{ name: "slow", type: "latency", stream: "downstream" }]);

    const duplicate = await fetch(`${api}/toxics`, {
      method: "POST",
      headers,
      body: JSON.stringify({ name: "slow", type: "down" }),
    });
    expect(duplicate.status).toBe(409);
    const bad = await fetch(`${api}/toxics`, {
      method: "POST",
      headers,
      body: JSON.stringify({ type: "lag" }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/unknown toxic type/);

    expect((await fetch(`${api}/toxics/slow`, { headers: auth })).status).toBe(200);
    expect((await fetch(`${api}/toxics/slow`, { method: "DELETE", headers: auth })).status).toBe(204);
    expect((await fetch(`${api}/toxics/slow`, { method: "DELETE", headers: auth })).status).toBe(404);

    const off = await fetch(`${api}/proxy`, {
      method: "POST",
      headers,
      body: JSON.stringify({ enabled: false }),
    });
    expect(((await off.json()) as { listening: boolean }).listening).toBe(false);
    const on = await fetch(`${api}/proxy`, {
      method: "POST",
      headers,
      body: JSON.stringify({ enabled: true }),
    });
    expect(((await on.json()) as { listening: boolean }).listening).toBe(true);
  });

  it("the remote client removes what it added, and DELETE /toxics clears all", async () => {
    const running = await proxyCommand(
      { listen: "127.0.0.1:0", upstream: `127.0.0.1:${await upstreamPort()}`, api: "127.0.0.1:0" },
      memoryIO(),
    );
    onCleanup(() => running.close());
    const client = remoteToxics(running.apiUrl, running.token);
    await client.add({ name: "a", type: "latency", attributes: { latency: 1 } });
    await client.add({ name: "b", type: "timeout", attributes: { timeout: 0 } });
    expect((await client.list()).map((t) => t.name)).toEqual(["a", "b"]);
    await client.remove("a");
    await client.remove("a"); // already gone: not an error for a rollback
    expect((await client.list()).map((t) => t.name)).toEqual(["b"]);
    const auth = { authorization: `Bearer ${running.token}` };
    expect((await fetch(`${running.apiUrl}/toxics`, { method: "DELETE", headers: auth })).status).toBe(204);
    expect(await client.list()).toEqual([]);
  });

  it("a bad address is a usage error", async () => {
    await expect(proxyCommand({ listen: "nope", upstream: "127.0.0.1:1" }, memoryIO())).rejects.toThrow(
      /host:port/,
    );
  });
});

describe("gauntlet proxy's token", () => {
  const start = async (
    flags: Partial<Parameters<typeof proxyCommand>[0]> = {},
    env: NodeJS.ProcessEnv = {},
  ) => {
    const io = memoryIO();
    const running = await proxyCommand(
      { listen: "127.0.0.1:0", upstream: `127.0.0.1:${await upstreamPort()}`, api: "127.0.0.1:0", ...flags },
      io,
      env,
    );
    onCleanup(() => running.close());
    return { io, running };
  };
  const status = async (api: string, token?: string) =>
    (await fetch(`${api}/toxics`, token ? { headers: { authorization: `Bearer ${token}` } } : {})).status;

  it("generates a fresh 32-byte token per start, prints it once on stderr and masks it everywhere else", async () => {
    const { io, running } = await start();
    expect(running.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const output = [...io.stdout, ...io.stderr].join("\n");
    expect(output.split(running.token).length - 1).toBe(1);
    expect(io.stderr.join("")).toContain(`control API token: ${running.token}`);
    io.out(`echo ${running.token}`);
    expect(io.stdout.at(-1)).not.toContain(running.token);
    expect(await status(running.apiUrl)).toBe(401);
    expect(await status(running.apiUrl, running.token)).toBe(200);
    const other = await start();
    expect(other.running.token).not.toBe(running.token);
  });

  it("takes --token, else $GAUNTLET_PROXY_TOKEN, and never prints a token it was given", async () => {
    const flag = "flag-token-0123456789abcdef";
    const env = { GAUNTLET_PROXY_TOKEN: "env-token-0123456789abcdef" };
    const byFlag = await start({ token: flag }, env);
    expect(byFlag.running.token).toBe(flag);
    expect(byFlag.io.stderr.join("")).toContain("from --token");
    expect(await status(byFlag.running.apiUrl, flag)).toBe(200);
    const byEnv = await start({}, env);
    expect(byEnv.running.token).toBe(env.GAUNTLET_PROXY_TOKEN);
    expect(await status(byEnv.running.apiUrl, env.GAUNTLET_PROXY_TOKEN)).toBe(200);
    for (const { io, running } of [byFlag, byEnv]) {
      expect([...io.stdout, ...io.stderr].join("")).not.toContain(running.token);
    }
    await expect(start({ token: "short" })).rejects.toThrow(/at least 16 characters/);
    await expect(start({}, { GAUNTLET_PROXY_TOKEN: "" })).rejects.toThrow(/GAUNTLET_PROXY_TOKEN/);
    await expect(start({ token: "has a space in it, 24 chars" })).rejects.toThrow(/printable ASCII/);
  });

  it("--token-file: written 0600 and not printed, removed on stop; a file that is not its own is refused", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-proxy-token-"));
    const file = path.join(dir, "token");
    const { io, running } = await start({ tokenFile: file });
    expect(readFileSync(file, "utf8")).toBe(running.token);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect([...io.stdout, ...io.stderr].join("")).not.toContain(running.token);
    expect(io.stderr.join("")).toContain(`control API token: in ${file}`);
    await running.close();
    expect(() => statSync(file)).toThrow();

    // Left by a killed proxy (0600, this user's): replaced with the new token.
    writeFileSync(file, "stale", { mode: 0o600 });
    const again = await start({ tokenFile: file });
    expect(readFileSync(file, "utf8")).toBe(again.running.token);
    await again.running.close();

    const foreign = path.join(dir, "notes.txt");
    writeFileSync(foreign, "keep me", { mode: 0o644 });
    await expect(start({ tokenFile: foreign })).rejects.toThrow(/refusing to overwrite/);
    expect(readFileSync(foreign, "utf8")).toBe("keep me");
  });
});

const TOKEN = "test-token-0123456789abcdefghijklmnop";

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

async function running(): Promise<{ proxy: FaultProxy; port: number }> {
  const upstream = net.createServer((s) => s.end());
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
  onCleanup(() => new Promise<void>((r) => upstream.close(() => r())));
  const proxy = new FaultProxy({
    listen: { host: "127.0.0.1", port: 0 },
    upstream: { host: "127.0.0.1", port: (upstream.address() as net.AddressInfo).port },
  });
  await proxy.start();
  const api = await startControlApi(proxy, "127.0.0.1", 0, { token: TOKEN });
  onCleanup(async () => {
    await api.close();
    await proxy.close();
  });
  return { proxy, port: Number(new URL(api.url).port) };
}

/** A raw request, so Host, Origin and the body are exactly what a browser or an attacker would send. */
function ask(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method, path, headers, agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        text += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

const bearer = { authorization: `Bearer ${TOKEN}` };
const json = { ...bearer, "content-type": "application/json" };
const latency = (ms: number) =>
  JSON.stringify({ name: "slow", type: "latency", attributes: { latency: ms } });

describe("control API access", () => {
  it("refuses a request without the token, or with a wrong one (401), and changes nothing", async () => {
    const { proxy, port } = await running();
    const none = await ask(port, "POST", "/toxics", { "content-type": "application/json" }, latency(1_000));
    expect(none.status).toBe(401);
    expect(none.headers["www-authenticate"]).toMatch(/^Bearer/);
    const wrong = await ask(
      port,
      "POST",
      "/toxics",
      { authorization: `Bearer ${TOKEN}x`, "content-type": "application/json" },
      latency(1_000),
    );
    expect(wrong.status).toBe(401);
    expect((await ask(port, "GET", "/proxy", { authorization: "Basic Zm9vOmJhcg==" })).status).toBe(401);
    expect((await ask(port, "GET", "/toxics")).status).toBe(401);
    expect(proxy.toxics()).toEqual([]);
  });

  it("refuses a foreign Host even with the token: a DNS-rebound page reaches 127.0.0.1 by its own name", async () => {
    const { proxy, port } = await running();
    for (const host of [`attacker.example:${port}`, "attacker.example", `127.0.0.1:${port + 1}`]) {
      const answer = await ask(port, "POST", "/toxics", { ...json, host }, latency(1_000));
      expect(answer.status, host).toBe(421);
    }
    // The Host check comes first: a wrong Host is refused before the token is even looked at.
    expect((await ask(port, "GET", "/toxics", { host: "attacker.example" })).status).toBe(421);
    expect(proxy.toxics()).toEqual([]);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]) {
      expect((await ask(port, "GET", "/toxics", { ...bearer, host })).status, host).toBe(200);
    }
  });

  it("refuses any request from a web page (Origin, Sec-Fetch-Site) with 403, even with the token", async () => {
    const { proxy, port } = await running();
    for (const origin of ["https://evil.example", "null", `http://127.0.0.1:${port}`]) {
      const answer = await ask(port, "POST", "/toxics", { ...json, origin }, latency(1_000));
      expect(answer.status, origin).toBe(403);
    }
    const fetched = await ask(port, "GET", "/toxics", { ...bearer, "sec-fetch-site": "cross-site" });
    expect(fetched.status).toBe(403);
    // A CORS preflight gets no Access-Control-Allow-* either, so the browser never sends the real request.
    const preflight = await ask(port, "OPTIONS", "/toxics", {
      origin: "https://evil.example",
      "access-control-request-method": "POST",
    });
    expect(preflight.status).toBe(403);
    expect(Object.keys(preflight.headers).filter((h) => h.startsWith("access-control-"))).toEqual([]);
    expect(proxy.toxics()).toEqual([]);
  });

  it("refuses a text/plain body (the CSRF form and no-preflight fetch) with 415", async () => {
    const { proxy, port } = await running();
    const plain = await ask(port, "POST", "/toxics", { ...bearer, "content-type": "text/plain" }, latency(1));
    expect(plain.status).toBe(415);
    const form = await ask(
      port,
      "POST",
      "/proxy",
      { ...bearer, "content-type": "application/x-www-form-urlencoded" },
      '{"enabled":false}',
    );
    expect(form.status).toBe(415);
    expect((await ask(port, "POST", "/toxics", bearer, latency(1))).status).toBe(415);
    expect(proxy.toxics()).toEqual([]);
    expect(proxy.enabled).toBe(true);
  });

  it("answers 400, not 500, for null, non-object and malformed bodies and bad % escapes", async () => {
    const { port } = await running();
    for (const path of ["/toxics", "/proxy"]) {
      for (const body of ["null", "[]", "42", '"x"', "{", ""]) {
        const answer = await ask(port, "POST", path, json, body);
        expect(answer.status, `${path} ${JSON.stringify(body)}`).toBe(400);
        expect(JSON.parse(answer.body)).toHaveProperty("error");
      }
    }
    expect((await ask(port, "GET", "/toxics/%E0%A4%A", bearer)).status).toBe(400);
    expect((await ask(port, "DELETE", "/toxics/%E0%A4%A", bearer)).status).toBe(400);
    expect((await ask(port, "GET", "/%ZZ", bearer)).status).toBe(400);
  });

  it("refuses timer values above 2³¹−1 ms (Node would fire them after 1 ms) with 400 and a sentence", async () => {
    const { proxy, port } = await running();
    const over = 2 ** 31;
    const toxics = [
      { type: "latency", attributes: { latency: over } },
      { type: "latency", attributes: { latency: 10, jitter: over } },
      { type: "timeout", attributes: { timeout: over } },
      { type: "reset_peer", attributes: { timeout: over } },
      { type: "slow_close", attributes: { delay: over } },
      { type: "slicer", attributes: { average_size: 10, delay: over } },
    ];
    for (const toxic of toxics) {
      const answer = await ask(port, "POST", "/toxics", json, JSON.stringify(toxic));
      expect(answer.status, JSON.stringify(toxic)).toBe(400);
      expect(JSON.parse(answer.body).error).toMatch(/2147483647/);
    }
    expect(proxy.toxics()).toEqual([]);
    const most = await ask(port, "POST", "/toxics", json, latency(2 ** 31 - 1));
    expect(most.status).toBe(200);
  });

  it("with the token, its own Host and no Origin, everything works as before, with no CORS header", async () => {
    const { proxy, port } = await running();
    const answers = [
      await ask(port, "GET", "/toxics", bearer),
      await ask(port, "POST", "/toxics", json, latency(100)),
      await ask(port, "GET", "/toxics/slow", bearer),
      await ask(port, "POST", "/proxy", { ...json, "content-type": "application/json; charset=utf-8" }, "{}"),
      await ask(port, "POST", "/proxy", json, '{"enabled":true}'),
      await ask(port, "GET", "/proxy", bearer),
      await ask(port, "DELETE", "/toxics/slow", bearer),
      await ask(port, "DELETE", "/toxics", bearer),
    ];
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 400, 200, 200, 204, 204]);
    for (const answer of answers) {
      expect(Object.keys(answer.headers).filter((h) => h.startsWith("access-control-"))).toEqual([]);
    }
    expect(proxy.toxics()).toEqual([]);
  });

  it("GET /health answers without the token, with nothing but ok; Host and Origin still apply", async () => {
    const { port } = await running();
    const health = await ask(port, "GET", "/health");
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toEqual({ status: "ok" });
    expect((await ask(port, "POST", "/health", { "content-type": "application/json" }, "{}")).status).toBe(
      401,
    );
    expect((await ask(port, "GET", "/health", { host: "attacker.example" })).status).toBe(421);
    expect((await ask(port, "GET", "/health", { origin: "https://evil.example" })).status).toBe(403);
  });
});
