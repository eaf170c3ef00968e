// The load command as a real process (through bench/load/gauntletLoad.mjs, which runs the built loadCommand).
import { spawn } from "node:child_process";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type CountingServer, startCountingServer } from "../../fixtures/load/servers.js";
import { ROOT } from "../../support/cli.js";

const SHIM = path.join(ROOT, "bench/load/gauntletLoad.mjs");
let server: CountingServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("gauntlet load process", () => {
  it("stops promptly on SIGINT and still prints the figures so far", async () => {
    server = await startCountingServer();
    const child = spawn(process.execPath, [SHIM, server.url, "-c", "4", "-d", "30s", "--json"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    await new Promise((r) => setTimeout(r, 800));
    const sent = Date.now();
    child.kill("SIGINT");
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(Date.now() - sent).toBeLessThan(2000);
    expect(code).toBe(130);
    const out = JSON.parse(stdout);
    expect(out.requests).toBeGreaterThan(0);
    expect(out.requests).toBeLessThanOrEqual(server.received());
  });
});
