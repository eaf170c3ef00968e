// `gauntlet worker --redis URL`: a load worker that takes its share of distributed load runs (`gauntlet load
// --workers N --redis URL`, or performance.distributed) until SIGINT/SIGTERM. `gauntlet worker --manifest` prints the
// Kubernetes Indexed Job that runs N of them instead. The load engine and ioredis are loaded only by the action.
import type { Command } from "commander";
import { parseDuration } from "../spec/units.js";
import { TOOL_VERSION } from "../version.js";
import { type CliIO, UserError } from "./io.js";

export interface WorkerFlags {
  redis?: string;
  name?: string;
  redisPrefix?: string;
  idleTimeout?: string;
  manifest?: boolean;
  workers?: string;
  image?: string;
  namespace?: string;
}

const REDIS_ENV = "GAUNTLET_REDIS_URL";
const DEFAULT_JOB_NAME = "gauntlet-load-workers";
const DEFAULT_MANIFEST_IDLE = "10m";

export function registerWorker(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command("worker")
    .description(
      "run a load worker for distributed `gauntlet load --workers N --redis URL` runs (until SIGINT/SIGTERM), or print its Kubernetes Job with --manifest",
    )
    .option(
      "--redis <url>",
      `Redis shared with the coordinator, redis:// or rediss:// (default: $${REDIS_ENV})`,
    )
    .option(
      "--name <name>",
      "worker name (default: <job>-<index> in a Kubernetes Indexed Job, else <hostname>-<pid>); with --manifest: the Job's name (default gauntlet-load-workers)",
    )
    .option("--redis-prefix <prefix>", "key prefix shared with the coordinator (default gauntlet:load)")
    .option(
      "--idle-timeout <d>",
      "stop after this long without a run, e.g. 10m (default: never; --manifest: 10m)",
    )
    .option("--manifest", "print a Kubernetes Indexed Job of --workers workers (validated) and exit")
    .option("--workers <n>", "with --manifest: how many worker pods (default 3)")
    .option(
      "--image <image>",
      `with --manifest: an image with gauntlet on its PATH (default gauntlet:${TOOL_VERSION})`,
    )
    .option("--namespace <ns>", "with --manifest: the Job's namespace")
    .action(async (flags: WorkerFlags) => {
      setExit(await workerCommand(flags, io));
    });
}

export async function workerCommand(
  flags: WorkerFlags,
  io: CliIO,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  if (flags.redis) io.secrets.addFromUrl(flags.redis);
  if (flags.manifest) return manifestCommand(flags, io);
  for (const [flag, value] of [
    ["--workers", flags.workers],
    ["--image", flags.image],
    ["--namespace", flags.namespace],
  ] as const) {
    if (value !== undefined) {
      throw new UserError(
        `${flag} only applies with --manifest: add --manifest to print a Job, or leave ${flag} out`,
      );
    }
  }
  const redis = flags.redis ?? env[REDIS_ENV];
  if (!redis) {
    throw new UserError(
      `--redis is missing: give the Redis URL the coordinator uses, e.g. --redis redis://10.0.0.5:6379 (or set ${REDIS_ENV})`,
    );
  }
  io.secrets.addFromUrl(redis);
  const idleTimeoutMs =
    flags.idleTimeout !== undefined ? durationOf(flags.idleTimeout, "--idle-timeout") : undefined;
  const { runLoadWorker, defaultWorkerName } = await import("../engines/load/distributed/worker.js");
  const controller = new AbortController();
  const onInt = () => controller.abort("SIGINT");
  const onTerm = () => controller.abort("SIGTERM");
  process.once("SIGINT", onInt);
  process.once("SIGTERM", onTerm);
  try {
    const outcome = await runLoadWorker({
      redis,
      name: flags.name ?? defaultWorkerName(env),
      ...(flags.redisPrefix !== undefined ? { prefix: flags.redisPrefix } : {}),
      signal: controller.signal,
      log: (line) => io.err(line),
      ...(idleTimeoutMs !== undefined ? { idleTimeoutMs } : {}),
    });
    io.err(
      `worker stopped${outcome.stoppedBy === "signal" ? ` (${String(controller.signal.reason)})` : " (idle)"} after ${outcome.runs} run${outcome.runs === 1 ? "" : "s"}`,
    );
    return 0;
  } finally {
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
  }
}

async function manifestCommand(flags: WorkerFlags, io: CliIO): Promise<number> {
  const workers = flags.workers === undefined ? 3 : Number(flags.workers);
  if (!Number.isInteger(workers) || workers < 1) {
    throw new UserError(`--workers takes a whole number above 0, not "${flags.workers}"`);
  }
  const idleTimeout = flags.idleTimeout ?? DEFAULT_MANIFEST_IDLE;
  durationOf(idleTimeout, "--idle-timeout");
  const { workerJobManifest } = await import("../engines/load/distributed/manifest.js");
  const manifest = workerJobManifest({
    workers,
    image: flags.image ?? `gauntlet:${TOOL_VERSION}`,
    name: flags.name ?? DEFAULT_JOB_NAME,
    ...(flags.namespace !== undefined ? { namespace: flags.namespace } : {}),
    ...(flags.redis !== undefined ? { redis: flags.redis } : {}),
    ...(flags.redisPrefix !== undefined ? { prefix: flags.redisPrefix } : {}),
    idleTimeout,
  });
  io.out(manifest.yaml);
  return 0;
}

function durationOf(value: string, flag: string): number {
  const text = value.trim();
  const parsed = parseDuration(/^\d+(\.\d+)?$/.test(text) ? `${text}s` : text);
  if (!parsed.ok) throw new UserError(`${flag}: ${parsed.error}`);
  if (parsed.value <= 0) throw new UserError(`${flag} must be above 0, e.g. 10m`);
  return parsed.value;
}
