import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { buildMix, parseEndpoint } from "../../../src/engines/load/requests.js";
import { runStage } from "../../../src/engines/load/stage.js";
import { Redactor } from "../../../src/secrets/redactor.js";
import { type CountingServer, startCountingServer } from "../../fixtures/load/servers.js";
import { requireTool } from "../../support/services.js";

let server: CountingServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function mixFor(url: string, requests = [{ path: "/a" }]) {
  const secrets = new Redactor();
  const endpoint = parseEndpoint(url, secrets);
  return { endpoint, mix: buildMix(endpoint, requests, {}, secrets) };
}

describe("runStage against a real server", () => {
  it("closed model: counts every answered request, as many as the server received", async () => {
    server = await startCountingServer();
    const { endpoint, mix } = mixFor(server.url);
    const result = await runStage({ endpoint, mix, plan: { name: "c", connections: 8, durationMs: 800 } });
    expect(result.requests).toBeGreaterThan(100);
    expect(result.requests).toBe(server.received());
    expect(result.status["200"]).toBe(result.requests);
    expect(result.errors.total).toBe(0);
    expect(result.latency.p50).toBeGreaterThan(0);
    expect(result.latency.max).toBeGreaterThanOrEqual(result.latency.p99);
    expect(result.timeline.length).toBeGreaterThanOrEqual(1);
  });

  it("pipelining and chunked bodies with Connection: close now and then", async () => {
    server = await startCountingServer({ chunked: true, closeEvery: 50, body: "x".repeat(3000) });
    const { endpoint, mix } = mixFor(server.url);
    const result = await runStage({
      endpoint,
      mix,
      plan: { name: "p", connections: 4, pipelining: 4, durationMs: 700 },
    });
    expect(result.requests).toBeGreaterThan(100);
    expect(result.errors.other).toBe(0);
    // Requests pipelined behind a Connection: close are never answered; only those may differ.
    expect(server.received()).toBeGreaterThanOrEqual(result.requests);
    expect(result.bytes).toBeGreaterThan(result.requests * 3000);
  });

  it("weights the request mix and counts non-2xx by status", async () => {
    server = await startCountingServer({ status: (p) => (p === "/bad" ? 503 : 200) });
    const { endpoint, mix } = mixFor(server.url, [
      { path: "/good", weight: 3 } as never,
      { path: "/bad", weight: 1 } as never,
    ]);
    const result = await runStage({ endpoint, mix, plan: { name: "m", connections: 4, durationMs: 600 } });
    const bad = result.status["503"] ?? 0;
    expect(bad / result.requests).toBeGreaterThan(0.2);
    expect(bad / result.requests).toBeLessThan(0.3);
    expect(result.errors.non2xx["503"]).toBe(bad);
    expect(result.errorRate).toBeCloseTo(bad / result.requests, 5);
  });

  it("open model holds the rate and measures from the intended send time", async () => {
    // Every 10th request stalls 300 ms: with one connection the requests queued behind it are late too.
    let n = 0;
    server = await startCountingServer({ delayMs: () => (++n % 10 === 0 ? 300 : 0) });
    const { endpoint, mix } = mixFor(server.url);
    const result = await runStage({
      endpoint,
      mix,
      plan: { name: "o", connections: 1, rate: 100, durationMs: 1500 },
    });
    expect(result.requests + result.dropped + result.unfinished).toBeGreaterThanOrEqual(145);
    // A closed-model client would report only the stalled requests as slow (p50 near 0); intended-time accounting
    // makes the ~30 requests queued behind each stall late as well.
    expect(result.latency.p50).toBeGreaterThan(50);
  });

  it("open model: reports the generator's own lateness apart from the server's latency, and queued arrivals", async () => {
    // Answers take 40 ms; 20 connections serve 100/s with room to spare, so no arrival waits for a connection.
    server = await startCountingServer({ delayMs: () => 40 });
    const { endpoint, mix } = mixFor(server.url);
    const roomy = await runStage({
      endpoint,
      mix,
      plan: { name: "o", connections: 20, rate: 100, durationMs: 1000 },
    });
    expect(roomy.lateness).toBeDefined();
    // Every released arrival has a lateness sample; each request's latency includes its lateness.
    expect(roomy.latenessHistogram.totalCount).toBe(roomy.requests + roomy.dropped + roomy.unfinished);
    expect(roomy.lateness!.p99).toBeLessThanOrEqual(roomy.latency.p99);
    expect(roomy.lateness!.p99).toBeLessThan(roomy.latency.p50 - 20);
    expect(roomy.queued).toBe(0);
    // One connection for 100/s of 40 ms answers: arrivals wait for it; that is queueing, not generator lateness.
    const tight = await runStage({
      endpoint,
      mix,
      plan: { name: "q", connections: 1, rate: 100, durationMs: 1000 },
    });
    expect(tight.queued).toBeGreaterThan(10);
    expect(tight.latency.p50).toBeGreaterThan(100);
    expect(tight.lateness!.p50).toBeLessThan(20);
  });

  it("closed model: nothing is scheduled, so no lateness is reported", async () => {
    server = await startCountingServer();
    const { endpoint, mix } = mixFor(server.url);
    const result = await runStage({ endpoint, mix, plan: { name: "c", connections: 2, durationMs: 300 } });
    expect(result.requests).toBeGreaterThan(0);
    expect(result.lateness).toBeUndefined();
    expect(result.latenessHistogram.totalCount).toBe(0);
  });

  it("classifies a refused connection", async () => {
    server = await startCountingServer();
    const url = server.url;
    await server.close();
    server = undefined;
    const { endpoint, mix } = mixFor(url);
    const result = await runStage({ endpoint, mix, plan: { name: "r", connections: 2, durationMs: 300 } });
    expect(result.requests).toBe(0);
    expect(result.errors.refused).toBeGreaterThan(0);
  });

  it("stops promptly on abort", async () => {
    server = await startCountingServer();
    const { endpoint, mix } = mixFor(server.url);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const started = Date.now();
    const result = await runStage({
      endpoint,
      mix,
      signal: controller.signal,
      plan: { name: "a", connections: 4, durationMs: 10_000 },
    });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(result.aborted).toBe(true);
  });
});

describe("runStage ramps and TLS", () => {
  it("open model ramps the rate linearly from the previous stage's", async () => {
    server = await startCountingServer();
    const { endpoint, mix } = mixFor(server.url);
    // 0 → 400/s over the whole second: 200 arrivals due.
    const result = await runStage({
      endpoint,
      mix,
      plan: { name: "ramp", connections: 10, rate: 400, rampUpMs: 1000, from: { rate: 0 }, durationMs: 1000 },
    });
    expect(result.requests + result.dropped).toBeGreaterThanOrEqual(195);
    expect(result.requests + result.dropped).toBeLessThanOrEqual(201);
  });

  it("speaks HTTPS with a self-signed certificate when told to accept it", async () => {
    requireTool("openssl", "openssl");
    const { key, cert } = selfSigned();
    const https = await import("node:https");
    let count = 0;
    const tlsServer = https.createServer({ key, cert }, (_req, res) => {
      count++;
      res.end("secure");
    });
    await new Promise<void>((resolve) => tlsServer.listen(0, "127.0.0.1", resolve));
    const port = (tlsServer.address() as import("node:net").AddressInfo).port;
    try {
      const { endpoint, mix } = mixFor(`https://127.0.0.1:${port}`);
      const ok = await runStage({
        endpoint,
        mix,
        rejectUnauthorized: false,
        plan: { name: "tls", connections: 2, durationMs: 500 },
      });
      expect(ok.requests).toBeGreaterThan(10);
      expect(ok.requests).toBe(count);
      const refused = await runStage({
        endpoint,
        mix,
        plan: { name: "tls", connections: 1, durationMs: 200 },
      });
      expect(refused.requests).toBe(0);
      expect(refused.errors.other).toBeGreaterThan(0);
    } finally {
      tlsServer.closeAllConnections();
      await new Promise((resolve) => tlsServer.close(resolve));
    }
  });
});

function selfSigned(): { key: string; cert: string } {
  const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-tls-"));
  spawnSync("openssl", [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "1",
    "-subj",
    "/CN=127.0.0.1",
    "-keyout",
    path.join(dir, "key.pem"),
    "-out",
    path.join(dir, "cert.pem"),
  ]);
  return {
    key: readFileSync(path.join(dir, "key.pem"), "utf8"),
    cert: readFileSync(path.join(dir, "cert.pem"), "utf8"),
  };
}
