// The fault proxy against a real echo server on loopback: every toxic changes what a real socket sees, toxics reach
// links that were already open, and toxicity 0 changes nothing.
import net from "node:net";
import { describe, expect, it } from "vitest";
import { FaultProxy, parseEndpoint } from "../../../src/engines/faults/proxy/faultProxy.js";
import { parseToxic } from "../../../src/engines/faults/proxy/toxics.js";
import { cleanupAfterEach } from "../../support/cleanups.js";

const onCleanup = cleanupAfterEach();

async function echoServer(): Promise<number> {
  const server = net.createServer((s) => {
    s.on("error", () => {});
    s.pipe(s);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  onCleanup(
    () =>
      new Promise<void>((r) => {
        server.close(() => r());
      }),
  );
  return (server.address() as net.AddressInfo).port;
}

async function proxied(): Promise<FaultProxy> {
  const port = await echoServer();
  const proxy = new FaultProxy({
    listen: { host: "127.0.0.1", port: 0 },
    upstream: { host: "127.0.0.1", port },
  });
  await proxy.start();
  onCleanup(() => proxy.close());
  return proxy;
}

function connect(proxy: FaultProxy): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(proxy.listenAddress);
    socket.once("connect", () => resolve(socket));
    socket.once("error", reject);
    onCleanup(() => {
      socket.destroy();
    });
  });
}

/** Sends a message and resolves with the ms until the same number of bytes came back. */
function roundTrip(socket: net.Socket, message = "ping", timeoutMs = 3_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let got = 0;
    const onData = (chunk: Buffer) => {
      got += chunk.length;
      if (got >= message.length) finish(() => resolve(performance.now() - started));
    };
    const timer = setTimeout(() => finish(() => reject(new Error("no echo in time"))), timeoutMs);
    const onClose = () => finish(() => reject(new Error("closed")));
    function finish(then: () => void) {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("close", onClose);
      then();
    }
    socket.on("data", onData);
    socket.once("close", onClose);
    socket.write(message);
  });
}

function closed(socket: net.Socket): Promise<{ ms: number; error?: string }> {
  const started = performance.now();
  return new Promise((resolve) => {
    let error: string | undefined;
    socket.on("error", (e: NodeJS.ErrnoException) => {
      error = e.code;
    });
    socket.once("close", () => resolve({ ms: performance.now() - started, ...(error ? { error } : {}) }));
  });
}

describe("fault proxy", () => {
  it("passes bytes unchanged with no toxic", async () => {
    const proxy = await proxied();
    const socket = await connect(proxy);
    const payload = Buffer.alloc(256 * 1024, 7);
    const received: Buffer[] = [];
    let size = 0;
    const done = new Promise<void>((r) =>
      socket.on("data", (c: Buffer) => {
        received.push(c);
        size += c.length;
        if (size >= payload.length) r();
      }),
    );
    socket.write(payload);
    await done;
    expect(Buffer.concat(received).equals(payload)).toBe(true);
    expect(proxy.status().bytes.upstream).toBe(payload.length);
  });

  it("latency applies to a link that is already open, and stops when removed", async () => {
    const proxy = await proxied();
    const socket = await connect(proxy);
    expect(await roundTrip(socket)).toBeLessThan(100);
    await proxy.addToxic({ type: "latency", stream: "downstream", attributes: { latency: 250 } });
    const slow = await roundTrip(socket);
    expect(slow).toBeGreaterThanOrEqual(245);
    expect(slow).toBeLessThan(1_000);
    await proxy.removeToxic("latency_downstream");
    expect(await roundTrip(socket)).toBeLessThan(100);
  });

  it("toxicity 0 has no effect", async () => {
    const proxy = await proxied();
    await proxy.addToxic({ type: "latency", toxicity: 0, attributes: { latency: 500 } });
    await proxy.addToxic({ type: "down", toxicity: 0 });
    const socket = await connect(proxy);
    expect(await roundTrip(socket)).toBeLessThan(100);
  });

  it("timeout 0 blackholes data until the toxic is removed", async () => {
    const proxy = await proxied();
    const socket = await connect(proxy);
    await proxy.addToxic({ name: "hole", type: "timeout", stream: "upstream", attributes: { timeout: 0 } });
    const trip = roundTrip(socket, "ping", 5_000);
    await new Promise((r) => setTimeout(r, 400));
    await proxy.removeToxic("hole");
    expect(await trip).toBeGreaterThanOrEqual(390);
  });

  it("timeout > 0 closes the link after the timeout", async () => {
    const proxy = await proxied();
    const socket = await connect(proxy);
    const end = closed(socket);
    await proxy.addToxic({ type: "timeout", attributes: { timeout: 300 } });
    const { ms } = await end;
    expect(ms).toBeGreaterThanOrEqual(290);
    expect(ms).toBeLessThan(2_000);
  });

  it("down cuts open links and refuses new ones; removing it restores service", async () => {
    const proxy = await proxied();
    const socket = await connect(proxy);
    const end = closed(socket);
    await proxy.addToxic({ name: "blink", type: "down" });
    await end;
    await expect(connect(proxy)).rejects.toMatchObject({ code: "ECONNREFUSED" });
    await proxy.removeToxic("blink");
    expect(await roundTrip(await connect(proxy))).toBeLessThan(100);
  });

  it("disabling the proxy is the same as down, and enabling restores it", async () => {
    const proxy = await proxied();
    await proxy.setEnabled(false);
    await expect(connect(proxy)).rejects.toMatchObject({ code: "ECONNREFUSED" });
    await proxy.setEnabled(true);
    expect(await roundTrip(await connect(proxy))).toBeLessThan(100);
  });

  it("reset_peer resets the client connection", async () => {
    const proxy = await proxied();
    const socket = await connect(proxy);
    const end = closed(socket);
    await proxy.addToxic({ type: "reset_peer", attributes: { timeout: 50 } });
    expect((await end).error).toBe("ECONNRESET");
  });

  it("limit_data closes the link after the byte limit", async () => {
    const proxy = await proxied();
    await proxy.addToxic({ type: "limit_data", stream: "downstream", attributes: { bytes: 10 } });
    const socket = await connect(proxy);
    let got = 0;
    socket.on("data", (c: Buffer) => {
      got += c.length;
    });
    const end = closed(socket);
    socket.write("x".repeat(100));
    await end;
    expect(got).toBe(10);
  });

  it("bandwidth limits throughput", async () => {
    const proxy = await proxied();
    await proxy.addToxic({ type: "bandwidth", stream: "downstream", attributes: { rate: 100 } });
    const socket = await connect(proxy);
    const ms = await roundTrip(socket, "y".repeat(50 * 1024), 5_000);
    // 50 KB at 100 KB/s: about half a second.
    expect(ms).toBeGreaterThanOrEqual(450);
    expect(ms).toBeLessThan(2_000);
  });

  it("a wait longer than a timer keeps still holds the data (Node would fire it after 1 ms)", async () => {
    const proxy = await proxied();
    // 1e-10 KB/s: each byte is due after ~9.8e9 ms, beyond 2³¹−1.
    await proxy.addToxic({ type: "bandwidth", stream: "downstream", attributes: { rate: 1e-10 } });
    const socket = await connect(proxy);
    await expect(roundTrip(socket, "ping", 300)).rejects.toThrow(/no echo/);
  });

  it("slicer splits data into small delayed pieces", async () => {
    const proxy = await proxied();
    await proxy.addToxic({
      type: "slicer",
      stream: "downstream",
      attributes: { average_size: 10, size_variation: 5, delay: 5 },
    });
    const socket = await connect(proxy);
    let chunks = 0;
    socket.on("data", () => {
      chunks += 1;
    });
    const ms = await roundTrip(socket, "z".repeat(200));
    expect(chunks).toBeGreaterThanOrEqual(5);
    expect(ms).toBeGreaterThanOrEqual(20);
  });

  it("slow_close delays the close", async () => {
    const proxy = await proxied();
    await proxy.addToxic({ type: "slow_close", stream: "downstream", attributes: { delay: 300 } });
    const socket = await connect(proxy);
    const end = closed(socket);
    socket.end();
    expect((await end).ms).toBeGreaterThanOrEqual(290);
  });
});

describe("toxic validation", () => {
  it("fills defaults and rejects bad toxics with a sentence", () => {
    expect(parseToxic({ type: "latency", attributes: { latency: 5 } })).toEqual({
      name: "latency_downstream",
      type: "latency",
      stream: "downstream",
      toxicity: 1,
      attributes: { latency: 5 },
    });
    expect(() => parseToxic({ type: "lag" })).toThrow(/unknown toxic type/);
    expect(() => parseToxic({ type: "latency" })).toThrow(/attributes\.latency/);
    expect(() => parseToxic({ type: "down", toxicity: 2 })).toThrow(/toxicity/);
    expect(() => parseToxic({ type: "down", stream: "sideways" })).toThrow(/stream/);
  });

  it("refuses timer values above 2³¹−1 ms instead of letting Node fire them after 1 ms", async () => {
    const over = 2 ** 31;
    for (const [type, key] of [
      ["latency", "latency"],
      ["latency", "jitter"],
      ["timeout", "timeout"],
      ["reset_peer", "timeout"],
      ["slow_close", "delay"],
      ["slicer", "delay"],
    ] as const) {
      const attributes = { latency: 1, average_size: 1, delay: 1, timeout: 1, [key]: over };
      expect(() => parseToxic({ type, attributes }), `${type}.${key}`).toThrow(
        new RegExp(`attribute ${key} must be at most 2147483647 ms`),
      );
    }
    expect(parseToxic({ type: "latency", attributes: { latency: 2 ** 31 - 1 } }).attributes.latency).toBe(
      2 ** 31 - 1,
    );
    // The proxy refuses it too, so a 24.8-day latency never becomes a 1 ms one on a live link.
    const proxy = await proxied();
    await expect(proxy.addToxic({ type: "latency", attributes: { latency: over } })).rejects.toThrow(
      /at most 2147483647/,
    );
    expect(proxy.toxics()).toEqual([]);
  });

  it("parses endpoints", () => {
    expect(parseEndpoint("127.0.0.1:6379")).toEqual({ host: "127.0.0.1", port: 6379 });
    expect(parseEndpoint("6379")).toEqual({ host: "127.0.0.1", port: 6379 });
    expect(() => parseEndpoint("nope")).toThrow(/host:port/);
  });
});
