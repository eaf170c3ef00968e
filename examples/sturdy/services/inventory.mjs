// Inventory service of the sturdy demo: internal, bound to loopback only, answers with its stock list.
import http from "node:http";

const port = Number(process.env.PORT ?? 18081);
const items = [
  { sku: "A1", name: "anvil", stock: 12 },
  { sku: "B2", name: "bellows", stock: 4 },
];

const server = http.createServer((req, res) => {
  if (req.url === "/healthz") return send(res, 200, { status: "ok" });
  if (req.url === "/items") return send(res, 200, items);
  send(res, 404, { error: "not found" });
});

function send(res, status, body) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

server.listen(port, "127.0.0.1", () => log("info", `inventory listening on 127.0.0.1:${port}`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));

function log(level, msg) {
  process.stdout.write(`${JSON.stringify({ ts: new Date().toISOString(), level, msg })}\n`);
}
