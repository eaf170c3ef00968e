// Public API of the sturdy demo: bound to loopback, timeouts on every dependency call, a health endpoint that
// reports its dependency honestly, RED metrics in Prometheus text format on a separate loopback port (not on the public
// one), security headers on every answer, an admin route behind a bearer token, graceful shutdown.
import http from "node:http";

const port = Number(process.env.PORT ?? 18080);
const metricsPort = Number(process.env.METRICS_PORT ?? 18090);
const inventoryUrl = process.env.INVENTORY_URL ?? "http://127.0.0.1:18081";
if (!process.env.API_TOKEN) {
  console.error("API_TOKEN is not set");
  process.exit(1);
}

const counts = new Map(); // "route status" → count
const buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const histogram = { counts: buckets.map(() => 0), sum: 0, count: 0 };

async function inventory(path) {
  const response = await fetch(`${inventoryUrl}${path}`, { signal: AbortSignal.timeout(500) });
  if (!response.ok) throw new Error(`inventory answered ${response.status}`);
  return response.json();
}

// A JSON API: nosniff so no browser renders an answer as HTML, no framing, no referrer, nothing cached.
const SECURITY_HEADERS = {
  "content-type": "application/json",
  "x-content-type-options": "nosniff",
  "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

const routes = {
  "/healthz": async () => {
    try {
      await inventory("/healthz");
      return [200, { status: "ok", inventory: "ok" }];
    } catch (error) {
      return [503, { status: "degraded", inventory: String(error.message) }];
    }
  },
  "/api/items": async () => {
    try {
      return [200, await inventory("/items")];
    } catch {
      return [503, { error: "inventory unavailable, try again" }];
    }
  },
  "/admin": async (req) =>
    req.headers.authorization === `Bearer ${process.env.API_TOKEN}`
      ? [200, { admin: true }]
      : [401, { error: "unauthorized" }, { "www-authenticate": 'Bearer realm="admin"' }],
};

const server = http.createServer(async (req, res) => {
  const started = process.hrtime.bigint();
  const path = (req.url ?? "/").split("?")[0];
  const handler = routes[path];
  const [status, body, headers = {}] = handler ? await handler(req) : [404, { error: "not found" }];
  res.writeHead(status, { ...SECURITY_HEADERS, ...headers });
  res.end(JSON.stringify(body));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const key = `${handler ? path : "other"} ${status}`;
  counts.set(key, (counts.get(key) ?? 0) + 1);
  for (const [i, le] of buckets.entries()) {
    if (seconds <= le) histogram.counts[i] += 1;
  }
  histogram.sum += seconds;
  histogram.count += 1;
});

function metrics() {
  const lines = ["# HELP http_requests_total Requests handled.", "# TYPE http_requests_total counter"];
  for (const [key, value] of counts) {
    const [route, code] = key.split(" ");
    lines.push(`http_requests_total{route="${route}",code="${code}"} ${value}`);
  }
  lines.push(
    "# HELP http_request_duration_seconds Request latency.",
    "# TYPE http_request_duration_seconds histogram",
  );
  for (const [i, le] of buckets.entries()) {
    lines.push(`http_request_duration_seconds_bucket{le="${le}"} ${histogram.counts[i]}`);
  }
  lines.push(`http_request_duration_seconds_bucket{le="+Inf"} ${histogram.count}`);
  lines.push(
    `http_request_duration_seconds_sum ${histogram.sum}`,
    `http_request_duration_seconds_count ${histogram.count}`,
  );
  return `${lines.join("\n")}\n`;
}

// Metrics on their own loopback port: Prometheus scrapes them, the public port does not serve them.
const metricsServer = http.createServer((_req, res) => {
  res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
  res.end(metrics());
});

server.listen(port, "127.0.0.1", () => log("info", `api listening on 127.0.0.1:${port}`));
metricsServer.listen(metricsPort, "127.0.0.1", () => log("info", `metrics on 127.0.0.1:${metricsPort}`));
process.on("SIGTERM", () => {
  metricsServer.close();
  server.close(() => process.exit(0));
});

function log(level, msg) {
  process.stdout.write(`${JSON.stringify({ ts: new Date().toISOString(), level, msg })}\n`);
}
