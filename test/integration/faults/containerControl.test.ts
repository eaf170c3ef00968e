// ContainerControl against real podman containers through the Docker-compatible API socket: every operation changes
// what a real HTTP client sees, and a SIGKILL is a crash that the restart policy answers.
import { afterAll, describe, expect, it } from "vitest";
import { ContainerControl } from "../../../src/engines/faults/targets/containerControl.js";
import { probeHttp } from "../../../src/engines/http/probe.js";
import { freePort } from "../../fixtures/services/system.js";
import { httpContainer, podman, requirePodman } from "../../support/podman.js";

const p = podman();
const names: string[] = [];
afterAll(async () => {
  for (const name of names) {
    await p?.docker
      .getContainer(name)
      .remove({ force: true })
      .catch(() => {});
  }
});

async function answers(port: number, timeoutMs = 1_000): Promise<boolean> {
  const r = await probeHttp({ url: `http://127.0.0.1:${port}/healthz`, timeoutMs });
  return r.ok && r.status === 200;
}

async function until(condition: () => Promise<boolean>, timeoutMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

describe("ContainerControl (podman API socket)", () => {
  it("pause freezes and resume thaws; stop and start; pid and memory", async () => {
    const port = await freePort();
    const name = `gauntlet-test-ctl-${port}`;
    names.push(name);
    await httpContainer(requirePodman(), name, port, "no");
    const target = new ContainerControl("web", { name, engine: "podman", socket: requirePodman().socket });
    expect(await until(() => answers(port))).toBe(true);
    expect(await target.isRunning()).toBe(true);
    expect(await target.pid()).toBeGreaterThan(1);
    expect(await target.memoryBytes()).toBeGreaterThan(0);

    await target.pause();
    expect(await target.isRunning()).toBe(false);
    expect(await answers(port, 500)).toBe(false); // frozen: the connection is accepted, nothing answers
    await target.resume();
    expect(await until(() => answers(port))).toBe(true);

    await target.stop();
    expect(await target.isRunning()).toBe(false);
    expect(await answers(port, 500)).toBe(false);
    await target.start();
    expect(await until(() => answers(port))).toBe(true);
  }, 60_000);

  it("kill is a crash: restart policy always brings it back, none leaves it down", async () => {
    const always = await freePort();
    const none = await freePort();
    names.push(`gauntlet-test-always-${always}`, `gauntlet-test-none-${none}`);
    await httpContainer(requirePodman(), `gauntlet-test-always-${always}`, always, "always");
    await httpContainer(requirePodman(), `gauntlet-test-none-${none}`, none, "no");
    const sturdy = new ContainerControl("a", {
      name: `gauntlet-test-always-${always}`,
      engine: "podman",
      socket: requirePodman().socket,
    });
    const fragile = new ContainerControl("b", {
      name: `gauntlet-test-none-${none}`,
      engine: "podman",
      socket: requirePodman().socket,
    });
    expect(await until(() => answers(always))).toBe(true);
    expect(await until(() => answers(none))).toBe(true);
    const pidBefore = await sturdy.pid();
    await sturdy.kill();
    await fragile.kill();
    expect(await until(() => answers(always))).toBe(true);
    expect(await sturdy.pid()).not.toBe(pidBefore);
    expect(await until(async () => !(await fragile.isRunning()), 5_000)).toBe(true);
    expect(await answers(none, 500)).toBe(false);
  }, 60_000);
});
