// Prometheus HTTP API v1 client: the few endpoints Gauntlet's checks read. Every call is bounded in time and honours
// the caller's abort signal; responses keep Prometheus' own field names so evidence files match its documentation.
import { ApiError, apiRequest, apiUrl } from "./apiRequest.js";

export interface PrometheusTarget {
  discoveredLabels: Record<string, string>;
  labels: Record<string, string>;
  scrapePool: string;
  scrapeUrl: string;
  globalUrl?: string;
  lastError: string;
  lastScrape: string;
  lastScrapeDuration: number;
  health: "up" | "down" | "unknown";
  scrapeInterval?: string;
  scrapeTimeout?: string;
}

export interface PrometheusRule {
  type: "alerting" | "recording";
  name: string;
  query: string;
  duration?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  health: "ok" | "err" | "unknown";
  lastError?: string;
  state?: "inactive" | "pending" | "firing";
  lastEvaluation?: string;
}

export interface PrometheusRuleGroup {
  name: string;
  file: string;
  interval: number;
  rules: PrometheusRule[];
}

export interface PrometheusAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: string;
  activeAt?: string;
  value: string;
}

export type VectorSample = { metric: Record<string, string>; value: [number, string] };
export type MatrixSeries = { metric: Record<string, string>; values: [number, string][] };
export type QueryData =
  | { resultType: "vector"; result: VectorSample[] }
  | { resultType: "matrix"; result: MatrixSeries[] }
  | { resultType: "scalar" | "string"; result: [number, string] };

interface Envelope<T> {
  status: "success" | "error";
  data: T;
  errorType?: string;
  error?: string;
  warnings?: string[];
}

export interface PrometheusClientOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

export class PrometheusClient {
  readonly baseUrl: string;
  readonly #timeoutMs: number;
  readonly #signal: AbortSignal | undefined;

  constructor(baseUrl: string, options: PrometheusClientOptions = {}) {
    this.baseUrl = baseUrl;
    this.#timeoutMs = options.timeoutMs ?? 5_000;
    this.#signal = options.signal;
  }

  /** Resolves when /-/ready answers 200 (Prometheus has loaded its TSDB and config). */
  async ready(): Promise<void> {
    const url = apiUrl(this.baseUrl, "/-/ready");
    const options: RequestInit = { signal: this.#requestSignal() };
    try {
      const res = await fetch(url, options);
      await res.text();
      if (!res.ok) throw new ApiError("http", `${url} answered ${res.status}`, res.status);
    } catch (error) {
      if (error instanceof ApiError) throw error;
      this.#signal?.throwIfAborted();
      throw new ApiError("unreachable", `cannot reach ${url}: ${describe(error)}`);
    }
  }

  query(expr: string, time?: Date): Promise<QueryData> {
    const params: Record<string, string> = { query: expr };
    if (time) params.time = String(time.getTime() / 1000);
    return this.#get<QueryData>("/api/v1/query", params);
  }

  queryRange(expr: string, start: Date, end: Date, stepSeconds: number): Promise<QueryData> {
    return this.#get<QueryData>("/api/v1/query_range", {
      query: expr,
      start: String(start.getTime() / 1000),
      end: String(end.getTime() / 1000),
      step: String(stepSeconds),
    });
  }

  async targets(): Promise<PrometheusTarget[]> {
    const data = await this.#get<{ activeTargets: PrometheusTarget[] }>("/api/v1/targets", {
      state: "active",
    });
    return data.activeTargets ?? [];
  }

  async rules(): Promise<PrometheusRuleGroup[]> {
    const data = await this.#get<{ groups: PrometheusRuleGroup[] }>("/api/v1/rules");
    return data.groups ?? [];
  }

  async alerts(): Promise<PrometheusAlert[]> {
    const data = await this.#get<{ alerts: PrometheusAlert[] }>("/api/v1/alerts");
    return data.alerts ?? [];
  }

  /** The loaded configuration, as YAML text. */
  async config(): Promise<string> {
    const data = await this.#get<{ yaml: string }>("/api/v1/status/config");
    return data.yaml;
  }

  async #get<T>(path: string, params?: Record<string, string>): Promise<T> {
    const options = { timeoutMs: this.#timeoutMs, ...(this.#signal ? { signal: this.#signal } : {}) };
    const envelope = await apiRequest<Envelope<T>>(apiUrl(this.baseUrl, path, params), options).catch(
      (error) => {
        // Prometheus answers 400/422 with a JSON envelope; surface its error text rather than the raw body.
        if (error instanceof ApiError && error.kind === "http") {
          const match = /"error":"((?:[^"\\]|\\.)*)"/.exec(error.message);
          if (match) throw new ApiError("http", `Prometheus: ${JSON.parse(`"${match[1]}"`)}`, error.status);
        }
        throw error;
      },
    );
    if (envelope?.status !== "success") {
      throw new ApiError(
        "invalid",
        `Prometheus ${path}: ${envelope?.error ?? "no success status in the answer"}`,
      );
    }
    return envelope.data;
  }

  #requestSignal(): AbortSignal {
    const limit = AbortSignal.timeout(this.#timeoutMs);
    return this.#signal ? AbortSignal.any([this.#signal, limit]) : limit;
  }
}

/** Seconds of a Prometheus duration string such as 1m30s or 15s; undefined when it does not parse. */
export function parsePromDuration(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const match = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/.exec(text);
  if (!match || text === "") return text === "0" ? 0 : undefined;
  const [y, w, d, h, m, s, ms] = match.slice(1).map((v) => Number(v ?? 0)) as number[];
  return y! * 31_536_000 + w! * 604_800 + d! * 86_400 + h! * 3_600 + m! * 60 + s! + ms! / 1000;
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string } }).cause;
  return cause?.code ?? (error instanceof Error ? error.message : String(error));
}
