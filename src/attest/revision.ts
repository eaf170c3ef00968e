// The revision a certificate is bound to. In a git work tree: the HEAD commit and whether the tree is dirty (tracked
// changes or untracked files). Elsewhere: one sha256 over the spec and every file it names, so any edit shows.
import { execFile } from "node:child_process";
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import type { Revision } from "../core/assessment.js";
import { sha256 } from "../core/evidence.js";
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
  return { kind: "git", digest: head.trim(), dirty: status.trim() !== "" };
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

/** Files under dir, relative with forward slashes; skips .git and node_modules, and does not follow folder links. */
async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  const visit = async (relative: string): Promise<void> => {
    const entries = await readdir(path.join(dir, relative), { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const child = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (entry.name !== ".git" && entry.name !== "node_modules") await visit(child);
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
