// What a PostgreSQL server is configured and observed to do with its WAL, read from the server itself: the settings
// that decide whether a committed transaction leaves the host (archive_mode/command/library/timeout, wal_level,
// synchronous_commit and standby names, fsync), the archiver's own statistics (pg_stat_archiver) and the standbys
// streaming from it (pg_stat_replication, sampled a few times so one idle moment does not stand for the lag). Ages are
// computed by the server (`now() - …`), so the clocks of this machine and the server's never mix.
import pg from "pg";
import { type AuthFailure, authFailureOf, urlHasPassword } from "../datastores/authFailure.js";

const SETTINGS = [
  "archive_mode",
  "archive_command",
  "archive_library",
  "archive_timeout",
  "wal_level",
  "synchronous_commit",
  "synchronous_standby_names",
  "fsync",
  "wal_writer_delay",
  "wal_segment_size",
] as const;
export type PostgresSetting = (typeof SETTINGS)[number];

export interface PostgresArchiver {
  archivedCount: number;
  lastArchivedWal: string | null;
  lastArchivedAgeMs: number | null;
  failedCount: number;
  lastFailedWal: string | null;
  lastFailedAgeMs: number | null;
  statsResetAgeMs: number | null;
}

export interface PostgresReplica {
  name: string;
  clientAddr: string | null;
  /** null when the URL's user may not see it (needs superuser or pg_monitor). */
  state: string | null;
  syncState: string | null;
  /** The largest value over the samples, ms; null when PostgreSQL reports none (idle and caught up, or hidden). */
  writeLagMs: number | null;
  flushLagMs: number | null;
  replayLagMs: number | null;
  /** Bytes of WAL the standby has not flushed yet (largest over the samples). */
  flushLagBytes: number | null;
}

export interface PostgresRpoFacts {
  version: string;
  inRecovery: boolean;
  /** Settings as pg_settings shows them, in their base units (archive_timeout in s, wal_writer_delay in ms); a
   * setting this server version lacks (archive_library before 15) is null. */
  settings: Partial<Record<PostgresSetting, string | null>>;
  archiver: PostgresArchiver | null;
  /** WAL written after the end of the last archived segment, bytes (null when it cannot be told). */
  unarchivedWalBytes: number | null;
  replicas: PostgresReplica[];
  /** How many times pg_stat_replication was read, and over how long. */
  replicationSamples: { count: number; overMs: number };
}

export type PostgresRpoRead =
  | { ok: true; facts: PostgresRpoFacts }
  | { ok: false; stage: "connect" | "query"; error: string; code?: string; auth?: AuthFailure };

export interface PostgresRpoOptions {
  timeoutMs?: number;
  /** Samples of pg_stat_replication when standbys stream (default 3, 1 s apart). */
  replicationSamples?: number;
  sampleIntervalMs?: number;
  signal?: AbortSignal;
}

export async function readPostgresRecoveryPoint(
  url: string,
  options: PostgresRpoOptions = {},
): Promise<PostgresRpoRead> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    application_name: "gauntlet-rpo",
  });
  client.on("error", () => {});
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => {});
    return failure("connect", error, url);
  }
  try {
    return { ok: true, facts: await readFacts(client, options) };
  } catch (error) {
    return failure("query", error, url);
  } finally {
    await client.end().catch(() => {});
  }
}

async function readFacts(client: pg.Client, options: PostgresRpoOptions): Promise<PostgresRpoFacts> {
  const head = await client.query<{ version: string; in_recovery: boolean }>(
    "SELECT current_setting('server_version') AS version, pg_is_in_recovery() AS in_recovery",
  );
  const { version, in_recovery: inRecovery } = head.rows[0]!;
  const rows = await client.query<{ name: PostgresSetting; setting: string | null }>(
    "SELECT name, setting FROM pg_settings WHERE name = ANY($1)",
    [SETTINGS],
  );
  const settings: PostgresRpoFacts["settings"] = Object.fromEntries(SETTINGS.map((s) => [s, null]));
  for (const row of rows.rows) settings[row.name] = row.setting;

  const archiverRows = await client.query(
    `SELECT archived_count::bigint AS archived_count, last_archived_wal,
            extract(epoch FROM now() - last_archived_time) * 1000 AS last_archived_age_ms,
            failed_count::bigint AS failed_count, last_failed_wal,
            extract(epoch FROM now() - last_failed_time) * 1000 AS last_failed_age_ms,
            extract(epoch FROM now() - stats_reset) * 1000 AS stats_reset_age_ms
       FROM pg_stat_archiver`,
  );
  const a = archiverRows.rows[0];
  const archiver: PostgresArchiver | null = a
    ? {
        archivedCount: Number(a.archived_count),
        lastArchivedWal: a.last_archived_wal,
        lastArchivedAgeMs: msOrNull(a.last_archived_age_ms),
        failedCount: Number(a.failed_count),
        lastFailedWal: a.last_failed_wal,
        lastFailedAgeMs: msOrNull(a.last_failed_age_ms),
        statsResetAgeMs: msOrNull(a.stats_reset_age_ms),
      }
    : null;

  let unarchivedWalBytes: number | null = null;
  if (!inRecovery && archiver?.lastArchivedWal) {
    const end = segmentEnd(archiver.lastArchivedWal, Number(settings.wal_segment_size));
    if (end !== null) {
      const current = await client.query<{ lsn: string }>("SELECT pg_current_wal_lsn()::text AS lsn");
      const lsn = parseLsn(current.rows[0]!.lsn);
      if (lsn !== null) unarchivedWalBytes = Number(lsn > end ? lsn - end : 0n);
    }
  }

  const { replicas, count, overMs } = await sampleReplication(client, inRecovery, options);
  return {
    version,
    inRecovery,
    settings,
    archiver,
    unarchivedWalBytes,
    replicas,
    replicationSamples: { count, overMs },
  };
}

const REPLICATION_COLUMNS = `SELECT coalesce(application_name, '') AS name, host(client_addr) AS client_addr, state,
       sync_state, extract(epoch FROM write_lag) * 1000 AS write_lag_ms, extract(epoch FROM flush_lag) * 1000 AS flush_lag_ms,
       extract(epoch FROM replay_lag) * 1000 AS replay_lag_ms, pid`;
const REPLICATION_ON_PRIMARY = `${REPLICATION_COLUMNS},
       pg_wal_lsn_diff(pg_current_wal_lsn(), flush_lsn) AS flush_lag_bytes FROM pg_stat_replication ORDER BY pid`;
const REPLICATION_ON_STANDBY = `${REPLICATION_COLUMNS}, NULL::numeric AS flush_lag_bytes FROM pg_stat_replication ORDER BY pid`;

async function sampleReplication(
  client: pg.Client,
  inRecovery: boolean,
  options: PostgresRpoOptions,
): Promise<{ replicas: PostgresReplica[]; count: number; overMs: number }> {
  // On a standby pg_current_wal_lsn() fails; cascading standbys are its own business.
  const query = inRecovery ? REPLICATION_ON_STANDBY : REPLICATION_ON_PRIMARY;
  const wanted = Math.max(1, options.replicationSamples ?? 3);
  const interval = options.sampleIntervalMs ?? 1_000;
  const started = Date.now();
  const byPid = new Map<number, PostgresReplica>();
  let count = 0;
  for (let i = 0; i < wanted; i++) {
    if (i > 0) {
      if (options.signal?.aborted) break;
      await new Promise((resolve) => setTimeout(resolve, interval));
    }
    const result = await client.query(query);
    count++;
    for (const row of result.rows) {
      const seen = byPid.get(row.pid);
      const sample: PostgresReplica = {
        name: row.name,
        clientAddr: row.client_addr,
        state: row.state,
        syncState: row.sync_state,
        writeLagMs: msOrNull(row.write_lag_ms),
        flushLagMs: msOrNull(row.flush_lag_ms),
        replayLagMs: msOrNull(row.replay_lag_ms),
        flushLagBytes: row.flush_lag_bytes === null ? null : Math.max(0, Number(row.flush_lag_bytes)),
      };
      byPid.set(row.pid, seen ? worse(seen, sample) : sample);
    }
    if (result.rows.length === 0) break; // nothing streams: one read is the answer
  }
  return { replicas: [...byPid.values()], count, overMs: Date.now() - started };
}

/** The worse of two samples of one standby: the larger lags, the latest state. */
function worse(a: PostgresReplica, b: PostgresReplica): PostgresReplica {
  const max = (x: number | null, y: number | null) => (x === null ? y : y === null ? x : Math.max(x, y));
  return {
    ...b,
    writeLagMs: max(a.writeLagMs, b.writeLagMs),
    flushLagMs: max(a.flushLagMs, b.flushLagMs),
    replayLagMs: max(a.replayLagMs, b.replayLagMs),
    flushLagBytes: max(a.flushLagBytes, b.flushLagBytes),
  };
}

/** `X/Y` (hex) → a byte position. */
export function parseLsn(text: string): bigint | null {
  const match = /^([0-9A-F]+)\/([0-9A-F]+)$/i.exec(text.trim());
  if (!match) return null;
  return (BigInt(`0x${match[1]}`) << 32n) + BigInt(`0x${match[2]}`);
}

/**
 * The byte position just past a WAL segment, from its file name (TTTTTTTT XXXXXXXX YYYYYYYY: timeline, then the
 * segment number split at 4 GiB); null for history, backup-label and partial files, whose names say no such thing.
 */
export function segmentEnd(walFile: string, segmentBytes: number): bigint | null {
  const match = /^[0-9A-F]{8}([0-9A-F]{8})([0-9A-F]{8})$/i.exec(walFile);
  if (!match || !Number.isFinite(segmentBytes) || segmentBytes <= 0) return null;
  const size = BigInt(segmentBytes);
  const perLogical = 0x1_0000_0000n / size;
  const segment = BigInt(`0x${match[1]}`) * perLogical + BigInt(`0x${match[2]}`);
  return (segment + 1n) * size;
}

function msOrNull(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  const n = Number(value);
  return Number.isFinite(n) ? Math.max(0, Math.round(n)) : null;
}

function failure(stage: "connect" | "query", error: unknown, url: string): PostgresRpoRead {
  const e = error as { message?: string; code?: string };
  const auth = authFailureOf(e, urlHasPassword(url));
  return {
    ok: false,
    stage,
    error: e?.message ?? String(error),
    ...(e?.code ? { code: String(e.code) } : {}),
    ...(auth ? { auth } : {}),
  };
}
