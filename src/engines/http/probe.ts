// One HTTP request, measured: status, latency to the response head, headers and the first bytes of the body, or a
// classified failure. Redirects are never followed (a health endpoint that redirects is itself the finding), and every
// probe uses a fresh connection so a pooled socket cannot hide a refused or slow connect.
import http from "node:http";
import https from "node:https";
import { performance } from "node:perf_hooks";

export type ProbeErrorKind = "refused" | "timeout" | "reset" | "dns" | "tls" | "other";

export interface ProbeRequest {
  url: string;
  method?: string;
  /** Whole-exchange limit: connect, request, response head and body excerpt. */
  timeoutMs: number;
  headers?: Record<string, string>;
  /** Aborting destroys the request; probeHttp then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Bytes of body kept; default 2 KB. */
  maxBodyBytes?: number;
  /**
   * The request target sent as written instead of the URL's path and query, which URL parsing normalises
   * (`/%2e/admin` becomes `/admin`): for probing how a server treats such paths.
   */
  rawPath?: string;
  /** PEM of the CA that signs an https server's certificate, when it is not one Node trusts. */
  ca?: string;
  /** TLS server name (SNI and certificate check) when it differs from the URL's host. */
  servername?: string;
}

export interface ProbeResponse {
  ok: true;
  url: string;
  method: string;
  status: number;
  statusText: string;
  /** Milliseconds from sending the request to receiving the response head. */
  latencyMs: number;
  /** Milliseconds until the body excerpt was read (or the body ended). */
  totalMs: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: string;
  bodyTruncated: boolean;
  /** Each Set-Cookie header as sent (they cannot be joined with ", " like the others); absent when there is none. */
  setCookies?: string[];
}

export interface ProbeFailure {
  ok: false;
  url: string;
  method: string;
  error: { kind: ProbeErrorKind; code?: string; message: string };
  /** Milliseconds until the failure was observed. */
  elapsedMs: number;
}

export type ProbeResult = ProbeResponse | ProbeFailure;

export const DEFAULT_MAX_BODY_BYTES = 2048;

const TLS_CODES = new Set([
  "EPROTO",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "HOSTNAME_MISMATCH",
]);

/** Classifies a Node socket/HTTP/TLS error code into the few kinds a check reasons about. */
export function classifyNetworkError(code: string | undefined): ProbeErrorKind {
  if (!code) return "other";
  if (code === "ECONNREFUSED") return "refused";
  if (code === "ETIMEDOUT" || code === "ESOCKETTIMEDOUT") return "timeout";
  if (code === "ECONNRESET" || code === "EPIPE" || code === "ECONNABORTED") return "reset";
  if (code === "ENOTFOUND" || code.startsWith("EAI_")) return "dns";
  if (TLS_CODES.has(code) || /^ERR_(SSL|TLS)_/.test(code) || /CERT/.test(code)) return "tls";
  return "other";
}

/** Sends one request. Resolves with a response or a classified failure; rejects only when options.signal aborts. */
export function probeHttp(request: ProbeRequest): Promise<ProbeResult> {
  const method = (request.method ?? "GET").toUpperCase();
  const { signal } = request;
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  let target: URL;
  try {
    target = new URL(request.url);
  } catch {
    return Promise.resolve(failure(request.url, method, "other", "ERR_INVALID_URL", "not a valid URL", 0));
  }
  if (target.protocol !== "http:" && target.protocol !== "https:") {
    const message = `unsupported scheme ${target.protocol} (http: or https: only)`;
    return Promise.resolve(failure(request.url, method, "other", "ERR_UNSUPPORTED_SCHEME", message, 0));
  }
  const maxBody = request.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const transport = target.protocol === "https:" ? https : http;
  const started = performance.now();

  const elapsed = () => performance.now() - started;

  return new Promise<ProbeResult>((resolve, reject) => {
    let settled = false;
    let aborted = false;
    let timedOut = false;
    const settle = (result: ProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      req.destroy();
      if (aborted && signal) reject(abortReason(signal));
      else resolve(result);
    };

    const req = transport.request(target, {
      method,
      agent: false,
      headers: { "user-agent": "gauntlet-probe", connection: "close", ...request.headers },
      ...(request.rawPath !== undefined ? { path: request.rawPath } : {}),
      ...(request.ca !== undefined ? { ca: request.ca } : {}),
      ...(request.servername !== undefined ? { servername: request.servername } : {}),
    });
    const timer = setTimeout(() => {
      timedOut = true;
      settle(
        failure(
          request.url,
          method,
          "timeout",
          "ETIMEDOUT",
          `no complete answer within ${request.timeoutMs} ms`,
          elapsed(),
        ),
      );
    }, request.timeoutMs);
    const onAbort = () => {
      aborted = true;
      settle(failure(request.url, method, "other", "ABORT_ERR", "aborted", elapsed()));
    };
    signal?.addEventListener("abort", onAbort, { once: true });

    req.on("error", (error: NodeJS.ErrnoException) => {
      if (timedOut || aborted) return;
      const code = error.code;
      settle(failure(request.url, method, classifyNetworkError(code), code, error.message, elapsed()));
    });
    req.on("response", (res) => {
      const latencyMs = elapsed();
      const chunks: Buffer[] = [];
      let kept = 0;
      let truncated = false;
      const done = () =>
        settle({
          ok: true,
          url: request.url,
          method,
          status: res.statusCode ?? 0,
          statusText: res.statusMessage ?? "",
          latencyMs,
          totalMs: elapsed(),
          headers: flattenHeaders(res.headers),
          body: Buffer.concat(chunks).toString("utf8"),
          bodyTruncated: truncated,
          ...(res.headers["set-cookie"]?.length ? { setCookies: [...res.headers["set-cookie"]] } : {}),
        });
      res.on("data", (chunk: Buffer) => {
        const room = maxBody - kept;
        if (chunk.length > room) {
          truncated = true;
          if (room > 0) chunks.push(chunk.subarray(0, room));
          kept = maxBody;
          done(); // the excerpt is full: stop reading rather than download a large body
          return;
        }
        chunks.push(chunk);
        kept += chunk.length;
      });
      res.on("end", done);
      // A connection cut mid-body still produced a response; report what arrived.
      res.on("error", done);
      res.on("close", done);
    });
    req.end();
  });
}

function failure(
  url: string,
  method: string,
  kind: ProbeErrorKind,
  code: string | undefined,
  message: string,
  elapsedMs: number,
): ProbeFailure {
  const error: ProbeFailure["error"] = { kind, message };
  if (code) error.code = code;
  return { ok: false, url, method, error, elapsedMs };
}

function flattenHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    flat[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  return flat;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("The operation was aborted.", "AbortError");
}
