// The scratch copy on real git repositories and folders: what it holds, what it leaves out, and that the source is
// not written to (its .git gains no worktree, ref or object; a push from the copy goes nowhere).
import { execFileSync } from "node:child_process";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeScratchCopy, ScratchCopyError } from "../../../src/engines/files/scratchCopy.js";
import { requireTool } from "../../support/services.js";

const temporary: string[] = [];
afterEach(() => {
  for (const dir of temporary.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  temporary.push(dir);
  return dir;
};
const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", ["-c", "user.name=T", "-c", "user.email=t@example.invalid", "-C", cwd, ...args], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
const write = (dir: string, name: string, text: string) => {
  mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
  writeFileSync(path.join(dir, name), text);
};

/** Everything under .git except the index (which git may stat-refresh) as path → size, to compare. */
function gitState(repo: string): string {
  return execFileSync("find", [".git", "-path", ".git/index", "-prune", "-o", "-printf", "%p %s\\n"], {
    cwd: repo,
    encoding: "utf8",
  })
    .split("\n")
    .sort()
    .join("\n");
}

describe("makeScratchCopy of a git repository", () => {
  it("clones HEAD, applies uncommitted changes and links, and writes nothing to the source's .git", async () => {
    requireTool("git");
    const repo = tempDir("gauntlet-scratch-src-");
    git(repo, "init", "--quiet");
    write(repo, "a.txt", "committed\n");
    symlinkSync("a.txt", path.join(repo, "link"));
    git(repo, "add", "--all");
    git(repo, "commit", "--quiet", "-m", "one");
    write(repo, "a.txt", "edited\n");
    write(repo, "new/b.txt", "untracked\n");
    write(repo, "node_modules/dep/index.js", "untracked dependency\n");
    write(repo, "big.bin", "x".repeat(2048));
    const before = gitState(repo);

    const into = tempDir("gauntlet-scratch-");
    const copy = await makeScratchCopy(repo, into, { limits: { maxFileBytes: 1024 } });
    expect(copy.method).toBe("git");
    expect(readFileSync(path.join(copy.root, "a.txt"), "utf8")).toBe("edited\n");
    expect(readFileSync(path.join(copy.root, "new/b.txt"), "utf8")).toBe("untracked\n");
    expect(lstatSync(path.join(copy.root, "link")).isSymbolicLink()).toBe(true);
    expect(readlinkSync(path.join(copy.root, "link"))).toBe("a.txt");
    expect(existsSync(path.join(copy.root, "node_modules"))).toBe(false);
    expect(existsSync(path.join(copy.root, "big.bin"))).toBe(false);
    expect(copy.skipped).toEqual(
      expect.arrayContaining([
        { path: "node_modules/dep/index.js", reason: "dependencies" },
        expect.objectContaining({ path: "big.bin", bytes: 2048 }),
      ]),
    );

    // A rollback that commits and pushes in the copy reaches neither the source's refs nor its objects.
    git(copy.root, "commit", "--quiet", "--allow-empty", "-m", "rollback");
    expect(() => git(copy.root, "push", "--quiet", "origin", "HEAD:refs/heads/rolled-back")).toThrow();
    expect(gitState(repo)).toBe(before);
    expect(git(repo, "branch", "--list", "rolled-back")).toBe("");
  });

  it("refuses a copy larger than its limit rather than run on part of it", async () => {
    requireTool("git");
    const repo = tempDir("gauntlet-scratch-src-");
    git(repo, "init", "--quiet");
    write(repo, "a.txt", "a\n");
    git(repo, "add", "--all");
    git(repo, "commit", "--quiet", "-m", "one");
    for (let i = 0; i < 5; i++) write(repo, `untracked-${i}.txt`, "0123456789");
    const into = tempDir("gauntlet-scratch-");
    const error = await makeScratchCopy(repo, into, { limits: { maxBytes: 30 } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScratchCopyError);
    expect((error as ScratchCopyError).code).toBe("tooLarge");
  });
});

describe("makeScratchCopy of a folder outside git", () => {
  it("copies the tree with its empty folders and modes, without dependencies, .gitignored paths or .gauntlet", async () => {
    const dir = tempDir("gauntlet-scratch-plain-");
    write(dir, "run.sh", "#!/bin/sh\n");
    execFileSync("chmod", ["0755", path.join(dir, "run.sh")]);
    mkdirSync(path.join(dir, "releases"));
    write(dir, ".gitignore", "*.log\n");
    write(dir, "app.log", "log\n");
    write(dir, ".gauntlet/runs/x.json", "{}\n");
    write(dir, "venv/pyvenv.cfg", "home = /usr\n");
    const into = tempDir("gauntlet-scratch-");
    const copy = await makeScratchCopy(dir, into);
    expect(copy.method).toBe("copy");
    expect(lstatSync(path.join(copy.root, "run.sh")).mode & 0o777).toBe(0o755);
    expect(lstatSync(path.join(copy.root, "releases")).isDirectory()).toBe(true);
    expect(copy.skipped.map((s) => [s.path, s.reason]).sort()).toEqual([
      [".gauntlet", "Gauntlet's output"],
      ["app.log", ".gitignore"],
      ["venv", "a Python virtualenv"],
    ]);
  });
});
