// The sturdy shop's tests: both services run for real as child processes on free loopback ports and are asked every
// route, with the inventory up and then down. scripts/coverage.sh runs them under Node's test runner with coverage,
// which also records the child processes, and writes coverage/lcov.info.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import net from "node:net";
import path from "node:path";
import { after, before, describe, test } from "node:test";

const here = import.meta.dirname;
const token = randomBytes(24).toString("base64url");
const running = new Set();

async function freePort() {
  const server = net.createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address();
  server.close();
  await once(server, "close");
  return port;
}

/** Starts a service and resolves once it logs that it listens; stopped (SIGTERM, graceful) by stop(). */
async function start(file, env) {
  const child = spawn(process.execPath, [path.join(here, file)], {
    env: { PATH: process.env.PATH, NODE_V8_COVERAGE: process.env.NODE_V8_COVERAGE, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  child.on("exit", () => running.delete(child));
  let output = "";
  await new Promise((resolve, reject) => {
    child.stdout.on("data", (chunk) => {
      output += chunk;
      if (/listening/.test(output)) resolve();
    });
    child.on("exit", (code) => reject(new Error(`${file} exited with ${code} before listening: ${output}`)));
  });
  return child;
}

async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const [code] = await exited;
  assert.equal(code, 0, "a graceful stop exits 0");
}

async function get(url, headers = {}) {
  const response = await fetch(url, { headers });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text };
}

describe("inventory", () => {
  let port;
  let inventory;
  before(async () => {
    port = await freePort();
    inventory = await start("inventory.mjs", { PORT: String(port) });
  });
  after(() => stop(inventory));

  test("reports healthy", async () => {
    const r = await get(`http://127.0.0.1:${port}/healthz`);
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.text), { status: "ok" });
  });

  test("lists its stock", async () => {
    const items = JSON.parse((await get(`http://127.0.0.1:${port}/items`)).text);
    assert.deepEqual(
      items.map((i) => i.sku),
      ["A1", "B2"],
    );
  });

  test("answers 404 elsewhere", async () => {
    assert.equal((await get(`http://127.0.0.1:${port}/nope`)).status, 404);
  });
});

describe("api", () => {
  let ports;
  let inventory;
  let api;
  before(async () => {
    ports = { api: await freePort(), metrics: await freePort(), inventory: await freePort() };
    inventory = await start("inventory.mjs", { PORT: String(ports.inventory) });
    api = await start("api.mjs", {
      PORT: String(ports.api),
      METRICS_PORT: String(ports.metrics),
      INVENTORY_URL: `http://127.0.0.1:${ports.inventory}`,
      API_TOKEN: token,
    });
  });
  after(async () => {
    await stop(api);
    await stop(inventory);
  });

  const url = (p) => `http://127.0.0.1:${ports.api}${p}`;

  test("is healthy with its inventory, and says so", async () => {
    const r = await get(url("/healthz"));
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.text), { status: "ok", inventory: "ok" });
    assert.equal(r.headers.get("x-content-type-options"), "nosniff");
  });

  test("serves the items from the inventory", async () => {
    const r = await get(url("/api/items?fresh=1"));
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.text).length, 2);
  });

  test("refuses /admin without the token and serves it with it", async () => {
    const refused = await get(url("/admin"));
    assert.equal(refused.status, 401);
    assert.match(refused.headers.get("www-authenticate") ?? "", /^Bearer/);
    assert.equal((await get(url("/admin"), { authorization: "Bearer wrong" })).status, 401);
    const allowed = await get(url("/admin"), { authorization: `Bearer ${token}` });
    assert.deepEqual(JSON.parse(allowed.text), { admin: true });
  });

  test("answers 404 for unknown paths", async () => {
    assert.equal((await get(url("/nope"))).status, 404);
  });

  test("counts requests in its metrics, on the metrics port only", async () => {
    const metrics = await get(`http://127.0.0.1:${ports.metrics}/metrics`);
    assert.match(metrics.text, /http_requests_total\{route="\/healthz",code="200"\} 1/);
    assert.match(metrics.text, /http_request_duration_seconds_count \d+/);
    assert.equal((await get(url("/metrics"))).status, 404);
  });

  test("degrades honestly when the inventory is down", async () => {
    await stop(inventory);
    const health = await get(url("/healthz"));
    assert.equal(health.status, 503);
    assert.equal(JSON.parse(health.text).status, "degraded");
    const items = await get(url("/api/items"));
    assert.equal(items.status, 503);
  });
});

test("the api refuses to start without API_TOKEN", async () => {
  const child = spawn(process.execPath, [path.join(here, "api.mjs")], {
    env: { PATH: process.env.PATH, NODE_V8_COVERAGE: process.env.NODE_V8_COVERAGE, PORT: "0" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  const [code] = await once(child, "exit");
  assert.equal(code, 1);
  assert.match(stderr, /API_TOKEN is not set/);
});

after(() => {
  for (const child of running) child.kill("SIGKILL");
});
