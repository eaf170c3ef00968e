// A server that stalls: every request that arrives in the first second of each 5-second window (wall clock) is held
// until that second ends, as if the process froze (a GC pause, a lock, a full disk). Prints its port.
import http from "node:http";

const PERIOD_MS = Number(process.env.STALL_PERIOD_MS ?? 5000);
const STALL_MS = Number(process.env.STALL_MS ?? 1000);
const server = http.createServer((req, res) => {
  req.resume();
  const phase = Date.now() % PERIOD_MS;
  const answer = () => res.end("ok");
  if (phase < STALL_MS) setTimeout(answer, STALL_MS - phase);
  else answer();
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  process.stdout.write(`${server.address().port}\n`);
});
