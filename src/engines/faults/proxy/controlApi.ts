// A small HTTP API over one FaultProxy so other tools (and Gauntlet runs against a proxy started separately) can
// drive it. Every request passes controlAccess's rules first (own Host, no browser, the token, JSON bodies). Routes
// (JSON in and out):
//   GET    /health           {"status": "ok"}, the one route without the token: for supervisors and health checks
//   GET    /proxy            status: addresses, enabled, toxics, connection and byte counters
//   POST   /proxy            {"enabled": false|true}
//   GET    /toxics           list
//   POST   /toxics           add {name?, type, stream?, toxicity?, attributes}
//   GET    /toxics/:name     one toxic
//   DELETE /toxics/:name     remove one
//   DELETE /toxics           remove all (the reset a rollback uses)
import http from "node:http";
import {
  hostMatcher,
  newControlToken,
  type Refusal,
  refuseForeign,
  refuseNonJson,
  refuseWithoutToken,
  tokenProblem,
} from "./controlAccess.js";
import type { FaultProxy } from "./faultProxy.js";
import { ToxicError } from "./toxics.js";

const MAX_BODY = 64 * 1024;

export interface ControlApi {
  url: string;
  /** The bearer token every request but GET /health needs. */
  token: string;
  close(): Promise<void>;
}

export interface ControlApiOptions {
  /** The token to require; a fresh random one when omitted. */
  token?: string;
  /** More names the API may be addressed by (Host), e.g. a container's service name. */
  allowHosts?: string[];
}

/** A request the API refuses or cannot read, answered with its status instead of a 500. */
class Refused extends Error {
  readonly refusal: Refusal;
  constructor(refusal: Refusal) {
    super(refusal.error);
    this.refusal = refusal;
  }
}

export async function startControlApi(
  proxy: FaultProxy,
  host: string,
  port: number,
  options: ControlApiOptions = {},
): Promise<ControlApi> {
  const token = options.token ?? newControlToken();
  const problem = tokenProblem(token);
  if (problem) throw new ToxicError(problem);
  let ownHost: (header: string | undefined) => boolean = () => false;
  const server = http.createServer((req, res) => {
    const foreign = refuseForeign(req, ownHost);
    if (foreign) {
      refuse(req, res, foreign);
      return;
    }
    handle(proxy, token, req)
      .then(({ status, body }) => send(res, status, body))
      .catch((error: unknown) => {
        if (error instanceof Refused) return refuse(req, res, error.refusal);
        const message = error instanceof Error ? error.message : String(error);
        send(res, error instanceof ToxicError ? 400 : 500, { error: message });
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as { port: number };
  ownHost = hostMatcher({ host, port: address.port }, options.allowHosts);
  const shownHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${address.port}`,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(
  proxy: FaultProxy,
  token: string,
  req: http.IncomingMessage,
): Promise<{ status: number; body: unknown }> {
  const url = requestUrl(req);
  const method = req.method ?? "GET";
  // Nothing but "ok": a supervisor may ask whether the proxy runs without holding the token.
  if (url.pathname === "/health" && method === "GET") return { status: 200, body: { status: "ok" } };
  const unauthorised = refuseWithoutToken(req, token);
  if (unauthorised) throw new Refused(unauthorised);
  const parts = pathParts(url.pathname);
  if (parts[0] === "proxy" && parts.length === 1) {
    if (method === "GET") return { status: 200, body: proxy.status() };
    if (method === "POST") {
      const body = await readJson(req);
      if (typeof body.enabled !== "boolean")
        throw new ToxicError('send {"enabled": true} or {"enabled": false}');
      await proxy.setEnabled(body.enabled);
      return { status: 200, body: proxy.status() };
    }
  }
  if (parts[0] === "toxics" && parts.length === 1) {
    if (method === "GET") return { status: 200, body: proxy.toxics() };
    if (method === "POST") {
      const body = await readJson(req);
      const name = body.name;
      if (typeof name === "string" && proxy.toxics().some((t) => t.name === name)) {
        return { status: 409, body: { error: `a toxic named "${name}" already exists` } };
      }
      return { status: 200, body: await proxy.addToxic(body) };
    }
    if (method === "DELETE") {
      await proxy.removeAllToxics();
      return { status: 204, body: null };
    }
  }
  if (parts[0] === "toxics" && parts.length === 2) {
    const toxic = proxy.toxics().find((t) => t.name === parts[1]);
    if (method === "GET") {
      return toxic ? { status: 200, body: toxic } : { status: 404, body: { error: "no such toxic" } };
    }
    if (method === "DELETE") {
      return (await proxy.removeToxic(parts[1]!))
        ? { status: 204, body: null }
        : { status: 404, body: { error: "no such toxic" } };
    }
  }
  return { status: 404, body: { error: `no route ${method} ${url.pathname}` } };
}

function requestUrl(req: http.IncomingMessage): URL {
  try {
    return new URL(req.url ?? "/", "http://proxy");
  } catch {
    throw new Refused({ status: 400, error: "the request target is not a URL path" });
  }
}

function pathParts(pathname: string): string[] {
  try {
    return pathname.split("/").filter(Boolean).map(decodeURIComponent);
  } catch {
    throw new Refused({ status: 400, error: `the path ${pathname} has a malformed % escape` });
  }
}

/** The body of a POST: declared application/json, at most MAX_BODY bytes, and a JSON object. */
async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const notJson = refuseNonJson(req);
  if (notJson) throw new Refused(notJson);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY)
      throw new Refused({ status: 413, error: `the request body is over ${MAX_BODY} bytes` });
    chunks.push(chunk);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new Refused({ status: 400, error: "the request body is not valid JSON" });
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    const kind = body === null ? "null" : Array.isArray(body) ? "an array" : `a ${typeof body}`;
    throw new Refused({ status: 400, error: `the request body must be a JSON object, not ${kind}` });
  }
  return body as Record<string, unknown>;
}

function refuse(req: http.IncomingMessage, res: http.ServerResponse, refusal: Refusal): void {
  // The body is not read: close the connection rather than parse what a refused client still sends.
  res.shouldKeepAlive = false;
  send(res, refusal.status, { error: refusal.error }, refusal.headers);
  req.resume();
}

function send(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  // Never an Access-Control-Allow-* header: no web page may read an answer.
  const common = { "cache-control": "no-store", "x-content-type-options": "nosniff", ...headers };
  if (status === 204 || body === null) {
    res.writeHead(status, common).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...common,
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}
