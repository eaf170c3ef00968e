// A spec digest must describe the system, not its data: a certificate issued outside git keeps verifying while real
// PostgreSQL, Prometheus, Alertmanager, Redis and SQLite write their data under the spec's folder, and stops verifying
// the moment the service's code or a file the spec names changes.
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
} from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { generateKeyPair } from "../../../src/attest/keys.js";
import { computeRevision } from "../../../src/attest/revision.js";
import { createCertificate, writeCertificate } from "../../../src/attest/statement.js";
import { memoryIO } from "../../../src/cli/io.js";
import { verifyCommand } from "../../../src/cli/verify.js";
import { EvidenceStore } from "../../../src/core/evidence.js";
import { parseSpec } from "../../../src/spec/loader.js";
import { sampleAssessment } from "../../fixtures/assessment.js";
import { cleanupAfterEach } from "../../support/cleanups.js";
import { type Cleanup, freePort, redisArgs, spawnForTest, waitForPort } from "../../support/datastores.js";
import { ALERTMANAGER_BIN, PROMETHEUS_BIN, pollUntil } from "../../support/monitoring.js";
import { requireTool } from "../../support/services.js";

const onCleanup = cleanupAfterEach();
const issuedAt = new Date("2026-03-14T09:19:41.907Z");
const during = new Date("2026-03-20T12:00:00.000Z");

// The api runs in the spec's folder (no cwd): its code is the whole folder, where the data of every store below lands.
const SPEC = `version: 1
system: { name: orders }
services:
  api:
    url: http://127.0.0.1:1
    control: { process: { command: node api/server.js } }
  db:
    kind: postgres
    url: postgres://postgres@127.0.0.1:5432/postgres
    control: { process: { command: postgres -D pgdata, cwd: db } }
monitoring:
  rules: [monitoring/rules/*.yml]
revision:
  exclude: [scratch/**]
`;

function systemFiles(promPort: number): Record<string, string> {
  return {
    "gauntlet.yaml": SPEC,
    ".gitignore": "*.log\n",
    "api/server.js": "console.log('v1')\n",
    "api/app.log": "started\n",
    "scratch/notes.md": "draft\n",
    "monitoring/prometheus.yml": [
      "global: { scrape_interval: 1s }",
      "scrape_configs:",
      "  - job_name: self",
      `    static_configs: [{ targets: ["127.0.0.1:${promPort}"] }]`,
      "",
    ].join("\n"),
    "monitoring/rules/alerts.yml": "groups: []\n",
    "alerting/alertmanager.yml": "route: { receiver: nobody }\nreceivers: [{ name: nobody }]\n",
  };
}

/** Every regular file under dir, with its size and mtime: shows the data really changed under the digest. */
function fileStates(dir: string): Map<string, string> {
  const states = new Map<string, string>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    // A store's temporary files come and go between the listing and the stat.
    const info = statSync(file, { throwIfNoEntry: false });
    if (info) states.set(path.relative(dir, file), `${info.size}:${info.mtimeMs}`);
  }
  return states;
}

function postgresBin(): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  const bin = versions.map((v) => path.join(root, v, "bin")).find((b) => existsSync(path.join(b, "initdb")));
  if (!bin) throw new Error("PostgreSQL is not installed: bash scripts/install-test-deps.sh");
  return bin;
}

/** As the postgres user when the tests run as root (PostgreSQL refuses to run as root). */
function asPostgres(command: string): string {
  return process.getuid?.() === 0
    ? `runuser -u postgres -- sh -c '${command.replace(/'/g, "'\\''")}'`
    : command;
}

/**
 * A cluster made with initdb + pg_ctl as startPostgres does, but with its data (pgdata/), socket (sock/) and server
 * log under `dir`, stopped by the cleanup; returns a psql runner.
 */
async function startPostgresIn(dir: string, cleanup: Cleanup): Promise<(sql: string) => string> {
  const bin = postgresBin();
  const port = await freePort();
  const data = path.join(dir, "pgdata");
  const socketDir = path.join(dir, "sock");
  mkdirSync(socketDir, { recursive: true });
  if (process.getuid?.() === 0) {
    execFileSync("/bin/sh", ["-c", "id postgres >/dev/null 2>&1 || useradd --system postgres"]);
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
    chownSync(dir, uid, gid);
    chownSync(socketDir, uid, gid);
  }
  cleanup(() => {
    try {
      execFileSync("/bin/sh", ["-c", asPostgres(`${bin}/pg_ctl -D ${data} -m immediate -w stop`)], {
        timeout: 20_000,
        stdio: "ignore",
      });
    } catch {
      // not running
    }
  });
  execFileSync("/bin/sh", ["-c", asPostgres(`${bin}/initdb -D ${data} -U postgres -A trust >/dev/null`)], {
    timeout: 60_000,
  });
  const options = `-c listen_addresses=127.0.0.1 -p ${port} -k ${socketDir}`;
  execFileSync(
    "/bin/sh",
    ["-c", asPostgres(`${bin}/pg_ctl -D ${data} -w -t 30 -l ${dir}/server.log start -o "${options}"`)],
    {
      timeout: 60_000,
      stdio: "ignore",
    },
  );
  return (sql) =>
    execFileSync(
      "/bin/sh",
      ["-c", asPostgres(`${bin}/psql -h ${socketDir} -p ${port} -U postgres -qAt -c "${sql}"`)],
      {
        encoding: "utf8",
        timeout: 30_000,
      },
    );
}

describe("revision digest outside git: data written after the certificate does not change it", () => {
  it("verifies while PostgreSQL, Prometheus, Alertmanager, Redis and SQLite write under the spec's folder", async () => {
    const system = mkdtempSync(path.join(tmpdir(), "gauntlet-revision-data-"));
    // PostgreSQL runs as the postgres user when the tests run as root: it must reach its folder.
    chmodSync(system, 0o755);
    onCleanup(() => rmSync(system, { recursive: true, force: true }));
    const promPort = await freePort();
    const files = systemFiles(promPort);
    for (const [name, text] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(system, name)), { recursive: true });
      await writeFile(path.join(system, name), text);
    }
    const specPath = path.join(system, "gauntlet.yaml");

    // Issue the certificate first, before any store has written a byte.
    const revision = await computeRevision(specPath, parseSpec(SPEC, specPath));
    expect(revision.kind).toBe("spec");
    expect(revision.files).toEqual([
      ".gitignore",
      "alerting/alertmanager.yml",
      "api/server.js",
      "gauntlet.yaml",
      "monitoring/prometheus.yml",
      "monitoring/rules/alerts.yml",
    ]);
    const run = mkdtempSync(path.join(tmpdir(), "gauntlet-revision-run-"));
    onCleanup(() => rmSync(run, { recursive: true, force: true }));
    const store = new EvidenceStore(path.join(run, "evidence"));
    await store.writerFor("healthEndpointsRespond").writeJson("api.json", { status: 200 });
    const sealed = await store.seal();
    const keys = await generateKeyPair(path.join(run, "keys"));
    const assessment = sampleAssessment();
    assessment.revision = revision;
    const certificate = await createCertificate(assessment, sealed.manifest, sealed.digest, {
      keyPath: keys.privateKeyPath,
      validForMs: 30 * 86_400_000,
      now: issuedAt,
    });
    const certPath = path.join(run, "certificate.dsse.json");
    await writeCertificate(certPath, certificate.envelope);
    const verify = async () => {
      const io = memoryIO();
      const code = await verifyCommand(
        certPath,
        { key: keys.publicKeyPath, spec: specPath, now: during },
        io,
      );
      return {
        code,
        summary: io.stdout.at(-1) ?? "",
        subject: io.stdout.find((l) => l.includes(" subject ")),
      };
    };
    expect(await verify()).toMatchObject({ code: 0 });
    const before = fileStates(system);

    // PostgreSQL: a cluster of its own in db/pgdata, its socket in db/sock, and real writes flushed to disk.
    const dbDir = path.join(system, "db");
    mkdirSync(dbDir);
    const psql = await startPostgresIn(dbDir, onCleanup);
    psql("CREATE TABLE orders (id serial PRIMARY KEY, note text)");
    psql("INSERT INTO orders (note) SELECT md5(i::text) FROM generate_series(1, 20000) i");
    psql("CHECKPOINT");

    // Prometheus scraping itself every second, its TSDB in monitoring/data.
    spawnForTest(
      onCleanup,
      PROMETHEUS_BIN,
      [
        "--config.file=monitoring/prometheus.yml",
        "--storage.tsdb.path=monitoring/data",
        `--web.listen-address=127.0.0.1:${promPort}`,
        "--log.level=warn",
      ],
      system,
    );

    // Alertmanager in alerting/, its nflog and silences in alerting/data (written when it stops).
    const amPort = await freePort();
    const alertmanager = spawnForTest(
      onCleanup,
      ALERTMANAGER_BIN,
      [
        "--config.file=alertmanager.yml",
        "--storage.path=data",
        `--web.listen-address=127.0.0.1:${amPort}`,
        "--cluster.listen-address=",
        "--log.level=warn",
      ],
      path.join(system, "alerting"),
    );

    // Redis with an append-only folder and an RDB snapshot in cache/.
    const redisPort = await freePort();
    const cacheDir = path.join(system, "cache");
    mkdirSync(cacheDir);
    spawnForTest(
      onCleanup,
      requireTool("redis-server"),
      redisArgs(redisPort, cacheDir, { persistence: "aof" }),
    );
    await waitForPort(redisPort);
    const redisCli = requireTool("redis-cli");
    execFileSync(redisCli, ["-p", String(redisPort), "SET", "order:1", "paid"]);
    execFileSync(redisCli, ["-p", String(redisPort), "SAVE"]);

    // SQLite in WAL mode beside the api's code, held open so its -wal and -shm files exist.
    const sqlite = new Database(path.join(system, "api/orders.sqlite"));
    onCleanup(() => {
      sqlite.close();
    });
    sqlite.pragma("journal_mode = WAL");
    sqlite.exec("CREATE TABLE orders (id INTEGER PRIMARY KEY, note TEXT)");
    sqlite.prepare("INSERT INTO orders (note) VALUES (?)").run("paid");

    await waitForPort(amPort);
    const stopped = new Promise((resolve) => alertmanager.once("exit", resolve));
    alertmanager.kill("SIGTERM");
    await stopped;
    await pollUntil(
      "Prometheus to flush its WAL",
      async () => {
        const wal = path.join(system, "monitoring/data/wal/00000000");
        return (statSync(wal, { throwIfNoEntry: false })?.size ?? 0) > 0 ? true : undefined;
      },
      30_000,
    );
    psql("INSERT INTO orders (note) VALUES ('late')");

    // The data is real and it changed: hundreds of files appeared or grew under the spec's folder.
    const after = fileStates(system);
    const changed = [...after].filter(([file, state]) => before.get(file) !== state).map(([file]) => file);
    expect(changed.filter((f) => f.startsWith("db/pgdata/")).length).toBeGreaterThan(500);
    expect(changed).toEqual(
      expect.arrayContaining([
        "monitoring/data/wal/00000000",
        "alerting/data/nflog",
        "cache/dump.rdb",
        "api/orders.sqlite-wal",
      ]),
    );

    // None of it is in the digest, and the revision says what it left out and why.
    const now = await computeRevision(specPath, parseSpec(SPEC, specPath));
    expect(now.digest).toBe(revision.digest);
    expect(now.files).toEqual(revision.files);
    expect(now.omitted).toEqual({
      // pgdata, the TSDB, nflog, silences, dump.rdb, appendonlydir, the SQLite database, its -wal and -shm.
      datastoreData: 9,
      // The PostgreSQL socket, and its lock file.
      specialFile: 1,
      runtimeState: 1,
      // api/app.log and db/server.log.
      gitignore: 2,
      revisionExclude: 1,
    });
    const valid = await verify();
    expect(valid).toMatchObject({ code: 0, summary: expect.stringMatching(/^VALID: orders/) });
    expect(valid.subject).toMatch(/match the certified digest/);

    // Gitignored and revision.exclude'd files stay left out as they change.
    await writeFile(path.join(system, "api/app.log"), "started\nserved 1000 requests\n");
    await writeFile(path.join(system, "api/debug.log"), "new\n");
    await writeFile(path.join(system, "scratch/notes.md"), "redrafted\n");
    expect((await verify()).code).toBe(0);

    // A change to the service's code, or to a file the spec names, is a new system.
    await writeFile(path.join(system, "api/server.js"), "console.log('v2')\n");
    const codeChanged = await verify();
    expect(codeChanged.code).toBe(2);
    expect(codeChanged.summary).toMatch(
      /^INVALID: subject: the certificate names spec digest .* the system changed/,
    );
    await writeFile(path.join(system, "api/server.js"), files["api/server.js"]!);
    expect((await verify()).code).toBe(0);
    await writeFile(path.join(system, "monitoring/rules/alerts.yml"), "groups: [{ name: api, rules: [] }]\n");
    expect((await verify()).code).toBe(2);
    await writeFile(path.join(system, "monitoring/rules/alerts.yml"), files["monitoring/rules/alerts.yml"]!);
    expect((await verify()).code).toBe(0);
  }, 180_000);
});
