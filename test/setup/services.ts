// Starts the real servers the integration tests use (scripts/services.sh) once per test run, and stops them after.
// Only servers this run started are stopped, so a server a developer (or a parallel run) started is left alone; set
// GAUNTLET_KEEP_SERVICES=1 to leave them running between runs while developing.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../..");

// The container tests start the podman API on first use (test/support/podman.ts); this run stops it if it started it.
const PODMAN_PID = path.join(process.env.GAUNTLET_PODMAN_DIR ?? "/tmp/gauntlet-podman", "service.pid");

export default function setup(): () => void {
  const podmanWasRunning = alive(PODMAN_PID);
  const output = execFileSync("bash", [path.join(root, "scripts/services.sh"), "start"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  let startedAny = false;
  for (const line of output.split("\n")) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!match) continue;
    if (match[1]!.startsWith("GAUNTLET_STARTED_")) startedAny = true;
    else process.env[match[1]!] = match[2];
  }
  return () => {
    if (process.env.GAUNTLET_KEEP_SERVICES === "1") return;
    if (!podmanWasRunning && alive(PODMAN_PID)) {
      execFileSync("bash", [path.join(root, "scripts/podman.sh"), "stop"], { stdio: "inherit" });
    }
    if (startedAny)
      execFileSync("bash", [path.join(root, "scripts/services.sh"), "stop"], { stdio: "inherit" });
  };
}

/** Whether the pid file names a live process: a stale file (left by a killed run) must not count as running. */
function alive(pidFile: string): boolean {
  if (!existsSync(pidFile)) return false;
  try {
    process.kill(Number(readFileSync(pidFile, "utf8").trim()), 0);
    return true;
  } catch {
    return false;
  }
}
