// Process supervision for control.process, against real processes: restart policies, group-wide stop, pause.
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ProcessControl } from "../../../src/engines/faults/targets/processControl.js";
import { ProcessTarget } from "../../../src/engines/faults/targets/processTarget.js";

const targets: ProcessTarget[] = [];
afterEach(async () => {
  await Promise.all(targets.splice(0).map((t) => t.stop(1000)));
});

function target(command: string, restart: "always" | "on-failure" | "never"): ProcessTarget {
  const t = new ProcessTarget({ name: "t", command, cwd: ".", restart });
  targets.push(t);
  return t;
}

const waitFor = async (predicate: () => boolean | Promise<boolean>, ms = 5000) => {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await predicate()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
};

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("ProcessTarget", () => {
  it("restart: always brings a killed process back with a new pid", async () => {
    const t = target("sleep 30", "always");
    t.start();
    const first = t.pid!;
    expect(t.isRunning()).toBe(true);
    expect(t.signal("SIGKILL")).toBe(true);
    expect(await waitFor(() => t.restarts === 1 && t.isRunning())).toBe(true);
    expect(t.pid).not.toBe(first);
    expect(t.exits[0]).toMatchObject({ signal: "SIGKILL" });
  });

  it("restart: on-failure does not restart a clean exit; never does not restart at all", async () => {
    const clean = target("exit 0", "on-failure");
    clean.start();
    await waitFor(() => clean.exits.length > 0);
    await new Promise((r) => setTimeout(r, 500));
    expect(clean.restarts).toBe(0);
    const never = target("exit 3", "never");
    never.start();
    await waitFor(() => never.exits.length > 0);
    await new Promise((r) => setTimeout(r, 500));
    expect(never.restarts).toBe(0);
    expect(never.exits[0]!.code).toBe(3);
  });

  it("stop reaches the shell's children and disables restarts", async () => {
    const server = target(
      `node -e "require('net').createServer().listen(0,'127.0.0.1',function(){console.log('port='+this.address().port)})"`,
      "always",
    );
    server.start();
    expect(await waitFor(() => /port=\d+/.test(server.output))).toBe(true);
    const port = Number(/port=(\d+)/.exec(server.output)![1]);
    await server.stop();
    await new Promise((r) => setTimeout(r, 500));
    expect(server.isRunning()).toBe(false);
    const refused = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: "127.0.0.1", port });
      s.once("connect", () => resolve(false));
      s.once("error", () => resolve(true));
    });
    expect(refused).toBe(true);
    expect(server.restarts).toBe(0);
  });

  it("stop ends a paused process too", async () => {
    const t = target("sleep 30", "never");
    t.start();
    const pid = t.pid!;
    expect(t.signal("SIGSTOP")).toBe(true);
    await t.stop(2000);
    expect(await waitFor(() => !alive(pid))).toBe(true);
  });

  it("ProcessControl reports the RSS of the whole process group, which grows when a child allocates", async () => {
    // The shell's child (node) holds the memory, so reading the shell's own pid alone would miss it.
    const t = target(
      `node -e "const b=[];setInterval(()=>{},1000);setTimeout(()=>{b.push(Buffer.alloc(64*1024*1024,1));console.log('grown')},600)"`,
      "never",
    );
    t.start();
    const control = new ProcessControl("svc", t);
    expect(await waitFor(async () => ((await control.memoryBytes()) ?? 0) > 10 * 1024 * 1024)).toBe(true);
    const before = (await control.memoryBytes())!;
    expect(await waitFor(() => t.output.includes("grown"))).toBe(true);
    const after = (await control.memoryBytes())!;
    expect(after - before).toBeGreaterThan(50 * 1024 * 1024);
    await control.pause();
    expect(await control.isRunning()).toBe(true);
    await control.resume();
  });

  it("ProcessControl refuses to report a kill or pause it could not deliver", async () => {
    const t = target("exit 0", "never");
    t.start();
    await waitFor(() => t.exits.length > 0);
    const control = new ProcessControl("svc", t);
    await expect(control.kill()).rejects.toThrow(/not running/);
    await expect(control.pause()).rejects.toThrow(/not running/);
    await expect(control.resume()).resolves.toBeUndefined();
  });
});
