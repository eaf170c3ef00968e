// The team history store: PostgreSQL through a small pool, parametrised queries only, migrations serialised by an
// advisory lock so two gauntlet processes starting at once against a new database don't race.
import pg from "pg";
import type { Assessment, Verdict } from "../core/assessment.js";
import { UserError } from "../errors.js";
import type { Redactor } from "../secrets/redactor.js";
import { BOOTSTRAP_SQL, pendingMigrations } from "./migrations.js";
import {
  checkColumns,
  displayUrl,
  type HistoryStore,
  normaliseLimit,
  normaliseOffset,
  parseRunRef,
  type RunFilter,
  type RunSummary,
  resolveRunRef,
  runColumns,
} from "./store.js";

/** pg_advisory_xact_lock key: "gauntlet" in ASCII, as a signed 64-bit integer. */
const MIGRATION_LOCK_KEY = "7449362238906393972";

const POOL_SIZE = 3;
const CONNECT_TIMEOUT_MS = 10_000;

interface SummaryRow {
  run_id: string;
  system: string;
  verdict: string;
  overall: number | null;
  coverage: number;
  started_at: Date;
  duration_ms: number;
  revision_kind: string;
  revision_digest: string;
  checks: number;
  failed: number;
  unverified: number;
}

const SUMMARY_COLUMNS = `r.run_id, r.system, r.verdict, r.overall, r.coverage, r.started_at,
  r.duration_ms::float8 AS duration_ms, r.revision_kind, r.revision_digest,
  (SELECT COUNT(*)::int FROM check_results c WHERE c.run_id = r.run_id) AS checks,
  (SELECT COUNT(*)::int FROM check_results c WHERE c.run_id = r.run_id AND c.status = 'FAIL') AS failed,
  (SELECT COUNT(*)::int FROM check_results c WHERE c.run_id = r.run_id AND c.status IN ('UNVERIFIED', 'ERROR'))
    AS unverified`;

const NEWEST_FIRST = "ORDER BY r.started_at DESC, r.run_id DESC";

export async function openPostgresStore(url: string, secrets: Redactor): Promise<HistoryStore> {
  secrets.addFromUrl(url);
  secrets.add(queryPassword(url));
  const where = displayUrl(url);
  const pool = new pg.Pool({
    connectionString: url,
    max: POOL_SIZE,
    idleTimeoutMillis: 10_000,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    application_name: "gauntlet",
  });
  // An idle connection dropped by the server must not crash the process; the next query reports the problem.
  pool.on("error", () => {});
  try {
    await migrate(pool, where);
  } catch (error) {
    await pool.end().catch(() => {});
    if (error instanceof UserError || !isConnectionProblem(error)) throw error;
    throw Object.assign(
      new UserError(
        `Cannot open the history database ${where}: ${secrets.redact(messageOf(error))}. ` +
          "Check that the server is reachable and the URL, user and database are right.",
      ),
      { cause: error },
    );
  }
  return new PostgresHistoryStore(pool);
}

async function migrate(pool: pg.Pool, where: string): Promise<void> {
  // One transaction per step, each holding the lock: a second process waits, then finds the step recorded.
  for (;;) {
    const applied = await transaction(pool, async (client) => {
      await client.query("SELECT pg_advisory_xact_lock($1::bigint)", [MIGRATION_LOCK_KEY]);
      await client.query(BOOTSTRAP_SQL.postgres);
      const { rows } = await client.query<{ version: number }>("SELECT version FROM schema_migrations");
      const next = pendingMigrations(
        rows.map((r) => r.version),
        where,
      )[0];
      if (!next) return false;
      for (const statement of next.sql.postgres) await client.query(statement);
      await client.query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())", [
        next.version,
      ]);
      return true;
    });
    if (!applied) return;
  }
}

async function transaction<T>(pool: pg.Pool, body: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const result = await body(client);
    await client.query("COMMIT");
    client.release();
    return result;
  } catch (error) {
    const broken = await client.query("ROLLBACK").then(
      () => false,
      () => true,
    );
    client.release(broken);
    throw error;
  }
}

class PostgresHistoryStore implements HistoryStore {
  readonly #pool: pg.Pool;
  #closed = false;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async save(a: Assessment): Promise<void> {
    const run = runColumns(a);
    const checks = checkColumns(a);
    await transaction(this.#pool, async (client) => {
      await client.query(
        `INSERT INTO runs (run_id, system, system_version, verdict, overall, coverage, started_at, finished_at,
           duration_ms, revision_kind, revision_digest, spec_path, tool_version, assessment)
         VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz, $8::timestamptz, $9, $10, $11, $12, $13, $14::jsonb)
         ON CONFLICT (run_id) DO UPDATE SET system = EXCLUDED.system, system_version = EXCLUDED.system_version,
           verdict = EXCLUDED.verdict, overall = EXCLUDED.overall, coverage = EXCLUDED.coverage,
           started_at = EXCLUDED.started_at, finished_at = EXCLUDED.finished_at, duration_ms = EXCLUDED.duration_ms,
           revision_kind = EXCLUDED.revision_kind, revision_digest = EXCLUDED.revision_digest,
           spec_path = EXCLUDED.spec_path, tool_version = EXCLUDED.tool_version, assessment = EXCLUDED.assessment`,
        [
          run.runId,
          run.system,
          run.systemVersion,
          run.verdict,
          run.overall,
          run.coverage,
          run.startedAt,
          run.finishedAt,
          run.durationMs,
          run.revisionKind,
          run.revisionDigest,
          run.specPath,
          run.toolVersion,
          jsonbText(a),
        ],
      );
      await client.query("DELETE FROM check_results WHERE run_id = $1", [a.runId]);
      if (checks.length === 0) return;
      await client.query(
        `INSERT INTO check_results (run_id, check_id, category, risk, status, duration_ms)
         SELECT $1::text, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[])`,
        [
          a.runId,
          checks.map((c) => c.checkId),
          checks.map((c) => c.category),
          checks.map((c) => c.risk),
          checks.map((c) => c.status),
          checks.map((c) => c.durationMs),
        ],
      );
    });
  }

  async get(runIdOrPrefix: string): Promise<Assessment | undefined> {
    const ref = parseRunRef(runIdOrPrefix);
    if (ref.kind === "latest") return this.latest(undefined, ref.offset);
    const exact = await this.#pool.query<{ assessment: Assessment }>(
      "SELECT assessment FROM runs WHERE run_id = $1",
      [ref.prefix],
    );
    if (exact.rows[0]) return exact.rows[0].assessment;
    // A prefix of the id or of its random part (the short id history shows), matched in store.ts for every backend.
    const runId = resolveRunRef(await this.runIds(), ref.prefix);
    if (runId === undefined) return undefined;
    const found = await this.#pool.query<{ assessment: Assessment }>(
      "SELECT assessment FROM runs WHERE run_id = $1",
      [runId],
    );
    return found.rows[0]?.assessment;
  }

  async runIds(): Promise<string[]> {
    const { rows } = await this.#pool.query<{ run_id: string }>(
      `SELECT r.run_id FROM runs r ${NEWEST_FIRST}`,
    );
    return rows.map((r) => r.run_id);
  }

  async list(filter: RunFilter = {}): Promise<RunSummary[]> {
    const limit = normaliseLimit(filter.limit) ?? null;
    const { rows } =
      filter.system === undefined
        ? await this.#pool.query<SummaryRow>(
            `SELECT ${SUMMARY_COLUMNS} FROM runs r ${NEWEST_FIRST} LIMIT $1`,
            [limit],
          )
        : await this.#pool.query<SummaryRow>(
            `SELECT ${SUMMARY_COLUMNS} FROM runs r WHERE r.system = $1 ${NEWEST_FIRST} LIMIT $2`,
            [filter.system, limit],
          );
    return rows.map(toSummary);
  }

  async latest(system?: string, offset?: number): Promise<Assessment | undefined> {
    const skip = normaliseOffset(offset);
    const { rows } =
      system === undefined
        ? await this.#pool.query<{ assessment: Assessment }>(
            `SELECT r.assessment FROM runs r ${NEWEST_FIRST} LIMIT 1 OFFSET $1`,
            [skip],
          )
        : await this.#pool.query<{ assessment: Assessment }>(
            `SELECT r.assessment FROM runs r WHERE r.system = $1 ${NEWEST_FIRST} LIMIT 1 OFFSET $2`,
            [system, skip],
          );
    return rows[0]?.assessment;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }
}

function toSummary(row: SummaryRow): RunSummary {
  return {
    runId: row.run_id,
    system: row.system,
    verdict: row.verdict as Verdict,
    overall: row.overall,
    coverage: row.coverage,
    startedAt: row.started_at.toISOString(),
    durationMs: row.duration_ms,
    revision: { kind: row.revision_kind as RunSummary["revision"]["kind"], digest: row.revision_digest },
    checks: row.checks,
    failed: row.failed,
    unverified: row.unverified,
  };
}

/**
 * The Assessment as jsonb input. jsonb rejects NUL characters and unpaired surrogates, which evidence excerpts can
 * hold; they become U+FFFD rather than losing the whole run.
 */
function jsonbText(a: Assessment): string {
  return JSON.stringify(a, (_key, value: unknown) =>
    typeof value === "string" ? value.replace(JSONB_UNSAFE, "\uFFFD") : value,
  );
}

const JSONB_UNSAFE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function queryPassword(url: string): string | undefined {
  const match = /[?&]password=([^&#]*)/i.exec(url);
  if (!match) return undefined;
  try {
    return decodeURIComponent(match[1]!);
  } catch {
    return match[1];
  }
}

/**
 * Whether an error opening the store is the user's to fix (unreachable server, bad credentials, missing database)
 * rather than a bug in a migration. Server errors carry a SQLSTATE; network errors a Node code or none.
 */
function isConnectionProblem(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  // Node's network codes (ECONNREFUSED, EPIPE…) start with E; no SQLSTATE class does.
  if (typeof code !== "string" || code.startsWith("E") || !/^[0-9A-Z]{5}$/.test(code)) return true;
  return USER_SQLSTATE_CLASSES.has(code.slice(0, 2)) || USER_SQLSTATES.has(code);
}

/** 08 connection exception, 28 invalid authorization, 53 insufficient resources (too many connections). */
const USER_SQLSTATE_CLASSES = new Set(["08", "28", "53"]);
/** Missing database or schema, no privilege, server starting or shutting down, SSL refused. */
const USER_SQLSTATES = new Set(["3D000", "3F000", "42501", "57P01", "57P02", "57P03"]);

function messageOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return messageOf(error.errors[0]);
  if (error instanceof Error) return error.message || (error as { code?: string }).code || error.name;
  return String(error);
}
