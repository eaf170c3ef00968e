// Which TCP sockets listen on this machine, and on which addresses: read from /proc/net/tcp{,6} (Linux), where the
// kernel prints addresses as 32-bit words in host byte order. Plus a plain TCP connect probe for other hosts.
import { readFile } from "node:fs/promises";
import net from "node:net";
import { endianness } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";

export type AddressFamily = "IPv4" | "IPv6";
/**
 * loopback: 127.0.0.0/8, ::1 (and IPv4-mapped loopback); wildcard: 0.0.0.0, :: (every interface); private: RFC 1918,
 * carrier-grade NAT, link-local and IPv6 unique-local addresses; public: anything else.
 */
export type AddressScope = "loopback" | "wildcard" | "private" | "public";

export interface Listener {
  family: AddressFamily;
  address: string;
  port: number;
  inode: number;
  uid: number;
  scope: AddressScope;
  /** The /proc line it was read from, trimmed; evidence for a finding. */
  line: string;
}

export interface ListenerTable {
  listeners: Listener[];
  sources: { path: string; read: boolean; error?: string }[];
  /** False when a table that should exist could not be read, so a missing listener proves nothing. */
  complete: boolean;
}

const TCP_LISTEN = "0A";

/** Parses the text of /proc/net/tcp or /proc/net/tcp6 into its LISTEN sockets. */
export function parseProcNetTcp(text: string, littleEndian = endianness() === "LE"): Listener[] {
  const listeners: Listener[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    // Fields: sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode …
    const fields = line.split(/\s+/);
    if (fields.length < 10 || !/^\d+:$/.test(fields[0]!)) continue;
    if (fields[3]!.toUpperCase() !== TCP_LISTEN) continue;
    const local = decodeProcSocketAddress(fields[1]!, littleEndian);
    if (!local) continue;
    listeners.push({
      ...local,
      inode: Number(fields[9]),
      uid: Number(fields[7]),
      scope: classifyAddress(local.address),
      line,
    });
  }
  return listeners;
}

/** Decodes "0100007F:1F90" or a 32-hex-digit IPv6 form with its port into a printable address. */
export function decodeProcSocketAddress(
  text: string,
  littleEndian = endianness() === "LE",
): { family: AddressFamily; address: string; port: number } | null {
  const match = /^([0-9A-Fa-f]{8}|[0-9A-Fa-f]{32}):([0-9A-Fa-f]{4})$/.exec(text);
  if (!match) return null;
  const hex = match[1]!;
  const port = Number.parseInt(match[2]!, 16);
  const bytes: number[] = [];
  for (let word = 0; word < hex.length; word += 8) {
    const wordBytes = [0, 2, 4, 6].map((i) => Number.parseInt(hex.slice(word + i, word + i + 2), 16));
    bytes.push(...(littleEndian ? wordBytes.reverse() : wordBytes));
  }
  if (bytes.length === 4) return { family: "IPv4", address: bytes.join("."), port };
  return { family: "IPv6", address: formatIPv6(bytes), port };
}

/** Loopback, wildcard or other, for IPv4, IPv6 and IPv4-mapped IPv6 (any textual form net.isIP accepts). */
export function classifyAddress(address: string): AddressScope {
  const host = address.replace(/^\[|\]$/g, "").replace(/%.*$/, ""); // drop an IPv6 zone id (fe80::1%eth0)
  if (net.isIPv4(host)) return classifyIPv4(host.split(".").map(Number));
  const bytes = ipv6Bytes(host);
  if (!bytes) return "public";
  const mapped = ipv4Mapped(bytes);
  if (mapped) return classifyIPv4(mapped);
  if (bytes.every((b) => b === 0)) return "wildcard";
  if (bytes.slice(0, 15).every((b) => b === 0) && bytes[15] === 1) return "loopback";
  if ((bytes[0]! & 0xfe) === 0xfc) return "private"; // fc00::/7 unique local
  if (bytes[0] === 0xfe && (bytes[1]! & 0xc0) === 0x80) return "private"; // fe80::/10 link local
  return "public";
}

/** Canonical text of an IP address (RFC 5952 for IPv6, dotted tail for IPv4-mapped), or null if not an IP. */
export function normalizeAddress(address: string): string | null {
  const host = address.replace(/^\[|\]$/g, "");
  if (net.isIPv4(host)) return host.split(".").map(Number).join(".");
  const bytes = ipv6Bytes(host);
  return bytes ? formatIPv6(bytes) : null;
}

/** Reads LISTEN sockets from /proc/net/tcp and /proc/net/tcp6; throws when neither table can be read. */
export async function readListeners(procNetDir = "/proc/net"): Promise<ListenerTable> {
  const table: ListenerTable = { listeners: [], sources: [], complete: true };
  for (const name of ["tcp", "tcp6"]) {
    const file = path.join(procNetDir, name);
    try {
      const text = await readFile(file, "utf8");
      table.listeners.push(...parseProcNetTcp(text));
      table.sources.push({ path: file, read: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      table.sources.push({ path: file, read: false, error: code ?? String(error) });
      // No tcp6 table means the kernel has no IPv6, hence no IPv6 listener to miss.
      if (!(name === "tcp6" && code === "ENOENT")) table.complete = false;
    }
  }
  if (!table.sources.some((s) => s.read)) {
    const detail = table.sources.map((s) => `${s.path}: ${s.error}`).join("; ");
    throw new Error(`cannot read the socket tables (${detail})`);
  }
  return table;
}

export type ConnectOutcome = "connected" | "refused" | "timeout" | "unreachable" | "dns" | "reset" | "other";

export interface ConnectResult {
  host: string;
  port: number;
  reachable: boolean;
  outcome: ConnectOutcome;
  code?: string;
  message?: string;
  latencyMs: number;
  /** The address actually connected to (after DNS). */
  remoteAddress?: string;
}

/** Opens (and at once closes) a TCP connection. Resolves for every outcome; rejects only when `signal` aborts. */
export function canConnect(
  host: string,
  port: number,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<ConnectResult> {
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  const started = performance.now();
  return new Promise<ConnectResult>((resolve, reject) => {
    const socket = net.connect({ host: host.replace(/^\[|\]$/g, ""), port });
    let settled = false;
    const settle = (result: Omit<ConnectResult, "host" | "port" | "latencyMs"> | "aborted") => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      socket.destroy();
      if (result === "aborted") reject(abortReason(signal!));
      else resolve({ host, port, latencyMs: performance.now() - started, ...result });
    };
    const timer = setTimeout(
      () =>
        settle({
          reachable: false,
          outcome: "timeout",
          code: "ETIMEDOUT",
          message: `no answer in ${timeoutMs} ms`,
        }),
      timeoutMs,
    );
    const onAbort = () => settle("aborted");
    signal?.addEventListener("abort", onAbort, { once: true });
    socket.once("connect", () => {
      const result: Omit<ConnectResult, "host" | "port" | "latencyMs"> = {
        reachable: true,
        outcome: "connected",
      };
      if (socket.remoteAddress) result.remoteAddress = socket.remoteAddress;
      settle(result);
    });
    socket.once("error", (error: NodeJS.ErrnoException) => {
      const code = errorCode(error);
      const result: Omit<ConnectResult, "host" | "port" | "latencyMs"> = {
        reachable: false,
        outcome: classifyConnectError(code),
        message: error.message,
      };
      if (code) result.code = code;
      settle(result);
    });
  });
}

function classifyConnectError(code: string | undefined): ConnectOutcome {
  switch (code) {
    case "ECONNREFUSED":
      return "refused";
    case "ETIMEDOUT":
      return "timeout";
    case "EHOSTUNREACH":
    case "ENETUNREACH":
    case "EHOSTDOWN":
    case "ENETDOWN":
      return "unreachable";
    case "ECONNRESET":
      return "reset";
    default:
      return code === "ENOTFOUND" || code?.startsWith("EAI_") ? "dns" : "other";
  }
}

/** With autoSelectFamily, a connect that failed on every address is an AggregateError without its own code. */
function errorCode(error: NodeJS.ErrnoException): string | undefined {
  if (error.code) return error.code;
  if (error instanceof AggregateError) {
    const first = error.errors.find((e) => (e as NodeJS.ErrnoException)?.code) as
      | NodeJS.ErrnoException
      | undefined;
    return first?.code;
  }
  return undefined;
}

function classifyIPv4(octets: number[]): AddressScope {
  const [a, b] = octets as [number, number];
  if (a === 127) return "loopback";
  if (octets.every((o) => o === 0)) return "wildcard";
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return "private";
  if ((a === 100 && b >= 64 && b <= 127) || (a === 169 && b === 254)) return "private";
  return "public";
}

function ipv4Mapped(bytes: number[]): number[] | null {
  const prefix = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  return prefix ? bytes.slice(12) : null;
}

function ipv6Bytes(text: string): number[] | null {
  let host = text.replace(/%.*$/, ""); // zone id (fe80::1%eth0)
  if (!net.isIPv6(host)) return null;
  const tail: number[] = [];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(host);
  if (dotted) {
    tail.push(...dotted[1]!.split(".").map(Number));
    host = `${host.slice(0, -dotted[1]!.length)}0:0`;
  }
  const halves = host.split("::");
  const groupsOf = (part: string | undefined) => (part ? part.split(":") : []);
  const head = groupsOf(halves[0]);
  const rest = halves.length === 2 ? groupsOf(halves[1]) : [];
  const missing = 8 - head.length - rest.length;
  const groups = [...head, ...Array<string>(Math.max(0, missing)).fill("0"), ...rest];
  const bytes = groups.flatMap((g) => {
    const value = Number.parseInt(g, 16);
    return [value >> 8, value & 0xff];
  });
  if (tail.length === 4) bytes.splice(12, 4, ...tail);
  return bytes.length === 16 ? bytes : null;
}

function formatIPv6(bytes: number[]): string {
  const mapped = ipv4Mapped(bytes);
  if (mapped) return `::ffff:${mapped.join(".")}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  // RFC 5952: compress the longest run (first if tied) of two or more zero groups.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLength).join(":")}`;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("The operation was aborted.", "AbortError");
}
