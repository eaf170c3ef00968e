// The fault proxy under test, in its own process as `gauntlet proxy` runs: node proxyProcess.mjs <upstreamPort>.
// Prints the listen port on stdout. Imports the built proxy (npm run build first).
import path from "node:path";
import { pathToFileURL } from "node:url";

const root = path.resolve(import.meta.dirname, "../..");
const { FaultProxy } = await import(
  pathToFileURL(path.join(root, "dist/engines/faults/proxy/faultProxy.js")).href
);
const proxy = new FaultProxy({
  listen: { host: "127.0.0.1", port: 0 },
  upstream: { host: "127.0.0.1", port: Number(process.argv[2]) },
});
await proxy.start();
process.stdout.write(`${proxy.listenAddress.port}\n`);
