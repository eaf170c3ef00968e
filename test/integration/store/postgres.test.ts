// The history store against a real PostgreSQL: a fresh database for this file, one schema per test inside it.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UserError } from "../../../src/cli/io.js";
import { openStore } from "../../../src/store/store.js";
import { makeAssessment } from "../../unit/store/assessments.js";
import { describeHistoryStoreContract } from "../../unit/store/historyStoreContract.js";

const serverUrl = process.env.GAUNTLET_TEST_PG_URL;
const database = `gauntlet_test_${randomBytes(6).toString("hex")}`;
let databaseUrl = "";
let schemaCounter = 0;

async function query(url: string, text: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, params)).rows;
  } finally {
    await client.end();
  }
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

beforeAll(async () => {
  if (!serverUrl) throw new Error("GAUNTLET_TEST_PG_URL is not set: run scripts/services.sh start");
  await query(serverUrl, `CREATE DATABASE ${database}`);
  databaseUrl = withDatabase(serverUrl, database);
});

afterAll(async () => {
  if (!serverUrl || !databaseUrl) return;
  await query(serverUrl, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
});

describe("PostgreSQL test server", () => {
  it("is configured", () => {
    expect(serverUrl, "GAUNTLET_TEST_PG_URL is not set: run scripts/services.sh start").toBeTruthy();
  });
});

// Runs first: the database's own public schema is still empty here, nothing else in this file touches it.
describe("PostgreSQL migrations under concurrency", () => {
  it("lets concurrent openStore calls migrate the same empty database", async () => {
    const stores = await Promise.all(Array.from({ length: 4 }, () => openStore(databaseUrl)));
    try {
      const versions = await query(databaseUrl, "SELECT version FROM schema_migrations");
      expect(versions.map((v) => v.version)).toEqual([1]);
      await stores[0]!.save(makeAssessment({ runId: "from-first" }));
      expect((await stores[3]!.get("from-first"))?.runId).toBe("from-first");
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it("stores the assessment as jsonb and times as timestamptz, with the (system, started_at) index", async () => {
    const columns = await query(
      databaseUrl,
      `SELECT column_name, data_type FROM information_schema.columns
       WHERE table_schema = 'public' AND table_name = 'runs' AND column_name IN ('assessment', 'started_at')
       ORDER BY column_name`,
    );
    expect(columns).toEqual([
      { column_name: "assessment", data_type: "jsonb" },
      { column_name: "started_at", data_type: "timestamp with time zone" },
    ]);
    const [index] = await query(
      databaseUrl,
      "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND indexname = 'runs_system_started_at'",
    );
    expect(index?.indexdef).toMatch(/\(system, started_at\)/);
  });

  it("saves the same run concurrently from two stores without conflict", async () => {
    const [a, b] = await Promise.all([openStore(databaseUrl), openStore(databaseUrl)]);
    try {
      await Promise.all([
        a!.save(makeAssessment({ runId: "racing", verdict: "CERTIFIED" })),
        b!.save(makeAssessment({ runId: "racing", verdict: "NOT READY" })),
      ]);
      const rows = await query(
        databaseUrl,
        "SELECT count(*)::int AS n FROM check_results WHERE run_id = $1",
        ["racing"],
      );
      expect(rows[0]?.n).toBe(6);
    } finally {
      await Promise.all([a!.close(), b!.close()]);
    }
  });
});

describe("PostgreSQL store errors", () => {
  it("reports a missing database as a user error naming it", async () => {
    const missing = withDatabase(serverUrl ?? "", `${database}_missing`);
    const error = await openStore(missing).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toContain(`Cannot open the history database ${missing}`);
    expect((error as Error).message).toMatch(/does not exist/);
  });
});

describeHistoryStoreContract("postgres", {
  async freshLocation() {
    const schema = `s${++schemaCounter}`;
    await query(databaseUrl, `CREATE SCHEMA ${schema}`);
    // Each test gets its own schema: the store's unqualified table names resolve through search_path.
    return `${databaseUrl}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  },
  sql: (location, text) => query(location, text),
});
