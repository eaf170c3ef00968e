// Process supervision for control.process, against real processes: restart policies, group-wide stop, pause, and the
// kept output: redacted per stream a whole line at a time, its window dropping whole lines only.
import net from "node:net";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ProcessControl } from "../../../src/engines/faults/targets/processControl.js";
import {
  ProcessTarget,
  type ProcessTargetOptions,
} from "../../../src/engines/faults/targets/processTarget.js";
import { REDACTED, Redactor } from "../../../src/secrets/redactor.js";
import { printings } from "../../fixtures/services/leakyForms.mjs";

const targets: ProcessTarget[] = [];
afterEach(async () => {
  await Promise.all(targets.splice(0).map((t) => t.stop(1000)));
});

function target(
  command: string,
  restart: "always" | "on-failure" | "never",
  options: Partial<ProcessTargetOptions> = {},
): ProcessTarget {
  const t = new ProcessTarget({ name: "t", command, cwd: ".", restart, ...options });
  targets.push(t);
  return t;
}

const LEAKY = path.resolve(import.meta.dirname, "../../fixtures/services/leakyService.mjs");

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

  it("keeps no form of a secret split across writes, characters and streams, nor past the window", async () => {
    const secret = "Zx9-qü€ä-7f3a9c2e41";
    const secrets = new Redactor();
    secrets.add(secret);
    const t = target(`node ${JSON.stringify(LEAKY)}`, "never", {
      env: { LEAKY_SECRET: secret, LEAKY_USER: "svc", PORT: "0" },
      secrets,
    });
    t.start();
    expect(await waitFor(() => t.output.includes("listening on"), 20_000)).toBe(true);
    await t.stop(2000);
    const output = t.output;
    expect(output).toMatch(/^\[gauntlet\] \d+ bytes of earlier output dropped/);
    expect(output).toContain(`stopping, secret was ${REDACTED}`);
    expect(Buffer.byteLength(output)).toBeLessThan(256 * 1024 + 200);
    const forms = printings(secret, "svc").flatMap((p) => p.forms);
    const pieces = Array.from({ length: secret.length - 7 }, (_, i) => secret.slice(i, i + 8));
    expect([...forms, ...pieces].filter((f) => output.includes(f))).toEqual([]);
    expect(output).not.toContain("\ufffd"); // a character split across chunks is decoded whole
  }, 30_000);

  it("drops whole lines from its window, and says how much", async () => {
    const t = target(
      `node -e "for (let i = 0; i < 2000; i++) process.stdout.write('line ' + i + ' ' + 'x'.repeat(i % 50) + '\\n')"`,
      "never",
      { logLimit: 4096 },
    );
    t.start();
    expect(await waitFor(() => t.exits.length > 0 && t.output.includes("line 1999"))).toBe(true);
    const [header, ...lines] = t.output.split("\n");
    expect(header).toMatch(/^\[gauntlet\] \d+ bytes of earlier output dropped: only the latest 4096 bytes/);
    expect(lines.pop()).toBe("");
    for (const line of lines) expect(line).toMatch(/^(line (\d+) x*|\[gauntlet\] process exited.*)$/);
    expect(lines.some((line) => line.startsWith("line 1999 "))).toBe(true);
  });

  it("masks URL passwords by shape even without the run's secrets", async () => {
    const t = target("echo 'connecting to postgres://app:pw@db:5432/app'", "never");
    t.start();
    expect(await waitFor(() => t.output.includes("connecting"))).toBe(true);
    expect(t.output).toContain(`postgres://app:${REDACTED}@db:5432/app`);
  });
});
