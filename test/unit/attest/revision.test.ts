import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rename, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { computeRevision } from "../../../src/attest/revision.js";
import { expandPattern } from "../../../src/engines/files/glob.js";
import { type SpecInput, specSchema } from "../../../src/spec/schema.js";

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
