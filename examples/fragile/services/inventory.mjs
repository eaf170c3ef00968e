// Inventory service of the fragile demo. Its mistake: it listens on every interface (0.0.0.0) although the spec
// says it is internal, so anyone on the network can read or flood it.
import http from "node:http";

const port = Number(process.env.PORT ?? 18181);
const server = http.createServer((req, res) => {
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify(req.url === "/items" ? [{ sku: "A1", stock: 12 }] : { status: "ok" }));
});
server.listen(port, "0.0.0.0", () => console.log(`inventory listening on 0.0.0.0:${port}`));
