// CommandsControl against a real process it did not start: pause and resume by signals to the pid its `pid` command
// names, stop and start by the user's commands.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CommandsControl } from "../../../src/engines/faults/targets/commandsControl.js";
import { buildTargets } from "../../../src/engines/faults/targets/registry.js";
import { NO_TARGETS } from "../../../src/engines/faults/targets/target.js";
import { specSchema } from "../../../src/spec/schema.js";

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) {
    try {
      process.kill(c.pid!, "SIGCONT");
      c.kill("SIGKILL");
    } catch {}
  }
});

function state(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2)[0]!;
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return condition();
}

describe("CommandsControl", () => {
  it("pauses and resumes the process its pid command names", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-commands-"));
    const child = spawn("sleep", ["30"], { stdio: "ignore" });
    children.push(child);
    writeFileSync(path.join(dir, "svc.pid"), String(child.pid));
    const target = new CommandsControl("svc", { pid: "cat svc.pid" }, { cwd: dir });
    expect(await target.pid()).toBe(child.pid);
    expect(await target.isRunning()).toBe(true);
    await target.pause();
    expect(await until(() => state(child.pid!) === "T")).toBe(true);
    await target.resume();
    expect(await until(() => state(child.pid!) !== "T")).toBe(true);
    await target.kill();
    expect(await until(async () => !(await target.isRunning()))).toBe(true);
  });

  it("runs the user's stop and start commands, and refuses what it cannot do", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-commands-"));
    const target = new CommandsControl(
      "svc",
      { stop: "echo stopped >> log", start: "echo started >> log", restart: "exit 3" },
      { cwd: dir },
    );
    await target.stop();
    await target.start();
    expect(readFileSync(path.join(dir, "log"), "utf8")).toBe("stopped\nstarted\n");
    await expect(target.restart()).rejects.toThrow(/restart exited with 3/);
    await expect(target.pause()).rejects.toThrow(/cannot pause/);
  });

  it("buildTargets gives commands and container controllers and keeps supervised ones", () => {
    const spec = specSchema.parse({
      version: 1,
      system: { name: "t" },
      services: {
        db: { control: { commands: { pid: "cat db.pid" } } },
        box: { control: { container: { name: "box", engine: "podman", socket: "/tmp/x.sock" } } },
        plain: {},
      },
    });
    const targets = buildTargets(spec, "/tmp", NO_TARGETS);
    expect(targets.get("db")?.kind).toBe("commands");
    expect(targets.get("box")?.kind).toBe("container");
    expect(targets.get("plain")).toBeUndefined();
  });

  it("without a pid command it cannot tell whether the service runs, and never claims it does", async () => {
    const target = new CommandsControl("svc", { kill: "true", start: "true" }, { cwd: "/tmp" });
    expect(await target.isRunning()).toBeUndefined();
  });

  it("a stale pid file left by a crash names no live process", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-commands-"));
    const child = spawn("sleep", ["30"], { stdio: "ignore" });
    children.push(child);
    writeFileSync(path.join(dir, "svc.pid"), String(child.pid));
    const target = new CommandsControl("svc", { pid: "cat svc.pid" }, { cwd: dir });
    child.kill("SIGKILL");
    await until(() => child.exitCode !== null || child.signalCode !== null);
    expect(await target.pid()).toBeUndefined();
    expect(await target.isRunning()).toBe(false);
  });

  it("kubernetes without a context is no target: a fault never lands on the current context", () => {
    const input = {
      version: 1,
      system: { name: "t" },
      services: { api: { control: { kubernetes: { namespace: "prod", selector: "app=api" } } } },
    };
    const targets = buildTargets(specSchema.parse(input), "/tmp", NO_TARGETS);
    expect(targets.get("api")).toBeUndefined();
    expect(targets.unavailable?.("api")).toMatch(/no context/);
    // With destructive: true the spec itself is refused, at the control.
    const refused = specSchema.safeParse({ ...input, destructive: true });
    expect(refused.success).toBe(false);
    expect(refused.error?.issues[0]?.path).toEqual(["services", "api", "control", "kubernetes"]);
  });
});
