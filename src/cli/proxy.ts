// `gauntlet proxy --listen A --upstream B [--api C]`: a standalone fault proxy with its HTTP control API, so a
// system can be wired through it once and faults injected by Gauntlet or any other tool. Runs until SIGINT/SIGTERM.
import type { Command } from "commander";
import { startControlApi } from "../engines/faults/proxy/controlApi.js";
import { FaultProxy, parseEndpoint } from "../engines/faults/proxy/faultProxy.js";
import { ToxicError } from "../engines/faults/proxy/toxics.js";
import { type CliIO, UserError } from "./io.js";

export interface ProxyFlags {
  listen: string;
  upstream: string;
  api?: string;
  name?: string;
}

export interface RunningProxy {
  proxy: FaultProxy;
  apiUrl: string;
  close(): Promise<void>;
}

/** Starts the proxy and its control API; resolves once both listen. */
export async function proxyCommand(flags: ProxyFlags, io: CliIO): Promise<RunningProxy> {
  let listen: ReturnType<typeof parseEndpoint>;
  let upstream: ReturnType<typeof parseEndpoint>;
  let api: ReturnType<typeof parseEndpoint>;
  try {
    listen = parseEndpoint(flags.listen);
    upstream = parseEndpoint(flags.upstream);
    api = parseEndpoint(flags.api ?? "127.0.0.1:8474");
  } catch (error) {
    if (error instanceof ToxicError) throw new UserError(error.message);
    throw error;
  }
  const proxy = new FaultProxy({ listen, upstream, ...(flags.name ? { name: flags.name } : {}) });
  try {
    await proxy.start();
  } catch (error) {
    throw new UserError(`--listen ${flags.listen}: ${(error as Error).message}`);
  }
  let control: Awaited<ReturnType<typeof startControlApi>>;
  try {
    control = await startControlApi(proxy, api.host, api.port);
  } catch (error) {
    await proxy.close();
    throw new UserError(`--api ${flags.api ?? "127.0.0.1:8474"}: ${(error as Error).message}`);
  }
  const at = proxy.listenAddress;
  io.out(
    `proxy ${proxy.name}: ${at.host}:${at.port} → ${upstream.host}:${upstream.port}; control API ${control.url}`,
  );
  return {
    proxy,
    apiUrl: control.url,
    close: async () => {
      await control.close();
      await proxy.close();
    },
  };
}

export function registerProxy(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command("proxy")
    .description(
      "run a TCP fault proxy (latency, bandwidth, timeout, reset_peer, slow_close, slicer, limit_data, down)",
    )
    .requiredOption("--listen <host:port>", "address the service connects to instead of the dependency")
    .requiredOption("--upstream <host:port>", "the dependency's real address")
    .option("--api <host:port>", "control API address (GET/POST /toxics, DELETE /toxics/:name, POST /proxy)")
    .option("--name <name>", "proxy name shown in its status")
    .action(async (flags: ProxyFlags) => {
      const running = await proxyCommand(flags, io);
      const signal = await new Promise<NodeJS.Signals>((resolve) => {
        process.once("SIGINT", () => resolve("SIGINT"));
        process.once("SIGTERM", () => resolve("SIGTERM"));
      });
      // Closing cuts every link, so no toxic outlives the proxy.
      await running.close();
      io.err(`${signal}: proxy stopped`);
      setExit(0);
    });
}
