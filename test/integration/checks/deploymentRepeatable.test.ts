// Real deploys, real processes, real git: each test commits a deploy script to a small git repository and drills it.
// What the deploy saw (its folder, the pids it started) is written by the script into a folder outside the repository,
// since the scratch copy is gone when the check returns.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import check, { type DeployObservation } from "../../../src/checks/deployment/deploymentRepeatable.js";
import { makeCheckContext } from "../../support/checkContext.js";
import { requireTool } from "../../support/services.js";

const temporary: string[] = [];
const started: number[] = [];
afterEach(() => {
  // Whatever a failing test left behind: the deploy's processes (by pid, as the scripts reported them), then folders.
  for (const pid of started.splice(0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone, as it should be
    }
  }
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

function repository(files: Record<string, string>): string {
  requireTool("git");
  const repo = tempDir("gauntlet-deploy-repo-");
  git(repo, "init", "--quiet");
  for (const [name, text] of Object.entries(files)) {
    const file = path.join(repo, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text, { mode: name.endsWith(".sh") ? 0o755 : 0o644 });
  }
  git(repo, "add", "--all");
  git(repo, "commit", "--quiet", "-m", "initial");
  return repo;
}

const status = (repo: string) => git(repo, "status", "--porcelain", "--untracked-files=all", "--ignored");

const deploySpec = (command: string, timeout: string) => ({
  deployment: { scripts: ["scripts/deploy.sh"], deploy: { command, timeout } },
});

const verdict = (findings: { status: string; messageId: string }[]) =>
  findings.map((f) => [f.status, f.messageId]);

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie nobody reaped yet is gone for every purpose here.
  const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, "utf8") : "";
  return !/\) [ZX] /.test(stat);
};

async function waitUntilGone(pid: number, ms = 5_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (alive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  return !alive(pid);
}

function pidsIn(file: string): number[] {
  const pids = readFileSync(file, "utf8").trim().split(/\s+/).map(Number);
  started.push(...pids);
  return pids;
}

describe("deploymentRepeatable on real deploy scripts", () => {
  it("fails a deploy whose second run fails (mkdir without -p), and it never ran in the working tree", async () => {
    const report = tempDir("gauntlet-deploy-report-");
    const repo = repository({
      "scripts/deploy.sh": [
        "#!/bin/sh",
        "set -e",
        'echo "deploying 1.2.0"',
        "mkdir releases",
        "mkdir releases/1.2.0",
        "echo 1.2.0 > releases/1.2.0/VERSION",
        'pwd >> "$1/cwd"',
        "",
      ].join("\n"),
      "README.md": "a shop\n",
    });
    writeFileSync(path.join(repo, "notes.txt"), "untracked, not ignored\n");
    const before = status(repo);
    const { ctx, readEvidence } = makeCheckContext(deploySpec(`./scripts/deploy.sh ${report}`, "30s"), {
      specDir: repo,
    });
    const findings = await check.run(ctx);

    expect(verdict(findings)).toEqual([["FAIL", "notRepeatable"]]);
    const [failed] = findings;
    expect(failed!.message).toContain("the deploy is not repeatable");
    expect(failed!.message).toMatch(/File exists/);
    expect(String(failed!.data?.tail)).toMatch(/mkdir.*releases.*File exists/);
    expect(failed!.location).toEqual({ path: "scripts/deploy.sh" });
    // Both runs are measured; the second run's output is evidence.
    expect(failed!.measurements?.map((m) => m.name)).toEqual([
      "deploy.run1.duration",
      "deploy.run2.duration",
      "deploy.timeout",
    ]);
    const run2 = failed!.evidence!.find((e) => e.endsWith("run2.stderr.txt"))!;
    expect(readEvidence(run2)).toMatch(/File exists/);
    const observation = JSON.parse(readEvidence(failed!.evidence![0]!)) as DeployObservation;
    expect(observation.runs.map((r) => r.exitCode)).toEqual([0, expect.any(Number)]);
    expect(observation.runs[1]!.exitCode).not.toBe(0);
    expect(observation.scratch?.method).toBe("git");

    // The first run got as far as its last line, in a copy; the repository itself is as it was.
    const cwd = readFileSync(path.join(report, "cwd"), "utf8").trim();
    expect(cwd).not.toBe(repo);
    expect(cwd.endsWith(`${path.sep}repo`)).toBe(true);
    expect(existsSync(cwd)).toBe(false);
    expect(status(repo)).toBe(before);
    expect(existsSync(path.join(repo, "releases"))).toBe(false);
    expect(git(repo, "worktree", "list").trim().split("\n")).toHaveLength(1);
  });

  it("passes an idempotent deploy with both durations, the second run seeing the first one's result", async () => {
    const report = tempDir("gauntlet-deploy-report-");
    const repo = repository({
      "scripts/deploy.sh": [
        "#!/bin/sh",
        "set -eu",
        "mkdir -p releases/1.2.0",
        'if [ -f releases/1.2.0/VERSION ]; then echo "1.2.0 already there"; else echo 1.2.0 > releases/1.2.0/VERSION; echo "1.2.0 unpacked"; fi',
        "ln -sfn 1.2.0 releases/current",
        'echo "$HOME" >> "$1/home"',
        "",
      ].join("\n"),
    });
    const before = status(repo);
    const { ctx, readEvidence } = makeCheckContext(deploySpec(`./scripts/deploy.sh ${report}`, "30s"), {
      specDir: repo,
    });
    const findings = await check.run(ctx);
    expect(verdict(findings)).toEqual([["PASS", "repeatable"]]);
    const durations = findings[0]!.measurements!.filter((m) => m.name.endsWith(".duration"));
    expect(durations).toHaveLength(2);
    for (const d of durations) expect(d.value).toBeGreaterThan(0);
    expect(findings[0]!.message).toMatch(/succeeded twice in the same scratch copy/);
    const observation = JSON.parse(readEvidence(findings[0]!.evidence![0]!)) as DeployObservation;
    expect(observation.runs.map((r) => r.stdoutTail)).toEqual([["1.2.0 unpacked"], ["1.2.0 already there"]]);
    // Both runs in the same copy with the same private HOME, not the user's.
    const homes = readFileSync(path.join(report, "home"), "utf8").trim().split("\n");
    expect(homes).toHaveLength(2);
    expect(homes[0]).toBe(homes[1]);
    expect(homes[0]).not.toBe(process.env.HOME);
    expect(status(repo)).toBe(before);
  });

  it("fails a deploy that overruns its timeout, and ends it", async () => {
    const report = tempDir("gauntlet-deploy-report-");
    const repo = repository({
      "scripts/deploy.sh":
        '#!/bin/sh\necho "waiting for the load balancer"\nsleep 60 &\necho "$!" > "$1/sleep.pid"\nwait\n',
    });
    const { ctx } = makeCheckContext(deploySpec(`./scripts/deploy.sh ${report}`, "1s"), { specDir: repo });
    const began = Date.now();
    const findings = await check.run(ctx);
    expect(verdict(findings)).toEqual([["FAIL", "overran"]]);
    expect(findings[0]!.message).toMatch(/^the first deploy took longer than its timeout \(1(\.00)? ?s\)/);
    expect(findings[0]!.data?.tail).toContain("waiting for the load balancer");
    expect(Date.now() - began).toBeLessThan(15_000);
    expect(
      findings[0]!.measurements?.find((m) => m.name === "deploy.run1.duration")?.value,
    ).toBeGreaterThanOrEqual(1_000);
    const [pid] = pidsIn(path.join(report, "sleep.pid"));
    expect(await waitUntilGone(pid!)).toBe(true);
  });

  it("fails a second run that overruns as not repeatable (a lock the first run left behind)", async () => {
    const repo = repository({
      "scripts/deploy.sh": [
        "#!/bin/sh",
        'if [ -e deploy.lock ]; then echo "waiting for deploy.lock"; while [ -e deploy.lock ]; do sleep 0.2; done; fi',
        "touch deploy.lock",
        "echo deployed",
        "",
      ].join("\n"),
    });
    const { ctx } = makeCheckContext(deploySpec("./scripts/deploy.sh", "2s"), { specDir: repo });
    const findings = await check.run(ctx);
    expect(verdict(findings)).toEqual([["FAIL", "overran"]]);
    expect(findings[0]!.message).toMatch(/^the deploy is not repeatable: the second deploy took longer/);
    expect(findings[0]!.data?.tail).toBe("waiting for deploy.lock");
  });

  it("fails a deploy that fails on a fresh copy, and one the shell cannot run", async () => {
    const repo = repository({
      "scripts/deploy.sh": '#!/bin/sh\necho "no artifact in dist/" >&2\nexit 4\n',
    });
    const { ctx } = makeCheckContext(deploySpec("./scripts/deploy.sh", "30s"), { specDir: repo });
    const findings = await check.run(ctx);
    expect(verdict(findings)).toEqual([["FAIL", "failed"]]);
    expect(findings[0]!.message).toContain("exited with 4");
    expect(findings[0]!.message).toContain("no artifact in dist/");
    expect(findings[0]!.measurements?.map((m) => m.name)).toEqual(["deploy.run1.duration", "deploy.timeout"]);

    const missing = makeCheckContext(deploySpec("./scripts/missing.sh", "30s"), { specDir: repo });
    const notFound = await check.run(missing.ctx);
    expect(verdict(notFound)).toEqual([["FAIL", "notRunnable"]]);
    expect(notFound[0]!.data?.exitCode).toBe(127);
  });

  it("stops the services the deploy started — in its group and ones that left it — after both runs", async () => {
    requireTool("setsid");
    const report = tempDir("gauntlet-deploy-report-");
    // Starts a "service" in the background (same process group) and a daemon in a session of its own (setsid), each
    // only when not already running: the second run finds them alive, so they ran through it.
    const repo = repository({
      "scripts/deploy.sh": [
        "#!/bin/sh",
        "set -eu",
        "mkdir -p run",
        'if [ -f run/web.pid ] && kill -0 "$(cat run/web.pid)" 2>/dev/null; then',
        '  echo "web already running"',
        "else",
        "  sleep 300 &",
        "  echo $! > run/web.pid",
        "  setsid sleep 301 > /dev/null 2>&1 < /dev/null &",
        "  echo $! > run/daemon.pid",
        '  cat run/web.pid run/daemon.pid > "$1/pids"',
        '  echo "web started"',
        "fi",
        "",
      ].join("\n"),
    });
    const { ctx, readEvidence } = makeCheckContext(deploySpec(`./scripts/deploy.sh ${report}`, "30s"), {
      specDir: repo,
    });
    const findings = await check.run(ctx);
    expect(verdict(findings)).toEqual([["PASS", "repeatable"]]);
    const observation = JSON.parse(readEvidence(findings[0]!.evidence![0]!)) as DeployObservation;
    expect(observation.runs.map((r) => r.stdoutTail.at(-1))).toEqual(["web started", "web already running"]);
    expect(observation.runs[0]!.leftRunning).toBe(true);
    const pids = pidsIn(path.join(report, "pids"));
    expect(pids).toHaveLength(2);
    for (const pid of pids) expect(await waitUntilGone(pid), `pid ${pid} is still running`).toBe(true);
    expect(observation.leftovers?.count).toBe(2);
    expect(observation.leftovers?.ended.map((p) => [p.command, p.foundBy]).sort()).toEqual([
      ["sleep 300", "group"],
      ["sleep 301", "cwd"],
    ]);
    expect(findings[0]!.message).toContain("it left 2 process(es) running, stopped afterwards");
  });

  it("when aborted during the second run, stops what the first one started and removes the copy", async () => {
    const report = tempDir("gauntlet-deploy-report-");
    const repo = repository({
      "scripts/deploy.sh": [
        "#!/bin/sh",
        "if [ -f web.pid ]; then",
        '  pwd > "$1/cwd"',
        "  sleep 300",
        "else",
        "  sleep 302 > /dev/null 2>&1 &",
        "  echo $! > web.pid",
        '  echo $! > "$1/web.pid"',
        "fi",
        "",
      ].join("\n"),
    });
    const abort = new AbortController();
    const { ctx, rollbacks } = makeCheckContext(deploySpec(`./scripts/deploy.sh ${report}`, "5m"), {
      specDir: repo,
      signal: abort.signal,
    });
    const running = check.run(ctx);
    running.catch(() => {});
    const deadline = Date.now() + 15_000;
    while (!existsSync(path.join(report, "cwd")) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const cwd = readFileSync(path.join(report, "cwd"), "utf8").trim();
    const [web] = pidsIn(path.join(report, "web.pid"));
    expect(alive(web!)).toBe(true);
    abort.abort(new Error("cancelled by the test"));
    await expect(running).rejects.toThrow("cancelled by the test");
    expect(await waitUntilGone(web!)).toBe(true);
    expect(existsSync(path.dirname(cwd))).toBe(false);
    expect(rollbacks.pending).toBe(0);
    expect(rollbacks.failures).toEqual([]);
  });

  it("names the tools that act outside the copy: what docker started is not stopped", async () => {
    const bin = tempDir("gauntlet-deploy-bin-");
    // A stand-in `docker` on PATH that succeeds: what matters is that the deploy calls it, which the PASS says.
    writeFileSync(path.join(bin, "docker"), '#!/bin/sh\necho "docker $*"\n', { mode: 0o755 });
    const repo = repository({
      "scripts/deploy.sh": "#!/bin/sh\nset -e\n# docker is started by compose\ndocker compose up -d --wait\n",
    });
    const { ctx } = makeCheckContext(deploySpec("./scripts/deploy.sh", "30s"), {
      specDir: repo,
      env: { PATH: `${bin}:${process.env.PATH}` },
    });
    const findings = await check.run(ctx);
    expect(verdict(findings)).toEqual([["PASS", "repeatable"]]);
    expect(findings[0]!.message).toContain("it calls docker: what those started or changed outside the copy");
  });
});

describe("deploymentRepeatable without a deploy command", () => {
  it("is UNVERIFIED for a system with deploy scripts, and never runs them", async () => {
    const report = tempDir("gauntlet-deploy-report-");
    const repo = repository({ "scripts/deploy.sh": `#!/bin/sh\ntouch ${report}/ran\n` });
    const { ctx } = makeCheckContext({ deployment: { scripts: ["scripts/deploy.sh"] } }, { specDir: repo });
    const findings = await check.run(ctx);
    expect(verdict(findings)).toEqual([["UNVERIFIED", "noDeployCommand"]]);
    expect(findings[0]!.message).toContain("no deployment.deploy.command to drill");
    expect(findings[0]!.toVerify).toContain("deployment.deploy");
    expect(existsSync(path.join(report, "ran"))).toBe(false);
  });
});
