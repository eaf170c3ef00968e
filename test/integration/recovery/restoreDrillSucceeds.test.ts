// The restore drill against a real PostgreSQL holding 10,000 orders: a real pg_dump -Fc restores into a scratch
// cluster with equal counts and checksums (PASS with the measured time); a truncated dump its script wrote with exit 0
// fails with pg_restore's own error; a durable database with no backup is a FAIL, not N/A; a restore whose rows differ
// from a quiet source is a FAIL. The source is never written, and no scratch cluster, folder or process is left —
// also when the drill is aborted midway (Ctrl-C).
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import backupsFresh from "../../../src/checks/recovery/backupsFresh.js";
import check from "../../../src/checks/recovery/restoreDrillSucceeds.js";
import { makeCheckContext } from "../../support/checkContext.js";
import { cleanupAfterEach } from "../../support/cleanups.js";
import { psql, type RunningPostgres, startPostgres } from "../../support/datastores.js";
import { recordObservation } from "../../support/judgeFixtures.js";
import { ownTmpdir } from "../../support/ownTmpdir.js";

const onCleanup = cleanupAfterEach();
const scratchRoot = ownTmpdir("drill-pg");

function scratchLeft(): string[] {
  return readdirSync(tmpdir()).filter((n) => n.startsWith("gauntlet-restore-"));
}

function postgresProcessesOn(dirPart: string): number {
  const out = execFileSync("sh", ["-c", "ps -eo args | grep '[p]ostgres -D' || true"], { encoding: "utf8" });
  return out.split("\n").filter((l) => l.includes(dirPart)).length;
}

async function ordersDatabase(): Promise<RunningPostgres> {
  const pg = await startPostgres(onCleanup, { auth: "scram" });
  psql(pg, "CREATE DATABASE shop");
  psql(
    pg,
    `CREATE TABLE orders (id serial PRIMARY KEY, sku text NOT NULL, qty int NOT NULL, placed timestamptz NOT NULL DEFAULT now(), note jsonb);
     INSERT INTO orders (sku, qty, note) SELECT 'SKU-' || (g % 97), g % 7 + 1, jsonb_build_object('g', g) FROM generate_series(1, 10000) g;
     CREATE SCHEMA billing; CREATE TABLE billing.invoices (id bigint PRIMARY KEY, amount numeric(12,2), paid boolean);
     INSERT INTO billing.invoices SELECT g, g * 1.25, g % 2 = 0 FROM generate_series(1, 2500) g;`,
    "shop",
  );
  return pg;
}

function shopUrl(pg: RunningPostgres): string {
  return pg.url.replace(/\/postgres$/, "/shop");
}

/** A spec folder with a backup script; `body` is the script after `set -euo pipefail`. */
function specFolder(body: string): string {
  const dir = path.join(
    tmpdir(),
    `gauntlet-drill-spec-${process.pid}-${Math.random().toString(36).slice(2)}`,
  );
  mkdirSync(path.join(dir, "backups"), { recursive: true });
  writeFileSync(path.join(dir, "backup.sh"), `#!/usr/bin/env bash\nset -euo pipefail\n${body}\n`);
  chmodSync(path.join(dir, "backup.sh"), 0o755);
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function specWith(pg: RunningPostgres, extra: Record<string, unknown> = {}) {
  return {
    services: { db: { kind: "postgres" as const, url: shopUrl(pg) } },
    recovery: {
      backups: [{ service: "db", command: "./backup.sh", path: "backups/*.dump", maxAge: "1h" }],
      restoreDrill: { service: "db", maxDuration: "5m" },
      ...extra,
    },
  };
}

const realDump = 'pg_dump -Fc -d "$DB_URL" -f "backups/shop-$(date +%s%N).dump"';

describe("restoreDrillSucceeds on PostgreSQL", () => {
  it("PASS: a real pg_dump -Fc restores in a scratch cluster with equal counts and checksums; source untouched", async () => {
    const pg = await ordersDatabase();
    const before = psql(pg, "SELECT count(*), sum(qty) FROM orders", "shop");
    const dir = specFolder(realDump);
    const spec = specWith(pg);
    const { ctx, rollbacks } = makeCheckContext(spec, {
      specDir: dir,
      env: { DB_URL: shopUrl(pg), PATH: process.env.PATH },
    });
    const observation = await check.observe(ctx);
    await rollbacks.runAll();
    recordObservation("restoreDrillSucceeds", "ok.pg-custom", observation, spec);
    const findings = check.judge(observation, ctx.spec);
    expect(
      findings.map((f) => [f.subject, f.status, f.messageId]),
      findings[0]?.message,
    ).toEqual([["db", "PASS", "restored"]]);
    const drill = observation.drills[0]!;
    expect(drill.format).toBe("pg-custom");
    expect(drill.backupTakenNow).toBe(true);
    const tables = drill.outcome!.postgres!.tables!;
    expect(tables.map((t) => [t.table, t.source.rows, t.match])).toEqual([
      ["billing.invoices", 2500, true],
      ["public.orders", 10000, true],
    ]);
    expect(findings[0]!.measurements!.find((m) => m.name === "restoreTime")!.value).toBeGreaterThan(0);
    expect(drill.outcome!.cleanedUp).toBe(true);
    expect(psql(pg, "SELECT count(*), sum(qty) FROM orders", "shop")).toBe(before);
    expect(psql(pg, "SELECT count(*) FROM pg_database WHERE datname LIKE 'gauntlet%'").trim()).toBe("0");
    expect(scratchLeft()).toEqual([]);
    // The password of the source never reaches the evidence.
    expect(JSON.stringify(observation)).not.toContain("pg-test-password");
  });

  it("FAIL: a truncated dump written by a script that exits 0 fails with pg_restore's own error", async () => {
    const pg = await ordersDatabase();
    const dir = specFolder(
      `pg_dump -Fc -d "$DB_URL" | head -c 20000 > "backups/shop-$(date +%s%N).dump" || true\nexit 0`,
    );
    const spec = specWith(pg);
    const { ctx, rollbacks } = makeCheckContext(spec, { specDir: dir, env: { DB_URL: shopUrl(pg) } });
    const fresh = backupsFresh.judge(await backupsFresh.observe(ctx), ctx.spec);
    // The file exists, is fresh and non-empty: only restoring it shows it is useless.
    expect(fresh.map((f) => [f.subject, f.status])).toEqual([["db", "PASS"]]);
    const observation = await check.observe(ctx);
    await rollbacks.runAll();
    recordObservation("restoreDrillSucceeds", "ng.pg-truncated", observation, spec);
    const [finding] = check.judge(observation, ctx.spec);
    expect(finding).toMatchObject({ subject: "db", status: "FAIL", messageId: "restoreFailed" });
    expect(finding!.message).toMatch(/pg_restore/);
    expect(scratchLeft()).toEqual([]);
  });

  it("FAIL: a durable database with no backup declared (both checks), never N/A", async () => {
    const pg = await ordersDatabase();
    const { ctx } = makeCheckContext({ services: { db: { kind: "postgres", url: shopUrl(pg) } } });
    expect(check.applies(ctx.spec, { allowDestructive: false })).toBe(true);
    expect(backupsFresh.applies(ctx.spec, { allowDestructive: false })).toBe(true);
    const drill = check.judge(await check.observe(ctx), ctx.spec);
    expect(drill.map((f) => [f.subject, f.status, f.messageId])).toEqual([
      ["db", "FAIL", "nothingToRestore"],
    ]);
    const fresh = backupsFresh.judge(await backupsFresh.observe(ctx), ctx.spec);
    expect(fresh.map((f) => [f.subject, f.status, f.messageId])).toEqual([
      ["db", "FAIL", "noBackupDeclared"],
    ]);
  });

  it("FAIL: a backup that leaves out a table's rows differs from a quiet source", async () => {
    const pg = await ordersDatabase();
    const dir = specFolder(
      'pg_dump -Fc --exclude-table-data=billing.invoices -d "$DB_URL" -f "backups/shop-$(date +%s%N).dump"',
    );
    const { ctx, rollbacks } = makeCheckContext(specWith(pg), { specDir: dir, env: { DB_URL: shopUrl(pg) } });
    const observation = await check.observe(ctx);
    await rollbacks.runAll();
    const [finding] = check.judge(observation, ctx.spec);
    expect(finding).toMatchObject({ subject: "db", status: "FAIL", messageId: "dataMismatch" });
    expect(finding!.message).toContain("billing.invoices");
  });

  it("FAIL: a restore slower than the RTO; plain SQL and a scratch database on the source's server also work", async () => {
    const pg = await ordersDatabase();
    const dir = specFolder('pg_dump -d "$DB_URL" -f "backups/shop-$(date +%s%N).dump"');
    const spec = specWith(pg, {
      restoreDrill: { service: "db", scratch: "database" },
      objectives: { rto: "1ms" },
    });
    const { ctx, rollbacks } = makeCheckContext(spec, { specDir: dir, env: { DB_URL: shopUrl(pg) } });
    const observation = await check.observe(ctx);
    await rollbacks.runAll();
    expect(observation.drills[0]!.format).toBe("pg-plain");
    const [finding] = check.judge(observation, ctx.spec);
    expect(finding).toMatchObject({ subject: "db", status: "FAIL", messageId: "slowerThanObjective" });
    expect(psql(pg, "SELECT count(*) FROM pg_database WHERE datname LIKE 'gauntlet_restore%'").trim()).toBe(
      "0",
    );
  });

  it("removes the scratch cluster when the drill is aborted midway (Ctrl-C)", async () => {
    const pg = await ordersDatabase();
    const dir = specFolder(realDump);
    const controller = new AbortController();
    const { ctx, rollbacks } = makeCheckContext(specWith(pg), {
      specDir: dir,
      env: { DB_URL: shopUrl(pg) },
      signal: controller.signal,
    });
    // Abort once the scratch cluster exists (its folder appears), as Ctrl-C would.
    const watcher = setInterval(() => {
      if (scratchLeft().length > 0) controller.abort(new Error("interrupted"));
    }, 20);
    onCleanup(() => clearInterval(watcher));
    await expect(check.observe(ctx)).rejects.toThrow();
    clearInterval(watcher);
    const failures = await rollbacks.runAll();
    expect(failures).toEqual([]);
    expect(scratchLeft()).toEqual([]);
    expect(postgresProcessesOn(`${scratchRoot}/gauntlet-restore-pg-`)).toBe(0);
  });
});
