// One JSON request to a monitoring API (Prometheus, Alertmanager) with a time limit and the run's abort signal. Network
// failures become an ApiError of kind "unreachable" so a check can say UNVERIFIED rather than FAIL.
import { classifyNetworkError } from "../http/probe.js";

export type ApiErrorKind = "unreachable" | "http" | "invalid";

export class ApiError extends Error {
  readonly kind: ApiErrorKind;
  readonly status?: number;
  constructor(kind: ApiErrorKind, message: string, status?: number) {
    super(message);
    this.name = "ApiError";
    this.kind = kind;
    if (status !== undefined) this.status = status;
  }
}

export interface ApiRequestOptions {
  method?: "GET" | "POST";
  body?: unknown;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Sends the request and parses JSON. Throws ApiError, or the signal's reason when the caller aborts. */
export async function apiRequest<T>(url: string, options: ApiRequestOptions): Promise<T> {
  options.signal?.throwIfAborted();
  const limit = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, limit]) : limit;
  let response: Response;
  try {
    const init: RequestInit = {
      method: options.method ?? "GET",
      signal,
      headers: { accept: "application/json" },
    };
    if (options.body !== undefined) {
      init.body = JSON.stringify(options.body);
      init.headers = { accept: "application/json", "content-type": "application/json" };
    }
    response = await fetch(url, init);
  } catch (error) {
    options.signal?.throwIfAborted();
    if (limit.aborted)
      throw new ApiError("unreachable", `no answer from ${url} within ${options.timeoutMs} ms`);
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const kind = classifyNetworkError(cause?.code);
    const reason =
      kind === "refused" ? "connection refused" : (cause?.code ?? cause?.message ?? String(error));
    throw new ApiError("unreachable", `cannot reach ${url}: ${reason}`);
  }
  const text = await response.text().catch(() => "");
  if (!response.ok) {
    throw new ApiError(
      "http",
      `${url} answered ${response.status}: ${text.slice(0, 300).trim()}`,
      response.status,
    );
  }
  if (text.trim() === "") return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError("invalid", `${url} did not answer JSON: ${text.slice(0, 120)}`);
  }
}

/** Joins an API path to a base URL that may carry a path prefix (e.g. http://host/prometheus). */
export function apiUrl(base: string, path: string, query?: Record<string, string>): string {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, "")}${path}`;
  url.search = query ? new URLSearchParams(query).toString() : "";
  return url.href;
}

/** Waits ms, or rejects with the signal's reason as soon as it aborts. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
