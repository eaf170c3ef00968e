// A small HTTP API over one FaultProxy so other tools (and Gauntlet runs against a proxy started separately) can
// drive it. Routes (JSON in and out):
//   GET    /proxy            status: addresses, enabled, toxics, connection and byte counters
//   POST   /proxy            {"enabled": false|true}
//   GET    /toxics           list
//   POST   /toxics           add {name?, type, stream?, toxicity?, attributes}
//   GET    /toxics/:name     one toxic
//   DELETE /toxics/:name     remove one
//   DELETE /toxics           remove all (the reset a rollback uses)
import http from "node:http";
import type { FaultProxy } from "./faultProxy.js";
import { ToxicError } from "./toxics.js";

const MAX_BODY = 64 * 1024;

export interface ControlApi {
  url: string;
  close(): Promise<void>;
}

export async function startControlApi(proxy: FaultProxy, host: string, port: number): Promise<ControlApi> {
  const server = http.createServer((req, res) => {
    handle(proxy, req)
      .then(({ status, body }) => send(res, status, body))
      .catch((error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        send(res, error instanceof ToxicError ? 400 : 500, { error: message });
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as { port: number };
  const shownHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(
  proxy: FaultProxy,
  req: http.IncomingMessage,
): Promise<{ status: number; body: unknown }> {
  const url = new URL(req.url ?? "/", "http://proxy");
  const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
  const method = req.method ?? "GET";
  if (parts[0] === "proxy" && parts.length === 1) {
    if (method === "GET") return { status: 200, body: proxy.status() };
    if (method === "POST") {
      const body = (await readJson(req)) as { enabled?: unknown };
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
      const name = (body as { name?: unknown }).name;
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

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new ToxicError("request body too large");
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  try {
    return text ? JSON.parse(text) : {};
  } catch {
    throw new ToxicError("the request body is not valid JSON");
  }
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  if (status === 204 || body === null) {
    res.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
