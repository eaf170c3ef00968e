// Interrupting an assessment in the middle of a fault leaves nothing behind: no toxic on a fault proxy, no frozen
// (SIGSTOPped) datastore. Each fault is interrupted with SIGINT and SIGTERM, twice. The faults are real and outlive
// the interrupted process unless its rollbacks run: the proxy and the Redis server belong to the test, not to it.
// Runs through `gauntlet assess` once the resilience checks are registered in the CLI, and through a driver that
// assembles the same runner pieces from dist/ until then (test/fixtures/services/assessDriver.mjs).
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, SERVICES_DIR, startProxy, type TestProxy } from "../fixtures/services/system.js";
import { BIN, startCli } from "../support/cli.js";
import { httpContainer, podman, requirePodman } from "../support/podman.js";

const CHECK = "dependencyOutageDegradesGracefully";
const listed = execFileSync(process.execPath, [BIN, "checks"], { encoding: "utf8" });
/** The CLI is used once the checks are registered and the schema takes resilience.proxies (wired together). */
const registered = listed.includes(CHECK) && listed.includes("crashRecovered") && schemaTakesProxies();

function schemaTakesProxies(): boolean {
  const file = path.join(mkdtempSync(path.join(tmpdir(), "gauntlet-e2e-schema-")), "gauntlet.yaml");
  writeFileSync(
    file,
    "version: 1\nsystem: { name: s }\nservices: { cache: { kind: redis } }\nresilience: { proxies: { cache: { api: http://127.0.0.1:1 } } }\n",
  );
  try {
    execFileSync(process.execPath, [BIN, "validate", file], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

interface Run {
  child: ChildProcess;
  done: Promise<{ code: number | null; output: string }>;
}

function startRun(specFile: string, env: NodeJS.ProcessEnv = {}, checkId = CHECK): Run {
  if (registered) {
    const run = startCli(["assess", specFile, "--only", checkId, "--allow-destructive", "--no-store"], {
      cwd: path.dirname(specFile),
      env,
    });
    return { child: run.child, done: run.done.then((r) => ({ code: r.code, output: r.stdout + r.stderr })) };
  }
  const child = spawn(process.execPath, [path.join(SERVICES_DIR, "assessDriver.mjs"), specFile, checkId], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (c: Buffer) => {
    output += c.toString();
  });
  child.stderr?.on("data", (c: Buffer) => {
    output += c.toString();
  });
  return { child, done: new Promise((resolve) => child.on("close", (code) => resolve({ code, output }))) };
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}

function processState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2)[0]!;
}

async function redisAnswers(port: number): Promise<boolean> {
  const redis = new Redis({
    port,
    host: "127.0.0.1",
    lazyConnect: true,
    retryStrategy: () => null,
    commandTimeout: 1_000,
  });
  redis.on("error", () => {});
  try {
    await redis.connect();
    return (await redis.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

/** A redis-server the test owns (not supervised by Gauntlet) and a sturdy API in front of it, through `via`. */
let redis: ChildProcess;
let redisPort: number;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "gauntlet-e2e-faults-"));
  redisPort = await freePort();
  redis = spawn(
    "redis-server",
    ["--bind", "127.0.0.1", "--port", String(redisPort), "--save", "", "--appendonly", "no", "--dir", dir],
    { stdio: "ignore" },
  );
  writeFileSync(path.join(dir, "redis.pid"), String(redis.pid));
  expect(await until(() => redisAnswers(redisPort), 10_000)).toBe(true);
});
afterAll(() => {
  try {
    process.kill(redis.pid!, "SIGCONT");
  } catch {}
  redis.kill("SIGKILL");
});

function specFile(
  name: string,
  redisUrl: string,
  cacheControl: string[],
  proxyApi?: string,
  proxyToken?: string,
): string {
  const file = path.join(dir, `${name}.yaml`);
  const apiPortPlaceholder = "__API_PORT__";
  writeFileSync(
    file,
    [
      "version: 1",
      `system: { name: ${name} }`,
      "destructive: true",
      "services:",
      "  cache:",
      "    kind: redis",
      `    url: redis://127.0.0.1:${redisPort}`,
      ...cacheControl,
      "  api:",
      `    url: http://127.0.0.1:${apiPortPlaceholder}`,
      "    health: /healthz",
      "    dependsOn: [cache]",
      "    control:",
      "      process:",
      `        command: node ${path.join(SERVICES_DIR, "sturdy.mjs")}`,
      `        env: { PORT: "${apiPortPlaceholder}", REDIS_URL: "${redisUrl}" }`,
      "resilience:",
      "  experiments:",
      "    - { name: cache-outage, target: cache, fault: blackhole, duration: 30s, recoverWithin: 5s }",
      // The CLI reads the proxy from the spec (proposed key); the driver gets it from GAUNTLET_TEST_PROXIES.
      ...(registered && proxyApi
        ? ["  proxies:", `    cache: { api: "${proxyApi}", token: "${proxyToken}" }`]
        : []),
    ].join("\n"),
  );
  return file;
}

async function withApiPort(file: string): Promise<string> {
  const port = await freePort();
  const text = readFileSync(file, "utf8").replaceAll("__API_PORT__", String(port));
  const out = file.replace(/\.yaml$/, `-${port}.yaml`);
  writeFileSync(out, text);
  return out;
}

describe(`interrupting ${CHECK} mid-fault (${registered ? "gauntlet assess" : "runner driver"})`, () => {
  let proxy: TestProxy;
  beforeAll(async () => {
    proxy = await startProxy(redisPort);
  });
  afterAll(async () => {
    await proxy.close();
  });

  for (const signal of ["SIGINT", "SIGTERM", "SIGINT", "SIGTERM"] as const) {
    it(`${signal} while Redis is blackholed at a fault proxy leaves no toxic`, async () => {
      const file = await withApiPort(
        specFile("proxied", `redis://127.0.0.1:${proxy.listenPort}`, [], proxy.apiUrl, proxy.token),
      );
      const run = startRun(file, {
        GAUNTLET_TEST_PROXIES: JSON.stringify({ cache: { api: proxy.apiUrl, token: proxy.token } }),
      });
      const injected = await until(() => proxy.proxy.toxics().length > 0, 20_000);
      if (!injected) run.child.kill("SIGKILL");
      expect(injected, (await Promise.race([run.done, Promise.resolve({ output: "" })])).output).toBe(true);
      run.child.kill(signal);
      const result = await run.done;
      expect(result.code, result.output).toBe(signal === "SIGINT" ? 130 : 143);
      expect(proxy.proxy.toxics()).toEqual([]);
      expect(await redisAnswers(proxy.listenPort)).toBe(true);
    }, 40_000);
  }

  for (const signal of ["SIGINT", "SIGTERM", "SIGINT", "SIGTERM"] as const) {
    it(`${signal} while Redis is frozen (SIGSTOP through control.commands) leaves it running`, async () => {
      const file = await withApiPort(
        specFile("frozen", `redis://127.0.0.1:${redisPort}`, [
          "    control:",
          `      commands: { pid: "cat ${path.join(dir, "redis.pid")}" }`,
        ]),
      );
      const run = startRun(file);
      const frozen = await until(() => processState(redis.pid!) === "T", 20_000);
      if (!frozen) run.child.kill("SIGKILL");
      expect(frozen, (await Promise.race([run.done, Promise.resolve({ output: "" })])).output).toBe(true);
      run.child.kill(signal);
      const result = await run.done;
      expect(result.code, result.output).toBe(signal === "SIGINT" ? 130 : 143);
      expect(processState(redis.pid!)).not.toBe("T");
      expect(await redisAnswers(redisPort)).toBe(true);
    }, 40_000);
  }
});

describe(`interrupting crashRecovered mid-crash of a container (${registered ? "gauntlet assess" : "runner driver"})`, () => {
  const names: string[] = [];
  afterAll(async () => {
    for (const name of names) {
      await podman()
        ?.docker.getContainer(name)
        .remove({ force: true })
        .catch(() => {});
    }
  });

  for (const signal of ["SIGINT", "SIGTERM", "SIGINT", "SIGTERM"] as const) {
    it(`${signal} while the killed container is down leaves it running`, async () => {
      const p = requirePodman();
      const port = await freePort();
      const name = `gauntlet-e2e-crash-${port}`;
      names.push(name);
      // No restart policy: only Gauntlet's rollback can bring it back.
      const container = await httpContainer(p, name, port, "no");
      const file = path.join(dir, `crash-${port}.yaml`);
      writeFileSync(
        file,
        [
          "version: 1",
          "system: { name: crash }",
          "destructive: true",
          "services:",
          "  web:",
          `    url: http://127.0.0.1:${port}`,
          "    health: /healthz",
          `    control: { container: { name: ${name}, engine: podman, socket: "${p.socket}" } }`,
          "resilience:",
          "  experiments: [{ name: web-crash, target: web, fault: kill, recoverWithin: 30s }]",
        ].join("\n"),
      );
      const running = async () => Boolean((await container.inspect()).State.Running);
      expect(await until(running, 10_000)).toBe(true);
      const run = startRun(file, {}, "crashRecovered");
      const killed = await until(async () => !(await running()), 20_000);
      if (!killed) run.child.kill("SIGKILL");
      expect(killed, (await Promise.race([run.done, Promise.resolve({ output: "" })])).output).toBe(true);
      run.child.kill(signal);
      const result = await run.done;
      expect(result.code, result.output).toBe(signal === "SIGINT" ? 130 : 143);
      expect(await running()).toBe(true);
    }, 60_000);
  }
});

// SIGKILL cannot be caught: the run's rollbacks never happen. The fault journal written before each fault lets the
// next assessment in the same folder undo what was left and say so, before any check runs.
describe("kill -9 mid-fault: the next run undoes and reports what the killed one left", () => {
  let proxy: TestProxy;
  beforeAll(async () => {
    proxy = await startProxy(redisPort);
  });
  afterAll(async () => {
    await proxy.close();
  });

  async function nextRun(file: string): Promise<{ code: number | null; output: string }> {
    const run = startCli(["assess", file, "--only", "healthEndpointsRespond", "--no-store"], { cwd: dir });
    const result = await run.done;
    return { code: result.code, output: result.stdout + result.stderr };
  }

  it("a toxic on a fault proxy, and the supervised API the killed run left running", async () => {
    const file = await withApiPort(
      specFile("killed", `redis://127.0.0.1:${proxy.listenPort}`, [], proxy.apiUrl, proxy.token),
    );
    const apiPort = Number(/url: http:\/\/127\.0\.0\.1:(\d+)/.exec(readFileSync(file, "utf8"))![1]);
    const run = startRun(file);
    expect(await until(() => proxy.proxy.toxics().length > 0, 20_000)).toBe(true);
    run.child.kill("SIGKILL");
    await run.done;
    // The fault outlived the process that injected it, and so did the API it supervised.
    expect(proxy.proxy.toxics().length).toBeGreaterThan(0);
    expect(await answersHttp(apiPort)).toBe(true);

    const next = await nextRun(file);
    expect(next.output).toMatch(
      /left behind by run \S+ \(dependencyOutageDegradesGracefully\), undone: removed toxic/,
    );
    expect(next.output).toMatch(/left behind by run \S+ \(_system\), undone: stopped api/);
    expect(next.output).not.toContain(proxy.token);
    expect(proxy.proxy.toxics()).toEqual([]);
    expect(await redisAnswers(proxy.listenPort)).toBe(true);
  }, 60_000);

  it("a Redis frozen through control.commands", async () => {
    const file = await withApiPort(
      specFile("killed-frozen", `redis://127.0.0.1:${redisPort}`, [
        "    control:",
        `      commands: { pid: "cat ${path.join(dir, "redis.pid")}" }`,
      ]),
    );
    const run = startRun(file);
    expect(await until(() => processState(redis.pid!) === "T", 20_000)).toBe(true);
    run.child.kill("SIGKILL");
    await run.done;
    expect(processState(redis.pid!)).toBe("T");

    const next = await nextRun(file);
    expect(next.output).toMatch(/undone: sent SIGCONT to cache/);
    expect(processState(redis.pid!)).not.toBe("T");
    expect(await redisAnswers(redisPort)).toBe(true);
  }, 60_000);
});

async function answersHttp(port: number): Promise<boolean> {
  try {
    return (
      (await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2_000) })).status > 0
    );
  } catch {
    return false;
  }
}
