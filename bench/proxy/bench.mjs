// Fault proxy overhead on loopback, against a direct connection in the same run: added p50 round-trip latency with no
// toxic (64-byte ping-pong) and throughput (bulk one-way send into a sink). Servers and proxies run in their own
// processes. Usage: npm run build && node bench/proxy/bench.mjs [roundTrips] [megabytes]
import { spawn } from "node:child_process";
import net from "node:net";
import path from "node:path";

const ROUND_TRIPS = Number(process.argv[2] ?? 20_000);
const MEGABYTES = Number(process.argv[3] ?? 2048);
const here = import.meta.dirname;
const children = [];

function start(script, args = []) {
  const child = spawn(process.execPath, [path.join(here, script), ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  return new Promise((resolve) => child.stdout.once("data", (d) => resolve(d.toString().trim())));
}

function connect(port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port, noDelay: true });
    socket.once("connect", () => resolve(socket));
    socket.once("error", reject);
  });
}

async function latency(port) {
  const socket = await connect(port);
  const message = Buffer.alloc(64, 1);
  const samples = new Float64Array(ROUND_TRIPS);
  for (let i = -1000; i < ROUND_TRIPS; i++) {
    const started = process.hrtime.bigint();
    await new Promise((resolve) => {
      let got = 0;
      const onData = (chunk) => {
        got += chunk.length;
        if (got >= message.length) {
          socket.off("data", onData);
          resolve();
        }
      };
      socket.on("data", onData);
      socket.write(message);
    });
    if (i >= 0) samples[i] = Number(process.hrtime.bigint() - started) / 1000; // µs; the first 1000 warm up
  }
  socket.destroy();
  samples.sort();
  const at = (q) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
  return { p50: at(0.5), p99: at(0.99) };
}

async function throughput(port) {
  const socket = await connect(port);
  const chunk = Buffer.alloc(1024 * 1024, 7);
  const started = process.hrtime.bigint();
  for (let i = 0; i < MEGABYTES; i++) {
    if (!socket.write(chunk)) await new Promise((resolve) => socket.once("drain", resolve));
  }
  await new Promise((resolve) => {
    socket.once("end", resolve);
    socket.end();
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  socket.destroy();
  return (MEGABYTES * 1024 * 1024) / seconds / 1e9; // GB/s (10^9 bytes)
}

try {
  const { echo, sink } = JSON.parse(await start("servers.mjs"));
  const echoProxy = Number(await start("proxyProcess.mjs", [String(echo)]));
  const sinkProxy = Number(await start("proxyProcess.mjs", [String(sink)]));
  const direct = await latency(echo);
  const proxied = await latency(echoProxy);
  const directGbps = await throughput(sink);
  const proxiedGbps = await throughput(sinkProxy);
  const result = {
    node: process.version,
    roundTrips: ROUND_TRIPS,
    megabytes: MEGABYTES,
    latencyUs: { direct, proxied, addedP50: proxied.p50 - direct.p50 },
    throughputGBps: { direct: directGbps, proxied: proxiedGbps },
  };
  console.log(JSON.stringify(result, null, 2));
  const ok = result.latencyUs.addedP50 <= 200 && proxiedGbps >= 1;
  console.log(ok ? "targets met: added p50 ≤ 200 µs, throughput ≥ 1 GB/s" : "targets NOT met");
  process.exitCode = ok ? 0 : 1;
} finally {
  for (const child of children) child.kill();
}
