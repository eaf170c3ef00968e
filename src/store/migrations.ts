// The history schema as an ordered list of numbered steps. Both backends hold the same tables; only column types
// differ (jsonb and timestamptz in PostgreSQL, TEXT in SQLite). A step is never edited once released: add a new one.
import { UserError } from "../errors.js";

export type Dialect = "sqlite" | "postgres";

export interface Migration {
  version: number;
  name: string;
  /** Statements run in order inside one transaction. */
  sql: Record<Dialect, readonly string[]>;
}

/** Created before any numbered step so the applied versions can be read. */
export const BOOTSTRAP_SQL: Record<Dialect, string> = {
  sqlite:
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
  postgres:
    "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL)",
};

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "runs and check results",
    sql: {
      sqlite: [
        `CREATE TABLE runs (
          run_id TEXT PRIMARY KEY,
          system TEXT NOT NULL,
          system_version TEXT,
          verdict TEXT NOT NULL,
          overall REAL,
          coverage REAL NOT NULL,
          started_at TEXT NOT NULL,
          finished_at TEXT NOT NULL,
          duration_ms INTEGER NOT NULL,
          revision_kind TEXT NOT NULL,
          revision_digest TEXT NOT NULL,
          spec_path TEXT NOT NULL,
          tool_version TEXT NOT NULL,
          assessment TEXT NOT NULL
        )`,
        "CREATE INDEX runs_system_started_at ON runs (system, started_at)",
        "CREATE INDEX runs_started_at ON runs (started_at)",
        `CREATE TABLE check_results (
          run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
          check_id TEXT NOT NULL,
          category TEXT NOT NULL,
          risk TEXT NOT NULL,
          status TEXT NOT NULL,
          duration_ms INTEGER NOT NULL,
          PRIMARY KEY (run_id, check_id)
        )`,
      ],
      postgres: [
        `CREATE TABLE runs (
          run_id text PRIMARY KEY,
          system text NOT NULL,
          system_version text,
          verdict text NOT NULL,
          overall double precision,
          coverage double precision NOT NULL,
          started_at timestamptz NOT NULL,
          finished_at timestamptz NOT NULL,
          duration_ms bigint NOT NULL,
          revision_kind text NOT NULL,
          revision_digest text NOT NULL,
          spec_path text NOT NULL,
          tool_version text NOT NULL,
          assessment jsonb NOT NULL
        )`,
        "CREATE INDEX runs_system_started_at ON runs (system, started_at)",
        "CREATE INDEX runs_started_at ON runs (started_at)",
        `CREATE TABLE check_results (
          run_id text NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
          check_id text NOT NULL,
          category text NOT NULL,
          risk text NOT NULL,
          status text NOT NULL,
          duration_ms bigint NOT NULL,
          PRIMARY KEY (run_id, check_id)
        )`,
      ],
    },
  },
];

export const SCHEMA_VERSION = Math.max(...MIGRATIONS.map((m) => m.version));

/**
 * The migrations still to apply, in order, given the versions a database records.
 * Throws when the database records a version this build does not know: it was written by a newer Gauntlet, and
 * writing to it could corrupt what that version expects.
 */
export function pendingMigrations(
  applied: readonly number[],
  where: string,
  migrations: readonly Migration[] = MIGRATIONS,
): Migration[] {
  const known = new Set(migrations.map((m) => m.version));
  const unknown = applied.filter((v) => !known.has(v)).sort((x, y) => x - y);
  if (unknown.length > 0) {
    const newest = Math.max(...migrations.map((m) => m.version));
    throw new UserError(
      `The history database ${where} was written by a newer Gauntlet (schema version ${unknown.join(", ")}; ` +
        `this Gauntlet knows up to ${newest}). Upgrade gauntlet, or pass --store with another database.`,
    );
  }
  const done = new Set(applied);
  return [...migrations].sort((x, y) => x.version - y.version).filter((m) => !done.has(m.version));
}
