// `gauntlet proxy --listen A --upstream B [--api C]`: a standalone fault proxy with its HTTP control API, so a
// system can be wired through it once and faults injected by Gauntlet or any other tool. Runs until SIGINT/SIGTERM.
// The API needs a bearer token: --token, else $GAUNTLET_PROXY_TOKEN, else a fresh one printed once on stderr (or
// written to --token-file, 0600, and removed again when the proxy stops).
import { randomBytes } from "node:crypto";
import { lstat, mkdir, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import { newControlToken, tokenProblem } from "../engines/faults/proxy/controlAccess.js";
import type { FaultProxy } from "../engines/faults/proxy/faultProxy.js";
import { type CliIO, UserError } from "./io.js";

export const TOKEN_ENV = "GAUNTLET_PROXY_TOKEN";

export interface ProxyFlags {
  listen: string;
  upstream: string;
  api?: string;
  name?: string;
  token?: string;
  tokenFile?: string;
  allowHost?: string[];
}

export interface RunningProxy {
  proxy: FaultProxy;
  apiUrl: string;
  /** The control API's bearer token. */
  token: string;
  close(): Promise<void>;
}

/** Starts the proxy and its control API; resolves once both listen. */
export async function proxyCommand(
  flags: ProxyFlags,
  io: CliIO,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RunningProxy> {
  const [{ startControlApi }, { FaultProxy, parseEndpoint }, { ToxicError }] = await Promise.all([
    import("../engines/faults/proxy/controlApi.js"),
    import("../engines/faults/proxy/faultProxy.js"),
    import("../engines/faults/proxy/toxics.js"),
  ]);
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
  const token = chooseToken(flags, env);
  const proxy = new FaultProxy({ listen, upstream, ...(flags.name ? { name: flags.name } : {}) });
  try {
    await proxy.start();
  } catch (error) {
    throw new UserError(`--listen ${flags.listen}: ${(error as Error).message}`);
  }
  let control: Awaited<ReturnType<typeof startControlApi>>;
  try {
    control = await startControlApi(proxy, api.host, api.port, {
      token: token.value,
      allowHosts: flags.allowHost ?? [],
    });
  } catch (error) {
    await proxy.close();
    throw new UserError(`--api ${flags.api ?? "127.0.0.1:8474"}: ${(error as Error).message}`);
  }
  if (flags.tokenFile) {
    try {
      await writeTokenFile(flags.tokenFile, token.value);
    } catch (error) {
      await control.close();
      await proxy.close();
      throw error instanceof UserError
        ? error
        : new UserError(`--token-file ${flags.tokenFile}: ${(error as Error).message}`);
    }
  }
  // The one place the token is shown, and only a generated one that is written nowhere else; masked from then on.
  if (token.from === "generated" && !flags.tokenFile) io.err(`control API token: ${token.value}`);
  else io.err(`control API token: ${flags.tokenFile ? `in ${flags.tokenFile}` : `from ${token.from}`}`);
  io.secrets.add(token.value);
  const at = proxy.listenAddress;
  io.out(
    `proxy ${proxy.name}: ${at.host}:${at.port} → ${upstream.host}:${upstream.port}; control API ${control.url}`,
  );
  return {
    proxy,
    apiUrl: control.url,
    token: token.value,
    close: async () => {
      await control.close();
      await proxy.close();
      if (flags.tokenFile) await rm(flags.tokenFile, { force: true });
    },
  };
}

function chooseToken(flags: ProxyFlags, env: NodeJS.ProcessEnv): { value: string; from: string } {
  const given =
    flags.token !== undefined
      ? { value: flags.token, from: "--token" }
      : env[TOKEN_ENV] !== undefined
        ? { value: env[TOKEN_ENV], from: `$${TOKEN_ENV}` }
        : null;
  if (!given) return { value: newControlToken(), from: "generated" };
  const problem = tokenProblem(given.value);
  if (problem) throw new UserError(`${given.from}: ${problem}`);
  return given;
}

/**
 * Writes the token to a file only this user can read. An existing file is replaced only when it looks like one this
 * command wrote (a regular 0600 file of this user, e.g. left by a proxy that was killed); anything else is refused.
 */
async function writeTokenFile(file: string, token: string): Promise<void> {
  const existing = await lstat(file).catch(() => null);
  const ours =
    existing?.isFile() &&
    existing.uid === (process.getuid?.() ?? existing.uid) &&
    (existing.mode & 0o077) === 0;
  if (existing && !ours) {
    throw new UserError(
      `--token-file ${file} exists and is not a private (0600) file of yours: refusing to overwrite it; remove it or name another file`,
    );
  }
  // A new file (never through a link) renamed into place: the token is never readable by others, even briefly.
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString("hex")}`);
  await writeFile(temp, token, { mode: 0o600, flag: "wx" });
  await rename(temp, file);
}

export function registerProxy(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command("proxy")
    .description(
      "run a TCP fault proxy (latency, bandwidth, timeout, reset_peer, slow_close, slicer, limit_data, down)",
    )
    .requiredOption("--listen <host:port>", "address the service connects to instead of the dependency")
    .requiredOption("--upstream <host:port>", "the dependency's real address")
    .option(
      "--api <host:port>",
      "control API address (GET/POST /toxics, DELETE /toxics/:name, POST /proxy: with the token; GET /health without)",
    )
    .option("--name <name>", "proxy name shown in its status")
    .option("--token <token>", `control API bearer token (default: $${TOKEN_ENV}, else a fresh random one)`)
    .option("--token-file <path>", "write the token to this file (0600), removed when the proxy stops")
    .option(
      "--allow-host <name>",
      "another name the control API may be addressed by (Host header), e.g. a container's; repeatable",
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
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
