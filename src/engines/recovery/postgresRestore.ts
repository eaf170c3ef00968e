// Restores a PostgreSQL backup with PostgreSQL's own programs, stopping at the first error: pg_restore for the
// archive formats, psql with ON_ERROR_STOP for SQL. Their own error text is what a failed drill reports.
import path from "node:path";
import { type RunResult, runCommand } from "../shell/run.js";
import type { DumpFormat } from "./dumpFormat.js";
import type { PostgresTools } from "./postgresTools.js";

export interface RestoreRun {
  program: string;
  args: string[];
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  durationMs: number;
  stdout: string;
  stderr: string;
  spawnError?: string;
}

export interface RestoreTarget {
  host: string;
  port: number;
  user: string;
  database: string;
}

/** Runs the restore of `file` (format known) into `target`; the scratch database must exist. */
export async function restorePostgres(
  tools: PostgresTools,
  format: DumpFormat,
  file: string,
  target: RestoreTarget,
  options: { timeoutMs: number; signal: AbortSignal; env?: NodeJS.ProcessEnv },
): Promise<RestoreRun> {
  const conn = ["-h", target.host, "-p", String(target.port), "-U", target.user];
  const env = {
    ...process.env,
    ...options.env,
    PGCONNECT_TIMEOUT: "10",
    PGOPTIONS: "-c client_min_messages=warning",
  };
  let program: string;
  let args: string[];
  switch (format) {
    case "pg-custom":
    case "pg-directory":
    case "pg-tar":
      // Ownership and grants name roles of the source server; the drill proves the data comes back.
      program = path.join(tools.bin, "pg_restore");
      args = [...conn, "-d", target.database, "--exit-on-error", "--no-owner", "--no-privileges", file];
      break;
    case "pg-plain":
    case "pg-cluster":
      program = path.join(tools.bin, "psql");
      args = [...conn, "-d", target.database, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", file];
      break;
    case "pg-plain-gzip":
      program = "/bin/bash";
      args = [
        "-c",
        // biome-ignore lint/suspicious/noTemplateCurlyInString: bash's own "${@:3}", not a JS template
        'set -o pipefail; gzip -dc -- "$1" | "$2" "${@:3}"',
        "restore",
        file,
        path.join(tools.bin, "psql"),
        ...conn,
        "-d",
        target.database,
        "-X",
        "-q",
        "-v",
        "ON_ERROR_STOP=1",
      ];
      break;
    default:
      throw new Error(`not a PostgreSQL format: ${format}`);
  }
  const result: RunResult = await runCommand(program, args, {
    env,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    maxOutputBytes: 256 * 1024,
  });
  const run: RestoreRun = {
    program: path.basename(program),
    args,
    exitCode: result.exitCode,
    signal: result.signal,
    timedOut: result.timedOut,
    durationMs: Math.round(result.durationMs),
    stdout: result.stdout,
    stderr: result.stderr,
  };
  if (result.spawnError) run.spawnError = result.spawnError.message;
  return run;
}

export function restoreSucceeded(run: RestoreRun): boolean {
  return run.exitCode === 0 && !run.timedOut && !run.spawnError;
}
