// A real weighted splitter for rollout tests: nginx on loopback whose upstream `app` holds a stable and a canary node
// process (test/fixtures/rollout/server.mjs: latency and error rate from env, `x-version: stable|canary`, a /metrics
// counter), and the shift command that rewrites the upstream's weights and reloads nginx (fixtures/rollout/shift.sh).
// Everything it starts is stopped by the cleanup, also when the test fails.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { stringify } from "yaml";
import { startCli } from "./cli.js";
import { type Cleanup, freePort, spawnForTest, waitForPort } from "./datastores.js";
import { startNginx } from "./nginx.js";

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures/rollout");

export interface VersionBehaviour {
  latencyMs?: number;
  /** 0–1 */
  errorRate?: number;
  /** While this file exists the process is a bad release (+400 ms, 8 % errors): what a rehearsal command creates. */
  badFile?: string;
}

export interface RunningSplitter {
  entryUrl: string;
  stableUrl: string;
  canaryUrl: string;
  /** `sh …/shift.sh {{percent}} <nginx dir> <stable port> <canary port>`, for rollout.shift. */
  shiftCommand: string;
  nginxDir: string;
  /** The upstream block nginx was last told to load. */
  upstream(): string;
  /** The canary's server line marked down, or absent: the config gives it no traffic. */
  canaryOff(): boolean;
}

export async function startSplitter(
  onCleanup: Cleanup,
  behaviour: { stable?: VersionBehaviour; canary?: VersionBehaviour },
  options: {
    /** Puts something (a fault proxy) in front of the canary process: gets its port, returns the port to reach it by. */
    canaryFront?: (canaryProcessPort: number) => Promise<number>;
  } = {},
): Promise<RunningSplitter> {
  const stablePort = await freePort();
  const canaryProcessPort = await freePort();
  const start = (version: string, port: number, b: VersionBehaviour = {}) =>
    spawnForTest(onCleanup, "/usr/bin/env", [
      `PORT=${port}`,
      `VERSION=${version}`,
      `LATENCY_MS=${b.latencyMs ?? 0}`,
      `ERROR_RATE=${b.errorRate ?? 0}`,
      `BAD_FILE=${b.badFile ?? ""}`,
      process.execPath,
      path.join(FIXTURES, "server.mjs"),
    ]);
  start("stable", stablePort, behaviour.stable);
  start("canary", canaryProcessPort, behaviour.canary);
  await waitForPort(stablePort);
  await waitForPort(canaryProcessPort);
  // nginx, the shift command and services.<canary>.url all reach the canary here.
  const canaryPort = options.canaryFront ? await options.canaryFront(canaryProcessPort) : canaryProcessPort;
  const nginx = await startNginx(onCleanup, {
    servers: [
      "  include {{dir}}/conf/upstream.conf;",
      "  server {",
      "    listen 127.0.0.1:{{port0}};",
      "    location / { proxy_pass http://app; }",
      "  }",
    ].join("\n"),
    files: {
      "conf/upstream.conf": `upstream app {\n  server 127.0.0.1:${stablePort} weight=1000;\n  server 127.0.0.1:${canaryPort} down;\n}\n`,
    },
  });
  const upstreamFile = path.join(nginx.dir, "conf/upstream.conf");
  const upstream = () => readFileSync(upstreamFile, "utf8");
  return {
    entryUrl: `http://127.0.0.1:${nginx.ports[0]}`,
    stableUrl: `http://127.0.0.1:${stablePort}`,
    canaryUrl: `http://127.0.0.1:${canaryPort}`,
    shiftCommand: `sh ${path.join(FIXTURES, "shift.sh")} {{percent}} ${nginx.dir} ${stablePort} ${canaryPort}`,
    nginxDir: nginx.dir,
    upstream,
    canaryOff: () => {
      const line = upstream()
        .split("\n")
        .find((l) => l.includes(`:${canaryPort}`));
      return line === undefined || /\bdown;/.test(line);
    },
  };
}

/** `count` GETs at `url`, one connection each: how many answers carried each x-version. */
export async function versionsAnswering(url: string, count: number): Promise<Record<string, number>> {
  const seen: Record<string, number> = {};
  for (let i = 0; i < count; i++) {
    const response = await fetch(url, { headers: { connection: "close" } });
    await response.arrayBuffer();
    const version = response.headers.get("x-version") ?? "none";
    seen[version] = (seen[version] ?? 0) + 1;
  }
  return seen;
}

/**
 * A spec whose rollout shifts `splitter` (entry, stable and canary, both with /metrics), with the defaults the rollout
 * tests share — 3 s bakes, the x-version header, 50/s at the entry — overridden by `rollout` (a key set to undefined is
 * left out when written).
 */
export function rolloutSpec(splitter: RunningSplitter, name: string, rollout: Record<string, unknown>) {
  return {
    version: 1,
    system: { name },
    services: {
      entry: { url: splitter.entryUrl },
      stable: { url: splitter.stableUrl, metrics: "/metrics" },
      canary: { url: splitter.canaryUrl, metrics: "/metrics" },
    },
    rollout: {
      service: "entry",
      baseline: "stable",
      canary: "canary",
      shift: splitter.shiftCommand,
      bake: "3s",
      rollbackOn: ["p(99)>300ms", "errors>5%"],
      identify: { header: "x-version", value: "canary" },
      analysis: { rate: 50, sampleRate: 25, minSamples: 40 },
      timeout: "10s",
      ...rollout,
    },
  };
}

/** rolloutSpec written to a gauntlet.yaml in a temp folder removed at cleanup. */
export function writeRolloutSpec(
  onCleanup: Cleanup,
  splitter: RunningSplitter,
  name: string,
  rollout: Record<string, unknown>,
): string {
  const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-rollout-"));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, "gauntlet.yaml");
  writeFileSync(file, stringify(rolloutSpec(splitter, name, rollout)));
  return file;
}

/** `gauntlet rollout SPEC --json` from the built CLI; killed at cleanup if a failing test left it baking. */
export function startRollout(onCleanup: Cleanup, spec: string, args: string[] = []) {
  const run = startCli(["rollout", spec, "--json", ...args], { cwd: path.dirname(spec) });
  onCleanup(() => {
    if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill("SIGKILL");
  });
  return run;
}
