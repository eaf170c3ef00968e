// Gauntlet's end of an alert delivery test: an HTTP listener on the loopback address and path that Alertmanager's
// webhook receiver posts to. It records every notification with its arrival time so delivery latency is measured here.
import http from "node:http";
import { performance } from "node:perf_hooks";

export interface WebhookNotification {
  receivedAt: number;
  /** performance.now() at arrival, for latency arithmetic. */
  receivedAtMono: number;
  path: string;
  payload: WebhookPayload;
}

export interface WebhookPayload {
  receiver?: string;
  status?: string;
  alerts?: { status: string; labels: Record<string, string>; startsAt?: string; endsAt?: string }[];
  groupLabels?: Record<string, string>;
  commonLabels?: Record<string, string>;
}

export interface WebhookReceiver {
  url: string;
  notifications: WebhookNotification[];
  /** Resolves with the first notification (already received or future) that satisfies accept, or null at the deadline. */
  waitFor(
    accept: (n: WebhookNotification) => boolean,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<WebhookNotification | null>;
  close(): Promise<void>;
}

/** Listens on the URL's host and port (loopback only) and accepts POSTs on its path. */
export async function startWebhookReceiver(url: string): Promise<WebhookReceiver> {
  const target = new URL(url);
  const host = target.hostname.replace(/^\[|\]$/g, "");
  if (!isLoopback(host))
    throw new Error(`refusing to listen on ${host}: the alert receiver must be on 127.0.0.1 or ::1`);
  const port = Number(target.port || (target.protocol === "https:" ? 443 : 80));
  const notifications: WebhookNotification[] = [];
  const waiters = new Set<() => void>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const receivedAtMono = performance.now();
      res.writeHead(200).end();
      if (req.method !== "POST") return;
      let payload: WebhookPayload;
      try {
        payload = JSON.parse(Buffer.concat(chunks).toString("utf8")) as WebhookPayload;
      } catch {
        return;
      }
      notifications.push({ receivedAt: Date.now(), receivedAtMono, path: req.url ?? "/", payload });
      for (const wake of waiters) wake();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    url,
    notifications,
    waitFor(accept, timeoutMs, signal) {
      return new Promise((resolve, reject) => {
        const found = () => notifications.find(accept);
        const done = (value: WebhookNotification | null) => {
          clearTimeout(timer);
          waiters.delete(check);
          signal?.removeEventListener("abort", onAbort);
          resolve(value);
        };
        const check = () => {
          const hit = found();
          if (hit) done(hit);
        };
        const onAbort = () => {
          clearTimeout(timer);
          waiters.delete(check);
          reject(signal?.reason ?? new Error("aborted"));
        };
        const timer = setTimeout(() => done(null), timeoutMs);
        signal?.addEventListener("abort", onAbort, { once: true });
        waiters.add(check);
        check();
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function isLoopback(host: string): boolean {
  return /^127\./.test(host) || host === "::1" || host === "localhost";
}

/** Same scheme, host, port and path (trailing slash ignored). */
export function sameEndpoint(a: string, b: string): boolean {
  try {
    const x = new URL(a);
    const y = new URL(b);
    const norm = (u: URL) =>
      `${u.protocol}//${u.hostname === "localhost" ? "127.0.0.1" : u.hostname}:${u.port || (u.protocol === "https:" ? "443" : "80")}${u.pathname.replace(/\/+$/, "")}`;
    return norm(x) === norm(y);
  } catch {
    return false;
  }
}
