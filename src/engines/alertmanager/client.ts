// Alertmanager API v2 client: status (with the loaded configuration), alerts, silences and receivers.
import { apiRequest, apiUrl } from "../prometheus/apiRequest.js";

export interface AlertmanagerStatus {
  cluster?: { status?: string; peers?: unknown[] };
  config: { original: string };
  uptime?: string;
  versionInfo?: Record<string, string>;
}

export interface PostableAlert {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt?: string;
  endsAt?: string;
  generatorURL?: string;
}

export interface GettableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  fingerprint: string;
  receivers: { name: string }[];
  status: { state: "unprocessed" | "active" | "suppressed"; silencedBy: string[]; inhibitedBy: string[] };
}

export interface Silence {
  id: string;
  matchers: { name: string; value: string; isRegex: boolean; isEqual?: boolean }[];
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
  status: { state: "active" | "pending" | "expired" };
}

export interface AlertmanagerClientOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

export class AlertmanagerClient {
  readonly baseUrl: string;
  readonly #options: { timeoutMs: number; signal?: AbortSignal };

  constructor(baseUrl: string, options: AlertmanagerClientOptions = {}) {
    this.baseUrl = baseUrl;
    this.#options = {
      timeoutMs: options.timeoutMs ?? 5_000,
      ...(options.signal ? { signal: options.signal } : {}),
    };
  }

  status(): Promise<AlertmanagerStatus> {
    return apiRequest(apiUrl(this.baseUrl, "/api/v2/status"), this.#options);
  }

  /** Alerts, optionally filtered by matchers such as `alertname="X"`. */
  async alerts(filter: string[] = []): Promise<GettableAlert[]> {
    const url = new URL(apiUrl(this.baseUrl, "/api/v2/alerts"));
    for (const matcher of filter) url.searchParams.append("filter", matcher);
    return (await apiRequest<GettableAlert[]>(url.href, this.#options)) ?? [];
  }

  async postAlerts(alerts: PostableAlert[]): Promise<void> {
    await apiRequest(apiUrl(this.baseUrl, "/api/v2/alerts"), {
      ...this.#options,
      method: "POST",
      body: alerts,
    });
  }

  async silences(): Promise<Silence[]> {
    return (await apiRequest<Silence[]>(apiUrl(this.baseUrl, "/api/v2/silences"), this.#options)) ?? [];
  }

  async receivers(): Promise<{ name: string }[]> {
    return (
      (await apiRequest<{ name: string }[]>(apiUrl(this.baseUrl, "/api/v2/receivers"), this.#options)) ?? []
    );
  }
}
