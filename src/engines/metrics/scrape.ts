// One GET of a metrics endpoint the way Prometheus scrapes it (its Accept header, a size cap), classified: a body to
// parse, an address that is not an http(s) URL, a connection that failed, or an answer that is not a 200.
import { probeHttp } from "../http/probe.js";

const TIMEOUT_MS = 5_000;
export const MAX_SCRAPE_BYTES = 16 * 1024 * 1024;
const ACCEPT = "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.1";

export type ScrapeResult =
  | { outcome: "ok"; url: string; status: number; contentType?: string; latencyMs: number; body: string }
  | { outcome: "unusableUrl"; url: string; error: ScrapeError }
  | { outcome: "unreachable"; url: string; error: ScrapeError }
  | { outcome: "badStatus"; url: string; status: number; tooLarge: boolean };

interface ScrapeError {
  kind: string;
  code?: string;
  message: string;
}

/** The URL as it may be recorded: user and password removed (the request still sends them). */
export function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.username && !parsed.password) return url;
    parsed.username = "";
    parsed.password = "";
    return parsed.href;
  } catch {
    return url;
  }
}

/** Scrapes `url`; the result names the URL without its credentials. */
export async function scrapeMetrics(target: string, signal: AbortSignal): Promise<ScrapeResult> {
  const url = withoutCredentials(target);
  const result = await probeHttp({
    url: target,
    timeoutMs: TIMEOUT_MS,
    signal,
    maxBodyBytes: MAX_SCRAPE_BYTES,
    headers: { accept: ACCEPT },
  });
  if (!result.ok) {
    const unusable =
      result.error.code === "ERR_INVALID_URL" || result.error.code === "ERR_UNSUPPORTED_SCHEME";
    const error = {
      kind: result.error.kind,
      message: result.error.message,
      ...(result.error.code ? { code: result.error.code } : {}),
    };
    return unusable ? { outcome: "unusableUrl", url, error } : { outcome: "unreachable", url, error };
  }
  if (result.status < 200 || result.status > 299 || result.bodyTruncated) {
    return { outcome: "badStatus", url, status: result.status, tooLarge: result.bodyTruncated };
  }
  const contentType = result.headers["content-type"];
  return {
    outcome: "ok",
    url,
    status: result.status,
    ...(contentType ? { contentType } : {}),
    latencyMs: Math.round(result.latencyMs * 10) / 10,
    body: result.body,
  };
}

/** One line saying why a scrape gave no body, for findings and evidence. */
export function scrapeFailure(result: Exclude<ScrapeResult, { outcome: "ok" }>): string {
  if (result.outcome === "badStatus") {
    return result.tooLarge
      ? `GET ${result.url} is larger than ${MAX_SCRAPE_BYTES / 1024 / 1024} MiB`
      : `GET ${result.url} answered ${result.status}`;
  }
  return `GET ${result.url} failed: ${result.error.kind} (${result.error.code ?? result.error.message})`;
}
