// The embedded history store: one SQLite file, WAL so readers (the dashboard) never block a run saving its result.
import Database from "better-sqlite3";
import type { Assessment, Verdict } from "../core/assessment.js";
import { UserError } from "../errors.js";
import { BOOTSTRAP_SQL, pendingMigrations } from "./migrations.js";
import {
  checkColumns,
  type HistoryStore,
  normaliseLimit,
  normaliseOffset,
  parseRunRef,
  type RunFilter,
  type RunSummary,
  resolveRunRef,
  runColumns,
} from "./store.js";

/** How long a writer waits for another process's lock before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 10_000;

/** SQLite failures a user causes by pointing --store at the wrong place. */
const USER_ERROR_CODES = new Set(["SQLITE_CANTOPEN", "SQLITE_NOTADB", "SQLITE_READONLY", "SQLITE_PERM"]);

interface SummaryRow {
  run_id: string;
  system: string;
  verdict: string;
  overall: number | null;
  coverage: number;
  started_at: string;
  duration_ms: number;
  revision_kind: string;
  revision_digest: string;
  checks: number;
  failed: number;
  unverified: number;
}

const SUMMARY_COLUMNS = `r.run_id, r.system, r.verdict, r.overall, r.coverage, r.started_at, r.duration_ms,
  r.revision_kind, r.revision_digest,
  (SELECT COUNT(*) FROM check_results c WHERE c.run_id = r.run_id) AS checks,
  (SELECT COUNT(*) FROM check_results c WHERE c.run_id = r.run_id AND c.status = 'FAIL') AS failed,
  (SELECT COUNT(*) FROM check_results c WHERE c.run_id = r.run_id AND c.status IN ('UNVERIFIED', 'ERROR'))
    AS unverified`;

const NEWEST_FIRST = "ORDER BY r.started_at DESC, r.run_id DESC";

export function openSqliteStore(file: string): HistoryStore {
  let db: Database.Database | undefined;
  try {
    db = new Database(file);
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma("foreign_keys = ON");
    migrate(db, file);
    return new SqliteHistoryStore(db);
  } catch (error) {
    db?.close();
    const code = (error as { code?: unknown }).code;
    if (typeof code === "string" && USER_ERROR_CODES.has(code)) {
      throw new UserError(
        `Cannot open the history database ${file}: ${(error as Error).message}. ` +
          "Pass --store with the path of a writable SQLite file or a postgres:// URL.",
      );
    }
    throw error;
  }
}

function migrate(db: Database.Database, file: string): void {
  // One transaction per step; IMMEDIATE takes the write lock before reading the versions, so two processes opening
  // a new file cannot both apply the same step.
  const applyNext = db.transaction((): boolean => {
    db.exec(BOOTSTRAP_SQL.sqlite);
    const applied = db.prepare("SELECT version FROM schema_migrations").pluck().all() as number[];
    const next = pendingMigrations(applied, file)[0];
    if (!next) return false;
    for (const statement of next.sql.sqlite) db.exec(statement);
    db.prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)").run(
      next.version,
      new Date().toISOString(),
    );
    return true;
  });
  while (applyNext.immediate()) {
    // applied one step; look for the next
  }
}

class SqliteHistoryStore implements HistoryStore {
  readonly #db: Database.Database;
  readonly #save: (a: Assessment) => void;

  constructor(db: Database.Database) {
    this.#db = db;
    const upsertRun = db.prepare(
      `INSERT INTO runs (run_id, system, system_version, verdict, overall, coverage, started_at, finished_at,
         duration_ms, revision_kind, revision_digest, spec_path, tool_version, assessment)
       VALUES (@runId, @system, @systemVersion, @verdict, @overall, @coverage, @startedAt, @finishedAt,
         @durationMs, @revisionKind, @revisionDigest, @specPath, @toolVersion, @assessment)
       ON CONFLICT (run_id) DO UPDATE SET system = excluded.system, system_version = excluded.system_version,
         verdict = excluded.verdict, overall = excluded.overall, coverage = excluded.coverage,
         started_at = excluded.started_at, finished_at = excluded.finished_at, duration_ms = excluded.duration_ms,
         revision_kind = excluded.revision_kind, revision_digest = excluded.revision_digest,
         spec_path = excluded.spec_path, tool_version = excluded.tool_version, assessment = excluded.assessment`,
    );
    const deleteChecks = db.prepare("DELETE FROM check_results WHERE run_id = ?");
    const insertCheck = db.prepare(
      `INSERT INTO check_results (run_id, check_id, category, risk, status, duration_ms)
       VALUES (@runId, @checkId, @category, @risk, @status, @durationMs)`,
    );
    this.#save = db.transaction((a: Assessment) => {
      upsertRun.run({ ...runColumns(a), assessment: JSON.stringify(a) });
      deleteChecks.run(a.runId);
      for (const check of checkColumns(a)) insertCheck.run({ runId: a.runId, ...check });
    });
  }

  async save(a: Assessment): Promise<void> {
    this.#save(a);
  }

  async get(runIdOrPrefix: string): Promise<Assessment | undefined> {
    const ref = parseRunRef(runIdOrPrefix);
    if (ref.kind === "latest") return this.latest(undefined, ref.offset);
    const exact = this.#db.prepare("SELECT assessment FROM runs WHERE run_id = ?").pluck().get(ref.prefix);
    if (typeof exact === "string") return JSON.parse(exact) as Assessment;
    // A prefix of the id or of its random part (the short id history shows), matched in store.ts for every backend.
    const runId = resolveRunRef(await this.runIds(), ref.prefix);
    if (runId === undefined) return undefined;
    const text = this.#db.prepare("SELECT assessment FROM runs WHERE run_id = ?").pluck().get(runId);
    return typeof text === "string" ? (JSON.parse(text) as Assessment) : undefined;
  }

  async runIds(): Promise<string[]> {
    return this.#db.prepare(`SELECT r.run_id FROM runs r ${NEWEST_FIRST}`).pluck().all() as string[];
  }

  async list(filter: RunFilter = {}): Promise<RunSummary[]> {
    const limit = normaliseLimit(filter.limit) ?? -1;
    const rows = (
      filter.system === undefined
        ? this.#db.prepare(`SELECT ${SUMMARY_COLUMNS} FROM runs r ${NEWEST_FIRST} LIMIT ?`).all(limit)
        : this.#db
            .prepare(`SELECT ${SUMMARY_COLUMNS} FROM runs r WHERE r.system = ? ${NEWEST_FIRST} LIMIT ?`)
            .all(filter.system, limit)
    ) as SummaryRow[];
    return rows.map(toSummary);
  }

  async latest(system?: string, offset?: number): Promise<Assessment | undefined> {
    const skip = normaliseOffset(offset);
    const text =
      system === undefined
        ? this.#db
            .prepare(`SELECT r.assessment FROM runs r ${NEWEST_FIRST} LIMIT 1 OFFSET ?`)
            .pluck()
            .get(skip)
        : this.#db
            .prepare(`SELECT r.assessment FROM runs r WHERE r.system = ? ${NEWEST_FIRST} LIMIT 1 OFFSET ?`)
            .pluck()
            .get(system, skip);
    return typeof text === "string" ? (JSON.parse(text) as Assessment) : undefined;
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }
}

function toSummary(row: SummaryRow): RunSummary {
  return {
    runId: row.run_id,
    system: row.system,
    verdict: row.verdict as Verdict,
    overall: row.overall,
    coverage: row.coverage,
    startedAt: row.started_at,
    durationMs: row.duration_ms,
    revision: { kind: row.revision_kind as RunSummary["revision"]["kind"], digest: row.revision_digest },
    checks: row.checks,
    failed: row.failed,
    unverified: row.unverified,
  };
}
