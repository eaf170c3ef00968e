// Who may drive a fault proxy's control API. A toxic is a real fault in a real system, so a request must be addressed
// to the API by its own address (a foreign Host is a DNS-rebound web page), must not come from a browser (an Origin or
// Sec-Fetch-Site header: a cross-site form or fetch), must carry the run's token, and a body must be declared JSON
// (a text/plain body is what a page can send without a CORS preflight).
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type http from "node:http";
import net from "node:net";

export interface Refusal {
  status: number;
  error: string;
  headers?: Record<string, string>;
}

/** Shorter tokens can be guessed by a page that may try as often as it likes. */
export const MIN_TOKEN_LENGTH = 16;

/** A fresh token: 32 random bytes, base64url (43 characters). */
export function newControlToken(): string {
  return randomBytes(32).toString("base64url");
}

/** Why `token` cannot be a control API token, or null when it can. */
export function tokenProblem(token: string): string | null {
  if (!/^[\x21-\x7e]+$/.test(token)) return "a proxy token is printable ASCII without spaces";
  if (token.length < MIN_TOKEN_LENGTH) {
    return `a proxy token needs at least ${MIN_TOKEN_LENGTH} characters (leave it out and one is generated)`;
  }
  return null;
}

const LOOPBACK = ["127.0.0.1", "::1", "localhost"];
const WILDCARD = ["0.0.0.0", "::"];
/** `name` or `name:port`, the name a DNS name or an IPv4 literal, or a bracketed IPv6 literal: nothing else. */
const HOST_HEADER = /^(?:\[([0-9a-f:.]+)\]|([a-z0-9.-]+))(?::(\d{1,5}))?$/i;

/**
 * Which Host headers name this API: its bound address with its port; the loopback names when bound to loopback; any IP
 * literal when bound to every interface (a rebound page always sends a DNS name); plus the names in `aliases`.
 */
export function hostMatcher(
  bound: { host: string; port: number },
  aliases: readonly string[] = [],
): (header: string | undefined) => boolean {
  const bare = (name: string) => name.toLowerCase().replace(/^\[|\]$/g, "");
  const wildcard = WILDCARD.includes(bound.host);
  const names = new Set([bound.host, ...aliases].map(bare));
  if (wildcard || LOOPBACK.includes(bound.host)) for (const name of LOOPBACK) names.add(name);
  return (header) => {
    const match = HOST_HEADER.exec(header ?? "");
    if (!match) return false;
    const name = bare(match[1] ?? match[2]!);
    if ((match[3] === undefined ? 80 : Number(match[3])) !== bound.port) return false;
    return names.has(name) || (wildcard && net.isIP(name) !== 0);
  };
}

/** Host and browser rules, for every request: nothing of the API answers a rebound or cross-site page. */
export function refuseForeign(
  req: http.IncomingMessage,
  ownHost: (header: string | undefined) => boolean,
): Refusal | null {
  if (!ownHost(req.headers.host)) {
    return {
      status: 421,
      error: `Host ${JSON.stringify(req.headers.host ?? "")} is not this control API's address: address it by the host:port it listens on (or start it with --allow-host)`,
    };
  }
  const site = req.headers["sec-fetch-site"];
  if (req.headers.origin !== undefined || (site !== undefined && site !== "none")) {
    return { status: 403, error: "requests from web pages are refused: the control API is for tools" };
  }
  return null;
}

/** The token rule: `Authorization: Bearer <token>`, compared in constant time. */
export function refuseWithoutToken(req: http.IncomingMessage, token: string): Refusal | null {
  const match = /^Bearer +(\S+) *$/i.exec(req.headers.authorization ?? "");
  if (match && sameToken(match[1]!, token)) return null;
  return {
    status: 401,
    error: match
      ? "the token is not this proxy's"
      : "send Authorization: Bearer <token> (the token `gauntlet proxy` printed, wrote to --token-file or was given)",
    headers: { "www-authenticate": 'Bearer realm="gauntlet proxy"' },
  };
}

/** A body must be declared application/json. */
export function refuseNonJson(req: http.IncomingMessage): Refusal | null {
  const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (type === "application/json") return null;
  return {
    status: 415,
    error: `send the body as application/json, not ${type ? JSON.stringify(type) : "without a content-type"}`,
  };
}

// Digests first: timingSafeEqual needs equal lengths, and comparing digests leaks neither the token nor its length.
function sameToken(given: string, token: string): boolean {
  const digest = (text: string) => createHash("sha256").update(text).digest();
  return timingSafeEqual(digest(given), digest(token));
}
