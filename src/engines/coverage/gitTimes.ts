// When the code last changed, by git: the time of the last commit of the repository and, when the report itself is
// committed, of the commit that last changed it (a checkout gives a committed file a fresh mtime, which says nothing
// about when the report was made).
import path from "node:path";
import { runCommand } from "../shell/run.js";

export type GitTimes =
  | {
      state: "ok";
      commit: string;
      /** Committer time of HEAD, epoch seconds. */
      lastCommitAt: number;
      /** The report in git: when it was last committed and whether the work tree changed it since. */
      report: { tracked: false } | { tracked: true; committedAt: number; modified: boolean };
    }
  | { state: "unavailable"; reason: string };

const GIT_TIMEOUT_MS = 15_000;

export async function gitTimes(
  repoDir: string,
  reportFile: string | null,
  signal?: AbortSignal,
): Promise<GitTimes> {
  const head = await git(repoDir, ["log", "-1", "--format=%ct %H"], signal);
  if (!head.ok) return { state: "unavailable", reason: head.reason };
  const [time, commit] = head.stdout.trim().split(" ");
  const lastCommitAt = Number(time);
  if (!commit || !Number.isInteger(lastCommitAt)) {
    return {
      state: "unavailable",
      reason: `git log printed no commit time (${JSON.stringify(head.stdout.trim())})`,
    };
  }
  if (!reportFile) return { state: "ok", commit, lastCommitAt, report: { tracked: false } };
  const relative = path.relative(repoDir, reportFile);
  if (relative.startsWith("..") || path.isAbsolute(relative)) {
    return { state: "ok", commit, lastCommitAt, report: { tracked: false } };
  }
  const listed = await git(repoDir, ["ls-files", "--", relative], signal);
  if (!listed.ok || listed.stdout.trim() === "") {
    return { state: "ok", commit, lastCommitAt, report: { tracked: false } };
  }
  const last = await git(repoDir, ["log", "-1", "--format=%ct", "--", relative], signal);
  const committedAt = last.ok ? Number(last.stdout.trim()) : Number.NaN;
  if (!Number.isInteger(committedAt))
    return { state: "ok", commit, lastCommitAt, report: { tracked: false } };
  // Exit 1 = the work tree's copy differs from HEAD's.
  const diff = await git(repoDir, ["diff", "--quiet", "HEAD", "--", relative], signal, [0, 1]);
  const modified = diff.ok ? diff.exitCode === 1 : true;
  return { state: "ok", commit, lastCommitAt, report: { tracked: true, committedAt, modified } };
}

type GitResult = { ok: true; stdout: string; exitCode: number } | { ok: false; reason: string };

async function git(cwd: string, args: string[], signal?: AbortSignal, accept = [0]): Promise<GitResult> {
  const result = await runCommand("git", ["-C", cwd, ...args], {
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? "/",
      LC_ALL: "C",
      GIT_OPTIONAL_LOCKS: "0",
      GIT_TERMINAL_PROMPT: "0",
    },
    timeoutMs: GIT_TIMEOUT_MS,
    maxOutputBytes: 1024 * 1024,
    ...(signal ? { signal } : {}),
  });
  if (result.exitCode !== null && accept.includes(result.exitCode)) {
    return { ok: true, stdout: result.stdout, exitCode: result.exitCode };
  }
  if (result.spawnError) {
    return {
      ok: false,
      reason:
        result.spawnError.code === "ENOENT"
          ? "git is not installed"
          : `git could not start (${result.spawnError.code})`,
    };
  }
  if (result.timedOut)
    return { ok: false, reason: `git ${args[0]} did not finish within ${GIT_TIMEOUT_MS / 1000} s` };
  const stderr = result.stderr.trim();
  if (/not a git repository/i.test(stderr)) return { ok: false, reason: "not a git repository" };
  if (/does not have any commits yet|bad default revision|unknown revision/i.test(stderr)) {
    return { ok: false, reason: "the repository has no commit yet" };
  }
  return { ok: false, reason: stderr.split("\n")[0] || `git ${args[0]} exited with ${result.exitCode}` };
}
