// The proxy's HTTP control API, driven the way another tool would: add, list, remove toxics; enable and disable.
import net from "node:net";
import { describe, expect, it } from "vitest";
import { memoryIO } from "../../../src/cli/io.js";
import { proxyCommand } from "../../../src/cli/proxy.js";
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

    expect(await (await fetch(`${api}/toxics`)).json()).toEqual([]);
    const added = await fetch(`${api}/toxics`, {
      method: "POST",
      body: JSON.stringify({ name: "slow", type: "latency", attributes: { latency: 100, jitter: 10 } }),
    });
    expect(added.status).toBe(200);
    expect(running.proxy.toxics()).toMatchObject([{ name: "slow", type: "latency", stream: "downstream" }]);

    const duplicate = await fetch(`${api}/toxics`, {
      method: "POST",
      body: JSON.stringify({ name: "slow", type: "down" }),
    });
    expect(duplicate.status).toBe(409);
    const bad = await fetch(`${api}/toxics`, { method: "POST", body: JSON.stringify({ type: "lag" }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/unknown toxic type/);

    expect((await fetch(`${api}/toxics/slow`)).status).toBe(200);
    expect((await fetch(`${api}/toxics/slow`, { method: "DELETE" })).status).toBe(204);
    expect((await fetch(`${api}/toxics/slow`, { method: "DELETE" })).status).toBe(404);

    const off = await fetch(`${api}/proxy`, { method: "POST", body: JSON.stringify({ enabled: false }) });
    expect(((await off.json()) as { listening: boolean }).listening).toBe(false);
    const on = await fetch(`${api}/proxy`, { method: "POST", body: JSON.stringify({ enabled: true }) });
    expect(((await on.json()) as { listening: boolean }).listening).toBe(true);
  });

  it("the remote client removes what it added, and DELETE /toxics clears all", async () => {
    const running = await proxyCommand(
      { listen: "127.0.0.1:0", upstream: `127.0.0.1:${await upstreamPort()}`, api: "127.0.0.1:0" },
      memoryIO(),
    );
    onCleanup(() => running.close());
    const client = remoteToxics(running.apiUrl);
    await client.add({ name: "a", type: "latency", attributes: { latency: 1 } });
    await client.add({ name: "b", type: "timeout", attributes: { timeout: 0 } });
    expect((await client.list()).map((t) => t.name)).toEqual(["a", "b"]);
    await client.remove("a");
    await client.remove("a"); // already gone: not an error for a rollback
    expect((await client.list()).map((t) => t.name)).toEqual(["b"]);
    expect((await fetch(`${running.apiUrl}/toxics`, { method: "DELETE" })).status).toBe(204);
    expect(await client.list()).toEqual([]);
  });

  it("a bad address is a usage error", async () => {
    await expect(proxyCommand({ listen: "nope", upstream: "127.0.0.1:1" }, memoryIO())).rejects.toThrow(
      /host:port/,
    );
  });
});
