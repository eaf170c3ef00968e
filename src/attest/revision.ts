// The revision a certificate is bound to. In a git work tree: the HEAD commit, and when the tree is dirty a digest of
// exactly what differs from HEAD (tracked changes and untracked files), so uncommitted code cannot pass as HEAD.
// Elsewhere: one sha256 over the spec, every file it names and the code of the services it starts.
import { execFile } from "node:child_process";
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import type { Revision } from "../core/assessment.js";
import { sha256 } from "../core/evidence.js";
import type { Spec } from "../spec/schema.js";

const GIT_TIMEOUT_MS = 15_000;
const SKIPPED_FOLDERS = new Set([".git", "node_modules", ".gauntlet"]);
const CERTIFICATE_FILE = "certificate.dsse.json";

async function isFileAt(file: string): Promise<boolean> {
  return (await stat(file).catch(() => null))?.isFile() ?? false;
}

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
  const patterns = [
    ...(spec.deployment?.compose ?? []),
    ...(spec.deployment?.dockerfiles ?? []),
    ...(spec.deployment?.kubernetes ?? []),
    ...(spec.deployment?.scripts ?? []),
    ...(spec.deployment?.env?.example ? [spec.deployment.env.example] : []),
    ...(spec.monitoring?.rules ?? []),
    ...(spec.operations?.runbooks ? [spec.operations.runbooks] : []),
    ...(spec.operations?.coverage ? [spec.operations.coverage] : []),
    ...(spec.security?.scan?.paths ?? []),
    // The code of the services Gauntlet starts is the system itself.
    ...Object.values(spec.services).flatMap((svc) =>
      svc.control?.process ? [svc.control.process.cwd ?? "."] : [],
    ),
  ];
  const absolute = new Set<string>([specPath]);
  for (const pattern of patterns) {
    for (const file of await expandPattern(specDir, pattern)) absolute.add(file);
  }
  const files = [...absolute]
    .map((file) => ({ file, relative: toPosix(path.relative(specDir, file)) }))
    .sort((a, b) => (a.relative < b.relative ? -1 : a.relative > b.relative ? 1 : 0));
  // Each entry is "<path>\0<sha256 hex>\n": a path cannot hold NUL, so no two file sets hash the same way.
  const lines: string[] = [];
  for (const { file, relative } of files) {
    lines.push(`${relative}\0${sha256(await readFile(file))}\n`);
  }
  return { kind: "spec", digest: sha256(lines.join("")), files: files.map((f) => f.relative) };
}

/**
 * Files a spec entry names, as absolute paths: a plain path (a file, or every file under a folder) or a glob with
 * `*`, `?` and `**`. Entries that match nothing are skipped; checks report missing files, the digest only covers what
 * exists.
 */
export async function expandPattern(baseDir: string, pattern: string): Promise<string[]> {
  const absolute = path.resolve(baseDir, pattern);
  if (!/[*?]/.test(pattern)) return filesAt(absolute);
  const segments = toPosix(absolute).split("/");
  const firstGlob = segments.findIndex((s) => /[*?]/.test(s));
  const root = segments.slice(0, firstGlob).join("/") || "/";
  const matcher = globToRegExp(segments.slice(firstGlob).join("/"));
  const found: string[] = [];
  for (const relative of await walk(root)) {
    if (matcher.test(relative)) found.push(path.join(root, relative));
  }
  return found.sort();
}

function globToRegExp(glob: string): RegExp {
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i]!;
    if (char === "*" && glob[i + 1] === "*") {
      // "**/" matches zero or more folders; a trailing "**" matches everything below.
      if (glob[i + 2] === "/") {
        source += "(?:[^/]+/)*";
        i += 2;
      } else {
        source += ".*";
        i += 1;
      }
    } else if (char === "*") {
      source += "[^/]*";
    } else if (char === "?") {
      source += "[^/]";
    } else {
      source += char.replace(/[.+^${}()|[\]\\]/g, "\\$&");
    }
  }
  return new RegExp(`^${source}$`);
}

async function filesAt(target: string): Promise<string[]> {
  const info = await stat(target).catch(() => null);
  if (!info) return [];
  if (info.isFile()) return [target];
  if (info.isDirectory()) return (await walk(target)).map((relative) => path.join(target, relative));
  return [];
}

/**
 * Files under dir, relative with forward slashes; skips .git, node_modules and Gauntlet's own output (.gauntlet/, a
 * folder holding a certificate) — written after the digest, they would make every later verification fail — and does
 * not follow folder links.
 */
async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  const visit = async (relative: string): Promise<void> => {
    const entries = await readdir(path.join(dir, relative), { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const child = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (SKIPPED_FOLDERS.has(entry.name)) continue;
        if (await isFileAt(path.join(dir, child, CERTIFICATE_FILE))) continue;
        await visit(child);
      } else if (entry.isFile()) {
        out.push(child);
      } else if (entry.isSymbolicLink()) {
        const info = await stat(path.join(dir, child)).catch(() => null);
        if (info?.isFile()) out.push(child);
      }
    }
  };
  await visit("");
  return out.sort();
}

function toPosix(file: string): string {
  return file.split(path.sep).join("/");
}
