// Sends one request of the rollout's mix and measures it: latency to the end of the body, whether it succeeded (2xx),
// and the response headers (a canary is recognised by one). Used by the sampler and the rollback confirmation, which
// need each answer on its own; the load engine keeps only histograms.
import http from "node:http";
import https from "node:https";
import { performance } from "node:perf_hooks";
import type { SecretSink } from "../../secrets/redactor.js";
import { classifyNetworkError } from "../http/probe.js";
import { expandEnv, type LoadRequest, weightedOrder } from "../load/requests.js";

export interface SentRequest {
  /** ms from sending to the end of the body; undefined when nothing was answered. */
  latencyMs?: number;
  status?: number;
  ok: boolean;
  /** refused, reset, timeout, dns, tls, other: why nothing was answered. */
  error?: string;
  headers?: http.IncomingHttpHeaders;
}

interface PreparedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  weight: number;
}

export interface RequestSender {
  /** Sends the next request of the mix (smooth weighted round robin). */
  send(): Promise<SentRequest>;
  close(): void;
}

export function requestSender(
  baseUrl: string,
  requests: LoadRequest[],
  options: { env: NodeJS.ProcessEnv; secrets: SecretSink; timeoutMs: number; keepAlive: boolean },
): RequestSender {
  options.secrets.addFromUrl(baseUrl);
  const base = new URL(baseUrl);
  const transport = base.protocol === "https:" ? https : http;
  const agent = new transport.Agent({ keepAlive: options.keepAlive, maxSockets: 256 });
  const prefix = base.pathname.replace(/\/+$/, "");
  const prepared: PreparedRequest[] = requests.map((r) => {
    const headers: Record<string, string> = { "user-agent": "gauntlet-rollout" };
    for (const [name, value] of Object.entries(r.headers ?? {})) {
      headers[name] = expandEnv(value, options.env, `header ${name}`, options.secrets);
    }
    let body: Buffer | undefined;
    if (r.json !== undefined) {
      body = Buffer.from(JSON.stringify(r.json));
      headers["content-type"] = "application/json";
    } else if (r.body !== undefined) body = Buffer.from(r.body);
    return {
      method: (r.method ?? "GET").toUpperCase(),
      path: `${prefix}${r.path.startsWith("/") ? r.path : `/${r.path}`}${base.search}`,
      headers,
      ...(body ? { body } : {}),
      weight: r.weight ?? 1,
    };
  });
  // The load engine's order (smooth weighted round robin), so sampled and loaded mixes agree.
  const order = weightedOrder(prepared.map((r) => r.weight));
  let turn = 0;
  const next = (): PreparedRequest => prepared[order[turn++ % order.length]!]!;
  const auth = base.username
    ? `${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`
    : undefined;
  return {
    send: () => {
      const r = next();
      return new Promise<SentRequest>((resolve) => {
        const started = performance.now();
        let settled = false;
        const done = (result: SentRequest) => {
          if (settled) return;
          settled = true;
          resolve(result);
        };
        const req = transport.request(
          {
            protocol: base.protocol,
            hostname: base.hostname.replace(/^\[|\]$/g, ""),
            port: base.port || undefined,
            method: r.method,
            path: r.path,
            headers: { ...r.headers, ...(r.body ? { "content-length": String(r.body.length) } : {}) },
            agent,
            ...(auth ? { auth } : {}),
            timeout: options.timeoutMs,
          },
          (res) => {
            res.resume();
            res.on("end", () =>
              done({
                latencyMs: performance.now() - started,
                status: res.statusCode ?? 0,
                ok: (res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300,
                headers: res.headers,
              }),
            );
            res.on("error", () => done({ ok: false, error: "reset" }));
          },
        );
        req.on("timeout", () => {
          req.destroy();
          done({ ok: false, error: "timeout" });
        });
        req.on("error", (error: NodeJS.ErrnoException) => {
          done({ ok: false, error: classifyNetworkError(error.code) });
        });
        req.end(r.body);
      });
    },
    close: () => agent.destroy(),
  };
}
