// Which files of the working tree are the repository's: in git, what `git ls-files` lists (tracked, and untracked
// files that no .gitignore, .git/info/exclude or core.excludesFile leaves out — what `git add .` would commit); outside
// git, a walk applying every .gitignore as git would (GitignoreRules). Then what is not the system's own text is left
// out and counted: vendored dependencies, the spec's security.scan.exclude, Gauntlet's output, links and submodules.

import { spawn } from "node:child_process";
import type { Dirent } from "node:fs";
import { lstat, readdir, stat } from "node:fs/promises";
import path from "node:path";
import { GitignoreRules } from "../files/gitignore.js";
import { CERTIFICATE_FILE, isInside, toPosix } from "../files/glob.js";

/** Why an entry was left out before reading (counted in the evidence, never silent). */
export type ExclusionReason =
  | "gitignore"
  | "vendored"
  | "exclude"
  | "gauntletOutput"
  | "vcs"
  | "link"
  | "submodule"
  | "specialFile";

/**
 * Third-party code checked into a repository: a secret in it is its authors' (and the scan of a dependency tree
 * would drown the system's own findings). `dist`/`build` are NOT here: a bundle is where an inlined secret ends up,
 * and a .gitignore leaves them out when they are not committed.
 */
export const VENDORED_FOLDERS: ReadonlySet<string> = new Set([
  "node_modules",
  "bower_components",
  "jspm_packages",
  "vendor",
  "third_party",
  "third-party",
  ".venv",
  "site-packages",
]);
const BY_NAME: Record<string, ExclusionReason> = { ".git": "vcs", ".gauntlet": "gauntletOutput" };

export interface ListedFile {
  absolute: string;
  size: number;
}

export interface WorktreeListing {
  files: ListedFile[];
  excluded: Partial<Record<ExclusionReason, number>>;
  /** Gauntlet output folders found (absolute): history blobs under them are left out too. */
  outputFolders: string[];
  /** How the list was made. */
  listedBy: "git" | "walk";
}

/** The reason a path's folders leave it out (vendored, .git, .gauntlet), from its names alone. */
export function folderNameReason(relative: string): ExclusionReason | undefined {
  const segments = relative.split("/");
  for (const segment of segments.slice(0, -1)) {
    if (VENDORED_FOLDERS.has(segment)) return "vendored";
    const byName = BY_NAME[segment];
    if (byName) return byName;
  }
  return undefined;
}

export interface ListOptions {
  /** The folder findings are relative to (system.repo). */
  repoDir: string;
  /** security.scan.exclude, relative to repoDir. */
  excluded: (relativeToRepo: string) => boolean;
  /** The git work tree `target` is in, or null (not in git, or git missing). */
  gitTop: string | null;
  signal?: AbortSignal;
}

/** The files to scan under one security.scan.paths folder. */
export async function listWorktree(target: string, options: ListOptions): Promise<WorktreeListing> {
  const excluded: Partial<Record<ExclusionReason, number>> = {};
  const count = (reason: ExclusionReason) => {
    excluded[reason] = (excluded[reason] ?? 0) + 1;
  };
  const outputFolders = new Map<string, Promise<boolean>>();
  const isOutput = (dir: string) => {
    let known = outputFolders.get(dir);
    if (!known) {
      known = gauntletOutputFolder(dir);
      outputFolders.set(dir, known);
    }
    return known;
  };

  let listedBy: WorktreeListing["listedBy"];
  let candidates: string[];
  if (options.gitTop) {
    listedBy = "git";
    candidates = await gitListed(target, options.signal);
    const ignored = await gitIgnoredCount(target, options.signal);
    if (ignored > 0) excluded.gitignore = ignored;
  } else {
    listedBy = "walk";
    candidates = await walkListed(target, options.repoDir, count, options.signal);
  }

  const files: ListedFile[] = [];
  const outputs = new Set<string>();
  for (const relative of candidates) {
    const absolute = path.join(target, relative);
    const byName = folderNameReason(relative);
    if (byName) {
      count(byName);
      continue;
    }
    if (options.excluded(toPosix(path.relative(options.repoDir, absolute)))) {
      count("exclude");
      continue;
    }
    const output = await outputFolderOf(target, absolute, isOutput);
    if (output) {
      count("gauntletOutput");
      outputs.add(output);
      continue;
    }
    const info = await lstat(absolute).catch(() => null);
    if (!info) continue; // tracked but deleted from the work tree: its content is in history
    if (info.isSymbolicLink()) count("link");
    else if (info.isDirectory()) count("submodule");
    else if (!info.isFile()) count("specialFile");
    else files.push({ absolute, size: info.size });
  }
  return { files, excluded, outputFolders: [...outputs].sort(), listedBy };
}

async function outputFolderOf(
  target: string,
  file: string,
  isOutput: (dir: string) => Promise<boolean>,
): Promise<string | undefined> {
  for (let dir = path.dirname(file); isInside(target, dir) && dir !== target; dir = path.dirname(dir)) {
    if (await isOutput(dir)) return dir;
  }
  return undefined;
}

/** A run folder (it holds the certificate) or an evidence folder (its manifest or in-progress marker). */
async function gauntletOutputFolder(dir: string): Promise<boolean> {
  const has = async (name: string) => (await stat(path.join(dir, name)).catch(() => null))?.isFile() ?? false;
  if (await has(CERTIFICATE_FILE)) return true;
  if (path.basename(dir) === "evidence" && ((await has("manifest.json")) || (await has(".in-progress"))))
    return true;
  return false;
}

async function gitListed(target: string, signal?: AbortSignal): Promise<string[]> {
  const out = await gitOutput(
    target,
    ["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
    signal,
  );
  return [...new Set(out.split("\0").filter((p) => p.length > 0))].sort();
}

async function gitIgnoredCount(target: string, signal?: AbortSignal): Promise<number> {
  const out = await gitOutput(
    target,
    ["ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory"],
    signal,
  ).catch(() => "");
  return out.split("\0").filter((p) => p.length > 0).length;
}

async function walkListed(
  target: string,
  repoDir: string,
  count: (reason: ExclusionReason) => void,
  signal?: AbortSignal,
): Promise<string[]> {
  const top = isInside(repoDir, target) ? repoDir : target;
  const out: string[] = [];
  const visit = async (dir: string, rules: GitignoreRules): Promise<void> => {
    signal?.throwIfAborted();
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => [] as Dirent[]);
    const inner = await rules.enter(
      dir,
      entries.some((e) => e.isFile() && e.name === ".gitignore"),
    );
    for (const entry of entries) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        const reason = VENDORED_FOLDERS.has(entry.name) ? "vendored" : BY_NAME[entry.name];
        if (reason) count(reason);
        else if (inner.ignores(file, true)) count("gitignore");
        else if (await isVirtualenv(file)) count("vendored");
        else await visit(file, inner);
      } else if (inner.ignores(file, false)) count("gitignore");
      else out.push(toPosix(path.relative(target, file)));
    }
  };
  await visit(target, await GitignoreRules.forWalk(top, target));
  return out.sort();
}

async function isVirtualenv(dir: string): Promise<boolean> {
  return (await stat(path.join(dir, "pyvenv.cfg")).catch(() => null))?.isFile() ?? false;
}

/** git's stdout as text; rejects with its stderr when it fails. */
export function gitOutput(cwd: string, args: string[], signal?: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("git", ["-C", cwd, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      ...(signal ? { signal } : {}),
      env: { ...process.env, GIT_OPTIONAL_LOCKS: "0", LC_ALL: "C" },
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => err.push(d));
    child.once("error", reject);
    child.once("close", (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString("utf8"));
      else
        reject(new Error(Buffer.concat(err).toString("utf8").trim() || `git ${args[0]} exited with ${code}`));
    });
  });
}
