// Does a MySQL or MariaDB refuse a client that gives no password? No MySQL client library is installed, so the
// handshake is spoken here: the server's greeting names its default auth plugin, the client answers with a user and an
// empty auth response (TLS first when the server offers it, as the mysql client's ssl-mode=PREFERRED does), and the
// server says OK (let in) or ERR 1045 (refused). A made-up user with a random password that gets in means the grant
// tables are off (--skip-grant-tables). Only empty and random passwords are ever sent.
import { randomBytes } from "node:crypto";
import {
  type AuthAttempt,
  type AuthProbeResult,
  brokenOff,
  connectFailure,
  short,
  wrongPassword,
} from "./authAttempt.js";
import { Wire, type WireTarget } from "./wire.js";

export interface MysqlAuthOptions {
  target: WireTarget;
  /** Users to try with an empty password (the URL's user, then root). */
  users: string[];
  timeoutMs?: number;
  signal?: AbortSignal;
}

const CLIENT_LONG_PASSWORD = 0x1;
const CLIENT_PROTOCOL_41 = 0x200;
const CLIENT_SSL = 0x800;
const CLIENT_SECURE_CONNECTION = 0x8000;
const CLIENT_PLUGIN_AUTH = 0x80000;

interface Greeting {
  version: string;
  capabilities: number;
  plugin: string;
}

export async function probeMysqlAuth(options: MysqlAuthOptions): Promise<AuthProbeResult> {
  const { target } = options;
  const result: AuthProbeResult = {
    protocol: "mysql",
    address: target.socketPath ?? `${target.host}:${target.port}`,
    transport: target.socketPath ? "unix" : "tcp",
    attempts: [],
    details: {},
  };
  for (const user of options.users) {
    const attempt = await login(options, result, "noCredentials", user, undefined);
    result.attempts.push(attempt);
    if (attempt.outcome === "unreachable") return result;
  }
  // Grant tables off: any user, any password, is let in.
  const made = `gauntlet_probe_${randomBytes(4).toString("hex")}`;
  result.attempts.push(await login(options, result, "wrongPassword", made, wrongPassword()));
  return result;
}

async function login(
  options: MysqlAuthOptions,
  result: AuthProbeResult,
  kind: AuthAttempt["kind"],
  user: string,
  password: string | undefined,
): Promise<AuthAttempt> {
  const attempt =
    kind === "noCredentials"
      ? `login as ${user}, empty password`
      : `login as ${user} (made up), random password`;
  const base = { kind, user, attempt };
  let wire: Wire;
  try {
    wire = await Wire.open(options.target, options.timeoutMs ?? 5_000, options.signal);
  } catch (error) {
    return connectFailure(kind, attempt, error, user);
  }
  try {
    let seq = 0;
    const readPacket = async () => {
      const head = await wire.read(4);
      seq = head[3]! + 1;
      return wire.read(head.readUIntLE(0, 3));
    };
    const writePacket = (payload: Buffer) => {
      const head = Buffer.alloc(4);
      head.writeUIntLE(payload.length, 0, 3);
      head[3] = seq++ & 0xff;
      wire.write(Buffer.concat([head, payload]));
    };
    const first = await readPacket();
    if (first[0] === 0xff) return errAttempt(base, first, "the greeting");
    const greeting = parseGreeting(first);
    result.details.version = greeting.version;
    result.details.defaultAuthPlugin = greeting.plugin;
    let capabilities =
      CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH;
    if (greeting.capabilities & CLIENT_SSL && !options.target.socketPath) {
      capabilities |= CLIENT_SSL;
      writePacket(Buffer.concat([le32(capabilities), le32(1 << 24), Buffer.from([0x21]), Buffer.alloc(23)]));
      const { protocol } = await wire.startTls(options.target.host);
      result.transport = "tls";
      result.details.tls = protocol ?? "yes";
    }
    const response = password === undefined ? Buffer.alloc(0) : randomBytes(20); // a made-up scramble for a made-up password
    writePacket(
      Buffer.concat([
        le32(capabilities),
        le32(1 << 24),
        Buffer.from([0x21]),
        Buffer.alloc(23),
        Buffer.from(`${user}\0`, "utf8"),
        Buffer.from([response.length]),
        response,
        Buffer.from(`${greeting.plugin}\0`, "latin1"),
      ]),
    );
    for (let round = 0; round < 4; round++) {
      const packet = await readPacket();
      if (packet[0] === 0x00) return { ...base, outcome: "accepted", answer: "OK: logged in" };
      if (packet[0] === 0xff) return errAttempt(base, packet, "the login");
      if (packet[0] === 0xfe) {
        // AuthSwitchRequest: the account uses another plugin; answer it with the same empty (or made-up) response.
        const end = packet.indexOf(0, 1);
        const plugin = packet.subarray(1, end < 0 ? packet.length : end).toString("latin1");
        result.details.accountAuthPlugin = plugin;
        const empty = plugin === "caching_sha2_password" ? Buffer.from([0]) : Buffer.alloc(0);
        writePacket(
          password === undefined ? empty : randomBytes(plugin === "caching_sha2_password" ? 32 : 20),
        );
        continue;
      }
      if (packet[0] === 0x01) {
        // caching_sha2_password: 0x03 fast auth succeeded (OK follows), 0x04 the full password is wanted.
        if (packet[1] === 0x04) {
          return {
            ...base,
            outcome: "refused",
            answer: "asked for the full password exchange (caching_sha2_password)",
          };
        }
        continue;
      }
      return { ...base, outcome: "inconclusive", answer: `unexpected packet 0x${packet[0]!.toString(16)}` };
    }
    return { ...base, outcome: "inconclusive", answer: "no verdict after four authentication rounds" };
  } catch (error) {
    return brokenOff(base, error);
  } finally {
    wire.close();
  }
}

/** ER_ACCESS_DENIED_ERROR (1045), ER_HOST_NOT_PRIVILEGED (1130), ER_DBACCESS_DENIED (1044) refuse; the rest say nothing. */
function errAttempt(
  base: Pick<AuthAttempt, "kind" | "user" | "attempt">,
  packet: Buffer,
  during: string,
): AuthAttempt {
  const code = packet.readUInt16LE(1);
  const message = packet.subarray(packet[3] === 0x23 ? 9 : 3).toString("utf8");
  const answer = short(`ERR ${code} during ${during}: ${message}`);
  const refused = [1045, 1130, 1044, 1698].includes(code);
  return { ...base, outcome: refused ? "refused" : "inconclusive", answer, code: String(code) };
}

function parseGreeting(packet: Buffer): Greeting {
  if (packet[0] !== 10)
    throw Object.assign(new Error(`protocol version ${packet[0]}, not 10`), { code: "EPROTO" });
  let at = 1;
  const versionEnd = packet.indexOf(0, at);
  const version = packet.subarray(at, versionEnd).toString("latin1");
  at = versionEnd + 1 + 4; // connection id
  at += 8 + 1; // auth-plugin-data part 1, filler
  let capabilities = packet.readUInt16LE(at);
  at += 2 + 1 + 2; // character set, status flags
  capabilities |= packet.readUInt16LE(at) << 16;
  at += 2;
  const dataLength = packet[at] ?? 0;
  at += 1 + 10;
  at += Math.max(13, dataLength - 8); // auth-plugin-data part 2: no real password is ever scrambled here
  const pluginEnd = packet.indexOf(0, at);
  const plugin = packet.subarray(at, pluginEnd < 0 ? packet.length : pluginEnd).toString("latin1");
  return {
    version,
    capabilities: capabilities >>> 0,
    plugin: plugin || "mysql_native_password",
  };
}

function le32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32LE(value >>> 0, 0);
  return buffer;
}
