// Does a PostgreSQL (or a PgBouncer, which speaks its protocol) refuse a client that gives no password? The startup
// message is sent by hand, as libpq would (SSLRequest first unless sslmode=disable), and the server's first answer
// says what its pg_hba.conf rule demands for this user from this address: AuthenticationOk straight away is `trust`;
// a SASL, md5 or cleartext request is a password; an error of class 28 is a refusal. No password is ever sent except a
// random wrong one, through the real client (pg, which speaks SCRAM and md5), that must be refused.
import pg from "pg";
import {
  type AuthAttempt,
  type AuthProbeResult,
  brokenOff,
  connectFailure,
  short,
  wrongPassword,
} from "./authAttempt.js";
import { Wire, type WireTarget } from "./wire.js";

export interface PostgresAuthOptions {
  target: WireTarget;
  /** Users to try without a password, in order (the URL's user, then `postgres`). */
  users: string[];
  database: string;
  /** sslmode from the URL: disable sends no SSLRequest; require fails the attempt if the server has no TLS. */
  sslmode?: string;
  /** PgBouncer: no pg_hba_file_rules to read (its queries reach the server behind it). */
  pooler?: boolean;
  timeoutMs?: number;
  signal?: AbortSignal;
}

const AUTH_REQUESTS: Record<number, string> = {
  2: "Kerberos V5",
  3: "cleartext password",
  5: "md5 password",
  7: "GSSAPI",
  9: "SSPI",
  10: "SASL",
};

export async function probePostgresAuth(options: PostgresAuthOptions): Promise<AuthProbeResult> {
  const { target } = options;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const result: AuthProbeResult = {
    protocol: "postgres",
    address: target.socketPath ?? `${target.host}:${target.port}`,
    transport: target.socketPath ? "unix" : "tcp",
    attempts: [],
    details: {},
  };
  for (const user of options.users) {
    const attempt = await startup(options, user, timeoutMs, result);
    result.attempts.push(attempt);
    if (attempt.outcome === "unreachable") return result;
  }
  const first = result.attempts[0];
  const user = options.users[0];
  if (first && user !== undefined) {
    if (first.outcome === "refused" && /password|SASL/.test(first.answer)) {
      result.attempts.push(await wrongPasswordAttempt(options, user, result.transport === "tls", timeoutMs));
    }
    const trusted = result.attempts.find((a) => a.outcome === "accepted" && a.kind === "noCredentials");
    if (trusted?.user !== undefined) {
      await learnTrust(options, trusted.user, result.transport === "tls", timeoutMs, result);
    }
  }
  return result;
}

async function startup(
  options: PostgresAuthOptions,
  user: string,
  timeoutMs: number,
  result: AuthProbeResult,
): Promise<AuthAttempt> {
  const attempt = `startup as ${user} to database ${options.database}, no password`;
  let wire: Wire;
  try {
    wire = await Wire.open(options.target, timeoutMs, options.signal);
  } catch (error) {
    return connectFailure("noCredentials", attempt, error, user);
  }
  const base = { kind: "noCredentials" as const, user, attempt };
  try {
    if (!options.target.socketPath && options.sslmode !== "disable") {
      wire.write(int32s(8, 80877103));
      const answer = (await wire.read(1)).toString("latin1");
      if (answer === "S") {
        const { protocol } = await wire.startTls(options.target.host);
        result.transport = "tls";
        result.details.tls = protocol ?? "yes";
      } else if (/^(require|verify-ca|verify-full)$/.test(options.sslmode ?? "")) {
        return {
          ...base,
          outcome: "inconclusive",
          answer: "the server has no TLS, and the URL says sslmode=require",
        };
      }
    }
    wire.write(startupMessage(user, options.database));
    let authenticated = false;
    for (;;) {
      const type = (await wire.read(1)).toString("latin1");
      const length = (await wire.read(4)).readInt32BE(0);
      if (length < 4 || length > 1_000_000) throw new Error(`a message of ${length} bytes`);
      const body = await wire.read(length - 4);
      if (type === "R" && !authenticated) {
        const code = body.readInt32BE(0);
        if (code === 0) {
          // Trust: the role and the database are looked up only now, so read on to ReadyForQuery or the error.
          authenticated = true;
          continue;
        }
        const what = AUTH_REQUESTS[code] ?? `authentication request ${code}`;
        const mechanisms =
          code === 10 ? ` (${body.subarray(4).toString("utf8").split("\0").filter(Boolean).join(", ")})` : "";
        return { ...base, outcome: "refused", answer: `asked for a ${what}${mechanisms}` };
      }
      if (type === "Z" && authenticated) {
        wire.write(Buffer.from([0x58, 0, 0, 0, 4])); // Terminate
        return { ...base, outcome: "accepted", answer: "AuthenticationOk without a password (trust)" };
      }
      if (type === "E") return errorAttempt(base, fields(body), authenticated);
      if (!authenticated && type !== "N" && type !== "v") {
        throw new Error(`unexpected message '${type}' before authentication`);
      }
    }
  } catch (error) {
    return brokenOff(base, error);
  } finally {
    wire.close();
  }
}

/**
 * An ErrorResponse. Before authentication, class 28 refuses. After AuthenticationOk (trust), a missing database still
 * means the user was let in; a missing role means the address is trusted but this name cannot say more.
 */
function errorAttempt(
  base: Pick<AuthAttempt, "kind" | "user" | "attempt">,
  error: Record<string, string>,
  authenticated: boolean,
): AuthAttempt {
  const code = error.C ?? "";
  const answer = short(
    `${authenticated ? "AuthenticationOk (trust), then " : ""}${error.S ?? "ERROR"} ${code}: ${error.M ?? ""}`,
  );
  if (authenticated) {
    if (code === "3D000") return { ...base, outcome: "accepted", answer, code };
    return { ...base, outcome: "inconclusive", answer, code };
  }
  // PgBouncer refuses a user it does not know with 08P01 "no such user" (auth_type trust still needs the user listed).
  if (code.startsWith("28") || /no such user|password authentication failed/i.test(error.M ?? "")) {
    return { ...base, outcome: "refused", answer, code };
  }
  return { ...base, outcome: "inconclusive", answer, code };
}

async function wrongPasswordAttempt(
  options: PostgresAuthOptions,
  user: string,
  tls: boolean,
  timeoutMs: number,
): Promise<AuthAttempt> {
  const client = makeClient(options, user, wrongPassword(), tls, timeoutMs);
  const base = {
    kind: "wrongPassword" as const,
    user,
    attempt: `login as ${user} with a random wrong password`,
  };
  try {
    await client.connect();
    return { ...base, outcome: "accepted", answer: "connected with a wrong password" };
  } catch (error) {
    const e = error as { message?: string; code?: string };
    const code = e.code ?? "";
    const refused =
      code.startsWith("28") || /password authentication failed|no such user/i.test(e.message ?? "");
    return {
      ...base,
      outcome: refused ? "refused" : "inconclusive",
      answer: short(e.message ?? String(error)),
      ...(code ? { code } : {}),
    };
  } finally {
    await client.end().catch(() => {});
  }
}

/** Let in without a password: which pg_hba.conf rules say `trust`, when the user may read them. */
async function learnTrust(
  options: PostgresAuthOptions,
  user: string,
  tls: boolean,
  timeoutMs: number,
  result: AuthProbeResult,
): Promise<void> {
  const client = makeClient(options, user, undefined, tls, timeoutMs);
  try {
    await client.connect();
    const who = await client.query(
      "SELECT current_user AS user, version() AS version, inet_client_addr()::text AS client, inet_server_addr()::text AS server",
    );
    const row = who.rows[0] ?? {};
    result.details.connectedAs = String(row.user ?? user);
    result.details.version = String(row.version ?? "")
      .split(" ")
      .slice(0, 2)
      .join(" ");
    result.details.clientAddress = String(row.client ?? "local socket");
    if (options.pooler) return;
    try {
      const rules = await client.query(
        "SELECT line_number, type, array_to_string(database, ',') AS database, array_to_string(user_name, ',') AS users, address, netmask FROM pg_hba_file_rules WHERE auth_method = 'trust' AND error IS NULL ORDER BY line_number",
      );
      const listed = rules.rows.map(
        (r) =>
          `line ${r.line_number}: ${r.type} ${r.database} ${r.users}${r.address ? ` ${r.address}${r.netmask ? `/${maskBits(String(r.netmask))}` : ""}` : ""} trust`,
      );
      result.details.trustRules =
        listed.length === 0
          ? "none listed"
          : `${listed.slice(0, 6).join("; ")}${listed.length > 6 ? `; and ${listed.length - 6} more` : ""}`;
    } catch (error) {
      result.details.trustRules = `pg_hba_file_rules not readable by ${user}: ${short((error as Error).message)}`;
    }
  } catch (error) {
    result.details.connectedAs = `could not connect again to read the rules: ${short((error as Error).message)}`;
  } finally {
    await client.end().catch(() => {});
  }
}

function makeClient(
  options: PostgresAuthOptions,
  user: string,
  password: string | undefined,
  tls: boolean,
  timeoutMs: number,
): pg.Client {
  const { target } = options;
  const client = new pg.Client({
    host: target.socketPath ? socketDir(target.socketPath) : target.host,
    port: target.port,
    user,
    database: options.database,
    // pg asks for a password only when the server does; an empty string would be sent as the password itself.
    ...(password !== undefined ? { password } : {}),
    // gauntlet-ignore: tls-verification-disabled only empty or random wrong passwords are sent; tlsModern judges the certificate
    ssl: tls ? { rejectUnauthorized: false } : false,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    application_name: "gauntlet-auth-probe",
  });
  client.on("error", () => {});
  return client;
}

/** 255.255.255.0 → 24, ffff:ffff:: → 32: the prefix length pg_hba.conf was most likely written with. */
function maskBits(netmask: string): string {
  const bytes = netmask.includes(":")
    ? netmask
        .split(":")
        .filter(Boolean)
        .map((group) => Number.parseInt(group, 16).toString(2).padStart(16, "0"))
    : netmask.split(".").map((part) => Number(part).toString(2).padStart(8, "0"));
  const bits = bytes.join("");
  return /^1*0*$/.test(bits) ? String(bits.indexOf("0") < 0 ? bits.length : bits.indexOf("0")) : netmask;
}

/** libpq's socket file is <dir>/.s.PGSQL.<port>; pg wants the folder. */
function socketDir(socketPath: string): string {
  return socketPath.replace(/\/\.s\.PGSQL\.\d+$/, "");
}

function startupMessage(user: string, database: string): Buffer {
  const params = Buffer.from(
    `user\0${user}\0database\0${database}\0application_name\0gauntlet-auth-probe\0\0`,
    "utf8",
  );
  const head = int32s(8 + params.length, 196608);
  return Buffer.concat([head, params]);
}

function int32s(...values: number[]): Buffer {
  const buffer = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => {
    buffer.writeInt32BE(v, i * 4);
  });
  return buffer;
}

function fields(body: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let at = 0;
  while (at < body.length && body[at] !== 0) {
    const key = String.fromCharCode(body[at]!);
    const end = body.indexOf(0, at + 1);
    if (end < 0) break;
    out[key] = body.subarray(at + 1, end).toString("utf8");
    at = end + 1;
  }
  return out;
}
