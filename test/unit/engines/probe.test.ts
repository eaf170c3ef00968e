import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { classifyNetworkError, type ProbeResult, probeHttp } from "../../../src/engines/http/probe.js";

let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    switch (url.pathname) {
      case "/ok":
        res.writeHead(200, { "content-type": "application/json", "x-extra": ["a", "b"] });
        res.end('{"status":"up"}');
        return;
      case "/big":
        res.writeHead(200, { "content-type": "text/plain" });
        res.end("a".repeat(10_000));
        return;
      case "/delay":
        setTimeout(() => res.end("late"), Number(url.searchParams.get("ms")));
        return;
      case "/redirect":
        res.writeHead(302, { location: "/ok" });
        res.end();
        return;
      case "/reset":
        req.socket.destroy();
        return;
      case "/method":
        res.end(req.method);
        return;
      default:
        res.writeHead(404);
        res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

function response(result: ProbeResult) {
  if (!result.ok) throw new Error(`expected a response, got ${result.error.kind}: ${result.error.message}`);
  return result;
}

function failure(result: ProbeResult) {
  if (result.ok) throw new Error(`expected a failure, got status ${result.status}`);
  return result;
}

describe("probeHttp", () => {
  it("returns status, headers, body and a measured latency", async () => {
    const result = response(await probeHttp({ url: `${base}/ok`, timeoutMs: 2_000 }));
    expect(result.status).toBe(200);
    expect(result.headers["content-type"]).toBe("application/json");
    expect(result.headers["x-extra"]).toBe("a, b");
    expect(result.body).toBe('{"status":"up"}');
    expect(result.bodyTruncated).toBe(false);
    expect(result.latencyMs).toBeGreaterThan(0);
    expect(result.totalMs).toBeGreaterThanOrEqual(result.latencyMs);
  });

  it("measures a slow answer's latency", async () => {
    const result = response(await probeHttp({ url: `${base}/delay?ms=150`, timeoutMs: 2_000 }));
    expect(result.latencyMs).toBeGreaterThanOrEqual(140);
  });

  it("caps the body excerpt at 2 KB", async () => {
    const result = response(await probeHttp({ url: `${base}/big`, timeoutMs: 2_000 }));
    expect(result.body).toHaveLength(2048);
    expect(result.bodyTruncated).toBe(true);
  });

  it("does not follow redirects", async () => {
    const result = response(await probeHttp({ url: `${base}/redirect`, timeoutMs: 2_000 }));
    expect(result.status).toBe(302);
    expect(result.headers.location).toBe("/ok");
  });

  it("sends the requested method", async () => {
    const result = response(await probeHttp({ url: `${base}/method`, method: "post", timeoutMs: 2_000 }));
    expect(result.body).toBe("POST");
  });

  it("classifies a timeout", async () => {
    const result = failure(await probeHttp({ url: `${base}/delay?ms=1500`, timeoutMs: 200 }));
    expect(result.error.kind).toBe("timeout");
    expect(result.elapsedMs).toBeGreaterThanOrEqual(190);
    expect(result.elapsedMs).toBeLessThan(1_400);
  });

  it("classifies a refused connection", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const result = failure(await probeHttp({ url: `http://127.0.0.1:${port}/`, timeoutMs: 2_000 }));
    expect(result.error).toMatchObject({ kind: "refused", code: "ECONNREFUSED" });
  });

  it("classifies a reset connection", async () => {
    const result = failure(await probeHttp({ url: `${base}/reset`, timeoutMs: 2_000 }));
    expect(result.error.kind).toBe("reset");
  });

  it("classifies a name that does not resolve", async () => {
    const result = failure(await probeHttp({ url: "http://gauntlet-test.invalid/", timeoutMs: 2_000 }));
    expect(result.error.kind).toBe("dns");
  });

  it("classifies a TLS handshake with a plain HTTP server", async () => {
    const result = failure(await probeHttp({ url: base.replace("http:", "https:"), timeoutMs: 2_000 }));
    expect(result.error.kind).toBe("tls");
  });

  it("refuses schemes other than http and https without sending anything", async () => {
    const result = failure(await probeHttp({ url: "redis://127.0.0.1:6379", timeoutMs: 2_000 }));
    expect(result.error).toMatchObject({ kind: "other", code: "ERR_UNSUPPORTED_SCHEME" });
  });

  it("rejects with the abort reason when the signal aborts", async () => {
    const controller = new AbortController();
    const pending = probeHttp({ url: `${base}/delay?ms=1500`, timeoutMs: 5_000, signal: controller.signal });
    setTimeout(() => controller.abort(new Error("cancelled")), 50);
    await expect(pending).rejects.toThrow("cancelled");
  });
});

describe("classifyNetworkError", () => {
  it.each([
    ["ECONNREFUSED", "refused"],
    ["ETIMEDOUT", "timeout"],
    ["ECONNRESET", "reset"],
    ["EPIPE", "reset"],
    ["ENOTFOUND", "dns"],
    ["EAI_AGAIN", "dns"],
    ["EPROTO", "tls"],
    ["ERR_SSL_WRONG_VERSION_NUMBER", "tls"],
    ["CERT_HAS_EXPIRED", "tls"],
    ["DEPTH_ZERO_SELF_SIGNED_CERT", "tls"],
    ["EHOSTUNREACH", "other"],
    [undefined, "other"],
  ])("%s is %s", (code, kind) => {
    expect(classifyNetworkError(code)).toBe(kind);
  });
});
