// Real Prometheus and Alertmanager processes for integration tests: each on a free 127.0.0.1 port, with a temporary
// config and data folder, started and awaited until ready, and stopped (SIGTERM, then SIGKILL) by the test. A missing
// binary fails the test with how to install it: these tests are never skipped in silence.
import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort } from "./ports.js";
import { requireTool } from "./services.js";

export interface MonitoringProcess {
  url: string;
  port: number;
  dir: string;
  /** Output so far, for assertion messages when something fails. */
  output(): string;
  stop(): Promise<void>;
}

export const PROMETHEUS_BIN = process.env.GAUNTLET_PROMETHEUS ?? "prometheus";
export const ALERTMANAGER_BIN = process.env.GAUNTLET_ALERTMANAGER ?? "prometheus-alertmanager";

/** The binary to run: an explicit path (GAUNTLET_PROMETHEUS, GAUNTLET_ALERTMANAGER) must exist, a name must be on PATH. */
function binary(name: string, envVar: string, pkg: string): string {
  if (!name.includes("/")) return requireTool(name, pkg);
  try {
    accessSync(name, constants.X_OK);
    return name;
  } catch {
    throw new Error(
      `${envVar}=${name} is not an executable file: fix ${envVar} or unset it to use ${pkg} from PATH`,
    );
  }
}

export { freePort };

/**
 * Starts Prometheus with `config` (YAML text) and optional rule files (relative name → YAML text, written beside the
 * config so the config can list them by name). Scrape and evaluation intervals are whatever the config says (use 1s in tests).
 */
export async function startPrometheus(
  config: string,
  files: Record<string, string> = {},
): Promise<MonitoringProcess> {
  const bin = binary(PROMETHEUS_BIN, "GAUNTLET_PROMETHEUS", "prometheus");
  const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-prometheus-"));
  writeFileSync(path.join(dir, "prometheus.yml"), config);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  const port = await freePort();
  const child = spawn(
    bin,
    [
      `--config.file=${path.join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${path.join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--rules.alert.resend-delay=5s",
      "--log.level=warn",
    ],
    { cwd: dir, stdio: ["ignore", "pipe", "pipe"] },
  );
  return awaitReady(child, dir, port, "/-/ready");
}

/** Starts Alertmanager (clustering off) with `config` (YAML text). */
export async function startAlertmanager(config: string): Promise<MonitoringProcess> {
  const bin = binary(ALERTMANAGER_BIN, "GAUNTLET_ALERTMANAGER", "prometheus-alertmanager");
  const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-alertmanager-"));
  writeFileSync(path.join(dir, "alertmanager.yml"), config);
  const port = await freePort();
  const child = spawn(
    bin,
    [
      `--config.file=${path.join(dir, "alertmanager.yml")}`,
      `--storage.path=${path.join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--cluster.listen-address=",
      "--log.level=warn",
    ],
    { cwd: dir, stdio: ["ignore", "pipe", "pipe"] },
  );
  return awaitReady(child, dir, port, "/-/ready");
}

/** Polls `fn` until it returns a value other than undefined, or throws at the deadline. */
export async function pollUntil<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  timeoutMs = 20_000,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`,
      );
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

async function awaitReady(
  child: ChildProcess,
  dir: string,
  port: number,
  readyPath: string,
): Promise<MonitoringProcess> {
  let output = "";
  child.stdout?.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr?.on("data", (c: Buffer) => (output += c.toString()));
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    const done = () => {
      exited = true;
      resolve();
    };
    child.once("exit", done);
    // A spawn that fails (not executable after all) emits only "error": it must not crash the test run.
    child.once("error", (error) => {
      output += `\n${error.message}`;
      done();
    });
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (!exited) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exit;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await pollUntil(
      `${path.basename(String(child.spawnfile))} on ${url}`,
      async () => {
        if (exited) throw new Error(`exited early: ${output.slice(-2000)}`);
        const res = await fetch(`${url}${readyPath}`);
        await res.text();
        return res.ok ? true : undefined;
      },
      30_000,
      100,
    );
  } catch (error) {
    await stop();
    throw new Error(`${String(error)}\n${output.slice(-2000)}`);
  }
  return { url, port, dir, output: () => output, stop };
}

/** The runner turns a PASS, WARN or FAIL without evidence into ERROR; tests hold checks to the same rule. */
export function verdictsWithoutEvidence(
  findings: { status: string; evidence?: string[]; message: string }[],
): string[] {
  return findings
    .filter((f) => ["PASS", "WARN", "FAIL"].includes(f.status) && !(f.evidence?.length ?? 0))
    .map((f) => f.message);
}
