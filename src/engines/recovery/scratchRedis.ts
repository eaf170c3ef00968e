// A throwaway redis-server that loads a backup (RDB snapshot, single AOF or Redis 7 AOF folder) from a private temp
// folder, reachable only by its Unix socket there. The time from start to "loaded" is the restore time; a file Redis
// cannot load ends the server with Redis's own words in its log, which the drill reports.
import { spawn } from "node:child_process";
import { cp, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { which } from "../shell/run.js";
import type { DumpFormat } from "./dumpFormat.js";
import type { UndoRegistry } from "./recoveryContext.js";

export interface ScratchRedis {
  dir: string;
  socket: string;
  /** From spawn to the first PING that is not LOADING. */
  loadMs: number;
  client(db?: number): Redis;
  url: string;
  stop(): Promise<void>;
}

export class RedisLoadError extends Error {
  constructor(
    message: string,
    readonly log: string,
  ) {
    super(message);
  }
}

export async function redisServerPath(searchPath = process.env.PATH): Promise<string | null> {
  return which("redis-server", searchPath);
}

export async function startScratchRedis(options: {
  binary: string;
  artifact: string;
  format: DumpFormat;
  rollbacks: UndoRegistry;
  signal: AbortSignal;
  timeoutMs: number;
}): Promise<ScratchRedis> {
  const dir = await mkdtemp(path.join(tmpdir(), "gauntlet-restore-redis-"));
  const socket = path.join(dir, "redis.sock");
  const pidFile = path.join(dir, "redis.pid");
  const logFile = path.join(dir, "redis.log");
  let child: ReturnType<typeof spawn> | undefined;
  const undo = options.rollbacks.add(
    "remove the scratch redis-server",
    async () => {
      if (child?.pid !== undefined && child.exitCode === null) {
        const exited = new Promise((resolve) => child!.once("exit", resolve));
        child.kill("SIGKILL");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      }
      await rm(dir, { recursive: true, force: true });
    },
    { kind: "removeScratch", dir, pidFile, what: "a restore drill's scratch redis-server" },
  );
  const args = [
    "--port",
    "0",
    "--unixsocket",
    socket,
    "--unixsocketperm",
    "700",
    "--dir",
    dir,
    "--pidfile",
    pidFile,
    "--logfile",
    logFile,
    "--save",
    "",
    "--daemonize",
    "no",
  ];
  if (options.format === "redis-rdb") {
    await cp(options.artifact, path.join(dir, "dump.rdb"));
    args.push("--dbfilename", "dump.rdb", "--appendonly", "no");
  } else if (options.format === "redis-aof-dir") {
    await cp(options.artifact, path.join(dir, "appendonlydir"), { recursive: true });
    args.push(
      "--appendonly",
      "yes",
      "--appenddirname",
      "appendonlydir",
      "--appendfilename",
      await aofBase(options.artifact),
    );
  } else {
    // A single append-only file: Redis 7 turns a legacy appendonly.aof in its folder into a manifest on load.
    await cp(options.artifact, path.join(dir, "appendonly.aof"));
    args.push(
      "--appendonly",
      "yes",
      "--appendfilename",
      "appendonly.aof",
      "--appenddirname",
      "appendonlydir",
    );
  }
  const started = performance.now();
  child = spawn(options.binary, args, { cwd: dir, stdio: "ignore" });
  const exited = new Promise<number | null>((resolve) => child!.once("exit", (code) => resolve(code)));
  const deadline = Date.now() + options.timeoutMs;
  let ended: number | null | undefined;
  void exited.then((code) => {
    ended = code;
  });
  for (;;) {
    options.signal.throwIfAborted();
    if (ended !== undefined) {
      const log = await readFile(logFile, "utf8").catch(() => "");
      throw new RedisLoadError(
        `redis-server exited with code ${ended} while loading the backup`,
        lastLines(log, 20),
      );
    }
    if (Date.now() > deadline) {
      const log = await readFile(logFile, "utf8").catch(() => "");
      await undo.runNow();
      throw new RedisLoadError(
        "redis-server did not finish loading within the time limit",
        lastLines(log, 20),
      );
    }
    if (await loaded(socket)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const loadMs = Math.round(performance.now() - started);
  return {
    dir,
    socket,
    loadMs,
    url: `unix://${socket}`,
    client: (db = 0) =>
      new Redis({ path: socket, db, lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false }),
    stop: () => undo.runNow(),
  };
}

async function loaded(socket: string): Promise<boolean> {
  const client = new Redis({
    path: socket,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on("error", () => {});
  try {
    await client.connect();
    return (await client.ping()) === "PONG";
  } catch {
    return false; // not listening yet, or LOADING
  } finally {
    client.disconnect();
  }
}

/** The base name Redis 7 gave the AOF files in a folder (`appendonly.aof.1.base.rdb` → `appendonly.aof`). */
async function aofBase(folder: string): Promise<string> {
  const manifest = (await readdir(folder)).find((n) => n.endsWith(".manifest"));
  return manifest ? manifest.replace(/\.manifest$/, "") : "appendonly.aof";
}

function lastLines(text: string, n: number): string {
  return text.trimEnd().split("\n").slice(-n).join("\n");
}
