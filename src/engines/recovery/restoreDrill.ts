// One restore drill: the newest backup restored into a scratch target Gauntlet starts (never the source), timed, and
// compared with the source. Everything scratch is removed before the drill returns (and by the run's rollbacks on
// Ctrl-C); `cleanedUp` says whether it really is gone.

import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { runCommand } from "../shell/run.js";
import type { Artifact } from "./artifacts.js";
import { tail } from "./backupRun.js";
import type { DumpFormat } from "./dumpFormat.js";
import {
  compareFingerprints,
  connect,
  type DatabaseFingerprint,
  fingerprintDatabase,
  hashProbe,
  type PgConnection,
  type RowHash,
  sourceRoles,
  type TableComparison,
  tableWrites,
} from "./postgresFingerprint.js";
import { restorePostgres, restoreSucceeded } from "./postgresRestore.js";
import { findPostgresTools, type PostgresTools } from "./postgresTools.js";
import type { RecoveryContext } from "./recoveryContext.js";
import { keyspace, sampleKeys, valueDigest } from "./redisFingerprint.js";
import { ScratchStartError, startScratchPostgres } from "./scratchPostgres.js";
import { RedisLoadError, redisServerPath, startScratchRedis } from "./scratchRedis.js";

const REDIS_SAMPLE = 200;

export interface DrillOutcome {
  /** Where the restore went: a scratch cluster/server, or a scratch database on the source's server. */
  target: "instance" | "database" | "folder";
  /** The tools could not run, the scratch could not start: the drill says why and is inconclusive. */
  unavailable?: { reason: string; fix: string; detail?: string };
  restore?: {
    ok: boolean;
    durationMs: number;
    timedOut: boolean;
    exitCode: number | null;
    /** Redacted tail of what the restore program said. */
    output: string;
    program: string;
  };
  /** Scratch start-up (initdb + start, or redis-server start), not part of the restore time. */
  scratchStartMs?: number;
  postgres?: {
    source?: DatabaseFingerprint;
    restored?: DatabaseFingerprint;
    tables?: TableComparison[];
    extra?: string[];
    /** Why the source could not be read, when it could not. */
    sourceError?: string;
  };
  redis?: {
    sourceKeys?: Record<string, number>;
    restoredKeys?: Record<string, number>;
    sampled?: number;
    mismatched?: string[];
    missingInSource?: number;
    sourceError?: string;
  };
  /** A custom command restored into a folder: nothing Gauntlet can compare. */
  notCompared?: boolean;
  cleanedUp: boolean;
}

export interface DrillRequest {
  service: string;
  kind: string;
  /** The service's URL (with its password; never stored). */
  url: string | undefined;
  artifact: Artifact;
  format: DumpFormat;
  command?: string;
  scratch: "instance" | "database";
  timeoutMs: number;
  /** Writes per table read before the backup ran (PostgreSQL), to tell a changed source from a bad backup. */
  writesBefore?: Record<string, number>;
}

export async function sourceWrites(url: string | undefined): Promise<Record<string, number> | undefined> {
  if (!url) return undefined;
  return tableWrites(url).catch(() => undefined);
}

export async function drillPostgres(ctx: RecoveryContext, request: DrillRequest): Promise<DrillOutcome> {
  const found = await findPostgresTools(ctx.env.PATH ?? process.env.PATH);
  if (!found.ok)
    return {
      target: request.scratch,
      unavailable: { reason: found.reason, fix: found.fix },
      cleanedUp: true,
    };
  const tools = found.tools;
  return request.scratch === "database"
    ? drillIntoDatabase(ctx, tools, request)
    : drillIntoInstance(ctx, tools, request);
}

async function drillIntoInstance(
  ctx: RecoveryContext,
  tools: PostgresTools,
  request: DrillRequest,
): Promise<DrillOutcome> {
  const outcome: DrillOutcome = { target: "instance", cleanedUp: false, postgres: {} };
  let encoding: string | undefined;
  let roles: string[] = [];
  if (request.url) {
    try {
      const client = connect(request.url, ctx.signal);
      await client.connect();
      encoding = (await client.query<{ e: string }>("SELECT current_setting('server_encoding') AS e")).rows[0]
        ?.e;
      await client.end();
      roles = await sourceRoles(request.url);
    } catch (error) {
      outcome.postgres!.sourceError = ctx.secrets.redact((error as Error).message);
    }
  }
  let scratch: Awaited<ReturnType<typeof startScratchPostgres>>;
  try {
    scratch = await startScratchPostgres({ tools, rollbacks: ctx.rollbacks, signal: ctx.signal, encoding });
  } catch (error) {
    if (!(error instanceof ScratchStartError)) throw error;
    return {
      target: "instance",
      unavailable: {
        reason: error.message,
        fix: "see the detail (PostgreSQL's own words)",
        detail: error.detail,
      },
      cleanedUp: true,
    };
  }
  try {
    outcome.scratchStartMs = scratch.startMs;
    const admin = connect(scratch.connection("postgres"), ctx.signal);
    await admin.connect();
    try {
      await admin.query('CREATE DATABASE "restore"');
      // Owners and grants of a plain-SQL dump name the source's roles; without them the first ALTER … OWNER fails.
      for (const role of roles)
        await admin.query(`CREATE ROLE "${role.replace(/"/g, '""')}" NOLOGIN`).catch(() => {});
    } finally {
      await admin.end().catch(() => {});
    }
    const database = request.format === "pg-cluster" ? "postgres" : "restore";
    await runRestore(ctx, tools, request, outcome, scratch.connection(database), scratch.url(database));
    if (outcome.restore?.ok) {
      // A pg_dumpall restores each database under its own name: compare the source's.
      await compare(ctx, request, outcome, (name) =>
        scratch.connection(request.format === "pg-cluster" ? name : database),
      );
    }
  } finally {
    await scratch.stop();
    outcome.cleanedUp = !existsSync(scratch.dir);
  }
  return outcome;
}

async function drillIntoDatabase(
  ctx: RecoveryContext,
  tools: PostgresTools,
  request: DrillRequest,
): Promise<DrillOutcome> {
  const outcome: DrillOutcome = { target: "database", cleanedUp: false, postgres: {} };
  if (!request.url) {
    return {
      target: "database",
      unavailable: { reason: "the service has no url", fix: `set services.${request.service}.url` },
      cleanedUp: true,
    };
  }
  const source = new URL(request.url);
  const name = `gauntlet_restore_${randomBytes(6).toString("hex")}`;
  const admin = connect(request.url, ctx.signal);
  try {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
  } catch (error) {
    await admin.end().catch(() => {});
    return {
      target: "database",
      unavailable: {
        reason: `could not create a scratch database on ${request.service}: ${ctx.secrets.redact((error as Error).message)}`,
        fix: `grant CREATEDB to the spec's user (ALTER ROLE … CREATEDB), or use restoreDrill.scratch: instance`,
      },
      cleanedUp: true,
    };
  }
  await admin.end().catch(() => {});
  const drop = async () => {
    const c = connect(request.url!);
    await c.connect();
    try {
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await c.end().catch(() => {});
    }
  };
  const undo = ctx.rollbacks.add(`drop the scratch database ${name}`, drop);
  try {
    const target = {
      host: decodeURIComponent(source.hostname) || "127.0.0.1",
      port: Number(source.port || 5432),
      user: decodeURIComponent(source.username) || "postgres",
      database: name,
    };
    const scratchUrl = new URL(request.url);
    scratchUrl.pathname = `/${name}`;
    await runRestore(ctx, tools, request, outcome, target, scratchUrl.toString(), {
      PGPASSWORD: decodeURIComponent(source.password),
    });
    if (outcome.restore?.ok) await compare(ctx, request, outcome, () => scratchUrl.toString());
  } finally {
    await undo.runNow();
    outcome.cleanedUp = await databaseGone(request.url, name);
  }
  return outcome;
}

async function currentDatabase(url: string): Promise<string | null> {
  const c = connect(url);
  try {
    await c.connect();
    return (await c.query<{ d: string }>("SELECT current_database() AS d")).rows[0]!.d;
  } catch {
    return null;
  } finally {
    await c.end().catch(() => {});
  }
}

async function databaseGone(url: string, name: string): Promise<boolean> {
  const c = connect(url);
  try {
    await c.connect();
    return (await c.query("SELECT 1 FROM pg_database WHERE datname = $1", [name])).rowCount === 0;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => {});
  }
}

async function runRestore(
  ctx: RecoveryContext,
  tools: PostgresTools,
  request: DrillRequest,
  outcome: DrillOutcome,
  target: { host: string; port: number; user: string; database: string },
  targetUrl: string,
  env: NodeJS.ProcessEnv = {},
): Promise<void> {
  if (request.command) {
    ctx.secrets.addFromUrl(targetUrl);
    const command = fillPlaceholders(request.command, request.artifact.path, targetUrl);
    const result = await runCommand("/bin/sh", ["-c", command], {
      cwd: ctx.specDir,
      env: { ...process.env, ...ctx.env, ...env },
      timeoutMs: request.timeoutMs,
      signal: ctx.signal,
    });
    outcome.restore = {
      ok: result.exitCode === 0 && !result.timedOut && !result.spawnError,
      durationMs: Math.round(result.durationMs),
      timedOut: result.timedOut,
      exitCode: result.exitCode,
      output: tail(ctx.secrets.redact(`${result.stdout}\n${result.stderr}`.trim())),
      program: "restoreDrill.command",
    };
    return;
  }
  const run = await restorePostgres(tools, request.format, request.artifact.path, target, {
    timeoutMs: request.timeoutMs,
    signal: ctx.signal,
    env,
  });
  outcome.restore = {
    ok: restoreSucceeded(run),
    durationMs: run.durationMs,
    timedOut: run.timedOut,
    exitCode: run.exitCode,
    output: tail(ctx.secrets.redact(`${run.stderr}\n${run.stdout}`.trim()) || run.spawnError || ""),
    program: run.program,
  };
}

async function compare(
  ctx: RecoveryContext,
  request: DrillRequest,
  outcome: DrillOutcome,
  restoredFor: (database: string) => PgConnection,
): Promise<void> {
  const pgOutcome = outcome.postgres!;
  if (!request.url) {
    pgOutcome.sourceError = `services.${request.service}.url is not set`;
    return;
  }
  let source: DatabaseFingerprint;
  let rowHash: RowHash = "md5";
  try {
    const sourceName = (await currentDatabase(request.url)) ?? "restore";
    const [a, b] = await Promise.all([hashProbe(request.url), hashProbe(restoredFor(sourceName))]);
    // PostgreSQL's hash is faster than md5 but may differ across versions or byte orders: used only when both agree.
    if (a !== null && a === b) rowHash = "hashtextextended";
    source = await fingerprintDatabase(request.url, ctx.signal, rowHash);
  } catch (error) {
    pgOutcome.sourceError = ctx.secrets.redact((error as Error).message);
    return;
  }
  const restored = await fingerprintDatabase(restoredFor(source.database), ctx.signal, rowHash);
  const after = await sourceWrites(request.url);
  const { tables, extra } = compareFingerprints(source, restored);
  for (const t of tables) {
    if (request.writesBefore && after && t.table in after) {
      t.sourceQuiet = request.writesBefore[t.table] === after[t.table];
    }
  }
  pgOutcome.source = source;
  pgOutcome.restored = restored;
  pgOutcome.tables = tables;
  pgOutcome.extra = extra;
}

export async function drillRedis(ctx: RecoveryContext, request: DrillRequest): Promise<DrillOutcome> {
  const binary = await redisServerPath(ctx.env.PATH ?? process.env.PATH);
  if (!binary) {
    return {
      target: "instance",
      unavailable: { reason: "redis-server is not installed", fix: "apt-get install redis-server" },
      cleanedUp: true,
    };
  }
  const outcome: DrillOutcome = { target: "instance", cleanedUp: false, redis: {} };
  let scratch: Awaited<ReturnType<typeof startScratchRedis>> | undefined;
  try {
    scratch = await startScratchRedis({
      binary,
      artifact: request.artifact.path,
      format: request.format,
      rollbacks: ctx.rollbacks,
      signal: ctx.signal,
      timeoutMs: request.timeoutMs,
    });
    outcome.restore = {
      ok: true,
      durationMs: scratch.loadMs,
      timedOut: false,
      exitCode: 0,
      output: "",
      program: "redis-server",
    };
  } catch (error) {
    if (!(error instanceof RedisLoadError)) throw error;
    outcome.restore = {
      ok: false,
      durationMs: 0,
      timedOut: /time limit/.test(error.message),
      exitCode: null,
      output: `${error.message}\n${error.log}`,
      program: "redis-server",
    };
    outcome.cleanedUp = true;
    return outcome;
  }
  try {
    const restored = scratch.client();
    await restored.connect();
    const restoredKeys = await keyspace(restored);
    outcome.redis!.restoredKeys = restoredKeys;
    if (!request.url) {
      outcome.redis!.sourceError = `services.${request.service}.url is not set`;
    } else {
      const { Redis } = await import("ioredis");
      const source = new Redis(request.url, {
        lazyConnect: true,
        maxRetriesPerRequest: 1,
        connectTimeout: 5_000,
        retryStrategy: () => null,
      });
      source.on("error", () => {});
      try {
        await source.connect();
        outcome.redis!.sourceKeys = await keyspace(source);
        const mismatched: string[] = [];
        let sampled = 0;
        let missingInSource = 0;
        for (const db of Object.keys(restoredKeys)) {
          await restored.select(Number(db));
          await source.select(Number(db));
          for (const key of await sampleKeys(restored, REDIS_SAMPLE)) {
            ctx.signal.throwIfAborted();
            sampled += 1;
            const [a, b] = [await valueDigest(restored, key), await valueDigest(source, key)];
            if (b === null) missingInSource += 1;
            else if (a !== b) mismatched.push(`db${db}:${key.slice(0, 80)}`);
          }
        }
        Object.assign(outcome.redis!, { sampled, mismatched, missingInSource });
      } catch (error) {
        outcome.redis!.sourceError = ctx.secrets.redact((error as Error).message);
      } finally {
        source.disconnect();
      }
    }
    restored.disconnect();
  } finally {
    await scratch.stop();
    outcome.cleanedUp = !existsSync(scratch.dir);
  }
  return outcome;
}

/** A custom restore for another engine: {{backup}} and {{target}} (a private scratch folder); judged by its exit. */
export async function drillWithCommand(ctx: RecoveryContext, request: DrillRequest): Promise<DrillOutcome> {
  const { mkdtemp, rm } = await import("node:fs/promises");
  const { tmpdir } = await import("node:os");
  const path = await import("node:path");
  const dir = await mkdtemp(path.join(tmpdir(), "gauntlet-restore-"));
  const undo = ctx.rollbacks.add(
    "remove the restore drill's scratch folder",
    () => rm(dir, { recursive: true, force: true }),
    {
      kind: "removeScratch",
      dir,
      what: "a restore drill's scratch folder",
    },
  );
  const outcome: DrillOutcome = { target: "folder", cleanedUp: false, notCompared: true };
  try {
    const result = await runCommand(
      "/bin/sh",
      ["-c", fillPlaceholders(request.command!, request.artifact.path, dir)],
      {
        cwd: ctx.specDir,
        env: { ...process.env, ...ctx.env },
        timeoutMs: request.timeoutMs,
        signal: ctx.signal,
      },
    );
    outcome.restore = {
      ok: result.exitCode === 0 && !result.timedOut && !result.spawnError,
      durationMs: Math.round(result.durationMs),
      timedOut: result.timedOut,
      exitCode: result.exitCode,
      output: tail(ctx.secrets.redact(`${result.stdout}\n${result.stderr}`.trim())),
      program: "restoreDrill.command",
    };
  } finally {
    await undo.runNow();
    outcome.cleanedUp = !existsSync(dir);
  }
  return outcome;
}

/** {{backup}} and {{target}}, shell-quoted, so a path with spaces or quotes stays one word. */
export function fillPlaceholders(command: string, backup: string, target: string): string {
  const quote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
  return command.replaceAll("{{backup}}", quote(backup)).replaceAll("{{target}}", quote(target));
}
