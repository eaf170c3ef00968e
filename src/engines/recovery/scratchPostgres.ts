// A throwaway PostgreSQL cluster for a restore drill: initdb into a private temp folder, a server that listens on a
// Unix socket in that folder only (no TCP port: the restored copy of production data is reachable by nobody else),
// stopped and removed by a rollback that also runs on Ctrl-C, and journalled so a killed run's next run removes it.
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { type RunResult, runCommand } from "../shell/run.js";
import { tail } from "./backupRun.js";
import { type PostgresTools, serverArgv } from "./postgresTools.js";
import type { UndoRegistry } from "./recoveryContext.js";

/** The socket file's number: any, since the socket folder is private to this cluster. */
const SOCKET_PORT = 5432;

export interface ScratchPostgres {
  dir: string;
  socketDir: string;
  /** libpq/psql connection parameters for a database of the scratch cluster. */
  connection(database: string): { host: string; port: number; user: string; database: string };
  /** A URL for {{target}}: postgres://postgres@/<db>?host=<socket folder>. */
  url(database: string): string;
  /** The time initdb + start took. */
  startMs: number;
  stop(): Promise<void>;
}

export interface ScratchOptions {
  tools: PostgresTools;
  rollbacks: UndoRegistry;
  signal: AbortSignal;
  /** The source's server_encoding, so text restores byte for byte. */
  encoding?: string;
}

export class ScratchStartError extends Error {
  constructor(
    message: string,
    readonly detail: string,
  ) {
    super(message);
  }
}

export async function startScratchPostgres(options: ScratchOptions): Promise<ScratchPostgres> {
  const { tools, rollbacks, signal } = options;
  const started = performance.now();
  const dir = await mkdtemp(path.join(tmpdir(), "gauntlet-restore-pg-"));
  const data = path.join(dir, "data");
  const socketDir = path.join(dir, "sock");
  const pidFile = path.join(data, "postmaster.pid");
  const stop = async () => {
    await runCommand(
      ...serverArgv(tools, "pg_ctl", ["-D", data, "-m", "immediate", "-w", "-t", "30", "stop"]),
      {
        timeoutMs: 40_000,
      },
    ).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  const undo = rollbacks.add("remove the scratch PostgreSQL cluster", stop, {
    kind: "removeScratch",
    dir,
    pidFile,
    what: "a restore drill's scratch PostgreSQL cluster",
  });
  await mkdir(socketDir, { mode: 0o700 });
  await chmod(dir, 0o700);
  if (tools.runAs) {
    await chown(dir, tools.runAs.uid, tools.runAs.gid);
    await chown(socketDir, tools.runAs.uid, tools.runAs.gid);
  }
  const run = (program: string, args: string[], timeoutMs: number): Promise<RunResult> =>
    runCommand(...serverArgv(tools, program, args), {
      timeoutMs,
      signal,
      env: { ...process.env, LC_ALL: "C" },
    });
  const initdb = await run(
    "initdb",
    [
      "-D",
      data,
      "-U",
      "postgres",
      "-A",
      "trust",
      "--no-sync",
      "--locale=C",
      `--encoding=${options.encoding ?? "UTF8"}`,
    ],
    120_000,
  );
  if (initdb.exitCode !== 0) {
    await undo.runNow();
    throw new ScratchStartError(
      "initdb failed for the scratch cluster",
      tail(initdb.stderr || initdb.stdout, 20),
    );
  }
  // Socket only, in the private folder; the rest is PostgreSQL's defaults, so the measured restore time is a real one.
  await writeFile(
    path.join(data, "postgresql.auto.conf"),
    `listen_addresses = ''\nunix_socket_directories = '${socketDir}'\nport = ${SOCKET_PORT}\n`,
  );
  if (tools.runAs) await chown(path.join(data, "postgresql.auto.conf"), tools.runAs.uid, tools.runAs.gid);
  const start = await run(
    "pg_ctl",
    ["-D", data, "-w", "-t", "60", "-l", path.join(dir, "server.log"), "start"],
    90_000,
  );
  if (start.exitCode !== 0) {
    await undo.runNow();
    throw new ScratchStartError(
      "the scratch PostgreSQL server did not start",
      tail(start.stderr || start.stdout, 20),
    );
  }
  return {
    dir,
    socketDir,
    connection: (database) => ({ host: socketDir, port: SOCKET_PORT, user: "postgres", database }),
    url: (database) =>
      `postgres://postgres@/${encodeURIComponent(database)}?host=${encodeURIComponent(socketDir)}&port=${SOCKET_PORT}`,
    startMs: Math.round(performance.now() - started),
    stop: () => undo.runNow(),
  };
}
