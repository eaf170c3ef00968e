// A scratch copy of a repository, for running a user's command where it cannot alter the repository: in git, a
// `git clone --shared` of HEAD (it only reads the source; the source's .git gains nothing) plus the working tree's
// uncommitted changes — modified, staged, deleted and untracked-but-not-ignored files — so a script being edited is
// the version that runs; outside git, a bounded copy of the tree without dependency folders, .gitignored paths and
// Gauntlet's output. The caller owns the folder (it creates and removes it), so an abort mid-copy leaves nothing.
import type { Dirent } from "node:fs";
import { copyFile, lstat, mkdir, readdir, readlink, rm, stat, symlink } from "node:fs/promises";
import path from "node:path";
import { runCommand } from "../shell/run.js";
import { GitignoreRules } from "./gitignore.js";
import { CERTIFICATE_FILE, toPosix } from "./glob.js";

/** Folders never copied outside git: installed dependencies, version control, Gauntlet's output. */
const SKIPPED_FOLDERS: Readonly<Record<string, string>> = {
  node_modules: "dependencies",
  bower_components: "dependencies",
  jspm_packages: "dependencies",
  ".git": "version control",
  ".gauntlet": "Gauntlet's output",
};
/** A pushed ref would land in the source repository: the scratch clone's origin pushes nowhere. */
const NO_PUSH_URL = "gauntlet-scratch-copy-does-not-push";
const GIT_TIMEOUT_MS = 120_000;
const LISTED_SKIPS = 50;

export interface ScratchLimits {
  /** Bytes copied (outside git) or overlaid (in git) at most; past it the copy fails rather than run on a part. */
  maxBytes: number;
  /** An untracked file larger than this is not copied, and is named. */
  maxFileBytes: number;
  maxFiles: number;
}

export const DEFAULT_SCRATCH_LIMITS: ScratchLimits = {
  maxBytes: 1024 * 1024 * 1024,
  maxFileBytes: 64 * 1024 * 1024,
  maxFiles: 100_000,
};

export interface ScratchSkip {
  /** Relative to the source root, forward slashes. */
  path: string;
  reason: string;
  bytes?: number;
}

export interface ScratchCopy {
  method: "git" | "copy";
  /** The folder copied: the git work tree's top, or system.repo outside git. */
  source: string;
  /** Where the copy of `source` is. */
  root: string;
  /** The commit cloned (git). */
  commit?: string;
  /** Files written on top of the clone (git) or copied (outside git), and their bytes. */
  files: number;
  bytes: number;
  /** Tracked files deleted in the working tree, deleted in the copy too (git). */
  deleted: number;
  /** What was left out, the first LISTED_SKIPS named; `skippedCount` counts them all. */
  skipped: ScratchSkip[];
  skippedCount: number;
  notes: string[];
  durationMs: number;
}

export class ScratchCopyError extends Error {
  constructor(
    readonly code: "tooLarge" | "gitFailed",
    message: string,
  ) {
    super(message);
  }
}

/** The top of the git work tree holding `dir`, or null (not in git, a bare repository, or git missing). */
export async function gitTopLevel(dir: string, signal?: AbortSignal): Promise<string | null> {
  const result = await git(dir, ["rev-parse", "--show-toplevel"], signal).catch(() => null);
  return result ? result.trim() || null : null;
}

/**
 * Copies `repoDir` (its whole git work tree when it is in one) to `into`/repo and returns what was copied. Throws a
 * ScratchCopyError (a sentence for the user) when the copy cannot be made honestly, and the abort reason on abort.
 */
export async function makeScratchCopy(
  repoDir: string,
  into: string,
  options: { signal?: AbortSignal; limits?: Partial<ScratchLimits> } = {},
): Promise<ScratchCopy> {
  const started = performance.now();
  const limits = { ...DEFAULT_SCRATCH_LIMITS, ...options.limits };
  const root = path.join(into, "repo");
  const top = await gitTopLevel(repoDir, options.signal);
  const head = top
    ? await git(top, ["rev-parse", "--verify", "--quiet", "HEAD"], options.signal).catch(() => null)
    : null;
  const copy =
    top && head
      ? await cloneWithChanges(top, head.trim(), root, limits, options.signal)
      : await copyTree(repoDir, root, limits, options.signal);
  if (top && !head)
    copy.notes.unshift(`${top} is a git repository without a commit yet: its files were copied`);
  if (!top && (await stat(path.join(repoDir, ".git")).catch(() => null))) {
    copy.notes.unshift(
      "the folder has a .git but git could not read it (git missing?): its files were copied",
    );
  }
  copy.durationMs = Math.round(performance.now() - started);
  return copy;
}

async function cloneWithChanges(
  top: string,
  commit: string,
  root: string,
  limits: ScratchLimits,
  signal?: AbortSignal,
): Promise<ScratchCopy> {
  const copy = emptyCopy("git", top, root);
  copy.commit = commit;
  await git(path.dirname(root), ["clone", "--quiet", "--shared", "--no-checkout", "--", top, root], signal);
  await git(root, ["-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach", commit], signal);
  await git(root, ["remote", "set-url", "--push", "origin", NO_PUSH_URL], signal);
  copy.notes.push(
    `cloned ${commit.slice(0, 12)} with git clone --shared; the clone's origin pushes nowhere (${NO_PUSH_URL})`,
  );
  if (await stat(path.join(top, ".gitmodules")).catch(() => null)) {
    copy.notes.push("submodules are not checked out in the copy");
  }

  // GIT_OPTIONAL_LOCKS=0: listing must not refresh (write) the source's index.
  const changed = nulList(await git(top, ["diff", "-z", "--name-only", "--no-renames", "HEAD"], signal));
  const untracked = nulList(await git(top, ["ls-files", "-z", "--others", "--exclude-standard"], signal));
  const overlay = [
    ...changed.map((file) => ({ file, tracked: true })),
    ...untracked.map((file) => ({ file, tracked: false })),
  ];
  for (const { file, tracked } of overlay) {
    signal?.throwIfAborted();
    const skippedBy = tracked ? undefined : skippedFolderOf(file);
    if (skippedBy) {
      skip(copy, { path: file, reason: skippedBy });
      continue;
    }
    const from = path.join(top, file);
    const to = path.join(root, file);
    const info = await lstat(from).catch(() => null);
    if (!info) {
      await rm(to, { force: true, recursive: true });
      copy.deleted++;
      continue;
    }
    if (info.isDirectory()) {
      skip(copy, { path: file, reason: "a nested repository or submodule" });
      continue;
    }
    if (!tracked && info.isFile() && info.size > limits.maxFileBytes) {
      skip(copy, {
        path: file,
        reason: "untracked and larger than the copy's limit per file",
        bytes: info.size,
      });
      continue;
    }
    await copyEntry(from, to, info, copy, limits);
  }
  copy.notes.push(
    `applied the working tree's uncommitted changes: ${copy.files} file(s) written, ${copy.deleted} deleted`,
  );
  return copy;
}

async function copyTree(
  source: string,
  root: string,
  limits: ScratchLimits,
  signal?: AbortSignal,
): Promise<ScratchCopy> {
  const copy = emptyCopy("copy", source, root);
  const visit = async (dir: string, rules: GitignoreRules): Promise<void> => {
    signal?.throwIfAborted();
    await mkdir(path.join(root, path.relative(source, dir)), { recursive: true });
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => [] as Dirent[]);
    const inner = await rules.enter(
      dir,
      entries.some((e) => e.isFile() && e.name === ".gitignore"),
    );
    for (const entry of entries) {
      const from = path.join(dir, entry.name);
      const relative = toPosix(path.relative(source, from));
      const isDirectory = entry.isDirectory();
      if (isDirectory && SKIPPED_FOLDERS[entry.name]) {
        skip(copy, { path: relative, reason: SKIPPED_FOLDERS[entry.name]! });
      } else if (inner.ignores(from, isDirectory)) {
        skip(copy, { path: relative, reason: ".gitignore" });
      } else if (isDirectory && (await isFile(path.join(from, "pyvenv.cfg")))) {
        skip(copy, { path: relative, reason: "a Python virtualenv" });
      } else if (isDirectory && (await isFile(path.join(from, CERTIFICATE_FILE)))) {
        skip(copy, { path: relative, reason: "Gauntlet's output" });
      } else if (isDirectory) {
        await visit(from, inner);
      } else {
        const info = await lstat(from).catch(() => null);
        if (!info) continue;
        if (info.isFile() && info.size > limits.maxFileBytes) {
          skip(copy, { path: relative, reason: "larger than the copy's limit per file", bytes: info.size });
          continue;
        }
        await copyEntry(from, path.join(root, relative), info, copy, limits);
      }
    }
  };
  await visit(source, GitignoreRules.none);
  copy.notes.push(`not in git: copied ${copy.files} file(s) of ${source}`);
  return copy;
}

async function copyEntry(
  from: string,
  to: string,
  info: Awaited<ReturnType<typeof lstat>>,
  copy: ScratchCopy,
  limits: ScratchLimits,
): Promise<void> {
  const relative = toPosix(path.relative(copy.root, to));
  if (!info.isFile() && !info.isSymbolicLink()) {
    skip(copy, { path: relative, reason: "not a regular file (socket, fifo or device)" });
    return;
  }
  const bytes = info.isFile() ? Number(info.size) : 0;
  if (copy.bytes + bytes > limits.maxBytes || copy.files + 1 > limits.maxFiles) {
    throw new ScratchCopyError(
      "tooLarge",
      `${copy.source} is larger than a scratch copy may be (${limits.maxFiles} files, ${Math.round(limits.maxBytes / 1024 / 1024)} MiB${copy.method === "git" ? " of uncommitted changes" : ""}), so no copy was made`,
    );
  }
  await mkdir(path.dirname(to), { recursive: true });
  await rm(to, { force: true, recursive: true });
  // A link is copied as a link, unchanged: what it points at is the script's business.
  if (info.isSymbolicLink()) await symlink(await readlink(from), to);
  else await copyFile(from, to); // copies the mode too, so an executable script stays executable
  copy.files++;
  copy.bytes += bytes;
}

function emptyCopy(method: ScratchCopy["method"], source: string, root: string): ScratchCopy {
  return {
    method,
    source,
    root,
    files: 0,
    bytes: 0,
    deleted: 0,
    skipped: [],
    skippedCount: 0,
    notes: [],
    durationMs: 0,
  };
}

function skip(copy: ScratchCopy, entry: ScratchSkip): void {
  copy.skippedCount++;
  if (copy.skipped.length < LISTED_SKIPS) copy.skipped.push(entry);
}

/** The reason an untracked path is not copied, from its folders' names. */
function skippedFolderOf(relative: string): string | undefined {
  for (const segment of relative.split("/").slice(0, -1)) {
    const reason = SKIPPED_FOLDERS[segment];
    if (reason) return reason;
  }
  return undefined;
}

async function isFile(file: string): Promise<boolean> {
  return (await stat(file).catch(() => null))?.isFile() ?? false;
}

function nulList(text: string): string[] {
  return [...new Set(text.split("\0").filter((p) => p.length > 0))];
}

/** git's stdout; rejects with a ScratchCopyError carrying its stderr, or with the abort reason. */
async function git(cwd: string, args: string[], signal?: AbortSignal): Promise<string> {
  const result = await runCommand("git", ["-C", cwd, ...args], {
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? "/",
      LC_ALL: "C",
      GIT_OPTIONAL_LOCKS: "0",
      GIT_TERMINAL_PROMPT: "0",
      // LFS objects are not fetched for the copy: a pointer file stays a pointer.
      GIT_LFS_SKIP_SMUDGE: "1",
    },
    timeoutMs: GIT_TIMEOUT_MS,
    ...(signal ? { signal } : {}),
    maxOutputBytes: 64 * 1024 * 1024,
  });
  if (result.exitCode === 0) return result.stdout;
  const why = result.spawnError
    ? `git could not start (${result.spawnError.code})`
    : result.timedOut
      ? `git ${args[0]} did not finish within ${GIT_TIMEOUT_MS / 1000} s`
      : result.stderr.trim() || `git ${args[0]} exited with ${result.exitCode}`;
  throw new ScratchCopyError("gitFailed", why);
}
