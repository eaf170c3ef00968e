// The PostgreSQL canary against the real test server: a marker written before a fault reads back intact, a lost row
// is reported lost (not "cannot tell"), an unreachable server is "could not read", and cleanup leaves nothing: its
// row, and the table once no other marker is in it.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canaryFor } from "../../../src/engines/experiments/canary.js";

const base = process.env.GAUNTLET_TEST_PG_URL;
const database = `gauntlet_canary_${Date.now().toString(36)}`;
let url: string;
let admin: pg.Client;

beforeAll(async () => {
  if (!base) throw new Error("GAUNTLET_TEST_PG_URL is not set: run scripts/services.sh start");
  admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const u = new URL(base);
  u.pathname = `/${database}`;
  url = u.toString();
});

afterAll(async () => {
  await admin?.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin?.end();
});

/** Rows in the canary table; null when the table is gone. */
async function rows(): Promise<number | null> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const exists = await client.query("SELECT to_regclass('gauntlet_canary') IS NOT NULL AS t");
    if (!exists.rows[0].t) return null;
    return (await client.query("SELECT count(*)::int AS n FROM gauntlet_canary")).rows[0].n;
  } finally {
    await client.end();
  }
}

describe("PostgreSQL canary (real server)", () => {
  const signal = new AbortController().signal;

  it("reads back intact, and cleanup removes its row, then the empty table", async () => {
    const canary = canaryFor("postgres", url)!;
    const other = canaryFor("postgres", url)!;
    await canary.write();
    await other.write();
    expect(await rows()).toBe(2);
    expect(await canary.verify(2_000, signal)).toMatchObject({ intact: true });
    await canary.cleanup();
    expect(await rows()).toBe(1); // another run's marker keeps the table
    await other.cleanup();
    expect(await rows()).toBeNull();
  });

  it("reports a lost row as lost", async () => {
    const canary = canaryFor("postgres", url)!;
    await canary.write();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query("TRUNCATE gauntlet_canary");
    await client.end();
    const result = await canary.verify(2_000, signal);
    expect(result.intact).toBe(false);
    expect(result.detail).toMatch(/is gone/);
  });

  it("an unreachable server is 'could not read' after the deadline, never intact", async () => {
    const unreachable = new URL(url);
    unreachable.port = "1";
    const canary = canaryFor("postgres", unreachable.toString())!;
    const started = Date.now();
    const result = await canary.verify(600, signal);
    expect(result.intact).toBe(false);
    expect(result.detail).toMatch(/could not read/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
