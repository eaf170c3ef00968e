// Does the server still speak SSL 3.0 (POODLE)? Node's OpenSSL is built without it, so the ClientHello is written by
// hand: an SSLv3 record offering the suites SSLv3 servers had, and the first record back says it — a ServerHello
// for version 3.0 is acceptance; an alert, a close or a higher version is refusal.
import { randomBytes } from "node:crypto";
import net from "node:net";

export type Sslv3Result =
  | { outcome: "accepted"; cipherSuite: string }
  | { outcome: "refused"; answer: string }
  | { outcome: "unreachable" | "timeout" | "error"; code: string; error: string };

// 3DES, RC4, AES-CBC, DHE and single-DES suites, and the renegotiation SCSV.
const SUITES = [
  0x000a, 0x0005, 0x0004, 0x002f, 0x0035, 0x0009, 0x0016, 0x0033, 0x0039, 0x0003, 0x0006, 0x00ff,
];

export function clientHelloSslv3(): Buffer {
  const suites = Buffer.alloc(SUITES.length * 2);
  SUITES.forEach((s, i) => {
    suites.writeUInt16BE(s, i * 2);
  });
  const body = Buffer.concat([
    Buffer.from([0x03, 0x00]),
    randomBytes(32),
    Buffer.from([0x00]), // no session id
    Buffer.from([suites.length >> 8, suites.length & 0xff]),
    suites,
    Buffer.from([0x01, 0x00]), // null compression
  ]);
  const handshake = Buffer.concat([Buffer.from([0x01, 0, body.length >> 8, body.length & 0xff]), body]);
  return Buffer.concat([
    Buffer.from([0x16, 0x03, 0x00, handshake.length >> 8, handshake.length & 0xff]),
    handshake,
  ]);
}

export function probeSslv3(options: {
  host: string;
  port: number;
  timeoutMs: number;
  signal?: AbortSignal;
}): Promise<Sslv3Result> {
  return new Promise((resolve) => {
    let connected = false;
    let settled = false;
    let received = Buffer.alloc(0);
    const socket = net.connect({ host: options.host, port: options.port });
    const finish = (result: Sslv3Result) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(
      () =>
        finish({
          outcome: connected ? "timeout" : "unreachable",
          code: "ETIMEDOUT",
          error: `no answer within ${options.timeoutMs} ms`,
        }),
      options.timeoutMs,
    );
    const onAbort = () => finish({ outcome: "error", code: "ABORTED", error: "cancelled" });
    options.signal?.addEventListener("abort", onAbort, { once: true });
    socket.once("connect", () => {
      connected = true;
      socket.write(clientHelloSslv3());
    });
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 5) return;
      const [type, major, minor] = [received[0]!, received[1]!, received[2]!];
      if (type === 0x15) {
        const level = received[5];
        const description = received[6];
        return finish({
          outcome: "refused",
          answer: `alert ${level ?? "?"}/${description ?? "?"} (record version ${major}.${minor})`,
        });
      }
      if (type !== 0x16) return finish({ outcome: "refused", answer: `not a TLS record (type ${type})` });
      if (received.length < 11) return;
      // Handshake header (type, length[3]) then ServerHello's server_version.
      const hello = received[5];
      const version = (received[9]! << 8) | received[10]!;
      if (hello === 0x02 && version === 0x0300) {
        // server_version(2) random(32) session_id(1+n) cipher_suite(2)
        const sessionLength = received[43];
        const at = 44 + (sessionLength ?? 0);
        const suite = received.length >= at + 2 ? received.readUInt16BE(at) : -1;
        return finish({
          outcome: "accepted",
          cipherSuite: suite < 0 ? "unknown" : `0x${suite.toString(16).padStart(4, "0")}`,
        });
      }
      finish({
        outcome: "refused",
        answer: `answered with handshake type ${hello} for version 0x${version.toString(16)}`,
      });
    });
    socket.once("end", () => finish({ outcome: "refused", answer: "closed the connection" }));
    socket.once("error", (error: NodeJS.ErrnoException) => {
      const code = error.code ?? "ERROR";
      if (!connected) return finish({ outcome: "unreachable", code, error: error.message });
      finish({ outcome: "refused", answer: `${code}: ${error.message}` });
    });
  });
}
