// What a PostgreSQL database holds, table by table, in a form two servers can compare: the row count and an
// order-independent checksum (the sum of a 64-bit hash of every row's text), read in one snapshot. Output settings are
// pinned so the same rows print the same way on both sides.
import pg from "pg";

export interface TableFingerprint {
  /** schema.table, quoted as PostgreSQL prints it. */
  table: string;
  rows: number;
  /** Decimal text of the hash sum (exceeds 2^53). */
  checksum: string;
}

/** How rows are hashed: PostgreSQL's own 64-bit text hash (2x faster), or md5 when the two servers' hashes differ. */
export type RowHash = "hashtextextended" | "md5";

export interface DatabaseFingerprint {
  database: string;
  rowHash: RowHash;
  serverVersion: string;
  encoding: string;
  tables: TableFingerprint[];
  durationMs: number;
}

export type PgConnection = string | { host: string; port: number; user: string; database: string };

const SETTINGS = [
  "SET datestyle TO ISO, YMD",
  "SET timezone TO 'UTC'",
  "SET extra_float_digits TO 3",
  "SET bytea_output TO hex",
  "SET intervalstyle TO postgres",
  "SET statement_timeout TO 0",
];

const TABLES = `
  SELECT format('%I.%I', n.nspname, c.relname) AS name
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind = 'r'
    AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
    AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
  ORDER BY 1`;

export function connect(connection: PgConnection, signal?: AbortSignal): pg.Client {
  const client = new pg.Client(
    typeof connection === "string"
      ? { connectionString: connection, connectionTimeoutMillis: 10_000 }
      : { ...connection, connectionTimeoutMillis: 10_000 },
  );
  client.on("error", () => {}); // a dropped connection surfaces as the failed query
  if (signal) {
    const end = () => void client.end().catch(() => {});
    signal.addEventListener("abort", end, { once: true });
    // One signal serves many connections in a drill: each takes its listener away when it ends.
    const close = client.end.bind(client);
    client.end = (() => {
      signal.removeEventListener("abort", end);
      return close();
    }) as typeof client.end;
  }
  return client;
}

/** A fixed value's hashtextextended on this server: equal on two servers = their row hashes can be compared. */
export async function hashProbe(connection: PgConnection): Promise<string | null> {
  const client = connect(connection);
  try {
    await client.connect();
    return (
      await client.query<{ h: string }>("SELECT hashtextextended('gauntlet restore drill', 0)::text AS h")
    ).rows[0]!.h;
  } catch {
    return null; // before PostgreSQL 11
  } finally {
    await client.end().catch(() => {});
  }
}

export async function fingerprintDatabase(
  connection: PgConnection,
  signal?: AbortSignal,
  rowHash: RowHash = "md5",
): Promise<DatabaseFingerprint> {
  const started = performance.now();
  const client = connect(connection, signal);
  await client.connect();
  try {
    for (const sql of SETTINGS) await client.query(sql);
    // One snapshot for every table: the counts belong to the same moment.
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    const info = await client.query<{ db: string; version: string; encoding: string }>(
      "SELECT current_database() AS db, current_setting('server_version') AS version, current_setting('server_encoding') AS encoding",
    );
    const names = (await client.query<{ name: string }>(TABLES)).rows.map((r) => r.name);
    const tables: TableFingerprint[] = [];
    for (const name of names) {
      signal?.throwIfAborted();
      const row = (
        await client.query<{ rows: string; checksum: string }>(
          `SELECT count(*)::text AS rows, coalesce(sum(${
            rowHash === "md5"
              ? "('x' || left(md5(t::text), 16))::bit(64)::bigint"
              : "hashtextextended(t::text, 0)"
          }::numeric), 0)::text AS checksum
           FROM ONLY ${name} t`,
        )
      ).rows[0]!;
      tables.push({ table: name, rows: Number(row.rows), checksum: row.checksum });
    }
    await client.query("COMMIT");
    const first = info.rows[0]!;
    return {
      database: first.db,
      rowHash,
      serverVersion: first.version,
      encoding: first.encoding,
      tables,
      durationMs: Math.round(performance.now() - started),
    };
  } finally {
    await client.end().catch(() => {});
  }
}

/** Cumulative writes per table (pg_stat_user_tables): unchanged between two reads = nobody wrote in between. */
export async function tableWrites(connection: PgConnection): Promise<Record<string, number>> {
  const client = connect(connection);
  await client.connect();
  try {
    const result = await client.query<{ name: string; writes: string }>(
      `SELECT format('%I.%I', schemaname, relname) AS name, (n_tup_ins + n_tup_upd + n_tup_del)::text AS writes
       FROM pg_stat_user_tables`,
    );
    return Object.fromEntries(result.rows.map((r) => [r.name, Number(r.writes)]));
  } finally {
    await client.end().catch(() => {});
  }
}

/** Login roles and groups of the source, so a plain-SQL dump's OWNER TO and GRANT lines find them. */
export async function sourceRoles(connection: PgConnection): Promise<string[]> {
  const client = connect(connection);
  await client.connect();
  try {
    const result = await client.query<{ rolname: string }>(
      "SELECT rolname FROM pg_roles WHERE rolname !~ '^pg_' AND rolname <> 'postgres' ORDER BY 1",
    );
    return result.rows.map((r) => r.rolname);
  } finally {
    await client.end().catch(() => {});
  }
}

export interface TableComparison {
  table: string;
  source: { rows: number; checksum: string };
  restored: { rows: number; checksum: string } | null;
  match: boolean;
  /** The source table had no writes between the drill's start and the comparison. */
  sourceQuiet?: boolean;
}

export function compareFingerprints(
  source: DatabaseFingerprint,
  restored: DatabaseFingerprint,
): {
  tables: TableComparison[];
  extra: string[];
} {
  const byName = new Map(restored.tables.map((t) => [t.table, t]));
  const tables = source.tables.map((s) => {
    const r = byName.get(s.table);
    return {
      table: s.table,
      source: { rows: s.rows, checksum: s.checksum },
      restored: r ? { rows: r.rows, checksum: r.checksum } : null,
      match: !!r && r.rows === s.rows && r.checksum === s.checksum,
    };
  });
  const known = new Set(source.tables.map((t) => t.table));
  return { tables, extra: restored.tables.map((t) => t.table).filter((t) => !known.has(t)) };
}
