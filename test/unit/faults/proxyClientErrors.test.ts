// A control API URL that answers 404 (a wrong path, another service) must not make an injection look done, and a
// proxy that refuses the token or the Host must say what to set, so the check reports the fault as not injected.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { remoteToxics } from "../../../src/engines/faults/proxy/proxyClient.js";

const TOKEN = "client-token-0123456789abcdef";
let server: http.Server;
let base: string;
/** Authorization headers the API received, in order. */
const seen: (string | undefined)[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push(req.headers.authorization);
    const answer = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.url?.startsWith("/host/"))
      return answer(421, { error: "Host is not this control API's address" });
    if (req.url?.startsWith("/origin/")) return answer(403, { error: "requests from web pages are refused" });
    if (req.url?.startsWith("/guarded/") && req.headers.authorization !== `Bearer ${TOKEN}`) {
      return answer(401, { error: "the token is not this proxy's" });
    }
    if (req.url === "/guarded/toxics" && req.method === "GET") return answer(200, []);
    return answer(404, {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise((resolve) => server.close(resolve)));

describe("remoteToxics against an API that answers 404", () => {
  it("fails an add, so no experiment runs against a fault that was never injected", async () => {
    await expect(remoteToxics(base).add({ type: "latency", attributes: { latency: 200 } })).rejects.toThrow(
      /404/,
    );
  });

  it("accepts a 404 on remove: the toxic is gone either way", async () => {
    await expect(remoteToxics(base).remove("latency_downstream")).resolves.toBeUndefined();
  });
});

describe("remoteToxics and the control API's token", () => {
  const setting = "resilience.proxies.cache.token";

  it("sends the token as a bearer token on every call", async () => {
    seen.length = 0;
    await expect(remoteToxics(`${base}/guarded`, TOKEN).list()).resolves.toEqual([]);
    expect(seen).toEqual([`Bearer ${TOKEN}`]);
  });

  it("a refused token (401, 403) names the setting to fix, without the token; even a remove fails", async () => {
    const wrong = remoteToxics(`${base}/guarded`, "not-the-token-0123456789", setting);
    const add = wrong.add({ type: "down" });
    await expect(add).rejects.toThrow(
      "the proxy refused the token: set resilience.proxies.cache.token (401, the token sent is not this proxy's",
    );
    await expect(add).rejects.not.toThrow(/not-the-token/);
    // A 401 on remove is not "already gone": the rollback must report that it could not remove the toxic.
    await expect(wrong.remove("gauntlet-blink")).rejects.toThrow(/refused the token/);
    await expect(remoteToxics(`${base}/guarded`, undefined, setting).list()).rejects.toThrow(
      /refused the token: set resilience\.proxies\.cache\.token \(401, no token was sent/,
    );
    await expect(remoteToxics(`${base}/origin`, TOKEN, setting).list()).rejects.toThrow(
      /refused the token: set resilience\.proxies\.cache\.token \(403/,
    );
  });

  it("a refused Host (421) says to address the API by the address it listens on", async () => {
    await expect(remoteToxics(`${base}/host`, TOKEN, setting).list()).rejects.toThrow(
      /refused the Host 127\.0\.0\.1:\d+ .*address it listens on/,
    );
  });
});
