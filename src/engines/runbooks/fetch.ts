// Reads a runbook link as an on-call engineer's browser would: a GET, redirects followed (at most 5), a short time
// limit, and the body kept when it is text a person reads (HTML, markdown, plain text). A redirect that ends on a
// login page means the runbook is behind a sign-in Gauntlet does not have, not that it is missing.
import { type ProbeErrorKind, probeHttp } from "../http/probe.js";

export const MAX_REDIRECTS = 5;
export const MAX_RUNBOOK_BYTES = 512 * 1024;

export type RunbookFetch =
  | {
      outcome: "ok";
      status: number;
      finalUrl: string;
      redirects: string[];
      contentType: string;
      /** "html" or "markdown" (markdown and plain text) when the body is text to judge; null otherwise. */
      format: "html" | "markdown" | null;
      body: string;
      truncated: boolean;
      elapsedMs: number;
    }
  /** The final answer is not 2xx, or a redirect could not be followed (no Location, a loop, too many). */
  | { outcome: "status"; status: number; finalUrl: string; redirects: string[]; why?: string }
  /** Sent to a sign-in page, or 401/403/407: the page exists for people who can sign in. */
  | { outcome: "login"; status: number; finalUrl: string; redirects: string[] }
  | { outcome: "network"; kind: ProbeErrorKind; code?: string; message: string; finalUrl: string };

export interface RunbookFetchOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  maxBytes?: number;
}

const LOGIN_PATH =
  /(?:^|[/._-])(?:login|log-in|signin|sign-in|sign_in|sso|oauth2?|saml|idp|auth(?:enticate|orize)?)(?:[/._?-]|$)/i;

export async function fetchRunbook(url: string, options: RunbookFetchOptions): Promise<RunbookFetch> {
  const redirects: string[] = [];
  const started = Date.now();
  let current = url;
  const seen = new Set<string>();
  for (;;) {
    seen.add(current);
    const left = Math.max(1, options.timeoutMs - (Date.now() - started));
    const result = await probeHttp({
      url: current,
      method: "GET",
      timeoutMs: left,
      maxBodyBytes: options.maxBytes ?? MAX_RUNBOOK_BYTES,
      headers: { accept: "text/markdown, text/html;q=0.9, text/plain;q=0.8, */*;q=0.1" },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (!result.ok) {
      return {
        outcome: "network",
        kind: result.error.kind,
        ...(result.error.code ? { code: result.error.code } : {}),
        message: result.error.message,
        finalUrl: current,
      };
    }
    const { status } = result;
    if (status >= 300 && status < 400) {
      const location = result.headers.location;
      if (!location)
        return {
          outcome: "status",
          status,
          finalUrl: current,
          redirects,
          why: "a redirect without Location",
        };
      let next: string;
      try {
        next = new URL(location, current).href;
      } catch {
        return {
          outcome: "status",
          status,
          finalUrl: current,
          redirects,
          why: `an invalid Location: ${location}`,
        };
      }
      if (seen.has(next))
        return { outcome: "status", status, finalUrl: next, redirects, why: "a redirect loop" };
      if (redirects.length >= MAX_REDIRECTS)
        return {
          outcome: "status",
          status,
          finalUrl: current,
          redirects,
          why: `more than ${MAX_REDIRECTS} redirects`,
        };
      redirects.push(next);
      current = next;
      continue;
    }
    if (status === 401 || status === 403 || status === 407)
      return { outcome: "login", status, finalUrl: current, redirects };
    if (status < 200 || status >= 300) return { outcome: "status", status, finalUrl: current, redirects };
    // Redirected off to a sign-in page: what answers is the login form, not the runbook.
    if (redirects.length > 0 && isLoginPage(url, current))
      return { outcome: "login", status, finalUrl: current, redirects };
    const contentType = (result.headers["content-type"] ?? "").toLowerCase();
    return {
      outcome: "ok",
      status,
      finalUrl: current,
      redirects,
      contentType,
      format: formatOf(contentType, current),
      body: result.body,
      truncated: result.bodyTruncated,
      elapsedMs: Date.now() - started,
    };
  }
}

function isLoginPage(original: string, final: string): boolean {
  try {
    const from = new URL(original);
    const to = new URL(final);
    return LOGIN_PATH.test(to.pathname) && !LOGIN_PATH.test(from.pathname);
  } catch {
    return false;
  }
}

function formatOf(contentType: string, url: string): "html" | "markdown" | null {
  const type = contentType.split(";")[0]!.trim();
  if (type === "text/html" || type === "application/xhtml+xml") return "html";
  if (type === "text/markdown" || type === "text/x-markdown" || type === "text/plain") return "markdown";
  // A server that names no type: go by the path.
  if (type === "" || type === "application/octet-stream") {
    if (/\.(?:md|markdown|txt|adoc|rst)$/i.test(new URL(url).pathname)) return "markdown";
    if (/\.html?$/i.test(new URL(url).pathname)) return "html";
  }
  return null;
}
