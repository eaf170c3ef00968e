import { afterEach, describe, expect, it } from "vitest";
import { memoryIO } from "../../../src/cli/io.js";
import { loadCommand } from "../../../src/cli/load.js";
import { UserError } from "../../../src/errors.js";
import { type CountingServer, startCountingServer } from "../../fixtures/load/servers.js";

let server: CountingServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("gauntlet load", () => {
  it("--json: counts match the server's own count, percentiles are ordered", async () => {
    server = await startCountingServer();
    const io = memoryIO();
    const code = await loadCommand(
      `${server.url}/ping`,
      { connections: "50", duration: "1s", json: true },
      io,
    );
    expect(code).toBe(0);
    const out = JSON.parse(io.stdout.join(""));
    expect(out.requests).toBeGreaterThan(500);
    expect(out.requests).toBe(server.received());
    expect(server.byPath.get("GET /ping")).toBe(out.requests);
    expect(out.status).toEqual({ "200": out.requests });
    expect(out.errors).toBe(0);
    expect(out.rps).toBeCloseTo(out.requests / (out.durationMs / 1000), 0);
    const l = out.latencyMs;
    expect(0 < l.p50 && l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.p999 && l.p999 <= l.max).toBe(true);
  });

  it("two worker threads: merged counts still match the server", async () => {
    server = await startCountingServer();
    const io = memoryIO();
    await loadCommand(server.url, { connections: "8", duration: "1s", workers: "2", json: true }, io);
    const out = JSON.parse(io.stdout.join(""));
    expect(out.workers).toBe(2);
    expect(out.requests).toBeGreaterThan(100);
    expect(out.requests).toBe(server.received());
    expect(out.timeline.reduce((n: number, p: { rps: number }) => n + p.rps, 0)).toBe(out.requests);
  });

  it("open model with a POST body; a failed threshold exits 1 and the table says why", async () => {
    server = await startCountingServer({ delayMs: () => 15 });
    const io = memoryIO();
    const code = await loadCommand(
      server.url,
      { rate: "200", duration: "1s", method: "POST", body: "{}", threshold: ["p(50)<5ms", "errors<1%"] },
      io,
    );
    expect(code).toBe(1);
    const table = io.stdout.join("");
    expect(table).toMatch(/open model, 200\/s/);
    expect(table).toMatch(/✗ p\(50\)<5ms {3}p\(50\)=\d+(\.\d+)?ms ≥ 5ms/);
    expect(table).toMatch(/✓ errors<1%/);
    expect(server.byPath.get("POST /")).toBeGreaterThan(150);
  });

  it("user errors are sentences", async () => {
    const io = memoryIO();
    await expect(loadCommand("http://127.0.0.1:9", { threshold: ["p95<1"] }, io)).rejects.toThrow(UserError);
    await expect(loadCommand("http://127.0.0.1:9", { connections: "0" }, io)).rejects.toThrow(
      /--connections/,
    );
    await expect(loadCommand("http://127.0.0.1:9", { duration: "soon" }, io)).rejects.toThrow(/--duration/);
    await expect(loadCommand("http://127.0.0.1:9", { header: ["nocolon"] }, io)).rejects.toThrow(
      /Name: value/,
    );
  });
});
