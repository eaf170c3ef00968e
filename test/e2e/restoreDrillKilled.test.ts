// kill -9 of Gauntlet in the middle of a restore drill: its rollbacks never run, so the scratch PostgreSQL cluster
// outlives it. The journal entry written before the cluster was made lets the next assessment in the same folder stop
// that server and remove its folder, and say so.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { cleanupAfterEach } from "../support/cleanups.js";
import { startCli } from "../support/cli.js";
import { psql, startPostgres } from "../support/datastores.js";
import { ownTmpdir } from "../support/ownTmpdir.js";

const onCleanup = cleanupAfterEach();
// The CLI's scratch folders go here (its TMPDIR): other test files' drills, running in parallel, are not counted.
const scratchRoot = ownTmpdir("drill-killed");
const scratchDirs = () => readdirSync(scratchRoot).filter((n) => n.startsWith("gauntlet-restore-pg-"));
const scratchServers = () =>
  execFileSync("ps", ["-eo", "args"], { encoding: "utf8" })
    .split("\n")
    .filter((l) => l.includes("postgres -D") && l.includes(`${scratchRoot}/gauntlet-restore-pg-`))
    .join("\n");

async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

describe("kill -9 mid-drill", () => {
  it("the next run stops the scratch cluster the killed one left, removes its folder and reports it", async () => {
    const pg = await startPostgres(onCleanup, { auth: "scram" });
    psql(pg, "CREATE DATABASE shop");
    // Enough rows that the restore is still running when the kill lands.
    psql(pg, "CREATE TABLE t AS SELECT g, md5(g::text) AS h FROM generate_series(1, 300000) g", "shop");
    const dir = mkdtempSync(path.join(scratchRoot, "spec-"));
    onCleanup(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(path.join(dir, "backups"));
    const url = pg.url.replace(/\/postgres$/, "/shop");
    writeFileSync(
      path.join(dir, "backup.sh"),
      `#!/bin/sh\nset -e\npg_dump -Fc -d "$DB_URL" -f backups/shop.dump\n`,
    );
    chmodSync(path.join(dir, "backup.sh"), 0o755);
    writeFileSync(
      path.join(dir, "gauntlet.yaml"),
      [
        "version: 1",
        "system: { name: drill-killed }",
        "services:",
        `  db: { kind: postgres, url: "\${DB_URL}" }`,
        "recovery:",
        '  backups: [{ service: db, command: ./backup.sh, path: "backups/*.dump" }]',
        "  objectives: { rto: 10m }",
        "",
      ].join("\n"),
    );
    const env = { DB_URL: url, TMPDIR: scratchRoot };
    const before = new Set(scratchDirs());
    const run = startCli(["assess", "gauntlet.yaml", "--only", "restoreDrillSucceeds", "--no-store"], {
      cwd: dir,
      env,
    });
    const appeared = await until(
      () => scratchDirs().some((d) => !before.has(d)) && scratchServers() !== "",
      60_000,
    );
    run.child.kill("SIGKILL");
    await run.done;
    expect(appeared, run.output()).toBe(true);
    expect(scratchServers()).not.toBe(""); // nothing undid it: the process that would have is gone

    const next = startCli(["assess", "gauntlet.yaml", "--only", "healthEndpointsRespond", "--no-store"], {
      cwd: dir,
      env,
    });
    const result = await next.done;
    expect(result.stdout + result.stderr).toMatch(
      /left behind by run \S+ \(restoreDrillSucceeds\), undone: removed a restore drill's scratch PostgreSQL cluster/,
    );
    expect(await until(() => scratchServers() === "", 10_000)).toBe(true);
    expect(scratchDirs().filter((d) => !before.has(d))).toEqual([]);
    expect(result.stdout + result.stderr).not.toContain("pg-test-password");
  }, 120_000);
});
