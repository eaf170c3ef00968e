// The recovery-point arithmetic on its own: WAL file names and LSNs, Redis save schedules, and how each mechanism's
// facts turn into a worst-case window (or into "broken"/"unproven", which never count).
import { describe, expect, it } from "vitest";
import type { BackupArtifacts } from "../../../../src/engines/recovery/rpoArtifacts.js";
import {
  estimatePostgresRpo,
  estimateRedisRpo,
  isNoopArchiveCommand,
  parseSaveSchedule,
} from "../../../../src/engines/recovery/rpoEstimate.js";
import { type PostgresRpoFacts, parseLsn, segmentEnd } from "../../../../src/engines/recovery/rpoPostgres.js";
import type { RedisRpoFacts } from "../../../../src/engines/recovery/rpoRedis.js";

const MB16 = 16 * 1024 * 1024;

function pg(
  overrides: Partial<PostgresRpoFacts> = {},
  settings: PostgresRpoFacts["settings"] = {},
): PostgresRpoFacts {
  return {
    version: "15",
    inRecovery: false,
    settings: {
      archive_mode: "off",
      archive_command: "(disabled)",
      archive_library: "",
      archive_timeout: "0",
      synchronous_commit: "on",
      fsync: "on",
      wal_writer_delay: "200",
      wal_segment_size: String(MB16),
      ...settings,
    },
    archiver: {
      archivedCount: 0,
      lastArchivedWal: null,
      lastArchivedAgeMs: null,
      failedCount: 0,
      lastFailedWal: null,
      lastFailedAgeMs: null,
      statsResetAgeMs: 1_000,
    },
    unarchivedWalBytes: null,
    replicas: [],
    replicationSamples: { count: 1, overMs: 0 },
    ...overrides,
  };
}

function redis(
  config: RedisRpoFacts["config"],
  persistence: Partial<RedisRpoFacts["persistence"]> = {},
): RedisRpoFacts {
  return {
    version: "7.0.15",
    role: "master",
    config,
    persistence: {
      loading: false,
      aofEnabled: config?.appendonly === "yes",
      aofLastWriteStatus: "ok",
      aofLastBgrewriteStatus: "ok",
      rdbLastBgsaveStatus: "ok",
      rdbChangesSinceLastSave: 0,
      rdbLastSaveAgeMs: 0,
      ...persistence,
    },
    osWriteback: null,
  };
}

const archiving = { archive_mode: "on", archive_command: "cp %p /mnt/archive/%f", archive_timeout: "60" };

describe("WAL positions", () => {
  it("reads LSNs and the end of a segment from its file name", () => {
    expect(parseLsn("0/3000000")).toBe(0x3000000n);
    expect(parseLsn("1/A0")).toBe((1n << 32n) + 0xa0n);
    expect(parseLsn("nonsense")).toBeNull();
    expect(segmentEnd("000000010000000000000002", MB16)).toBe(3n * BigInt(MB16));
    // Segment number split at 4 GiB: 256 segments of 16 MB per "logical" file.
    expect(segmentEnd("0000000100000001000000FF", MB16)).toBe(512n * BigInt(MB16));
    expect(segmentEnd("00000002.history", MB16)).toBeNull();
    expect(segmentEnd("000000010000000000000002.00000028.backup", MB16)).toBeNull();
  });

  it("knows an archive_command that copies nothing", () => {
    for (const c of ["true", "/bin/true", "/usr/bin/true", ":", "exit 0", " true; "])
      expect(isNoopArchiveCommand(c)).toBe(true);
    for (const c of ["cp %p /a/%f", "test ! -f /a/%f && cp %p /a/%f", "truecopy %p"])
      expect(isNoopArchiveCommand(c)).toBe(false);
  });
});

describe("PostgreSQL", () => {
  it("a working archive is bounded by archive_timeout, or by how long WAL has waited when it is behind", () => {
    const archived = (ageMs: number, pending: number) =>
      pg(
        {
          archiver: {
            ...pg().archiver!,
            archivedCount: 5,
            lastArchivedWal: "000000010000000000000005",
            lastArchivedAgeMs: ageMs,
          },
          unarchivedWalBytes: pending,
        },
        archiving,
      );
    expect(estimatePostgresRpo(archived(20_000, 0), []).best).toMatchObject({
      name: "walArchive",
      rpoMs: 60_000,
      exposureMs: 0,
    });
    expect(estimatePostgresRpo(archived(20_000, 8192), []).best).toMatchObject({
      rpoMs: 60_000,
      exposureMs: 20_000,
    });
    const behind = estimatePostgresRpo(archived(900_000, 8192), []).best!;
    expect(behind).toMatchObject({ rpoMs: 900_000 });
    expect(behind.detail).toMatch(/archive is behind/);
  });

  it("archive_timeout 0 is working but not bounded in time; never archived is unproven; a later failure is broken", () => {
    const base = {
      ...pg().archiver!,
      archivedCount: 5,
      lastArchivedWal: "000000010000000000000005",
      lastArchivedAgeMs: 5_000,
    };
    const zero = estimatePostgresRpo(
      pg({ archiver: base, unarchivedWalBytes: 10 }, { ...archiving, archive_timeout: "0" }),
      [],
    );
    expect(zero.best).toBeNull();
    expect(zero.mechanisms[0]).toMatchObject({ state: "working", rpoMs: null, exposureMs: 5_000 });
    expect(estimatePostgresRpo(pg({}, archiving), []).mechanisms[0]).toMatchObject({ state: "unproven" });
    const failing = {
      ...base,
      failedCount: 3,
      lastFailedWal: "000000010000000000000006",
      lastFailedAgeMs: 1_000,
    };
    expect(estimatePostgresRpo(pg({ archiver: failing }, archiving), []).mechanisms[0]).toMatchObject({
      state: "broken",
    });
    // A failure older than the last success is history, not a broken archive.
    const recovered = { ...failing, lastFailedAgeMs: 50_000 };
    expect(
      estimatePostgresRpo(pg({ archiver: recovered, unarchivedWalBytes: 0 }, archiving), []).best?.name,
    ).toBe("walArchive");
    expect(
      estimatePostgresRpo(pg({}, { archive_mode: "on", archive_command: "" }), []).mechanisms[0],
    ).toMatchObject({
      state: "broken",
    });
  });

  it("standbys: synchronous only when commits wait for them; async by flush lag; hidden ones are unproven", () => {
    const replica = {
      name: "r1",
      clientAddr: "10.0.0.2",
      state: "streaming",
      syncState: "sync",
      writeLagMs: 3,
      flushLagMs: 4,
      replayLagMs: 9,
      flushLagBytes: 0,
    };
    expect(estimatePostgresRpo(pg({ replicas: [replica] }), []).best).toMatchObject({
      name: "syncReplica",
      rpoMs: 0,
    });
    const local = estimatePostgresRpo(pg({ replicas: [replica] }, { synchronous_commit: "local" }), []);
    expect(local.best).toMatchObject({ name: "asyncReplica", rpoMs: 4 });
    const idle = { ...replica, syncState: "async", writeLagMs: null, flushLagMs: null, replayLagMs: null };
    expect(estimatePostgresRpo(pg({ replicas: [idle] }), []).best).toMatchObject({
      name: "asyncReplica",
      rpoMs: 0,
    });
    const hidden = { ...idle, state: null, syncState: null, flushLagBytes: null };
    const est = estimatePostgresRpo(pg({ replicas: [hidden] }), []);
    expect(est.best).toBeNull();
    expect(est.mechanisms[0]).toMatchObject({ state: "unproven" });
    const catchingUp = { ...replica, state: "catchup" };
    expect(estimatePostgresRpo(pg({ replicas: [catchingUp] }), []).mechanisms[0]).toMatchObject({
      state: "broken",
    });
  });

  it("fsync off fails and synchronous_commit off warns with its bound", () => {
    const est = estimatePostgresRpo(
      pg({}, { fsync: "off", synchronous_commit: "off", wal_writer_delay: "100" }),
      [],
    );
    expect(est.crashLoss.map((c) => [c.setting, c.severity, c.lossMs])).toEqual([
      ["fsync", "fail", null],
      ["synchronous_commit", "warn", 300],
    ]);
  });

  it("backups: the newest artifact's age, or the widest gap between artifacts when it is larger", () => {
    const files = (...ages: number[]): BackupArtifacts => ({
      path: "b/*.dump",
      matched: ages.length,
      empty: 0,
      newest: ages.map((ageMs, i) => ({ file: `b/${i}.dump`, ageMs, bytes: 10 })),
    });
    expect(estimatePostgresRpo(pg(), [files(3_600_000, 90_000_000)]).best).toMatchObject({
      rpoMs: 86_400_000,
    });
    expect(estimatePostgresRpo(pg(), [files(90_000_000, 93_600_000)]).best).toMatchObject({
      rpoMs: 90_000_000,
    });
    expect(estimatePostgresRpo(pg(), [files(60_000)]).best?.caveat).toMatch(/only one artifact/);
    expect(estimatePostgresRpo(pg(), [files()]).mechanisms[0]).toMatchObject({ state: "broken" });
    expect(estimatePostgresRpo(pg(), []).mechanisms).toEqual([]);
  });
});

describe("Redis", () => {
  it("reads save schedules", () => {
    expect(parseSaveSchedule("3600 1 300 100 60 10000")).toEqual([
      { seconds: 3600, changes: 1 },
      { seconds: 300, changes: 100 },
      { seconds: 60, changes: 10000 },
    ]);
    expect(parseSaveSchedule("")).toEqual([]);
    expect(parseSaveSchedule("900")).toBeNull();
  });

  it("AOF by fsync policy; appendfsync no by the kernel's writeback", () => {
    const aof = (appendfsync: string) => redis({ appendonly: "yes", appendfsync, save: "" });
    expect(estimateRedisRpo(aof("always"), []).best?.rpoMs).toBe(0);
    expect(estimateRedisRpo(aof("everysec"), []).best?.rpoMs).toBe(1_000);
    expect(estimateRedisRpo(aof("no"), []).best?.rpoMs).toBe(35_000);
    const measured = { ...aof("no"), osWriteback: { expireMs: 10_000, intervalMs: 1_000 } };
    expect(estimateRedisRpo(measured, []).best?.rpoMs).toBe(11_000);
    const off = { ...aof("no"), osWriteback: { expireMs: 10_000, intervalMs: 0 } };
    expect(estimateRedisRpo(off, []).best).toBeNull();
    const failing = redis(
      { appendonly: "yes", appendfsync: "always", save: "" },
      { aofLastWriteStatus: "err" },
    );
    expect(estimateRedisRpo(failing, []).mechanisms[0]).toMatchObject({ state: "broken" });
  });

  it("RDB: the rule with the fewest changes sets the worst case; pending changes older than it extend it", () => {
    const rdb = (save: string, p: Partial<RedisRpoFacts["persistence"]> = {}) =>
      redis({ appendonly: "no", appendfsync: "everysec", save }, p);
    expect(estimateRedisRpo(rdb("3600 1 300 100 60 10000"), []).best?.rpoMs).toBe(3_600_000);
    expect(estimateRedisRpo(rdb("900 1 600 1"), []).best?.rpoMs).toBe(600_000);
    expect(
      estimateRedisRpo(rdb("60 1", { rdbChangesSinceLastSave: 5, rdbLastSaveAgeMs: 7_200_000 }), []).best
        ?.rpoMs,
    ).toBe(7_200_000);
    const many = estimateRedisRpo(rdb("300 100"), []);
    expect(many.best).toBeNull();
    expect(many.mechanisms[0]?.detail).toMatch(/up to 99 write/);
    expect(estimateRedisRpo(rdb("60 1", { rdbLastBgsaveStatus: "err" }), []).mechanisms[0]).toMatchObject({
      state: "broken",
    });
    expect(estimateRedisRpo(rdb(""), []).mechanisms).toEqual([]);
  });

  it("without CONFIG, INFO alone proves nothing about the policy", () => {
    const noConfig = { ...redis(null, { aofEnabled: true }), configError: "ERR unknown command 'CONFIG'" };
    const est = estimateRedisRpo(noConfig, []);
    expect(est.best).toBeNull();
    expect(est.mechanisms.map((m) => [m.name, m.state])).toEqual([
      ["aof", "unproven"],
      ["rdb", "unproven"],
    ]);
  });
});
