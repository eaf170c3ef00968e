// Takes a backup by running `recovery.backups[].command` once per run: backupsFresh and restoreDrillSucceeds both want
// the fresh artifact, and a second dump of the same database would only double the load on it.
import path from "node:path";
import type { Spec } from "../../spec/schema.js";
import { runCommand } from "../shell/run.js";
import { tableWrites } from "./postgresFingerprint.js";
import type { RecoveryContext } from "./recoveryContext.js";

const TAIL_LINES = 40;

export type Backup = NonNullable<NonNullable<Spec["recovery"]>["backups"]>[number];

export interface BackupRun {
  command: string;
  cwd: string;
  startedAt: string;
  durationMs: number;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  spawnError?: string;
  /** Redacted, the last lines of stdout and stderr. */
  stdoutTail: string;
  stderrTail: string;
  /** PostgreSQL: writes per table just before the backup ran, so a drill can tell a changed source from a bad dump. */
  writesBefore?: Record<string, number>;
}

/** Runs the backup's command (once per run and backup index); null when it has none. */
export function takeBackup(ctx: RecoveryContext, index: number): Promise<BackupRun | null> {
  const backup = ctx.spec.recovery?.backups?.[index];
  if (!backup?.command) return Promise.resolve(null);
  const { command } = backup;
  return ctx.shared.once(`recovery.backup.${index}`, async () => {
    const cwd = path.resolve(ctx.specDir, backup.cwd ?? ".");
    const service = ctx.spec.services[backup.service];
    const writesBefore =
      service?.kind === "postgres" && service.url
        ? await tableWrites(service.url).catch(() => undefined)
        : undefined;
    const startedAt = new Date(ctx.clock.now()).toISOString();
    // The backup reads the source with the spec's credentials: it gets the run's environment, and its output is
    // redacted with the run's secrets before anyone sees it.
    const result = await runCommand("/bin/sh", ["-c", command], {
      cwd,
      env: { ...process.env, ...ctx.env },
      timeoutMs: backup.timeout,
      signal: ctx.signal,
    });
    const run: BackupRun = {
      command: ctx.secrets.redact(command),
      cwd,
      startedAt,
      durationMs: Math.round(result.durationMs),
      exitCode: result.exitCode,
      signal: result.signal,
      timedOut: result.timedOut,
      stdoutTail: tail(ctx.secrets.redact(result.stdout)),
      stderrTail: tail(ctx.secrets.redact(result.stderr)),
    };
    if (result.spawnError) run.spawnError = result.spawnError.message;
    if (writesBefore) run.writesBefore = writesBefore;
    return run;
  });
}

export function backupSucceeded(run: BackupRun): boolean {
  return run.exitCode === 0 && !run.timedOut && !run.spawnError;
}

export function tail(text: string, lines = TAIL_LINES): string {
  const all = text.trimEnd().split("\n");
  return all.slice(-lines).join("\n");
}
