import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { appendFile, mkdir, mkdtemp, rename, symlink, writeFile } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it, vi } from "vitest";
import { computeRevision } from "../../../src/attest/revision.js";
import { expandPattern } from "../../../src/engines/files/glob.js";
import { type SpecInput, specSchema } from "../../../src/spec/schema.js";

// Every path handed to node:fs/promises, so a test can show that a folder left out was never listed nor opened.
const { fsCalls } = vi.hoisted(() => ({ fsCalls: [] as string[] }));
vi.mock("node:fs/promises", async (importOriginal) => {
  const actual = await importOriginal<Record<string, unknown>>();
  const traced: Record<string, unknown> = { ...actual };
  for (const [name, value] of Object.entries(actual)) {
    if (typeof value !== "function" || name === "default") continue;
    traced[name] = (...args: unknown[]) => {
      fsCalls.push(String(args[0]));
      return (value as (...a: unknown[]) => unknown)(...args);
    };
  }
  return { ...traced, default: traced };
});

const tempDir = () => mkdtemp(path.join(tmpdir(), "gauntlet-revision-"));

function git(cwd: string, ...args: string[]): string {
  return execFileSync(
    "git",
    ["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false", ...args],
    { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
  ).trim();
}

async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), content);
  }
}

const specInput: SpecInput = {
  version: 1,
  system: { name: "orders" },
  deployment: {
    compose: ["docker-compose.yml"],
    dockerfiles: ["Dockerfile", "missing.Dockerfile"],
    scripts: ["scripts/*.sh"],
    env: { example: ".env.example" },
  },
  monitoring: { rules: ["monitoring/**/*.yml"] },
  operations: { runbooks: "docs/runbooks", coverage: "coverage/lcov.info" },
};

const systemFiles = {
  "gauntlet.yaml": "version: 1\nsystem: { name: orders }\n",
  "docker-compose.yml": "services: {}\n",
  Dockerfile: "FROM node:20\n",
  "scripts/deploy.sh": "echo deploy\n",
  "scripts/backup.sh": "echo backup\n",
  "scripts/notes.txt": "not a script\n",
  ".env.example": "DB_PASSWORD=\n",
  "monitoring/alerts.yml": "groups: []\n",
  "monitoring/alerts/api.yml": "groups: []\n",
  "monitoring/alerts/deep/db.yml": "groups: []\n",
  "docs/runbooks/db.md": "# db\n",
  "unrelated.txt": "ignored\n",
};

describe("computeRevision outside git", () => {
  it("hashes the spec and every file it names, in sorted order, with paths relative to the spec", async () => {
    const dir = await tempDir();
    await writeFiles(dir, systemFiles);
    const spec = specSchema.parse(specInput);
    const revision = await computeRevision(path.join(dir, "gauntlet.yaml"), spec);
    expect(revision.kind).toBe("spec");
    expect(revision.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(revision.dirty).toBeUndefined();
    expect(revision.files).toEqual([
      ".env.example",
      "Dockerfile",
      "docker-compose.yml",
      "docs/runbooks/db.md",
      "gauntlet.yaml",
      "monitoring/alerts.yml",
      "monitoring/alerts/api.yml",
      "monitoring/alerts/deep/db.yml",
      "scripts/backup.sh",
      "scripts/deploy.sh",
    ]);
    // Stable when nothing changes, and unaffected by files the spec does not name.
    await writeFile(path.join(dir, "unrelated.txt"), "changed\n");
    expect((await computeRevision(path.join(dir, "gauntlet.yaml"), spec)).digest).toBe(revision.digest);
  });

  it("changes when a named file changes, is renamed, or appears", async () => {
    const dir = await tempDir();
    await writeFiles(dir, systemFiles);
    const spec = specSchema.parse(specInput);
    const specPath = path.join(dir, "gauntlet.yaml");
    const digests = new Set([(await computeRevision(specPath, spec)).digest]);

    await writeFile(path.join(dir, "Dockerfile"), "FROM node:22\n");
    digests.add((await computeRevision(specPath, spec)).digest);
    await rename(path.join(dir, "scripts/deploy.sh"), path.join(dir, "scripts/deploy2.sh"));
    digests.add((await computeRevision(specPath, spec)).digest);
    await writeFile(path.join(dir, "missing.Dockerfile"), "FROM scratch\n");
    digests.add((await computeRevision(specPath, spec)).digest);
    await writeFile(specPath, "version: 1\nsystem: { name: orders, version: 2 }\n");
    digests.add((await computeRevision(specPath, spec)).digest);
    expect(digests.size).toBe(5);
  });

  it("falls back to the spec digest in a git repository without commits", async () => {
    const dir = await tempDir();
    await writeFiles(dir, systemFiles);
    git(dir, "init", "-q");
    const revision = await computeRevision(path.join(dir, "gauntlet.yaml"), specSchema.parse(specInput));
    expect(revision.kind).toBe("spec");
  });
});

describe("computeRevision in git", () => {
  it("returns HEAD and whether the work tree is dirty", async () => {
    const dir = await tempDir();
    await writeFiles(dir, systemFiles);
    git(dir, "init", "-q");
    git(dir, "add", ".");
    git(dir, "commit", "-q", "-m", "first");
    const spec = specSchema.parse(specInput);
    const specPath = path.join(dir, "gauntlet.yaml");
    const head = git(dir, "rev-parse", "HEAD");
    expect(await computeRevision(specPath, spec)).toEqual({ kind: "git", digest: head, dirty: false });

    await writeFile(path.join(dir, "Dockerfile"), "FROM node:22\n");
    expect(await computeRevision(specPath, spec)).toEqual({
      kind: "git",
      digest: head,
      dirty: true,
      worktree: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });

  it("resolves system.repo against the spec's folder", async () => {
    const dir = await tempDir();
    await writeFiles(dir, { "app/main.js": "1\n", "ops/gauntlet.yaml": "version: 1\n" });
    git(path.join(dir, "app"), "init", "-q");
    git(path.join(dir, "app"), "add", ".");
    git(path.join(dir, "app"), "commit", "-q", "-m", "app");
    const spec = specSchema.parse({ version: 1, system: { name: "orders", repo: "../app" } });
    const revision = await computeRevision(path.join(dir, "ops/gauntlet.yaml"), spec);
    expect(revision).toMatchObject({ kind: "git", digest: git(path.join(dir, "app"), "rev-parse", "HEAD") });

    const missing = specSchema.parse({ version: 1, system: { name: "orders", repo: "../nowhere" } });
    expect((await computeRevision(path.join(dir, "ops/gauntlet.yaml"), missing)).kind).toBe("spec");
  });
});

describe("expandPattern", () => {
  it("supports *, ? and **, folders and plain paths", async () => {
    const dir = await tempDir();
    await writeFiles(dir, {
      "a/x1.yml": "",
      "a/x22.yml": "",
      "a/b/x3.yml": "",
      "a/b/c/x4.yaml": "",
      "node_modules/x.yml": "",
    });
    const rel = async (pattern: string) =>
      (await expandPattern(dir, pattern)).map((f) => path.relative(dir, f).split(path.sep).join("/"));
    expect(await rel("a/*.yml")).toEqual(["a/x1.yml", "a/x22.yml"]);
    expect(await rel("a/x?.yml")).toEqual(["a/x1.yml"]);
    expect(await rel("a/**/*.yml")).toEqual(["a/b/x3.yml", "a/x1.yml", "a/x22.yml"]);
    expect(await rel("**/*.yml")).toEqual(["a/b/x3.yml", "a/x1.yml", "a/x22.yml"]);
    expect(await rel("a/**")).toEqual(["a/b/c/x4.yaml", "a/b/x3.yml", "a/x1.yml", "a/x22.yml"]);
    expect(await rel("a/b")).toEqual(["a/b/c/x4.yaml", "a/b/x3.yml"]);
    expect(await rel("a/x1.yml")).toEqual(["a/x1.yml"]);
    expect(await rel("nothing/*.yml")).toEqual([]);
    expect(await rel("a/x1.yml.missing")).toEqual([]);
  });
});

describe("computeRevision binds what a certificate would otherwise miss", () => {
  it("a dirty work tree carries a digest of its changes, which changes with them", async () => {
    const dir = await tempDir();
    await writeFiles(dir, { "gauntlet.yaml": "version: 1\nsystem: { name: orders }\n", "app.js": "v1\n" });
    git(dir, "init", "-q");
    git(dir, "add", ".");
    git(dir, "commit", "-q", "-m", "one");
    const spec = specSchema.parse({ version: 1, system: { name: "orders" } });
    const specPath = path.join(dir, "gauntlet.yaml");
    const clean = await computeRevision(specPath, spec);
    expect(clean).toMatchObject({ kind: "git", dirty: false });
    expect(clean.worktree).toBeUndefined();

    await writeFile(path.join(dir, "app.js"), "v2\n");
    const edited = await computeRevision(specPath, spec);
    expect(edited.digest).toBe(clean.digest);
    expect(edited.worktree).toMatch(/^[0-9a-f]{64}$/);

    await writeFile(path.join(dir, "new.js"), "untracked\n");
    const withNew = await computeRevision(specPath, spec);
    expect(withNew.worktree).not.toBe(edited.worktree);
    await writeFile(path.join(dir, "new.js"), "untracked, edited\n");
    expect((await computeRevision(specPath, spec)).worktree).not.toBe(withNew.worktree);
  });

  it("outside git, the code of a supervised service is part of the digest, Gauntlet's output is not", async () => {
    const dir = await tempDir();
    await writeFiles(dir, { "gauntlet.yaml": "version: 1\n", "svc/server.js": "v1\n" });
    const spec = specSchema.parse({
      version: 1,
      system: { name: "orders" },
      services: {
        api: { url: "http://127.0.0.1:1", control: { process: { command: "node server.js", cwd: "svc" } } },
      },
    });
    const specPath = path.join(dir, "gauntlet.yaml");
    const before = await computeRevision(specPath, spec);
    expect(before.files).toContain("svc/server.js");
    await writeFiles(dir, {
      "svc/out/certificate.dsse.json": "{}",
      "svc/out/report.md": "#",
      "svc/.gauntlet/x": "y",
    });
    expect((await computeRevision(specPath, spec)).digest).toBe(before.digest);
    await writeFile(path.join(dir, "svc/server.js"), "v2\n");
    expect((await computeRevision(specPath, spec)).digest).not.toBe(before.digest);
  });
});

describe("computeRevision outside git leaves out what does not define the system", () => {
  // A service without cwd runs in the spec's folder: its code is the whole folder, the case where data crept in.
  const wholeFolder: SpecInput = {
    version: 1,
    system: { name: "orders" },
    services: { api: { url: "http://127.0.0.1:1", control: { process: { command: "node app/server.js" } } } },
  };
  const rdb = (body: string) => `REDIS0011\xfa\tredis-ver\x057.0.15${body}`;

  it("never hashes datastore data, recognised by what it is wherever it sits, nor sockets, FIFOs and pid files", async () => {
    const dir = await tempDir();
    await writeFiles(dir, {
      "gauntlet.yaml": "version: 1\n",
      "app/server.js": "v1\n",
      // Look-alikes that are code: a meta.json and an index without chunks/, a wal folder without chunks_head/.
      "app/meta.json": "{}\n",
      "app/index": "index\n",
      "app/wal/notes.md": "# write-ahead logging, explained\n",
      "app/PG_VERSION.md": "16\n",
      "pgdata/PG_VERSION": "16\n",
      "pgdata/global/pg_control": "\u0000control",
      "pgdata/base/1/1259": "\u0000heap",
      "app/state/pg/PG_VERSION": "15\n",
      "app/state/pg/global/pg_control": "\u0000control",
      "app/state/pg/postgresql.conf": "port = 5432\n",
      "tablespaces/fast/PG_16_202307071/16384/1": "\u0000",
      "monitoring/prometheus.yml": "global: {}\n",
      "monitoring/data/wal/00000000": "\u0000wal",
      "monitoring/data/chunks_head/000001": "\u0000chunk",
      "monitoring/data/queries.active": "\u0000",
      "monitoring/snapshots/20260101T000000Z-1a2b/01HXYZABCDEFGH/meta.json": "{}",
      "monitoring/snapshots/20260101T000000Z-1a2b/01HXYZABCDEFGH/index": "\u0000",
      "monitoring/snapshots/20260101T000000Z-1a2b/01HXYZABCDEFGH/chunks/000001": "\u0000",
      "alerting/alertmanager.yml": "route: {}\n",
      "alerting/data/nflog": "",
      "alerting/data/silences": "",
      "cache/redis.conf": "appendonly yes\n",
      "cache/dump.rdb": rdb("k"),
      "cache/renamed-snapshot": rdb("x"),
      "cache/appendonlydir/appendonly.aof.1.base.rdb": rdb(""),
      "cache/appendonlydir/appendonly.aof.1.incr.aof": "",
      "cache/appendonlydir/appendonly.aof.manifest": "file appendonly.aof.1.base.rdb seq 1 type b\n",
      "cache/legacy/appendonly.aof": "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n",
      "cache/legacy/commands.txt": "*2 is not RESP without CRLF\n",
      "run/api.pid": "4242\n",
      "run/.s.PGSQL.5432.lock": "4242\n/run\n",
      "mysql/ibdata1": "\u0000",
      "mysql/orders/items.ibd": "\u0000",
      "mongo/WiredTiger": "WiredTiger\n",
      "mongo/WiredTiger.wt": "\u0000",
      "kafka/meta.properties": "broker.id=0\n",
      "kafka/recovery-point-offset-checkpoint": "0\n",
      "kafka/orders-0/00000000000000000000.log": "\u0000",
    });
    const sqlite = new Database(path.join(dir, "app/orders.sqlite"));
    sqlite.pragma("journal_mode = WAL");
    sqlite.exec("CREATE TABLE orders (id INTEGER PRIMARY KEY, note TEXT)");
    const socket = net.createServer();
    await new Promise<void>((resolve) => socket.listen(path.join(dir, "run/api.sock"), resolve));
    execFileSync("mkfifo", [path.join(dir, "run/queue.fifo")]);
    try {
      const specPath = path.join(dir, "gauntlet.yaml");
      const spec = specSchema.parse(wholeFolder);
      const revision = await computeRevision(specPath, spec);
      expect(revision.files).toEqual([
        "alerting/alertmanager.yml",
        "app/PG_VERSION.md",
        "app/index",
        "app/meta.json",
        "app/server.js",
        "app/wal/notes.md",
        "cache/legacy/commands.txt",
        "cache/redis.conf",
        "gauntlet.yaml",
        "monitoring/prometheus.yml",
      ]);
      expect(revision.omitted).toEqual({
        // pgdata, app/state/pg, the tablespace, the TSDB, the block, nflog, silences, dump.rdb, the renamed RDB,
        // appendonlydir, appendonly.aof, the SQLite database with its -wal and -shm, MySQL, MongoDB and Kafka.
        datastoreData: 17,
        specialFile: 2,
        runtimeState: 2,
      });
      // The data keeps changing; the digest does not.
      sqlite.prepare("INSERT INTO orders (note) VALUES (?)").run("first");
      await appendFile(path.join(dir, "monitoring/data/wal/00000000"), "more samples");
      await writeFiles(dir, {
        "pgdata/base/1/1260": "\u0000new relation",
        "monitoring/data/01HNEWBLOCK/meta.json": "{}",
        "alerting/data/nflog": "\u0001entry",
        "cache/dump.rdb": rdb("kv"),
        "run/api.pid": "4343\n",
      });
      expect((await computeRevision(specPath, spec)).digest).toBe(revision.digest);
      await writeFile(path.join(dir, "cache/redis.conf"), "appendonly no\n");
      expect((await computeRevision(specPath, spec)).digest).not.toBe(revision.digest);
    } finally {
      sqlite.close();
      await new Promise((resolve) => socket.close(resolve));
    }
  });

  it("honours .gitignore files at every level, as git does, and revision.exclude", async () => {
    const dir = await tempDir();
    await writeFiles(dir, {
      "gauntlet.yaml": "version: 1\n",
      ".gitignore": "*.log\n!keep.log\nbuild/\ncoverage/\n/top-only.txt\n",
      "keep.log": "kept by a negation\n",
      "top-only.txt": "ignored at the top only\n",
      "build/out.js": "generated\n",
      "coverage/lcov.info": "TN:\n",
      "coverage/other.txt": "not named\n",
      "svc/.gitignore": "secret.txt\n!important.log\n/local.txt\n",
      "svc/server.js": "v1\n",
      "svc/app.log": "noise\n",
      "svc/important.log": "re-included by the deeper .gitignore\n",
      "svc/build/x.js": "generated\n",
      "svc/secret.txt": "s\n",
      "svc/sub/secret.txt": "s\n",
      "svc/local.txt": "anchored: ignored\n",
      "svc/sub/local.txt": "anchored to svc/: kept\n",
      "svc/top-only.txt": "anchored to the top: kept\n",
      "svc/fixtures/big.json": "[]\n",
      "svc/tmp.tmp": "scratch\n",
      "scratch/notes.md": "draft\n",
      "scratch/.env.example": "A=\n",
      "docs/runbook.md": "# runbook\n",
      "docs/draft.md": "# draft\n",
    });
    const spec = specSchema.parse({
      ...wholeFolder,
      deployment: { env: { example: "scratch/.env.example" } },
      operations: { coverage: "coverage/lcov.info", runbooks: "docs" },
      revision: { exclude: ["scratch/**", "svc/fixtures", "**/*.tmp", "./docs/draft.md", "gauntlet.yaml"] },
    });
    const specPath = path.join(dir, "gauntlet.yaml");
    const revision = await computeRevision(specPath, spec);
    expect(revision.files).toEqual([
      ".gitignore",
      // Named by the spec: a gitignored file it names is still part of what it describes.
      "coverage/lcov.info",
      "docs/runbook.md",
      // The spec itself is always hashed, whatever revision.exclude says.
      "gauntlet.yaml",
      "keep.log",
      "svc/.gitignore",
      "svc/important.log",
      "svc/server.js",
      "svc/sub/local.txt",
      "svc/top-only.txt",
    ]);
    // A folder counts once (it is left out without being read); what lies in a folder left out is not counted again.
    expect(revision.omitted).toEqual({ gitignore: 8, revisionExclude: 4 });
    await writeFiles(dir, {
      "svc/app.log": "more noise\n",
      "build/out.js": "regenerated\n",
      "svc/fixtures/big.json": "[1]\n",
      "scratch/notes.md": "redrafted\n",
      "scratch/.env.example": "A=1\n",
      "docs/draft.md": "# redraft\n",
    });
    expect((await computeRevision(specPath, spec)).digest).toBe(revision.digest);
    await writeFile(path.join(dir, "svc/important.log"), "changed\n");
    expect((await computeRevision(specPath, spec)).digest).not.toBe(revision.digest);
  });

  it("does not fold a datastore's folder in as code; files the spec names there still count", async () => {
    const dir = await tempDir();
    await writeFiles(dir, {
      "gauntlet.yaml": "version: 1\n",
      "api/server.js": "v1\n",
      "db/init.sql": "CREATE TABLE t (id int);\n",
      "db/postgresql.conf": "port = 5432\n",
      "cache/redis.conf": "save 60 1\n",
    });
    const spec = specSchema.parse({
      version: 1,
      system: { name: "orders" },
      deployment: { scripts: ["db/init.sql"] },
      services: {
        api: { url: "http://127.0.0.1:1", control: { process: { command: "node server.js", cwd: "api" } } },
        db: {
          kind: "postgres",
          url: "postgres://127.0.0.1:5432/postgres",
          control: { process: { command: "postgres -D data", cwd: "db" } },
        },
        cache: {
          kind: "redis",
          url: "redis://127.0.0.1:6379",
          control: { process: { command: "redis-server redis.conf", cwd: "cache" } },
        },
      },
    });
    const revision = await computeRevision(path.join(dir, "gauntlet.yaml"), spec);
    expect(revision.files).toEqual(["api/server.js", "db/init.sql", "gauntlet.yaml"]);
  });

  it("never lists nor opens an ignored folder, however large, and does not follow folder links", async () => {
    const dir = await tempDir();
    const outside = await tempDir();
    await writeFiles(outside, { "secret/key.pem": "KEY\n", "shared.yml": "shared: true\n" });
    await writeFiles(dir, {
      "gauntlet.yaml": "version: 1\n",
      ".gitignore": "data/\n",
      "app/server.js": "v1\n",
    });
    // Written synchronously: 5,000 awaited writes take seconds on a busy machine, and only the walk is under test.
    for (let folder = 0; folder < 50; folder++) {
      mkdirSync(path.join(dir, `data/archive/${folder}`), { recursive: true });
      for (let i = 0; i < 100; i++) writeFileSync(path.join(dir, `data/archive/${folder}/${i}.json`), "{}");
    }
    await symlink(path.join(outside, "secret"), path.join(dir, "app/linked"));
    await symlink(dir, path.join(dir, "app/loop"));
    await symlink(path.join(outside, "shared.yml"), path.join(dir, "app/shared.yml"));
    const spec = specSchema.parse(wholeFolder);
    fsCalls.length = 0;
    const started = Date.now();
    const revision = await computeRevision(path.join(dir, "gauntlet.yaml"), spec);
    const elapsed = Date.now() - started;
    expect(revision.files).toEqual([".gitignore", "app/server.js", "app/shared.yml", "gauntlet.yaml"]);
    expect(revision.omitted).toEqual({ gitignore: 1, folderLink: 2 });
    expect(fsCalls.filter((file) => file.startsWith(path.join(dir, "data")))).toEqual([]);
    expect(fsCalls.filter((file) => file.startsWith(path.join(outside, "secret")))).toEqual([]);
    expect(elapsed).toBeLessThan(2_000);
  }, 60_000);
});

describe("computeRevision outside git: .gitignore and the folders a spec names", () => {
  it("reads .gitignore from system.repo down, and walks a named folder it ignores with its other rules", async () => {
    const dir = await tempDir();
    await writeFiles(dir, {
      ".gitignore": "*.log\ndist/\n",
      "dist/server.js": "v1\n",
      "dist/debug.log": "noise\n",
      "ops/gauntlet.yaml": "version: 1\n",
      "ops/deploy.sh": "echo deploy\n",
      "ops/run.log": "noise\n",
      "other/ignored-here.log": "not walked\n",
    });
    const spec = specSchema.parse({
      version: 1,
      system: { name: "orders", repo: ".." },
      deployment: { scripts: ["."] },
      services: {
        api: {
          url: "http://127.0.0.1:1",
          control: { process: { command: "node server.js", cwd: "../dist" } },
        },
      },
    });
    const revision = await computeRevision(path.join(dir, "ops/gauntlet.yaml"), spec);
    expect(revision.kind).toBe("spec");
    // dist/ is gitignored, but the spec runs the api from it: its code is hashed, its log is not.
    expect(revision.files).toEqual(["../dist/server.js", "deploy.sh", "gauntlet.yaml"]);
    expect(revision.omitted).toEqual({ gitignore: 2 });
  });
});
