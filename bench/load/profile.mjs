#!/usr/bin/env node
// The hot path's top frames by self time: runs `gauntlet load URL -c 50 -d 10s` under --cpu-prof (pinned to
// GEN_CORE) and prints a Markdown table. Usage: node bench/load/profile.mjs URL [gauntlet-bin] [rows]
// (gauntlet-bin defaults to this checkout's dist/cli/bin.js; pass another build's to compare before and after.)
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../..");
const [url, bin = path.join(root, "dist/cli/bin.js"), rows = "12"] = process.argv.slice(2);
if (!url) {
  console.error("usage: node bench/load/profile.mjs URL [gauntlet-bin] [rows]");
  process.exit(3);
}
const dir = mkdtempSync(path.join(os.tmpdir(), "gauntlet-profile-"));
try {
  const run = spawnSync(
    "taskset",
    [
      "-c",
      process.env.GEN_CORE ?? "1",
      process.execPath,
      "--cpu-prof",
      `--cpu-prof-dir=${dir}`,
      bin,
      "load",
      url,
      "-c",
      "50",
      "-d",
      "10s",
      "--json",
    ],
    { encoding: "utf8", maxBuffer: 64 * 2 ** 20 },
  );
  if (run.status !== 0 && run.status !== 1) throw new Error(`gauntlet load failed: ${run.stderr}`);
  const requests = JSON.parse(run.stdout).requests;
  const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
  const profile = JSON.parse(readFileSync(path.join(dir, file), "utf8"));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]);
    const dt = profile.timeDeltas[i] ?? 0;
    const frame = node.callFrame;
    const where = frame.url ? `${frame.url.split("/").slice(-2).join("/")}:${frame.lineNumber + 1}` : "";
    const key = `${frame.functionName || "(anonymous)"}${where ? ` (${where})` : ""}`;
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  }
  const idle = self.get("(idle)") ?? 0;
  console.log(
    `${requests.toLocaleString("en-US")} requests; ${(total / 1e6).toFixed(2)} s profiled, ${(idle / 1e6).toFixed(2)} s idle\n`,
  );
  console.log("| self time | share of busy time | frame |\n|---:|---:|---|");
  const busy = total - idle;
  for (const [key, t] of [...self]
    .filter(([k]) => k !== "(idle)")
    .sort((a, b) => b[1] - a[1])
    .slice(0, Number(rows))) {
    console.log(`| ${(t / 1000).toFixed(0)} ms | ${((100 * t) / busy).toFixed(1)} % | \`${key}\` |`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
