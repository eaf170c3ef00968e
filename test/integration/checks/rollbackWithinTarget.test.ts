// Real rollbacks, real processes, real git: each test builds a small git repository, commits a rollback script, and
// runs the check on it. What the scratch copy is (where the command ran, what it saw) is reported by the commands
// themselves into a folder outside the repository, since the copy is gone when the check returns.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import check, { type RollbackObservation } from "../../../src/checks/operations/rollbackWithinTarget.js";
import { makeCheckContext } from "../../support/checkContext.js";
import { requireTool } from "../../support/services.js";

const temporary: string[] = [];
afterEach(() => {
  for (const dir of temporary.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  temporary.push(dir);
  return dir;
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync(
    "git",
    ["-c", "user.name=Gauntlet Test", "-c", "user.email=test@example.invalid", "-C", cwd, ...args],
    { encoding: "utf8", env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1" } },
  );
}

/** A git repository with these files committed (mode 0755 for scripts). */
function repository(files: Record<string, string>): string {
  requireTool("git");
  const repo = tempDir("gauntlet-rollback-repo-");
  git(repo, "init", "--quiet");
  for (const [name, text] of Object.entries(files)) writeFile(repo, name, text);
  git(repo, "add", "--all");
  git(repo, "commit", "--quiet", "-m", "initial");
  return repo;
}

function writeFile(repo: string, name: string, text: string): void {
  const file = path.join(repo, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text, { mode: name.endsWith(".sh") ? 0o755 : 0o644 });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function waitFor(file: string, ms = 10_000): Promise<string> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (existsSync(file)) {
      const text = readFileSync(file, "utf8");
      if (text.endsWith("\n")) return text.trim();
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${file} was never written`);
}

async function waitUntilGone(pid: number, ms = 3_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (alive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  return !alive(pid);
}

function rollbackSpec(command: string, timeout: string, extra: Record<string, unknown> = {}) {
  return { operations: { rollback: { command, timeout } }, ...extra };
}

const verdict = (findings: { status: string; messageId: string }[]) =>
  findings.map((f) => [f.status, f.messageId]);

describe("rollbackWithinTarget in a scratch copy of a git repository", () => {
  it("fails a rollback that overruns its timeout, with its output tail, and leaves none of its processes", async () => {
    const report = tempDir("gauntlet-rollback-report-");
    const repo = repository({
      "scripts/rollback.sh": [
        "#!/bin/sh",
        'echo "waiting for the previous release"',
        // A child that ignores SIGTERM: only the group's SIGKILL ends it.
        "(trap '' TERM; exec sleep 60) &",
        'echo "$!" > "$1/stubborn.pid"',
        "sleep 60 &",
        'echo "$!" > "$1/sleep.pid"',
        "wait",
        "",
      ].join("\n"),
    });
    const { ctx, readEvidence } = makeCheckContext(rollbackSpec(`./scripts/rollback.sh ${report}`, "1s"), {
      specDir: repo,
    });
    const started = Date.now();
    const findings = await check.run(ctx);
    expect(verdict(findings)).toEqual([["FAIL", "overran"]]);
    expect(findings[0]!.message).toContain("took longer than its timeout");
    expect(findings[0]!.data?.tail).toContain("waiting for the previous release");
    expect(findings[0]!.location).toEqual({ path: "scripts/rollback.sh" });
    expect(Date.now() - started).toBeLessThan(15_000);
    const duration = findings[0]!.measurements?.find((m) => m.name === "rollback.duration")?.value ?? 0;
    expect(duration).toBeGreaterThanOrEqual(1_000);
    for (const name of ["sleep.pid", "stubborn.pid"]) {
      const pid = Number(readFileSync(path.join(report, name), "utf8"));
      expect(await waitUntilGone(pid), `${name} (${pid}) is still running`).toBe(true);
    }
    const stdout = findings[0]!.evidence!.find((e) => e.endsWith("stdout.txt"))!;
    expect(readEvidence(stdout)).toContain("waiting for the previous release");
  });

  it("fails a rollback that exits 3 with the last 40 lines of its output, redacted", async () => {
    const token = `tok_${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
    const repo = repository({
      "scripts/rollback.sh": [
        "#!/bin/sh",
        "i=1",
        'while [ "$i" -le 60 ]; do echo "step $i"; i=$((i + 1)); done',
        'echo "calling the deploy API with $SHOP_TOKEN" >&2',
        'echo "release 1.0.0 not found" >&2',
        "exit 3",
        "",
      ].join("\n"),
    });
    const { ctx, readEvidence } = makeCheckContext(
      rollbackSpec("./scripts/rollback.sh", "30s", { deployment: { env: { required: ["SHOP_TOKEN"] } } }),
      { specDir: repo, env: { PATH: process.env.PATH, SHOP_TOKEN: token } },
    );
    ctx.secrets.add(token); // as the spec loader registers a required variable's value
    const findings = await check.run(ctx);
    expect(verdict(findings)).toEqual([["FAIL", "failed"]]);
    const [failed] = findings;
    expect(failed!.message).toContain("exited with 3");
    expect(failed!.message).toContain("release 1.0.0 not found");
    expect(String(failed!.data?.stdoutTail).split("\n")).toHaveLength(40);
    expect(String(failed!.data?.stdoutTail)).toMatch(/^step 21\n[\s\S]*step 60$/);
    expect(String(failed!.data?.stderrTail)).toContain("calling the deploy API with");
    // The variable reached the script (the spec requires it), and its value is redacted everywhere.
    expect(JSON.stringify(findings)).not.toContain(token);
    for (const file of failed!.evidence!) expect(readEvidence(file)).not.toContain(token);
    expect(readEvidence(failed!.evidence!.find((e) => e.endsWith("stderr.txt"))!)).toContain("[REDACTED]");
  });

  it("runs in the copy: a file it writes lands there, the repository's working tree is untouched", async () => {
    const report = tempDir("gauntlet-rollback-report-");
    // The spec lives in a subfolder, system.repo points at the top: the command runs in the same subfolder of the copy.
    const repo = repository({
      "deploy/scripts/rollback.sh": [
        "#!/bin/sh",
        "set -e",
        "echo rolled-back > rolled-back.marker",
        'pwd > "$1/cwd"',
        'echo "$HOME" > "$1/home"',
        'ls > "$1/listing"',
        "",
      ].join("\n"),
      "deploy/README.md": "how we deploy\n",
      "src/app.js": "console.log('app')\n",
    });
    writeFile(repo, "notes.txt", "untracked, not ignored\n");
    const specDir = path.join(repo, "deploy");
    const before = git(repo, "status", "--porcelain", "--untracked-files=all");
    const { ctx } = makeCheckContext(
      rollbackSpec(`sh scripts/rollback.sh ${report}`, "30s", { system: { name: "t", repo: ".." } }),
      { specDir },
    );
    const findings = await check.run(ctx);
    expect(verdict(findings)).toEqual([["PASS", "withinTarget"]]);
    expect(findings[0]!.measurements?.map((m) => m.name)).toEqual(["rollback.duration", "rollback.timeout"]);

    const cwd = readFileSync(path.join(report, "cwd"), "utf8").trim();
    expect(cwd).not.toBe(specDir);
    expect(cwd.endsWith(`${path.sep}repo${path.sep}deploy`)).toBe(true);
    expect(readFileSync(path.join(report, "listing"), "utf8").split("\n")).toEqual(
      expect.arrayContaining(["README.md", "rolled-back.marker", "scripts"]),
    );
    const home = readFileSync(path.join(report, "home"), "utf8").trim();
    expect(home).not.toBe(process.env.HOME);
    // The repository: the same status as before, no marker; the copy: gone.
    expect(git(repo, "status", "--porcelain", "--untracked-files=all")).toBe(before);
    expect(existsSync(path.join(specDir, "rolled-back.marker"))).toBe(false);
    expect(existsSync(path.dirname(path.dirname(cwd)))).toBe(false);
    expect(existsSync(home)).toBe(false);
    expect(git(repo, "worktree", "list").trim().split("\n")).toHaveLength(1);
  });

  it("runs the working tree's version: an uncommitted edit, a staged change, an untracked file, a deletion", async () => {
    const report = tempDir("gauntlet-rollback-report-");
    const repo = repository({
      "scripts/rollback.sh": "#!/bin/sh\necho committed version\nexit 1\n",
      "scripts/lib.sh": "version=committed\n",
      "obsolete.txt": "deleted in the working tree\n",
    });
    writeFile(
      repo,
      "scripts/rollback.sh",
      [
        "#!/bin/sh",
        "set -e",
        ". ./scripts/lib.sh",
        'echo "edited version, lib $version" | tee "$1/out"',
        "test -f scripts/new-step.sh",
        "test ! -e obsolete.txt",
        "",
      ].join("\n"),
    );
    writeFile(repo, "scripts/lib.sh", "version=staged\n");
    git(repo, "add", "scripts/lib.sh");
    writeFile(repo, "scripts/new-step.sh", "#!/bin/sh\n");
    rmSync(path.join(repo, "obsolete.txt"));
    const { ctx, readEvidence } = makeCheckContext(rollbackSpec(`./scripts/rollback.sh ${report}`, "30s"), {
      specDir: repo,
    });
    const findings = await check.run(ctx);
    expect(verdict(findings)).toEqual([["PASS", "withinTarget"]]);
    expect(readFileSync(path.join(report, "out"), "utf8")).toBe("edited version, lib staged\n");
    const summary = JSON.parse(readEvidence(findings[0]!.evidence![0]!)) as RollbackObservation;
    expect(summary.scratch).toMatchObject({ method: "git", deleted: 1 });
    expect(summary.scratch!.files).toBeGreaterThanOrEqual(3);
  });

  it("removes the copy and ends the command when the check is aborted mid-run", async () => {
    const report = tempDir("gauntlet-rollback-report-");
    const repo = repository({
      "scripts/rollback.sh": '#!/bin/sh\nsleep 60 &\necho "$!" > "$1/sleep.pid"\npwd > "$1/cwd"\nwait\n',
    });
    const abort = new AbortController();
    const { ctx, rollbacks } = makeCheckContext(rollbackSpec(`./scripts/rollback.sh ${report}`, "5m"), {
      specDir: repo,
      signal: abort.signal,
    });
    const running = check.run(ctx);
    running.catch(() => {});
    const cwd = await waitFor(path.join(report, "cwd"));
    const pid = Number(await waitFor(path.join(report, "sleep.pid")));
    expect(existsSync(cwd)).toBe(true);
    abort.abort(new Error("cancelled by the test"));
    await expect(running).rejects.toThrow("cancelled by the test");
    // The spec is at the repository's top: cwd is <scratch folder>/repo, and the whole scratch folder is gone.
    expect(existsSync(path.dirname(cwd))).toBe(false);
    expect(await waitUntilGone(pid)).toBe(true);
    expect(rollbacks.pending).toBe(0);
    expect(rollbacks.failures).toEqual([]);
  });

  it("fails a command the shell cannot find, and a script that is not executable, with what the shell said", async () => {
    const repo = repository({ "scripts/rollback.sh": "#!/bin/sh\necho hi\n" });
    execFileSync("chmod", ["0644", path.join(repo, "scripts/rollback.sh")]);
    for (const [command, exit, said] of [
      ["./scripts/missing.sh", 127, /not found/],
      ["./scripts/rollback.sh", 126, /Permission denied/],
    ] as const) {
      const { ctx } = makeCheckContext(rollbackSpec(command, "30s"), { specDir: repo });
      const findings = await check.run(ctx);
      expect(verdict(findings)).toEqual([["FAIL", "notRunnable"]]);
      expect(findings[0]!.data?.exitCode).toBe(exit);
      expect(findings[0]!.message).toMatch(said);
    }
  });
});

describe("rollbackWithinTarget outside git", () => {
  it("copies the folder without its dependencies and ignored files, and says what it left out", async () => {
    const report = tempDir("gauntlet-rollback-report-");
    const dir = tempDir("gauntlet-rollback-plain-");
    writeFile(dir, "scripts/rollback.sh", '#!/bin/sh\nfind . -type f | sort > "$1/files"\n');
    writeFile(dir, "node_modules/left-pad/index.js", "module.exports = 1;\n");
    writeFile(dir, ".gitignore", "build/\n");
    writeFile(dir, "build/bundle.js", "bundle\n");
    writeFile(dir, "app.js", "app\n");
    const { ctx, readEvidence } = makeCheckContext(rollbackSpec(`./scripts/rollback.sh ${report}`, "30s"), {
      specDir: dir,
    });
    const findings = await check.run(ctx);
    expect(verdict(findings)).toEqual([["PASS", "withinTarget"]]);
    expect(readFileSync(path.join(report, "files"), "utf8").trim().split("\n")).toEqual([
      "./.gitignore",
      "./app.js",
      "./scripts/rollback.sh",
    ]);
    const summary = JSON.parse(readEvidence(findings[0]!.evidence![0]!)) as RollbackObservation;
    expect(summary.scratch?.method).toBe("copy");
    expect(summary.scratch?.skipped).toEqual(
      expect.arrayContaining([
        { path: "node_modules", reason: "dependencies" },
        { path: "build", reason: ".gitignore" },
      ]),
    );
  });
});

describe("rollbackWithinTarget against the system (safe: true)", () => {
  it("is not run without consent, and runs in the repository itself with it", async () => {
    const repo = repository({ "scripts/rollback.sh": "#!/bin/sh\necho done > rolled-back.marker\n" });
    const spec = {
      operations: { rollback: { command: "./scripts/rollback.sh", timeout: "30s", safe: true } },
    };
    const without = makeCheckContext(spec, { specDir: repo });
    const first = await check.run(without.ctx);
    expect(verdict(first)).toEqual([["UNVERIFIED", "notRun"]]);
    expect(first[0]!.toVerify).toContain("--allow-destructive");
    expect(existsSync(path.join(repo, "rolled-back.marker"))).toBe(false);

    const withConsent = makeCheckContext({ ...spec, destructive: true }, { specDir: repo });
    expect(verdict(await check.run(withConsent.ctx))).toEqual([["PASS", "withinTarget"]]);
    expect(readFileSync(path.join(repo, "rolled-back.marker"), "utf8")).toBe("done\n");
  });
});

describe("rollbackWithinTarget with no rollback declared", () => {
  it("fails a deployed system (principle 8), citing what makes it deployed", async () => {
    const { ctx, readEvidence } = makeCheckContext({
      deployment: { scripts: ["scripts/deploy.sh"], compose: ["compose.yaml"] },
    });
    const findings = await check.run(ctx);
    expect(verdict(findings)).toEqual([["FAIL", "noRollback"]]);
    expect(findings[0]!.message).toContain("no rollback declared");
    expect(JSON.parse(readEvidence(findings[0]!.evidence![0]!)).deployedBy).toEqual([
      "deployment.scripts",
      "deployment.compose",
    ]);
  });
});
