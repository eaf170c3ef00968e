// recoveryPointObjectiveMet against real servers started per test: PostgreSQL with WAL archiving that really copies
// segments (archive_timeout 60 s → RPO 60 s), without archiving (unbounded, or the backup files' age and gaps), with an
// archive_command that copies nothing, and with a streaming standby made by pg_basebackup -R (synchronous → 0, async →
// its lag); Redis with the AOF (everysec → 1 s), RDB only (`save 900 1` → 900 s) and no persistence at all.
import { execFileSync } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import check, {
  type RecoveryPointObservation,
} from "../../../src/checks/recovery/recoveryPointObjectiveMet.js";
import type { SpecInput } from "../../../src/spec/schema.js";
import { makeCheckContext } from "../../support/checkContext.js";
import { cleanupAfterEach } from "../../support/cleanups.js";
import {
  freePort,
  psql,
  type RunningPostgres,
  startPostgres,
  startRedis,
  waitForPort,
} from "../../support/datastores.js";
import { recordObservation } from "../../support/judgeFixtures.js";

const onCleanup = cleanupAfterEach();
const ID = "recoveryPointObjectiveMet";
type Services = SpecInput["services"];

async function assess(services: Services, recovery: SpecInput["recovery"] = {}, specDir?: string) {
  const input = { services, recovery };
  const t = makeCheckContext(input, { checkId: ID, ...(specDir ? { specDir } : {}) });
  const observation = await check.observe(t.ctx);
  const findings = check.judge(observation, t.ctx.spec);
  return {
    ...t,
    input,
    observation,
    findings,
    rows: findings.map((f) => [f.subject, f.status, f.messageId]),
  };
}

function record(name: string, observation: RecoveryPointObservation, input: unknown): void {
  recordObservation(ID, name, observation, input);
}

/** Waits until pg_stat_archiver has archived `count` segments, switching WAL segments to make it. */
async function archiveSegments(pg: RunningPostgres, count: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  psql(pg, "CREATE TABLE IF NOT EXISTS orders (id serial PRIMARY KEY, note text)");
  for (;;) {
    psql(pg, "INSERT INTO orders (note) VALUES ('x'); SELECT pg_switch_wal()");
    const archived = Number(psql(pg, "SELECT archived_count FROM pg_stat_archiver").trim());
    if (archived >= count) return;
    if (Date.now() > deadline) throw new Error(`only ${archived} segment(s) archived after 30 s`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

describe("recoveryPointObjectiveMet on PostgreSQL", () => {
  it("measures a working WAL archive as archive_timeout: PASS against 5m, FAIL against 30s", async () => {
    const pg = await startPostgres(onCleanup, {
      settings: (dir) => ({
        archive_mode: "on",
        archive_command: `mkdir -p ${dir}/archive && test ! -f ${dir}/archive/%f && cp %p ${dir}/archive/%f`,
        archive_timeout: "60s",
      }),
    });
    await archiveSegments(pg, 1);
    expect(readdirSync(path.join(pg.dir, "archive")).length).toBeGreaterThan(0); // the archive is real

    const five = await assess({ db: { kind: "postgres", url: pg.url } }, { objectives: { rpo: "5m" } });
    expect(five.rows).toEqual([["db", "PASS", "withinObjective"]]);
    expect(five.findings[0]!.data).toMatchObject({ rpoMs: 60_000, basis: "walArchive" });
    expect(five.findings[0]!.measurements?.[0]).toMatchObject({ name: "db rpo", value: 60_000, unit: "ms" });
    const evidence = JSON.parse(five.readEvidence(five.findings[0]!.evidence![0]!));
    expect(evidence.postgres.settings).toMatchObject({ archive_mode: "on", archive_timeout: "60" });
    expect(evidence.postgres.archiver.archivedCount).toBeGreaterThan(0);
    record("ok.postgres-wal-archive", five.observation, five.input);

    const thirty = await assess({ db: { kind: "postgres", url: pg.url } }, { objectives: { rpo: "30s" } });
    expect(thirty.rows).toEqual([["db", "FAIL", "exceedsObjective"]]);
    expect(thirty.findings[0]!.message).toMatch(
      /recovery point 60 s \(WAL archive\) against an objective of 30 s/,
    );
  }, 90_000);

  it("fails a database with no archiving and no backup as unbounded; with backups, their age and gaps are the RPO", async () => {
    const pg = await startPostgres(onCleanup);
    const none = await assess({ db: { kind: "postgres", url: pg.url } }, { objectives: { rpo: "5m" } });
    expect(none.rows).toEqual([["db", "FAIL", "unbounded"]]);
    expect(none.findings[0]!.message).toMatch(
      /archive_mode = off.*no standby.*no recovery\.backups entry for db/,
    );
    record("ng.postgres-nothing-leaves-the-host", none.observation, none.input);

    // Nightly dumps: the newest 2 h old, the one before 26 h: a lost server loses up to a day.
    const specDir = mkdtempSync(path.join(tmpdir(), "gauntlet-rpo-spec-"));
    onCleanup(() => rmSync(specDir, { recursive: true, force: true }));
    mkdirSync(path.join(specDir, "backups"));
    const now = Date.now() / 1000;
    for (const [file, hoursAgo] of [
      ["db-1.dump", 26],
      ["db-2.dump", 2],
    ] as const) {
      const full = path.join(specDir, "backups", file);
      execFileSync(path.join(pg.bin, "pg_dump"), [
        "-Fc",
        "-h",
        "127.0.0.1",
        "-p",
        String(pg.port),
        "-U",
        "postgres",
        "-f",
        full,
        "postgres",
      ]);
      utimesSync(full, now - hoursAgo * 3600, now - hoursAgo * 3600);
    }
    writeFileSync(path.join(specDir, "backups", "db-3.dump"), ""); // a backup that wrote nothing
    const backups = [{ service: "db", path: "backups/*.dump", maxAge: "48h" }];
    const daily = await assess(
      { db: { kind: "postgres", url: pg.url } },
      { backups, objectives: { rpo: "5m" } },
      specDir,
    );
    expect(daily.rows).toEqual([["db", "FAIL", "exceedsObjective"]]);
    expect(daily.findings[0]!.data).toMatchObject({ rpoMs: 24 * 3_600_000, basis: "backup" });
    expect(daily.findings[0]!.message).toMatch(/widest gap between the 2 newest artifacts is 24 h/);
    const week = await assess(
      { db: { kind: "postgres", url: pg.url } },
      { backups, objectives: { rpo: "7d" } },
      specDir,
    );
    expect(week.rows).toEqual([["db", "PASS", "withinObjective"]]);
  }, 90_000);

  it("does not count an archive_command that copies nothing, and reports fsync and synchronous_commit off", async () => {
    const pg = await startPostgres(onCleanup, {
      settings: () => ({
        archive_mode: "on",
        archive_command: "/bin/true",
        fsync: "off",
        synchronous_commit: "off",
      }),
    });
    const { rows, findings, observation, input } = await assess(
      { db: { kind: "postgres", url: pg.url } },
      { objectives: { rpo: "5m" } },
    );
    expect(rows).toEqual([
      ["db", "FAIL", "fsyncOff"],
      ["db", "WARN", "asyncCommit"],
      ["db", "FAIL", "unbounded"],
    ]);
    expect(findings[2]!.message).toMatch(/reports success without copying anything/);
    expect(findings[1]!.message).toMatch(/up to 3 × wal_writer_delay = 600 ms/);
    record("ng.postgres-noop-archive-fsync-off", observation, input);
  }, 60_000);

  it("an archive_command that fails is not counted: FAIL unbounded, naming the failures", async () => {
    const pg = await startPostgres(onCleanup, {
      settings: () => ({ archive_mode: "on", archive_command: "false", archive_timeout: "60s" }),
    });
    psql(pg, "CREATE TABLE orders (id int); SELECT pg_switch_wal()");
    const deadline = Date.now() + 20_000;
    while (psql(pg, "SELECT failed_count FROM pg_stat_archiver").trim() === "0") {
      if (Date.now() > deadline) throw new Error("the archiver did not try within 20 s");
      await new Promise((r) => setTimeout(r, 200));
    }
    const { rows, findings, observation, input } = await assess(
      { db: { kind: "postgres", url: pg.url } },
      { objectives: { rpo: "5m" } },
    );
    expect(rows).toEqual([["db", "FAIL", "unbounded"]]);
    expect(findings[0]!.message).toMatch(/archive_command 'false' is failing: \d+ failure\(s\)/);
    record("ng.postgres-archive-failing", observation, input);
  }, 60_000);

  it("is UNVERIFIED when the server demands a password the url lacks, or cannot be reached", async () => {
    const pg = await startPostgres(onCleanup, { auth: "scram", password: "rpo-Pass-4242" });
    const port = await freePort();
    const { rows, findings } = await assess({
      db: { kind: "postgres", url: `postgres://postgres@127.0.0.1:${pg.port}/postgres` },
      orders: { kind: "postgres", url: `postgres://app:wrong-Pass-77@127.0.0.1:${port}/app` },
    });
    expect(rows).toEqual([
      ["db", "UNVERIFIED", "passwordMissing"],
      ["orders", "UNVERIFIED", "unreachable"],
    ]);
    for (const f of findings) expect(f.toVerify).toBeTruthy();
    expect(JSON.stringify(findings)).not.toContain("wrong-Pass-77");
  }, 60_000);
});

describe("recoveryPointObjectiveMet on a streaming standby", () => {
  /** A standby of `primary` made with pg_basebackup -R, on its own port, stopped and removed by the cleanup. */
  async function startStandby(primary: RunningPostgres): Promise<void> {
    const root = process.getuid?.() === 0;
    const as = (command: string) =>
      root ? `runuser -u postgres -- sh -c '${command.replace(/'/g, "'\\''")}'` : command;
    const dir = path.join(primary.dir, "standby");
    const port = await freePort();
    onCleanup(() => {
      try {
        execFileSync("/bin/sh", ["-c", as(`${primary.bin}/pg_ctl -D ${dir} -m immediate -w stop`)], {
          stdio: "ignore",
          timeout: 20_000,
        });
      } catch {
        // not running
      }
    });
    execFileSync(
      "/bin/sh",
      [
        "-c",
        as(`${primary.bin}/pg_basebackup -D ${dir} -R -X stream -h 127.0.0.1 -p ${primary.port} -U postgres`),
      ],
      { timeout: 60_000, stdio: "ignore" },
    );
    execFileSync(
      "/bin/sh",
      [
        "-c",
        as(
          `${primary.bin}/pg_ctl -D ${dir} -w -t 30 -l ${primary.dir}/standby.log start -o "-c listen_addresses=127.0.0.1 -p ${port} -k ${primary.socketDir} -c cluster_name=replica1"`,
        ),
      ],
      { timeout: 60_000, stdio: "ignore" },
    );
    await waitForPort(port);
    const deadline = Date.now() + 20_000;
    while (
      psql(primary, "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'").trim() !== "1"
    ) {
      if (Date.now() > deadline) throw new Error("the standby does not stream after 20 s");
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  it("a synchronous standby gives an RPO of 0; the same standby asynchronous gives its measured lag", async () => {
    const pg = await startPostgres(onCleanup);
    await startStandby(pg);
    const services = { db: { kind: "postgres" as const, url: pg.url } };

    const asyncRun = await assess(services, { objectives: { rpo: "30s" } });
    expect(asyncRun.rows).toEqual([["db", "PASS", "withinObjective"]]);
    expect(asyncRun.findings[0]!.data).toMatchObject({ basis: "asyncReplica" });
    expect(asyncRun.findings[0]!.data!.rpoMs as number).toBeLessThan(30_000);
    expect(asyncRun.findings[0]!.message).toMatch(
      /standby replica1 at 127\.0\.0\.1 streams \(async\) with a flush lag of \d+ ms/,
    );

    psql(pg, "ALTER SYSTEM SET synchronous_standby_names = '*'");
    psql(pg, "SELECT pg_reload_conf()");
    const deadline = Date.now() + 10_000;
    while (psql(pg, "SELECT sync_state FROM pg_stat_replication").trim() !== "sync") {
      if (Date.now() > deadline) throw new Error("the standby did not become synchronous");
      await new Promise((r) => setTimeout(r, 200));
    }
    const syncRun = await assess(services, { objectives: { rpo: "1s" } });
    expect(syncRun.rows).toEqual([["db", "PASS", "withinObjective"]]);
    expect(syncRun.findings[0]!.data).toMatchObject({ rpoMs: 0, basis: "syncReplica" });
    record("ok.postgres-synchronous-standby", syncRun.observation, syncRun.input);

    // A user without pg_monitor sees the standby's row but not its state or lag: unproven, never PASS or FAIL.
    psql(pg, "CREATE ROLE app LOGIN");
    const app = { db: { kind: "postgres" as const, url: `postgres://app@127.0.0.1:${pg.port}/postgres` } };
    const hidden = await assess(app, { objectives: { rpo: "1s" } });
    expect(hidden.rows).toEqual([["db", "UNVERIFIED", "unproven"]]);
    expect(hidden.findings[0]!.toVerify).toMatch(/grant pg_monitor/);
    psql(pg, "GRANT pg_monitor TO app");
    const granted = await assess(app, { objectives: { rpo: "1s" } });
    expect(granted.rows).toEqual([["db", "PASS", "withinObjective"]]);
  }, 120_000);
});

describe("recoveryPointObjectiveMet on Redis", () => {
  it("appendfsync everysec: 1 s, PASS against 5m; WARN when no objective is declared", async () => {
    const redis = await startRedis(onCleanup, { persistence: "aof", args: ["--appendfsync", "everysec"] });
    const services = { sessions: { kind: "redis" as const, url: redis.url } };
    const within = await assess(services, { objectives: { rpo: "5m" } });
    expect(within.rows).toEqual([["sessions", "PASS", "withinObjective"]]);
    expect(within.findings[0]!.data).toMatchObject({ rpoMs: 1_000, basis: "aof" });
    record("ok.redis-aof-everysec", within.observation, within.input);

    const silent = await assess(services);
    expect(silent.rows).toEqual([["sessions", "WARN", "noObjective"]]);
    expect(silent.findings[0]!.message).toMatch(/declares no recovery\.objectives\.rpo/);
  });

  it("RDB only with save 900 1: 900 s, FAIL against 5m", async () => {
    const redis = await startRedis(onCleanup, { persistence: "none", args: ["--save", "900", "1"] });
    const { rows, findings, observation, input } = await assess(
      { sessions: { kind: "redis", url: redis.url } },
      { objectives: { rpo: "5m" } },
    );
    expect(rows).toEqual([["sessions", "FAIL", "exceedsObjective"]]);
    expect(findings[0]!.data).toMatchObject({ rpoMs: 900_000, basis: "rdb" });
    expect(findings[0]!.message).toMatch(/save '900 1'/);
    record("ng.redis-rdb-900s", observation, input);
  });

  it("no persistence on a durable store: FAIL unbounded, whatever the objective; the same store as a cache is N/A", async () => {
    const redis = await startRedis(onCleanup, { persistence: "none" });
    const durable = await assess({ orders: { kind: "redis", url: redis.url } });
    expect(durable.rows).toEqual([["orders", "FAIL", "unbounded"]]);
    expect(durable.findings[0]!.message).toMatch(
      /appendonly no; save '' \(no RDB snapshots\): every restart loses everything/,
    );
    record("ng.redis-no-persistence", durable.observation, durable.input);

    const services = { cache: { kind: "redis" as const, url: redis.url, durable: false } };
    expect(check.applies(makeCheckContext({ services }).ctx.spec, { allowDestructive: false })).toMatchObject(
      {
        applies: false,
      },
    );
    const mixed = await assess({ ...services, orders: { kind: "redis", url: redis.url } });
    expect(mixed.rows).toEqual([
      ["cache", "NA", "cache"],
      ["orders", "FAIL", "unbounded"],
    ]);
  });

  it("with CONFIG renamed (managed Redis), an AOF whose fsync policy cannot be read is UNVERIFIED, not PASS", async () => {
    const redis = await startRedis(onCleanup, {
      persistence: "aof",
      args: ["--appendfsync", "everysec", "--rename-command", "CONFIG", ""],
    });
    const { rows, findings, observation, input } = await assess(
      { sessions: { kind: "redis", url: redis.url } },
      { objectives: { rpo: "5m" } },
    );
    expect(rows).toEqual([["sessions", "UNVERIFIED", "unproven"]]);
    expect(findings[0]!.message).toMatch(/fsync policy could not be read \(CONFIG GET: ERR unknown command/);
    expect(findings[0]!.toVerify).toMatch(/CONFIG GET/);
    record("ng.redis-config-renamed", observation, input);
  });

  it("a password the url lacks is UNVERIFIED, not FAIL, and the password never reaches a finding", async () => {
    const password = `rpo-${"k".repeat(8)}-${Date.now()}`;
    const redis = await startRedis(onCleanup, { password, persistence: "aof" });
    const { rows, evidenceDir, findings } = await assess({
      open: { kind: "redis", url: `redis://127.0.0.1:${redis.port}` },
      good: { kind: "redis", url: redis.url },
    });
    expect(rows).toEqual([
      ["open", "UNVERIFIED", "passwordMissing"],
      ["good", "WARN", "noObjective"],
    ]);
    const written = readdirSync(evidenceDir, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith(".json"));
    expect(written.length).toBeGreaterThan(0);
    const everything =
      JSON.stringify(findings) + written.map((f) => readFileSync(path.join(evidenceDir, f), "utf8")).join("");
    expect(everything).not.toContain(password);
  });
});

describe("recoveryPointObjectiveMet on poolers and other kinds", () => {
  it("judges a PgBouncer at its declared PostgreSQL; without one it is UNVERIFIED; MySQL has no probe", async () => {
    const { rows } = await assess({
      pool: { kind: "pgbouncer", url: "postgres://app@127.0.0.1:6432/app", dependsOn: ["db"] },
      db: { kind: "postgres" },
      lonely: { kind: "pgbouncer", url: "postgres://app@127.0.0.1:6433/app" },
      shop: { kind: "mysql", url: "mysql://root@127.0.0.1:3306/shop" },
    });
    expect(rows).toEqual([
      ["pool", "NA", "judgedAtBackend"],
      ["db", "UNVERIFIED", "noUrl"],
      ["lonely", "UNVERIFIED", "poolerBackendUndeclared"],
      ["shop", "UNVERIFIED", "noProbe"],
    ]);
    expect(
      check.applies(makeCheckContext({ services: { api: {} } }).ctx.spec, { allowDestructive: false }),
    ).toEqual({ applies: false, reason: "no datastore in the system" });
  });
});
