// backupsFresh on real files and real backup scripts: a fresh non-empty artifact passes; stale, empty, missing,
// wrong-kind artifacts, a failing or timed-out command and a command that writes nothing new each fail, by name.
import { chmodSync, mkdirSync, mkdtempSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import check from "../../../src/checks/recovery/backupsFresh.js";
import { makeCheckContext } from "../../support/checkContext.js";
import { cleanupAfterEach } from "../../support/cleanups.js";
import { recordObservation } from "../../support/judgeFixtures.js";

const onCleanup = cleanupAfterEach();

function folder(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-backups-"));
  mkdirSync(path.join(dir, "backups"));
  onCleanup(() => import("node:fs").then((fs) => fs.rmSync(dir, { recursive: true, force: true })));
  return dir;
}

function script(dir: string, name: string, body: string): string {
  writeFileSync(path.join(dir, name), `#!/bin/sh\n${body}\n`);
  chmodSync(path.join(dir, name), 0o755);
  return `./${name}`;
}

const PGDMP = Buffer.concat([Buffer.from("PGDMP"), Buffer.alloc(200, 1)]);

async function judge(dir: string, backups: unknown[], name?: string, services?: Record<string, unknown>) {
  const spec = {
    services: services ?? { db: { kind: "postgres" as const, url: "postgres://app@127.0.0.1:1/app" } },
    recovery: { backups },
  };
  const { ctx } = makeCheckContext(spec as never, { specDir: dir });
  const observation = await check.observe(ctx);
  if (name) recordObservation("backupsFresh", name, observation, spec);
  return check.judge(observation, ctx.spec).map((f) => [f.subject, f.status, f.messageId]);
}

describe("backupsFresh", () => {
  it("PASS: the newest of several dumps is fresh and non-empty; the command ran first and was timed", async () => {
    const dir = folder();
    writeFileSync(path.join(dir, "backups/old.dump"), PGDMP);
    utimesSync(
      path.join(dir, "backups/old.dump"),
      new Date(Date.now() - 3 * 86_400_000),
      new Date(Date.now() - 3 * 86_400_000),
    );
    const cmd = script(dir, "backup.sh", "printf 'PGDMP%0200d' 0 > backups/new.dump");
    expect(
      await judge(dir, [{ service: "db", command: cmd, path: "backups/*.dump", maxAge: "1h" }], "ok.fresh"),
    ).toEqual([["db", "PASS", "fresh"]]);
  });

  it("FAIL: stale, empty, missing and wrong-kind artifacts", async () => {
    const dir = folder();
    writeFileSync(path.join(dir, "backups/a.dump"), PGDMP);
    const old = new Date(Date.now() - 2 * 86_400_000);
    utimesSync(path.join(dir, "backups/a.dump"), old, old);
    writeFileSync(path.join(dir, "backups/b.sql"), "");
    writeFileSync(
      path.join(dir, "backups/c.rdb"),
      Buffer.concat([Buffer.from("REDIS0011"), Buffer.alloc(50)]),
    );
    const services = {
      db: { kind: "postgres", url: "postgres://app@127.0.0.1:1/app" },
      orders: { kind: "postgres", url: "postgres://app@127.0.0.1:1/orders" },
      ledger: { kind: "postgres", url: "postgres://app@127.0.0.1:1/ledger" },
      audit: { kind: "postgres", url: "postgres://app@127.0.0.1:1/audit" },
      cache: { kind: "redis", url: "redis://127.0.0.1:1", durable: false },
    };
    const findings = await judge(
      dir,
      [
        { service: "db", path: "backups/*.dump", maxAge: "24h" },
        { service: "orders", path: "backups/*.sql" },
        { service: "ledger", path: "backups/ledger-*.dump" },
        { service: "audit", path: "backups/*.rdb" },
      ],
      "ng.stale-empty-missing",
      services,
    );
    expect(findings).toEqual([
      ["db", "FAIL", "stale"],
      ["orders", "FAIL", "empty"],
      ["ledger", "FAIL", "noArtifact"],
      ["audit", "FAIL", "wrongKind"],
    ]);
  });

  it("FAIL: a failing command, a timed-out one, and one that exits 0 but writes nothing new", async () => {
    const dir = folder();
    writeFileSync(path.join(dir, "backups/x.dump"), PGDMP);
    const old = new Date(Date.now() - 60_000);
    utimesSync(path.join(dir, "backups/x.dump"), old, old);
    const services = {
      db: { kind: "postgres", url: "postgres://app@127.0.0.1:1/app" },
      orders: { kind: "postgres", url: "postgres://app@127.0.0.1:1/orders" },
      ledger: { kind: "postgres", url: "postgres://app@127.0.0.1:1/ledger" },
    };
    const findings = await judge(
      dir,
      [
        {
          service: "db",
          command: script(dir, "fails.sh", "echo 'pg_dump: error: connection refused' >&2; exit 1"),
          path: "backups/*.dump",
        },
        {
          service: "orders",
          command: script(dir, "hangs.sh", "sleep 30"),
          path: "backups/*.dump",
          timeout: "1s",
        },
        { service: "ledger", command: script(dir, "noop.sh", "echo done"), path: "backups/*.dump" },
      ],
      "ng.commands",
      services,
    );
    expect(findings).toEqual([
      ["db", "FAIL", "commandFailed"],
      ["orders", "FAIL", "commandTimedOut"],
      ["ledger", "FAIL", "notWritten"],
    ]);
  });

  it("UNVERIFIED, not FAIL: a backup whose program is not installed where Gauntlet runs (exit 127)", async () => {
    const dir = folder();
    const cmd = script(dir, "backup.sh", "set -e\ngauntlet-no-such-dump-tool --all > backups/x.dump");
    expect(
      await judge(dir, [{ service: "db", command: cmd, path: "backups/*.dump" }], "ng.tool-missing"),
    ).toEqual([["db", "UNVERIFIED", "toolMissing"]]);
  });

  it("N/A only without a durable datastore: a cache with durable: false needs no backup", () => {
    const { ctx } = makeCheckContext({
      services: { cache: { kind: "redis", url: "redis://127.0.0.1:1", durable: false } },
    });
    expect(check.applies(ctx.spec, { allowDestructive: false })).toMatchObject({ applies: false });
  });
});
