// What secretlint does not read: the history. A secret committed and deleted since is in every clone, so every blob
// reachable from any ref (branches, tags, stash) is scanned once, attributed to the first commit that introduced it
// at a path. `git log --raw` names the blobs each commit introduces (a merge against its first parent, so a conflict
// resolution is seen too); `git cat-file --batch-check` gives their sizes and `--batch` streams their content, one
// blob at a time: what is kept is one small entry per unique blob (id, first commit, path), never its content.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { gitOutput } from "./worktree.js";

export interface GitRepository {
  /** The work tree's top folder. */
  top: string;
  /** A shallow clone lacks the history before its cut: what is missing cannot be scanned. */
  shallow: boolean;
}

export type GitLookup =
  | { state: "repository"; repository: GitRepository }
  | { state: "notGit" }
  | { state: "gitMissing"; error: string }
  | { state: "error"; error: string };

/** The git work tree holding dir, if any. */
export async function gitRepositoryOf(dir: string, signal?: AbortSignal): Promise<GitLookup> {
  try {
    const out = await gitOutput(dir, ["rev-parse", "--show-toplevel", "--is-shallow-repository"], signal);
    const [top, shallow] = out.trim().split("\n");
    if (!top) return { state: "error", error: "git rev-parse printed no top folder" };
    return { state: "repository", repository: { top, shallow: shallow === "true" } };
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    if (e.code === "ENOENT") return { state: "gitMissing", error: "git is not on PATH" };
    if (/not a git repository/i.test(e.message)) return { state: "notGit" };
    // e.g. "detected dubious ownership": git refuses the repository, so its history cannot be read.
    return { state: "error", error: e.message.split("\n")[0]! };
  }
}

/** A blob as first introduced: by which commit, at which path (relative to the top folder). */
export interface IntroducedBlob {
  blob: string;
  commit: string;
  /** Commit time, epoch seconds. */
  time: number;
  path: string;
}

export interface HistoryListing {
  commits: number;
  /** Unique blobs, oldest introduction first. */
  blobs: IntroducedBlob[];
}

const REGULAR_FILE_MODES = new Set(["100644", "100755", "100664"]);

/**
 * Every blob reachable from any ref under the pathspecs (relative to top; none = the whole tree), each once, at its
 * first introduction. Symbolic links and submodule commits are not blobs of text and are left out.
 */
export async function listHistory(
  top: string,
  pathspecs: readonly string[],
  signal?: AbortSignal,
): Promise<HistoryListing> {
  const args = [
    "log",
    "--all",
    "--reverse",
    "--raw",
    // Without it, a path limit simplifies history: a side branch that added and removed a secret would be skipped.
    "--full-history",
    "--no-renames",
    "--no-abbrev",
    "--diff-merges=first-parent",
    "--format=%x01%H %ct",
    "-z",
  ];
  if (pathspecs.length > 0) args.push("--", ...pathspecs.map((p) => `:(literal)${p}`));
  const child = git(top, args, signal);
  child.stdin.end();
  const seen = new Map<string, IntroducedBlob>();
  let commits = 0;
  let commit = "";
  let time = 0;
  let pendingEntry: { mode: string; blob: string; status: string } | null = null;
  let rest = "";
  const onToken = (token: string) => {
    if (pendingEntry) {
      const entry = pendingEntry;
      pendingEntry = null;
      if (entry.status !== "D" && REGULAR_FILE_MODES.has(entry.mode) && !seen.has(entry.blob)) {
        seen.set(entry.blob, { blob: entry.blob, commit, time, path: token });
      }
      return;
    }
    const text = token.replace(/^\n+/, "");
    if (text.startsWith("\x01")) {
      const [hash, seconds] = text.slice(1).split(" ");
      commit = hash!;
      time = Number(seconds);
      commits++;
    } else if (text.startsWith(":")) {
      // ":<old mode> <new mode> <old blob> <new blob> <status>", the path follows as the next token.
      const [, mode, , blob, status] = text.slice(1).split(" ");
      pendingEntry = { mode: mode!, blob: blob!, status: status!.charAt(0) };
    }
  };
  await consume(child, (chunk) => {
    const text = rest + chunk.toString("utf8");
    const tokens = text.split("\0");
    rest = tokens.pop()!;
    for (const token of tokens) onToken(token);
  });
  if (rest.length > 0) onToken(rest);
  return { commits, blobs: [...seen.values()] };
}

/** How many commits any ref reaches. */
export async function commitCount(top: string, signal?: AbortSignal): Promise<number> {
  const out = await gitOutput(top, ["rev-list", "--all", "--count"], signal);
  return Number(out.trim()) || 0;
}

/** Object sizes for blob ids (a blob git does not have is left out). */
export async function blobSizes(
  top: string,
  blobs: readonly string[],
  signal?: AbortSignal,
): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  if (blobs.length === 0) return sizes;
  const child = git(top, ["cat-file", "--batch-check=%(objectname) %(objecttype) %(objectsize)"], signal);
  writeIds(child, blobs);
  let rest = "";
  const onLine = (line: string) => {
    const [id, type, size] = line.split(" ");
    if (id && type === "blob") sizes.set(id, Number(size));
  };
  await consume(child, (chunk) => {
    const lines = (rest + chunk.toString("latin1")).split("\n");
    rest = lines.pop()!;
    for (const line of lines) onLine(line);
  });
  if (rest) onLine(rest);
  return sizes;
}

/**
 * Streams the content of blobs, in the order given, one at a time: `onBlob` is awaited before the next is parsed, and
 * git waits on the pipe meanwhile. Returning false from `onBlob` stops the stream (deadline) and ends git.
 */
export async function readBlobs(
  top: string,
  blobs: readonly string[],
  onBlob: (blob: string, content: Buffer) => Promise<boolean>,
  signal?: AbortSignal,
): Promise<{ read: number; stopped: boolean }> {
  if (blobs.length === 0) return { read: 0, stopped: false };
  const child = git(top, ["cat-file", "--batch"], signal);
  writeIds(child, blobs);
  const chunks: Buffer[] = [];
  let buffered = 0;
  let header: { id: string; size: number } | null = null;
  let read = 0;
  let stopped = false;
  const take = (n: number): Buffer => {
    const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, buffered);
    chunks.length = 0;
    const taken = all.subarray(0, n);
    if (all.length > n) chunks.push(all.subarray(n));
    buffered = all.length - n;
    return taken;
  };
  try {
    outer: for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      buffered += chunk.length;
      for (;;) {
        if (!header) {
          const newline = indexOfNewline(chunks);
          if (newline < 0) break;
          const line = take(newline + 1)
            .toString("latin1")
            .trimEnd();
          const [id, type, size] = line.split(" ");
          // "<id> missing": nothing follows; any other type would be a bug of ours (only blob ids are asked for).
          if (type === "missing" || size === undefined) continue;
          header = { id: id!, size: Number(size) };
        }
        if (buffered < header.size + 1) break;
        const content = Buffer.from(take(header.size + 1).subarray(0, header.size));
        const id = header.id;
        header = null;
        read++;
        if (!(await onBlob(id, content))) {
          stopped = true;
          break outer;
        }
      }
    }
  } finally {
    if (child.exitCode === null) child.kill();
  }
  if (!stopped) await exited(child);
  return { read, stopped };
}

function indexOfNewline(chunks: Buffer[]): number {
  let offset = 0;
  for (const chunk of chunks) {
    const at = chunk.indexOf(0x0a);
    if (at >= 0) return offset + at;
    offset += chunk.length;
  }
  return -1;
}

function git(cwd: string, args: string[], signal?: AbortSignal): ChildProcessWithoutNullStreams {
  const child = spawn("git", ["-C", cwd, ...args], {
    stdio: ["pipe", "pipe", "pipe"],
    ...(signal ? { signal } : {}),
    env: { ...process.env, GIT_OPTIONAL_LOCKS: "0", LC_ALL: "C" },
  });
  // An abort kills git; the error it raises on the process is expected, not a crash.
  child.on("error", () => {});
  child.stdin.on("error", () => {});
  return child;
}

function writeIds(child: ChildProcessWithoutNullStreams, ids: readonly string[]): void {
  // Written in slices so a long list is not one huge string; git reads stdin as it answers.
  const slice = 10_000;
  for (let i = 0; i < ids.length; i += slice) child.stdin.write(`${ids.slice(i, i + slice).join("\n")}\n`);
  child.stdin.end();
}

async function consume(
  child: ChildProcessWithoutNullStreams,
  onChunk: (chunk: Buffer) => void,
): Promise<void> {
  const stderr: Buffer[] = [];
  child.stderr.on("data", (d: Buffer) => stderr.push(d));
  for await (const chunk of child.stdout as AsyncIterable<Buffer>) onChunk(chunk);
  const code = await exited(child);
  if (code !== 0) {
    const message = Buffer.concat(stderr).toString("utf8").trim().split("\n")[0];
    throw new Error(message || `git exited with ${code}`);
  }
}

function exited(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve, reject) => {
    child.once("close", (code) => resolve(code));
    child.once("error", reject);
  });
}
