// Does a Redis refuse a client that gives no password? Spoken in RESP directly: `PING` with no AUTH must answer
// `-NOAUTH`; `+PONG` means anyone who reaches the port can read and write every key. `-DENIED` is protected mode
// (no password, but only loopback clients are served). With a password set, a random one must be refused, for the
// default user and the URL's user (an ACL user with `nopass` accepts any password).
import {
  type AuthAttempt,
  type AuthProbeResult,
  brokenOff,
  connectFailure,
  short,
  wrongPassword,
} from "./authAttempt.js";
import { Wire, type WireTarget } from "./wire.js";

export interface RedisAuthOptions {
  target: WireTarget;
  /** The user name in the URL (redis://user:…@host), if any: a random password must be refused for it too. */
  user?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

type Reply =
  | { type: "simple" | "error" | "integer" | "bulk"; text: string }
  | { type: "array"; items: Reply[] };

export async function probeRedisAuth(options: RedisAuthOptions): Promise<AuthProbeResult> {
  const { target } = options;
  const result: AuthProbeResult = {
    protocol: "redis",
    address: target.socketPath ?? `${target.host}:${target.port}`,
    transport: target.socketPath ? "unix" : target.tls ? "tls" : "tcp",
    attempts: [],
    details: {},
  };
  let wire: Wire;
  try {
    wire = await Wire.open(target, options.timeoutMs ?? 5_000, options.signal);
  } catch (error) {
    result.attempts.push(connectFailure("noCredentials", "PING without AUTH", error));
    return result;
  }
  try {
    const ping = await command(wire, ["PING"]);
    const pingText = text(ping);
    const opened = ping.type === "simple" && /^PONG$/i.test(ping.text);
    result.attempts.push({
      kind: "noCredentials",
      attempt: "PING without AUTH",
      outcome: opened
        ? "accepted"
        : /^(NOAUTH|DENIED)\b/.test(pingText) && ping.type === "error"
          ? "refused"
          : "inconclusive",
      answer: short(`${ping.type === "error" ? "-" : "+"}${pingText}`),
    });
    if (/^DENIED\b/.test(pingText)) result.details.protectedMode = "yes (DENIED: no password, loopback only)";
    if (opened) {
      await learnOpenServer(wire, result);
      return result;
    }
    if (!/^NOAUTH\b/.test(pingText)) return result;
    // A password is required: a made-up one must be refused, for the default user (the one-argument AUTH every
    // version has) and for the URL's ACL user (Redis 6+; older servers have no users, so nothing to ask).
    result.attempts.push(await wrongAuth(wire, undefined));
    if (options.user && options.user !== "default") {
      const attempt = await wrongAuth(wire, options.user);
      if (!/wrong number of arguments/i.test(attempt.answer)) result.attempts.push(attempt);
    }
  } catch (error) {
    result.attempts.push(brokenOff({ kind: "noCredentials", attempt: "PING without AUTH" }, error));
  } finally {
    wire.close();
  }
  return result;
}

async function wrongAuth(wire: Wire, user: string | undefined): Promise<AuthAttempt> {
  const reply = await command(wire, user ? ["AUTH", user, wrongPassword()] : ["AUTH", wrongPassword()]);
  const answer = text(reply);
  const refused =
    reply.type === "error" && /^(WRONGPASS|ERR invalid password|ERR invalid username)/i.test(answer);
  const accepted = reply.type === "simple" && /^OK$/i.test(answer);
  return {
    kind: "wrongPassword",
    user: user ?? "default",
    attempt: `AUTH ${user ? `${user} ` : ""}<random wrong password>`,
    outcome: accepted ? "accepted" : refused ? "refused" : "inconclusive",
    answer: short(`${reply.type === "error" ? "-" : "+"}${answer}`),
  };
}

/** On a server that answered without a password: what it is and how it is set, for the report (read-only). */
async function learnOpenServer(wire: Wire, result: AuthProbeResult): Promise<void> {
  const info = await command(wire, ["INFO", "server"]);
  const version = /redis_version:(\S+)/.exec(text(info))?.[1];
  if (version) result.details.version = version;
  const whoami = await command(wire, ["ACL", "WHOAMI"]);
  if (whoami.type !== "error") result.details.user = text(whoami);
  const config = await command(wire, ["CONFIG", "GET", "protected-mode"]);
  if (config.type === "array" && config.items.length === 2) {
    result.details.protectedMode = text(config.items[1]!);
  } else if (config.type === "error") {
    result.details.protectedMode = `unknown (CONFIG GET: ${short(text(config))})`;
  }
}

async function command(wire: Wire, args: string[]): Promise<Reply> {
  wire.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`);
  return readReply(wire, 0);
}

async function readReply(wire: Wire, depth: number): Promise<Reply> {
  const line = await wire.readLine();
  const body = line.slice(1);
  switch (line[0]) {
    case "+":
      return { type: "simple", text: body };
    case "-":
      return { type: "error", text: body };
    case ":":
      return { type: "integer", text: body };
    case "$": {
      const length = Number(body);
      if (length < 0) return { type: "bulk", text: "" };
      const data = await wire.read(length + 2);
      return { type: "bulk", text: data.subarray(0, length).toString("utf8") };
    }
    case "*": {
      const count = Number(body);
      if (depth > 4 || count > 1024) throw new Error(`unexpected reply: ${short(line)}`);
      const items: Reply[] = [];
      for (let i = 0; i < count; i++) items.push(await readReply(wire, depth + 1));
      return { type: "array", items };
    }
    default:
      throw Object.assign(new Error(`not a Redis reply: ${short(line)}`), { code: "EPROTO" });
  }
}

function text(reply: Reply): string {
  return reply.type === "array" ? reply.items.map(text).join(" ") : reply.text;
}
