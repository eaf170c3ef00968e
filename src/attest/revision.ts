// The revision a certificate is bound to. In a git work tree: the HEAD commit, and when the tree is dirty a digest of
// exactly what differs from HEAD (tracked changes and untracked files), so uncommitted code cannot pass as HEAD.
// Elsewhere: one sha256 over what defines the system — the spec, every file it names and the code of the services it
// starts — never over what changes by itself while the system runs (datastore data, sockets, pid files) nor over what
// .gitignore or revision.exclude leave out (systemFiles.ts decides, and the revision records what it left out).
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Revision } from "../core/assessment.js";
import { sha256 } from "../core/evidence.js";
import { isInside, toPosix } from "../engines/files/glob.js";
import { systemFiles } from "../engines/files/systemFiles.js";
import { isDatastoreKind } from "../spec/kinds.js";
import type { Spec } from "../spec/schema.js";

const GIT_TIMEOUT_MS = 15_000;

export async function computeRevision(specPath: string, spec: Spec): Promise<Revision> {
  const specDir = path.dirname(path.resolve(specPath));
  const repoDir = path.resolve(specDir, spec.system.repo);
  const git = await gitRevision(repoDir);
  if (git) return git;
  return specRevision(path.resolve(specPath), spec);
}

async function gitRevision(repoDir: string): Promise<Revision | null> {
  const head = await runGit(repoDir, ["rev-parse", "--verify", "HEAD"]);
  if (head === null || !/^[0-9a-f]{40,64}$/.test(head.trim())) return null;
  const status = await runGit(repoDir, ["status", "--porcelain"]);
  if (status === null) return null;
  const dirty = status.trim() !== "";
  const revision: Revision = { kind: "git", digest: head.trim(), dirty };
  if (dirty) {
    const worktree = await worktreeDigest(repoDir);
    if (worktree) revision.worktree = worktree;
  }
  return revision;
}

/** sha256 over `git diff HEAD --binary` and every untracked, not ignored file (path and content). */
async function worktreeDigest(repoDir: string): Promise<string | null> {
  const diff = await runGit(repoDir, ["diff", "HEAD", "--binary", "--no-color", "--no-ext-diff"]);
  const untracked = await runGit(repoDir, ["ls-files", "--others", "--exclude-standard", "-z"]);
  if (diff === null || untracked === null) return null;
  const top = (await runGit(repoDir, ["rev-parse", "--show-toplevel"]))?.trim() ?? repoDir;
  const lines = [`diff\0${sha256(diff)}\n`];
  for (const file of untracked.split("\0").filter(Boolean).sort()) {
    const bytes = await readFile(path.join(top, file)).catch(() => null);
    lines.push(`${file}\0${bytes ? sha256(bytes) : "unreadable"}\n`);
  }
  return sha256(lines.join(""));
}

/** Runs git without a shell; null when git is missing, this is not a work tree or the command fails. */
function runGit(cwd: string, args: string[]): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(
      "git",
      args,
      {
        cwd,
        timeout: GIT_TIMEOUT_MS,
        maxBuffer: 64 * 1024 * 1024,
        // Status must not rewrite the index of a repository we only observe.
        env: { ...process.env, GIT_OPTIONAL_LOCKS: "0", LC_ALL: "C" },
      },
      (error, stdout) => resolve(error ? null : stdout),
    );
  });
}

async function specRevision(specPath: string, spec: Spec): Promise<Revision> {
  const specDir = path.dirname(specPath);
  const found = await systemFiles(namedPatterns(spec), {
    specFile: specPath,
    baseDir: specDir,
    gitignoreTop: gitignoreTop(specDir, spec),
    exclude: spec.revision?.exclude ?? [],
  });
  const files = found.files
    .map((file) => ({ file, relative: toPosix(path.relative(specDir, file)) }))
    .sort((a, b) => (a.relative < b.relative ? -1 : a.relative > b.relative ? 1 : 0));
  // Each entry is "<path>\0<sha256 hex>\n": a path cannot hold NUL, so no two file sets hash the same way.
  const lines: string[] = [];
  const hashed: string[] = [];
  for (const { file, relative } of files) {
    const digest = await fileDigest(file);
    // Gone between the walk and now: it does not exist today, so it is not part of the system.
    if (digest === null) continue;
    lines.push(`${relative}\0${digest}\n`);
    hashed.push(relative);
  }
  return { kind: "spec", digest: sha256(lines.join("")), files: hashed, omitted: found.omitted };
}

/** Every path the spec names as part of the system, relative to its folder. */
function namedPatterns(spec: Spec): string[] {
  return [
    ...(spec.deployment?.compose ?? []),
    ...(spec.deployment?.dockerfiles ?? []),
    ...(spec.deployment?.kubernetes ?? []),
    ...(spec.deployment?.scripts ?? []),
    ...(spec.deployment?.env?.example ? [spec.deployment.env.example] : []),
    ...(spec.monitoring?.rules ?? []),
    ...(spec.operations?.runbooks ? [spec.operations.runbooks] : []),
    ...(spec.operations?.coverage ? [spec.operations.coverage.report] : []),
    ...(spec.operations?.ci ?? []),
    // Scan paths are relative to system.repo, like every security check reads them.
    ...(spec.security?.scan?.paths ?? []).map((p) =>
      path.isAbsolute(p) ? p : path.join(spec.system.repo, p),
    ),
    // The code of the services Gauntlet starts is the system itself; a datastore's folder holds its data, not code.
    ...Object.values(spec.services).flatMap((svc) =>
      svc.control?.process && !isDatastoreKind(svc.kind) ? [svc.control.process.cwd ?? "."] : [],
    ),
  ];
}

/** Where .gitignore files start to apply, as at a repository's top: system.repo when it holds the spec. */
function gitignoreTop(specDir: string, spec: Spec): string {
  const repo = path.resolve(specDir, spec.system.repo);
  return isInside(repo, specDir) ? repo : specDir;
}

/** sha256 of a file's content, streamed (a large file is not held in memory); null when it no longer exists. */
async function fileDigest(file: string): Promise<string | null> {
  const hash = createHash("sha256");
  try {
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
  return hash.digest("hex");
}
