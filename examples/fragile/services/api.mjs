// Public API of the fragile demo. Its mistakes: no timeout on the dependency call, a health endpoint that does
// expensive work on the event loop (so health checks are slow under any load), and an admin route that nobody put
// behind authentication.
import http from "node:http";

const port = Number(process.env.PORT ?? 18180);
const inventoryUrl = process.env.INVENTORY_URL ?? "http://127.0.0.1:18181";

function busyWait(ms) {
  const until = Date.now() + ms;
  while (Date.now() < until) {}
}

const server = http.createServer(async (req, res) => {
  if (req.url === "/healthz") {
    busyWait(1200); // "warms the cache" on every health probe
    res.writeHead(200);
    return res.end("OK");
  }
  if (req.url === "/admin") {
    // "Only reachable from the office network", said the ticket.
    res.writeHead(200, { "content-type": "application/json", "x-powered-by": "demo-shop/0.9.0" });
    return res.end(JSON.stringify({ admin: true, orders: 1042, refunds: "enabled" }));
  }
  if (req.url === "/api/items") {
    const items = await (await fetch(`${inventoryUrl}/items`)).json();
    res.writeHead(200, { "content-type": "application/json" });
    return res.end(JSON.stringify(items));
  }
  res.writeHead(404);
  res.end();
});
server.listen(port, "127.0.0.1", () => console.log(`api up on ${port}`));
