// Requests are encoded once, before the run: the hot loop writes ready-made buffers and never formats a string.
// `${ENV}` in header values is expanded here and the value registered with the run's secrets, so it never reaches
// output.

import { UserError } from "../../errors.js";
import type { SecretSink } from "../../secrets/redactor.js";

export interface LoadRequest {
  method?: string;
  path: string;
  weight?: number;
  headers?: Record<string, string>;
  /** Sent as application/json. */
  json?: unknown;
  /** Sent as given. */
  body?: string;
}

export interface EncodedRequest {
  buffer: Buffer;
  method: string;
  /** HEAD responses carry headers but no body; the parser must know. */
  head: boolean;
  label: string;
}

/** A request mix: a weighted round-robin order of encoded requests, repeated by every connection. */
export interface RequestMix {
  requests: EncodedRequest[];
  /** Indexes into requests; a smooth weighted round robin, so weights hold over any short window. */
  order: number[];
}

export interface Endpoint {
  protocol: "http:" | "https:";
  host: string;
  port: number;
  /** Host header value. */
  hostHeader: string;
  basePath: string;
}

export function parseEndpoint(url: string, secrets: SecretSink): Endpoint {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UserError(`"${url}" is not a URL: write it as http://127.0.0.1:8080/path`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new UserError(`"${url}" uses ${parsed.protocol}; load is generated over http:// or https:// only`);
  }
  secrets.addFromUrl(url);
  const https = parsed.protocol === "https:";
  const host = parsed.hostname.replace(/^\[|\]$/g, "");
  return {
    protocol: parsed.protocol,
    host,
    port: parsed.port ? Number(parsed.port) : https ? 443 : 80,
    hostHeader: parsed.host,
    basePath: parsed.pathname.replace(/\/+$/, "") + parsed.search,
  };
}

/** Expands `${NAME}` and `${NAME:-default}` from env; an unset variable without default is a user error. */
export function expandEnv(text: string, env: NodeJS.ProcessEnv, where: string, secrets: SecretSink): string {
  return text.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g,
    (_, name: string, fallback?: string) => {
      const value = env[name] ?? fallback;
      if (value === undefined) {
        throw new UserError(
          `${where} uses \${${name}} but ${name} is not set: export it or write \${${name}:-default}`,
        );
      }
      secrets.add(value);
      return value;
    },
  );
}

export function encodeRequest(
  endpoint: Endpoint,
  request: LoadRequest,
  env: NodeJS.ProcessEnv,
  secrets: SecretSink,
): EncodedRequest {
  const method = (request.method ?? "GET").toUpperCase();
  const path = request.path.startsWith("/") ? request.path : `/${request.path}`;
  const target = joinPath(endpoint.basePath, path);
  const headers = new Map<string, [string, string]>();
  const set = (name: string, value: string) => headers.set(name.toLowerCase(), [name, value]);
  set("Host", endpoint.hostHeader);
  set("User-Agent", "gauntlet-load");
  let body: Buffer | null = null;
  if (request.json !== undefined) {
    body = Buffer.from(JSON.stringify(request.json));
    set("Content-Type", "application/json");
  } else if (request.body !== undefined) {
    body = Buffer.from(request.body);
  }
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) {
      throw new UserError(`header "${name}" contains a line break: write each header on its own`);
    }
    set(name, expandEnv(value, env, `header ${name}`, secrets));
  }
  if (body || method === "POST" || method === "PUT" || method === "PATCH") {
    set("Content-Length", String(body?.length ?? 0));
  }
  let head = `${method} ${target} HTTP/1.1\r\n`;
  for (const [name, value] of headers.values()) head += `${name}: ${value}\r\n`;
  head += "\r\n";
  const buffer = body ? Buffer.concat([Buffer.from(head, "latin1"), body]) : Buffer.from(head, "latin1");
  return { buffer, method, head: method === "HEAD", label: `${method} ${path}` };
}

function joinPath(base: string, path: string): string {
  if (!base || base === "/") return path;
  const [basePath, query] = base.split("?", 2) as [string, string | undefined];
  const joined = `${basePath}${path === "/" ? "" : path}` || "/";
  return query ? `${joined}${joined.includes("?") ? "&" : "?"}${query}` : joined;
}

export function buildMix(
  endpoint: Endpoint,
  requests: LoadRequest[],
  env: NodeJS.ProcessEnv,
  secrets: SecretSink,
): RequestMix {
  const list = requests.length > 0 ? requests : [{ path: "/" }];
  const encoded = list.map((r) => encodeRequest(endpoint, r, env, secrets));
  const weights = list.map((r) => {
    const w = r.weight ?? 1;
    if (!(w > 0)) throw new UserError(`request ${r.path} has weight ${w}: a weight must be above 0`);
    return w;
  });
  return { requests: encoded, order: weightedOrder(weights) };
}

/** Smooth weighted round robin (as in nginx) over up to 1000 slots: weights 3 and 1 give 0,0,1,0,… */
export function weightedOrder(weights: number[]): number[] {
  if (weights.length === 1) return [0];
  const total = weights.reduce((a, b) => a + b, 0);
  const min = Math.min(...weights);
  const slots = Math.min(1000, Math.max(weights.length, Math.round(total / min)));
  const current = weights.map(() => 0);
  const order: number[] = [];
  for (let s = 0; s < slots; s++) {
    let best = 0;
    for (let i = 0; i < weights.length; i++) {
      current[i]! += weights[i]!;
      if (current[i]! > current[best]!) best = i;
    }
    current[best]! -= total;
    order.push(best);
  }
  return order;
}
