// The recovery point a datastore's configuration gives, from what was read off the server and its backup files (pure:
// the same facts give the same estimate). Each way a committed write can survive the loss of the server is a
// mechanism with its own worst-case loss window; the RPO is the best mechanism that works. PostgreSQL: a synchronous
// standby (≈ 0), an asynchronous one (its measured lag), WAL archiving (archive_timeout, or the age of the last
// archived segment when WAL waits behind it), backups (newest artifact's age, or the largest gap between artifacts).
// Redis: the AOF by its fsync policy (always ≈ 0, everysec 1 s, no = the kernel's writeback), RDB by its save
// schedule, backups. A mechanism that is configured but broken never counts, and says why.
import type { BackupArtifacts } from "./rpoArtifacts.js";
import type { PostgresRpoFacts } from "./rpoPostgres.js";
import type { RedisRpoFacts } from "./rpoRedis.js";

export type MechanismName = "syncReplica" | "asyncReplica" | "walArchive" | "backup" | "aof" | "rdb";

export interface Mechanism {
  name: MechanismName;
  /** working: it bounds the loss; broken: configured but not doing its job; unproven: cannot be told from here. */
  state: "working" | "broken" | "unproven";
  /** Worst-case loss window it leaves, ms; null when it is not bounded in time (or, unproven, not known). */
  rpoMs: number | null;
  /** What would be lost right now (measured), ms, when known: a lower bound of the worst case. */
  exposureMs?: number;
  /** One sentence: what was read and what it means. */
  detail: string;
  /** Why a working mechanism's figure is weaker than it looks (one artifact, a lag sampled when idle). */
  caveat?: string;
}

/** A setting that loses committed transactions on a crash of the server itself, with its disk intact. */
export interface CrashLoss {
  setting: "fsync" | "synchronous_commit";
  severity: "fail" | "warn";
  /** Loss window it adds, ms, when bounded. */
  lossMs: number | null;
  detail: string;
}

export interface RpoEstimate {
  mechanisms: Mechanism[];
  /** The working mechanism with the smallest bounded window. */
  best: Mechanism | null;
  crashLoss: CrashLoss[];
}

const SYNC_COMMITS = new Set(["on", "remote_write", "remote_apply"]);
/** Linux defaults (dirty_expire_centisecs 3000, dirty_writeback_centisecs 500) when the host cannot be read. */
const LINUX_WRITEBACK = { expireMs: 30_000, intervalMs: 5_000 };

export function estimatePostgresRpo(facts: PostgresRpoFacts, backups: BackupArtifacts[]): RpoEstimate {
  const mechanisms: Mechanism[] = [
    ...replicaMechanisms(facts),
    ...archiveMechanisms(facts),
    ...backupMechanisms(backups),
  ];
  return { mechanisms, best: bestOf(mechanisms), crashLoss: postgresCrashLoss(facts) };
}

function replicaMechanisms(facts: PostgresRpoFacts): Mechanism[] {
  if (facts.replicas.length === 0) return [];
  const commit = facts.settings.synchronous_commit ?? "on";
  const hidden = facts.replicas.filter((r) => r.state === null);
  const streaming = facts.replicas.filter((r) => r.state === "streaming");
  const out: Mechanism[] = [];
  if (hidden.length > 0) {
    out.push({
      name: "asyncReplica",
      state: "unproven",
      rpoMs: null,
      detail: `${hidden.length} standby connection(s) in pg_stat_replication whose state and lag the URL's user may not read (needs superuser or pg_monitor)`,
    });
  }
  const notStreaming = facts.replicas.filter((r) => r.state !== null && r.state !== "streaming");
  for (const r of notStreaming) {
    out.push({
      name: "asyncReplica",
      state: "broken",
      rpoMs: null,
      detail: `standby ${label(r.name, r.clientAddr)} is ${r.state}, not streaming`,
    });
  }
  const sync = streaming.filter((r) => r.syncState === "sync" || r.syncState === "quorum");
  if (sync.length > 0 && SYNC_COMMITS.has(commit)) {
    const r = sync[0]!;
    out.push({
      name: "syncReplica",
      state: "working",
      rpoMs: 0,
      detail: `standby ${label(r.name, r.clientAddr)} is ${r.syncState} and synchronous_commit = ${commit}: a commit returns only once the standby has it`,
    });
  }
  const asyncOnes = streaming.filter((r) => !(sync.includes(r) && SYNC_COMMITS.has(commit)));
  const lags = asyncOnes.map((r) => ({
    r,
    lag: r.flushLagMs ?? r.writeLagMs ?? r.replayLagMs ?? (r.flushLagBytes === 0 ? 0 : null),
  }));
  const known = lags.filter((l) => l.lag !== null).sort((a, b) => a.lag! - b.lag!);
  if (known.length > 0) {
    const { r, lag } = known[0]!;
    const why =
      r.syncState === "sync" || r.syncState === "quorum"
        ? `${r.syncState}, but synchronous_commit = ${commit} does not wait for it`
        : (r.syncState ?? "async");
    out.push({
      name: "asyncReplica",
      state: "working",
      rpoMs: lag!,
      exposureMs: lag!,
      detail: `standby ${label(r.name, r.clientAddr)} streams (${why}) with a flush lag of ${lag} ms${r.flushLagBytes !== null ? ` (${r.flushLagBytes} bytes behind)` : ""}`,
      caveat:
        "an asynchronous standby's lag is what was sampled now; it grows with the write rate and when the network slows",
    });
  } else if (lags.length > 0) {
    const { r } = lags[0]!;
    out.push({
      name: "asyncReplica",
      state: "unproven",
      rpoMs: null,
      detail: `standby ${label(r.name, r.clientAddr)} streams, but PostgreSQL reported no lag for it`,
    });
  }
  return out;
}

function label(name: string, addr: string | null): string {
  return `${name || "(unnamed)"}${addr ? ` at ${addr}` : ""}`;
}

/** An archive_command that succeeds without copying anything (the usual way to "turn archiving off"). */
export function isNoopArchiveCommand(command: string): boolean {
  return /^\s*(?:(?:\/usr)?\/bin\/)?(?:true|:|exit\s+0)\s*;?\s*$/.test(command);
}

function archiveMechanisms(facts: PostgresRpoFacts): Mechanism[] {
  const s = facts.settings;
  const mode = s.archive_mode ?? "off";
  if (mode !== "on" && mode !== "always") return [];
  if (facts.inRecovery && mode === "on") return []; // a standby archives only with `always`
  const library = (s.archive_library ?? "").trim();
  const command = (s.archive_command ?? "").trim();
  const how = library ? `archive_library ${library}` : `archive_command '${command}'`;
  const broken = (detail: string): Mechanism[] => [
    { name: "walArchive", state: "broken", rpoMs: null, detail },
  ];
  if (!library && (command === "" || command === "(disabled)")) {
    return broken(
      `archive_mode = ${mode} with no archive_command or archive_library: WAL piles up in pg_wal and nothing leaves the host`,
    );
  }
  if (!library && isNoopArchiveCommand(command)) {
    return broken(
      `archive_mode = ${mode}, but ${how} reports success without copying anything: no WAL leaves the host`,
    );
  }
  const a = facts.archiver;
  const timeoutMs = Number(s.archive_timeout ?? "0") * 1000;
  if (!a)
    return [{ name: "walArchive", state: "unproven", rpoMs: null, detail: "pg_stat_archiver is empty" }];
  const failingNow =
    a.lastFailedAgeMs !== null && (a.lastArchivedAgeMs === null || a.lastFailedAgeMs < a.lastArchivedAgeMs);
  if (failingNow) {
    return [
      {
        name: "walArchive",
        state: "broken",
        rpoMs: null,
        ...(a.lastArchivedAgeMs !== null ? { exposureMs: a.lastArchivedAgeMs } : {}),
        detail: `${how} is failing: ${a.failedCount} failure(s), the last ${seconds(a.lastFailedAgeMs!)} ago (${a.lastFailedWal}) and ${a.lastArchivedAgeMs === null ? "no success since statistics were reset" : `the last success ${seconds(a.lastArchivedAgeMs)} ago`}`,
      },
    ];
  }
  if (a.lastArchivedAgeMs === null || a.archivedCount === 0) {
    return [
      {
        name: "walArchive",
        state: "unproven",
        rpoMs: timeoutMs > 0 ? timeoutMs : null,
        detail: `${how} is configured but has not archived a segment${a.statsResetAgeMs !== null ? ` in the ${seconds(a.statsResetAgeMs)} since its statistics were reset` : ""} (no failure either)`,
      },
    ];
  }
  const pending = facts.unarchivedWalBytes === null ? null : facts.unarchivedWalBytes > 0;
  const exposure = pending === true ? a.lastArchivedAgeMs : pending === false ? 0 : undefined;
  const last = `last segment ${a.lastArchivedWal} archived ${seconds(a.lastArchivedAgeMs)} ago`;
  const waiting =
    pending === true
      ? `, ${facts.unarchivedWalBytes} bytes of WAL written since wait for the next one`
      : pending === false
        ? ", nothing written since"
        : "";
  if (timeoutMs <= 0) {
    return [
      {
        name: "walArchive",
        state: "working",
        rpoMs: null,
        ...(exposure !== undefined ? { exposureMs: exposure } : {}),
        detail: `${how} works (${last}${waiting}), but archive_timeout = 0: a segment is archived only once 16 MB of WAL fill it, so a quiet database's last writes may wait for hours`,
      },
    ];
  }
  const rpo = Math.max(timeoutMs, exposure ?? 0);
  const stuck = exposure !== undefined && exposure > timeoutMs;
  return [
    {
      name: "walArchive",
      state: "working",
      rpoMs: rpo,
      ...(exposure !== undefined ? { exposureMs: exposure } : {}),
      detail: `${how} works with archive_timeout = ${seconds(timeoutMs)} (${last}${waiting})${stuck ? `: WAL has waited longer than archive_timeout, so the archive is behind by ${seconds(exposure!)}` : ""}`,
    },
  ];
}

function backupMechanisms(backups: BackupArtifacts[]): Mechanism[] {
  return backups.map((b): Mechanism => {
    const newest = b.newest[0];
    if (!newest) {
      return {
        name: "backup",
        state: "broken",
        rpoMs: null,
        detail: b.error
          ? `recovery.backups path ${b.path}: ${b.error}`
          : b.matched === 0
            ? `recovery.backups path ${b.path} matches no file`
            : `recovery.backups path ${b.path} matches ${b.matched} file(s), all empty`,
      };
    }
    const gaps = b.newest.slice(1).map((older, i) => older.ageMs - b.newest[i]!.ageMs);
    const widest = gaps.length > 0 ? Math.max(...gaps) : 0;
    const rpo = Math.max(newest.ageMs, widest);
    const schedule =
      gaps.length > 0
        ? `; the widest gap between the ${b.newest.length} newest artifacts is ${seconds(widest)}`
        : "";
    return {
      name: "backup",
      state: "working",
      rpoMs: rpo,
      exposureMs: newest.ageMs,
      detail: `newest backup ${newest.file} (${newest.bytes} bytes) is ${seconds(newest.ageMs)} old${schedule}`,
      ...(gaps.length === 0
        ? {
            caveat: `only one artifact matches ${b.path}, so the time between backups could not be measured (the next one may be far off)`,
          }
        : {}),
    };
  });
}

function postgresCrashLoss(facts: PostgresRpoFacts): CrashLoss[] {
  const out: CrashLoss[] = [];
  if (facts.settings.fsync === "off") {
    out.push({
      setting: "fsync",
      severity: "fail",
      lossMs: null,
      detail:
        "fsync = off: PostgreSQL never forces its WAL to disk, so an OS crash or power loss can lose committed transactions and corrupt the cluster",
    });
  }
  if (facts.settings.synchronous_commit === "off") {
    const delay = Number(facts.settings.wal_writer_delay ?? "200");
    const loss = 3 * (Number.isFinite(delay) ? delay : 200);
    out.push({
      setting: "synchronous_commit",
      severity: "warn",
      lossMs: loss,
      detail: `synchronous_commit = off: a commit returns before its WAL is flushed, so a crash loses up to 3 × wal_writer_delay = ${loss} ms of committed transactions`,
    });
  }
  return out;
}

/** `save` as Redis prints it ("3600 1 300 100"): pairs of seconds and changes; "" = no snapshots. */
export function parseSaveSchedule(text: string): { seconds: number; changes: number }[] | null {
  const parts = text.trim().split(/\s+/).filter(Boolean);
  if (parts.length % 2 !== 0) return null;
  const rules: { seconds: number; changes: number }[] = [];
  for (let i = 0; i < parts.length; i += 2) {
    const seconds = Number(parts[i]);
    const changes = Number(parts[i + 1]);
    if (!Number.isInteger(seconds) || !Number.isInteger(changes) || seconds <= 0 || changes <= 0) return null;
    rules.push({ seconds, changes });
  }
  return rules;
}

export function estimateRedisRpo(facts: RedisRpoFacts, backups: BackupArtifacts[]): RpoEstimate {
  const mechanisms: Mechanism[] = [
    ...aofMechanisms(facts),
    ...rdbMechanisms(facts),
    ...backupMechanisms(backups),
  ];
  return { mechanisms, best: bestOf(mechanisms), crashLoss: [] };
}

/** A store whose own settings Gauntlet cannot read: its backup files are all there is. */
export function estimateFromBackups(backups: BackupArtifacts[]): RpoEstimate {
  const mechanisms = backupMechanisms(backups);
  return { mechanisms, best: bestOf(mechanisms), crashLoss: [] };
}

function aofMechanisms(facts: RedisRpoFacts): Mechanism[] {
  const p = facts.persistence;
  const enabled = facts.config ? facts.config.appendonly === "yes" : p.aofEnabled === true;
  if (!enabled) return [];
  if (p.aofLastWriteStatus === "err") {
    return [
      {
        name: "aof",
        state: "broken",
        rpoMs: null,
        detail:
          "appendonly yes, but aof_last_write_status is err: the append-only file cannot be written (Redis refuses writes while it lasts)",
      },
    ];
  }
  const policy = facts.config?.appendfsync ?? null;
  if (policy === "always") {
    return [
      {
        name: "aof",
        state: "working",
        rpoMs: 0,
        detail: "appendonly yes, appendfsync always: every write is fsynced before Redis answers",
      },
    ];
  }
  if (policy === "everysec") {
    return [
      {
        name: "aof",
        state: "working",
        rpoMs: 1_000,
        detail:
          "appendonly yes, appendfsync everysec: the AOF is fsynced every second, so a crash loses up to 1 s of writes (up to 2 s while a slow fsync is pending)",
      },
    ];
  }
  if (policy === "no") {
    const wb = facts.osWriteback ?? LINUX_WRITEBACK;
    const source = facts.osWriteback
      ? "this host's /proc/sys/vm"
      : "Linux defaults, the host could not be read";
    if (wb.intervalMs <= 0) {
      return [
        {
          name: "aof",
          state: "working",
          rpoMs: null,
          detail: `appendonly yes, appendfsync no, and periodic writeback is off (dirty_writeback_centisecs = 0, ${source}): writes reach the disk only under memory pressure`,
        },
      ];
    }
    return [
      {
        name: "aof",
        state: "working",
        rpoMs: wb.expireMs + wb.intervalMs,
        detail: `appendonly yes, appendfsync no: the kernel writes the AOF back when its pages are ${seconds(wb.expireMs)} old, checked every ${seconds(wb.intervalMs)} (${source}), so an OS crash loses up to ${seconds(wb.expireMs + wb.intervalMs)}`,
      },
    ];
  }
  return [
    {
      name: "aof",
      state: "unproven",
      rpoMs: null,
      detail: `the AOF is on (INFO aof_enabled:1) but its fsync policy could not be read${facts.configError ? ` (CONFIG GET: ${facts.configError})` : ""}`,
    },
  ];
}

function rdbMechanisms(facts: RedisRpoFacts): Mechanism[] {
  const p = facts.persistence;
  const pending = p.rdbChangesSinceLastSave;
  const exposure =
    pending !== null && p.rdbLastSaveAgeMs !== null ? (pending > 0 ? p.rdbLastSaveAgeMs : 0) : undefined;
  const waiting =
    pending === null
      ? ""
      : pending > 0
        ? `; ${pending} change(s) since the last save ${seconds(p.rdbLastSaveAgeMs ?? 0)} ago`
        : "; no change since the last save";
  if (!facts.config) {
    if (p.rdbLastBgsaveStatus === "err") {
      return [
        {
          name: "rdb",
          state: "broken",
          rpoMs: null,
          ...(exposure !== undefined ? { exposureMs: exposure } : {}),
          detail: `the last RDB save failed (rdb_last_bgsave_status:err)${waiting}`,
        },
      ];
    }
    return [
      {
        name: "rdb",
        state: "unproven",
        rpoMs: null,
        ...(exposure !== undefined ? { exposureMs: exposure } : {}),
        detail: `the save schedule could not be read (CONFIG GET: ${facts.configError ?? "no answer"})${waiting}`,
      },
    ];
  }
  const schedule = facts.config.save ?? "";
  const rules = parseSaveSchedule(schedule);
  if (rules === null) {
    return [
      {
        name: "rdb",
        state: "unproven",
        rpoMs: null,
        detail: `the save schedule '${schedule}' could not be parsed`,
      },
    ];
  }
  if (rules.length === 0) return [];
  if (p.rdbLastBgsaveStatus === "err") {
    return [
      {
        name: "rdb",
        state: "broken",
        rpoMs: null,
        ...(exposure !== undefined ? { exposureMs: exposure } : {}),
        detail: `save '${schedule}', but the last RDB save failed (rdb_last_bgsave_status:err)${waiting}`,
      },
    ];
  }
  // The snapshot after a lone write fires on the rule that needs the fewest changes: its seconds are the worst case.
  const fewest = Math.min(...rules.map((r) => r.changes));
  const worst = Math.min(...rules.filter((r) => r.changes === fewest).map((r) => r.seconds)) * 1000;
  const rpo = Math.max(worst, exposure ?? 0);
  if (fewest > 1) {
    return [
      {
        name: "rdb",
        state: "working",
        rpoMs: null,
        ...(exposure !== undefined ? { exposureMs: exposure } : {}),
        detail: `save '${schedule}': no rule fires for fewer than ${fewest} changes, so up to ${fewest - 1} write(s) may wait for a snapshot indefinitely${waiting}`,
      },
    ];
  }
  return [
    {
      name: "rdb",
      state: "working",
      rpoMs: rpo,
      ...(exposure !== undefined ? { exposureMs: exposure } : {}),
      detail: `save '${schedule}': a write waits up to ${seconds(worst)} for the next snapshot (the rule for ${fewest} change)${waiting}${exposure !== undefined && exposure > worst ? ", longer than the schedule allows" : ""}`,
    },
  ];
}

function bestOf(mechanisms: Mechanism[]): Mechanism | null {
  const bounded = mechanisms.filter((m) => m.state === "working" && m.rpoMs !== null);
  if (bounded.length === 0) return null;
  // A figure with a caveat (one backup: the next may be far off) never outranks a bound that holds without one.
  const sure = bounded.filter((m) => !m.caveat);
  const pool = sure.length > 0 ? sure : bounded;
  return pool.reduce((a, b) => (b.rpoMs! < a.rpoMs! ? b : a));
}

function seconds(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${Math.round(ms / 100) / 10} s`;
  if (ms < 2 * 3_600_000) return `${Math.round(ms / 6_000) / 10} min`;
  if (ms < 2 * 86_400_000) return `${Math.round(ms / 360_000) / 10} h`;
  return `${Math.round(ms / 8_640_000) / 10} d`;
}

export { seconds as formatLoss };
