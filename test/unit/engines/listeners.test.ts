import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  canConnect,
  classifyAddress,
  decodeProcSocketAddress,
  normalizeAddress,
  parseProcNetTcp,
  readListeners,
} from "../../../src/engines/net/listeners.js";

// Captured from a Linux 6.x machine: a loopback and a wildcard listener, plus an established connection (st 06).
const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:D888 00000000:0000 0A 00000000:00000000 00:00000000 00000000   101        0 7913 1 000000002e294be0 100 0 0 10 0
   1: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1524 1 00000000e7749398 100 0 0 10 0
   2: 0100007F:BC24 0100007F:D888 06 00000000:00000000 03:000016BC 00000000     0        0 0 3 00000000e31685f2
`;

// Node servers on ::ffff:127.0.0.1, :: and ::1, plus fd00::2 (a global address) and an established socket.
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0000000000000000FFFF00000100007F:9799 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 11458 1 00000000cb56151f 100 0 0 10 0
   1: 00000000000000000000000000000000:A997 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 11456 1 00000000804f3d62 100 0 0 10 0
   2: 00000000000000000000000001000000:B2EF 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 11457 1 00000000d84073d2 100 0 0 10 0
   3: 000000FD000000000000000002000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 22000 1 00000000d84073d2 100 0 0 10 0
   4: 000000FD000000000000000002000000:1F90 000000FD000000000000000009000000:C350 01 00000000:00000000 00:00000000 00000000  1000        0 22001 1 00000000d84073d2 100 0 0 10 0
`;

describe("parseProcNetTcp", () => {
  it("keeps only LISTEN sockets and decodes little-endian IPv4 addresses", () => {
    const listeners = parseProcNetTcp(TCP, true);
    expect(listeners.map((l) => [l.address, l.port, l.scope, l.inode, l.uid])).toEqual([
      ["127.0.0.1", 55432, "loopback", 7913, 101],
      ["0.0.0.0", 2024, "wildcard", 1524, 0],
    ]);
    expect(listeners.every((l) => l.family === "IPv4")).toBe(true);
    expect(listeners[0]!.line).toMatch(/^0: 0100007F:D888/);
  });

  it("decodes IPv6 word by word, including IPv4-mapped addresses", () => {
    const listeners = parseProcNetTcp(TCP6, true);
    expect(listeners.map((l) => [l.address, l.port, l.scope])).toEqual([
      ["::ffff:127.0.0.1", 38809, "loopback"],
      ["::", 43415, "wildcard"],
      ["::1", 45807, "loopback"],
      ["fd00::2", 8080, "private"],
    ]);
    expect(listeners.every((l) => l.family === "IPv6")).toBe(true);
  });

  it("ignores headers, blank lines and malformed rows", () => {
    expect(parseProcNetTcp("  sl  local_address rem_address st\n\n garbage line here\n", true)).toEqual([]);
  });

  it("reads addresses in network order on a big-endian kernel", () => {
    expect(decodeProcSocketAddress("7F000001:0050", false)).toEqual({
      family: "IPv4",
      address: "127.0.0.1",
      port: 80,
    });
    expect(decodeProcSocketAddress("0100007F:0050", true)).toEqual({
      family: "IPv4",
      address: "127.0.0.1",
      port: 80,
    });
    expect(decodeProcSocketAddress("nothex:0050", true)).toBeNull();
  });
});

describe("classifyAddress", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["127.1.2.3", "loopback"],
    ["0.0.0.0", "wildcard"],
    ["10.0.0.5", "private"],
    ["192.0.2.2", "public"],
    ["::1", "loopback"],
    ["[::1]", "loopback"],
    ["0:0:0:0:0:0:0:1", "loopback"],
    ["::", "wildcard"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["::ffff:0.0.0.0", "wildcard"],
    ["::ffff:10.1.2.3", "private"],
    ["fe80::1%eth0", "private"],
    ["2001:db8::1", "public"],
    ["not-an-address", "public"],
  ])("%s is %s", (address, scope) => {
    expect(classifyAddress(address)).toBe(scope);
  });

  it("normalizes textual forms to one canonical spelling", () => {
    expect(normalizeAddress("0:0:0:0:0:0:0:1")).toBe("::1");
    expect(normalizeAddress("[::FFFF:7F00:1]")).toBe("::ffff:127.0.0.1");
    expect(normalizeAddress("2001:0db8:0:0:1:0:0:1")).toBe("2001:db8::1:0:0:1");
    expect(normalizeAddress("fd00:0:0:0:0:0:0:2")).toBe("fd00::2");
    expect(normalizeAddress("10.0.0.1")).toBe("10.0.0.1");
    expect(normalizeAddress("example.com")).toBeNull();
  });
});

describe("readListeners", () => {
  it("reads both tables from a folder and reports each source", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-procnet-"));
    writeFileSync(path.join(dir, "tcp"), TCP);
    writeFileSync(path.join(dir, "tcp6"), TCP6);
    const table = await readListeners(dir);
    expect(table.listeners).toHaveLength(6);
    expect(table.sources.every((s) => s.read)).toBe(true);
    expect(table.complete).toBe(true);
  });

  it("treats a missing tcp6 as a kernel without IPv6, and an unreadable one as incomplete", async () => {
    const noV6 = mkdtempSync(path.join(tmpdir(), "gauntlet-procnet-"));
    writeFileSync(path.join(noV6, "tcp"), TCP);
    expect((await readListeners(noV6)).complete).toBe(true);

    const brokenV6 = mkdtempSync(path.join(tmpdir(), "gauntlet-procnet-"));
    writeFileSync(path.join(brokenV6, "tcp"), TCP);
    mkdirSync(path.join(brokenV6, "tcp6"));
    const table = await readListeners(brokenV6);
    expect(table.complete).toBe(false);
    expect(table.listeners).toHaveLength(2);
  });

  it("throws when no table can be read", async () => {
    await expect(readListeners(path.join(tmpdir(), "gauntlet-no-such-proc"))).rejects.toThrow(
      /socket tables/,
    );
  });
});

describe("live sockets", () => {
  const servers: http.Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  });
  const listen = (host: string) =>
    new Promise<number>((resolve) => {
      const server = http.createServer((_req, res) => res.end("ok"));
      servers.push(server);
      server.listen(0, host, () => resolve((server.address() as AddressInfo).port));
    });

  it("finds a real loopback and a real wildcard listener in /proc", async () => {
    const loopbackPort = await listen("127.0.0.1");
    const wildcardPort = await listen("0.0.0.0");
    const { listeners } = await readListeners();
    expect(listeners.filter((l) => l.port === loopbackPort).map((l) => l.scope)).toEqual(["loopback"]);
    expect(listeners.filter((l) => l.port === wildcardPort).map((l) => [l.address, l.scope])).toEqual([
      ["0.0.0.0", "wildcard"],
    ]);
  });

  it("canConnect reports connected, refused and dns outcomes", async () => {
    const port = await listen("127.0.0.1");
    const open = await canConnect("127.0.0.1", port, 2_000);
    expect(open).toMatchObject({ reachable: true, outcome: "connected", remoteAddress: "127.0.0.1" });
    expect(open.latencyMs).toBeGreaterThanOrEqual(0);

    const closedPort = await listen("127.0.0.1");
    await new Promise((r) => servers.pop()!.close(r));
    expect(await canConnect("127.0.0.1", closedPort, 2_000)).toMatchObject({
      reachable: false,
      outcome: "refused",
      code: "ECONNREFUSED",
    });
    expect(await canConnect("gauntlet-test.invalid", 80, 2_000)).toMatchObject({
      reachable: false,
      outcome: "dns",
    });
  });

  it("canConnect rejects when aborted", async () => {
    const controller = new AbortController();
    controller.abort(new Error("stop"));
    await expect(canConnect("127.0.0.1", 1, 2_000, controller.signal)).rejects.toThrow("stop");
  });
});
