import { chmodSync, existsSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runCommand, which } from "../../../src/engines/shell/run.js";

const fixtures = path.resolve(import.meta.dirname, "../../fixtures/scripts");
const outputScript = path.join(fixtures, "output.sh");
const slowScript = path.join(fixtures, "slow.sh");

beforeAll(() => {
  chmodSync(outputScript, 0o755);
  chmodSync(slowScript, 0o755);
});

/** True while the process exists and is not a zombie waiting to be reaped. */
function alive(pid: number): boolean {
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return false;
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(stat, "utf8"));
  } catch {
    return false;
  }
}

async function waitUntil(predicate: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (predicate()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return predicate();
}

describe("runCommand", () => {
  it("captures stdout, stderr and the exit code", async () => {
    const result = await runCommand(outputScript, ["3"]);
    expect(result.exitCode).toBe(3);
    expect(result.signal).toBeNull();
    expect(result.stdout).toBe("to stdout\n");
    expect(result.stderr).toBe("to stderr\n");
    expect(result.timedOut).toBe(false);
    expect(result.durationMs).toBeGreaterThan(0);
  });

  it("caps captured output but counts every byte", async () => {
    const result = await runCommand("bash", ["-c", "head -c 100000 /dev/zero | tr '\\0' a"], {
      maxOutputBytes: 1000,
    });
    expect(result.stdout).toHaveLength(1000);
    expect(result.stdoutBytes).toBe(100_000);
    expect(result.truncated).toBe(true);
  });

  it("feeds input on stdin", async () => {
    const result = await runCommand("cat", [], { input: "hello" });
    expect(result.stdout).toBe("hello");
  });

  it("runs in the given folder with the given environment", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-run-"));
    const result = await runCommand("bash", ["-c", 'echo "$PWD $GREETING"'], {
      cwd: dir,
      env: { PATH: process.env.PATH, GREETING: "hi" },
    });
    expect(result.stdout.trim()).toBe(`${dir} hi`);
  });

  it("ends the whole process group on timeout", async () => {
    const pidFile = path.join(mkdtempSync(path.join(tmpdir(), "gauntlet-run-")), "child.pid");
    const result = await runCommand(slowScript, [pidFile], { timeoutMs: 300, killGraceMs: 500 });
    expect(result.timedOut).toBe(true);
    expect(result.exitCode).toBeNull();
    expect(result.durationMs).toBeLessThan(5_000);
    const child = Number(readFileSync(pidFile, "utf8"));
    expect(await waitUntil(() => !alive(child), 2_000)).toBe(true);
  });

  it("rejects with the abort reason and ends the command when aborted", async () => {
    const pidFile = path.join(mkdtempSync(path.join(tmpdir(), "gauntlet-run-")), "child.pid");
    const controller = new AbortController();
    const pending = runCommand(slowScript, [pidFile], { signal: controller.signal, killGraceMs: 500 });
    await waitUntil(() => existsSync(pidFile) && readFileSync(pidFile, "utf8").trim() !== "", 5_000);
    controller.abort(new Error("cancelled"));
    await expect(pending).rejects.toThrow("cancelled");
    const child = Number(readFileSync(pidFile, "utf8"));
    expect(await waitUntil(() => !alive(child), 2_000)).toBe(true);
  });

  it("rejects at once when the signal is already aborted", async () => {
    await expect(runCommand("true", [], { signal: AbortSignal.abort(new Error("early")) })).rejects.toThrow(
      "early",
    );
  });

  it("reports a command that cannot start", async () => {
    const result = await runCommand("/nonexistent/gauntlet-command", []);
    expect(result.spawnError?.code).toBe("ENOENT");
    expect(result.exitCode).toBeNull();
  });
});

describe("which", () => {
  it("finds an executable on PATH and returns its absolute path", async () => {
    const bash = await which("bash");
    expect(bash).not.toBeNull();
    expect(path.isAbsolute(bash!)).toBe(true);
  });

  it("returns null for an unknown command", async () => {
    expect(await which("gauntlet-no-such-command")).toBeNull();
  });

  it("searches only the given PATH, skipping non-executable files and empty entries", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-which-"));
    writeFileSync(path.join(dir, "plain"), "#!/bin/sh\n");
    chmodSync(path.join(dir, "plain"), 0o644);
    symlinkSync(process.execPath, path.join(dir, "tool"));
    expect(await which("tool", `::${dir}`)).toBe(path.join(dir, "tool"));
    expect(await which("bash", dir)).toBeNull();
    expect(await which("plain", dir)).toBeNull();
    expect(await which("tool", "")).toBeNull();
  });
});
