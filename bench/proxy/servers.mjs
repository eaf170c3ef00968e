// Bench servers in their own process: an echo server (latency) and a sink that discards what it reads (throughput).
// Prints their ports as JSON on stdout.
import net from "node:net";

const listen = (handler) =>
  new Promise((resolve) => {
    const server = net.createServer({ noDelay: true }, handler);
    server.listen(0, "127.0.0.1", () => resolve(server.address().port));
  });
const echo = await listen((s) => {
  s.on("error", () => {});
  s.pipe(s);
});
const sink = await listen((s) => {
  s.on("error", () => {});
  s.resume();
  s.on("end", () => s.end());
});
process.stdout.write(`${JSON.stringify({ echo, sink })}\n`);
