// What one unauthenticated (or wrongly authenticated) attempt on a datastore did, in the same terms for every
// protocol, so one judge can read them all. Passwords are never sent except random wrong ones made for the attempt.
import { randomBytes } from "node:crypto";
import { WireError } from "./wire.js";

/**
 * accepted: the store let the attempt in; refused: it asked for a password, rejected the credential or the user;
 * unreachable: no connection; inconclusive: an answer that says neither (a renamed command, a starting server).
 */
export type AttemptOutcome = "accepted" | "refused" | "unreachable" | "inconclusive";

export interface AuthAttempt {
  /** noCredentials: nothing sent but a user name; wrongPassword: a random password made for this attempt. */
  kind: "noCredentials" | "wrongPassword";
  /** The user name tried, when the protocol has one. */
  user?: string;
  /** What was sent, readable: "PING without AUTH", "startup as app, no password". */
  attempt: string;
  outcome: AttemptOutcome;
  /** What the server answered, short: "-NOAUTH Authentication required.", "AuthenticationSASL (SCRAM-SHA-256)". */
  answer: string;
  code?: string;
}

export interface AuthProbeResult {
  protocol: "redis" | "postgres" | "mysql" | "memcached";
  /** host:port, or the socket path. */
  address: string;
  transport: "tcp" | "tls" | "unix";
  attempts: AuthAttempt[];
  /** What the probe learnt on the way: server version, protected-mode, the auth method asked for, pg_hba rules. */
  details: Record<string, string>;
}

/** A password no server holds: 24 random characters, made afresh for each attempt. */
export function wrongPassword(): string {
  return `gauntlet-wrong-${randomBytes(12).toString("hex")}`;
}

/** The attempt for a connection that could not be made (refused, timed out, no socket file). */
export function connectFailure(
  kind: AuthAttempt["kind"],
  attempt: string,
  error: unknown,
  user?: string,
): AuthAttempt {
  const code = error instanceof WireError ? error.code : ((error as { code?: string })?.code ?? "ERROR");
  const message = (error as { message?: string })?.message ?? String(error);
  const unreachable = ["ECONNREFUSED", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOENT", "ENOTFOUND"];
  return {
    kind,
    ...(user !== undefined ? { user } : {}),
    attempt,
    outcome: unreachable.includes(code) ? "unreachable" : "inconclusive",
    answer: short(message),
    code,
  };
}

/** The attempt for a conversation that broke off after connecting: what went wrong says nothing either way. */
export function brokenOff(
  base: Pick<AuthAttempt, "kind" | "attempt"> & Partial<Pick<AuthAttempt, "user">>,
  error: unknown,
): AuthAttempt {
  const e = error as { message?: string; code?: string };
  return {
    ...base,
    outcome: "inconclusive",
    answer: short(e?.message ?? String(error)),
    ...(e?.code ? { code: e.code } : {}),
  };
}

/** One line of at most 200 characters, for evidence and messages. */
export function short(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > 200 ? `${line.slice(0, 197)}…` : line;
}
