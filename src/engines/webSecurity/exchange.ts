// One probe request to a web service, kept as a JSON-serialisable record with no secret in it: status, the few
// headers an access decision shows (WWW-Authenticate, Location, Content-Type), and a summary of the page — a digest to
// compare pages by, its title, whether it is a login form, and for an answer that served content a short excerpt whose
// KEY=VALUE and "key": "value" values are masked.
import { createHash } from "node:crypto";
import { type ProbeErrorKind, type ProbeResult, probeHttp } from "../http/probe.js";

export type Credentials = "none" | "wrongBearer" | "wrongBasic";

export interface PageSummary {
  /** sha256 of the body excerpt read (first bytes), 16 hex digits: equal digests = the same page. */
  digest: string;
  /** Bytes of body read (at most the excerpt limit). */
  bytes: number;
  /** The body was longer than what was read. */
  truncated: boolean;
  title?: string;
  /** The page holds a password input: a login form. */
  loginForm: boolean;
  /** A short excerpt, masked, for answers that served content (2xx). */
  excerpt?: string;
}

export interface Exchange {
  method: string;
  /** The request target sent (path and query, as written: `/%2e/admin` is not normalised). */
  target: string;
  credentials: Credentials;
  status?: number;
  latencyMs?: number;
  headers?: Partial<Record<(typeof KEPT_HEADERS)[number], string>>;
  page?: PageSummary;
  error?: { kind: ProbeErrorKind; code?: string; message: string };
}

const KEPT_HEADERS = ["www-authenticate", "location", "content-type", "content-length"] as const;
const EXCERPT_CHARS = 160;

export interface ExchangeRequest {
  /** Origin and path prefix of the service (no credentials). */
  url: string;
  /** Request target sent as written. */
  target: string;
  method?: string;
  credentials?: Credentials;
  /** Authorization header value for the credentials. */
  authorization?: string;
  /** Other request headers (e.g. a performance request's own). */
  headers?: Record<string, string>;
  timeoutMs: number;
  maxBodyBytes: number;
  signal?: AbortSignal;
  ca?: string;
  servername?: string;
}

export async function sendExchange(
  request: ExchangeRequest,
): Promise<{ exchange: Exchange; result: ProbeResult }> {
  const method = (request.method ?? "GET").toUpperCase();
  const result = await probeHttp({
    url: request.url,
    rawPath: request.target,
    method,
    timeoutMs: request.timeoutMs,
    maxBodyBytes: request.maxBodyBytes,
    headers: {
      ...request.headers,
      ...(request.authorization ? { authorization: request.authorization } : {}),
    },
    ...(request.signal ? { signal: request.signal } : {}),
    ...(request.ca ? { ca: request.ca } : {}),
    ...(request.servername ? { servername: request.servername } : {}),
  });
  const exchange: Exchange = {
    method,
    target: request.target,
    credentials: request.credentials ?? "none",
  };
  if (!result.ok) {
    exchange.error = result.error;
    return { exchange, result };
  }
  exchange.status = result.status;
  exchange.latencyMs = Math.round(result.latencyMs * 10) / 10;
  const headers: Exchange["headers"] = {};
  for (const name of KEPT_HEADERS) {
    const value = result.headers[name];
    if (value !== undefined) headers[name] = value.slice(0, 512);
  }
  exchange.headers = headers;
  if (method !== "HEAD") exchange.page = summarisePage(result.body, result.bodyTruncated, result.status);
  return { exchange, result };
}

export function summarisePage(body: string, truncated: boolean, status: number): PageSummary {
  const page: PageSummary = {
    digest: createHash("sha256").update(body).digest("hex").slice(0, 16),
    bytes: Buffer.byteLength(body),
    truncated,
    loginForm: /<input\b[^>]*\btype\s*=\s*["']?password\b/i.test(body),
  };
  const title = /<title[^>]*>([^<]{0,200})<\/title>/i.exec(body)?.[1]?.trim();
  if (title) page.title = title.replace(/\s+/g, " ").slice(0, 120);
  if (status >= 200 && status < 300 && body.length > 0) page.excerpt = maskedExcerpt(body);
  return page;
}

/** The first characters of a body, whitespace collapsed, with the values of assignments masked. */
export function maskedExcerpt(body: string, chars = EXCERPT_CHARS): string {
  const text = maskAssignments(body.replace(/[^\S\n]+/g, " "))
    .replace(/\s+/g, " ")
    .trim();
  return text.length > chars ? `${text.slice(0, chars)}…` : text;
}

/** `KEY=value`, `key: value`, `"key": "value"` with the value replaced by … (its length kept in words). */
export function maskAssignments(text: string): string {
  return text
    .replace(/("[^"\n]{1,100}"\s*:\s*)"(?:[^"\\\n]|\\.)*"/g, '$1"…"')
    .replace(/^(\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_.-]*\s*[=:]\s*)(\S.*)$/gm, "$1…");
}

/** Same page: same status and digest, or — for pages that embed a per-request token — same title and length ±2 %. */
export function samePage(a: Exchange, b: Exchange): boolean {
  if (a.status === undefined || a.status !== b.status || !a.page || !b.page) return false;
  if (a.page.digest === b.page.digest) return true;
  if (!a.page.title || a.page.title !== b.page.title) return false;
  const longer = Math.max(a.page.bytes, b.page.bytes);
  return longer > 0 && Math.abs(a.page.bytes - b.page.bytes) / longer <= 0.02;
}
