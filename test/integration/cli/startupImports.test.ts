// What the built CLI loads at start-up, seen through a module-resolution hook (test/support/logResolvedUrls.mjs):
// `validate` reads the spec and nothing else, so neither the check registry nor any engine's driver is loaded;
// `--version` does not even load the spec loader. Commands import their engines inside the command (src/cli/main.ts).
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { cleanupAfterEach } from "../../support/cleanups.js";
import { BIN, ROOT } from "../../support/cli.js";

const run = promisify(execFile);
const HOOK = path.join(ROOT, "test/support/logResolvedUrls.mjs");
const cleanup = cleanupAfterEach();

/** Heavy modules no command that only reads a spec may load: package folders and dist/ paths, as URL fragments. */
const HEAVY = [
  "/node_modules/@kubernetes/client-node/",
  "/node_modules/pg/",
  "/node_modules/ioredis/",
  "/node_modules/better-sqlite3/",
  "/node_modules/dockerode/",
  "/node_modules/@ast-grep/",
  "/node_modules/@secretlint/",
  "/dist/engines/load/",
  "/dist/checks/index.js",
  "/dist/assess/",
];
const SPEC_LOADER = "/dist/spec/loader.js";

const SPEC = `version: 1
system: { name: shop }
destructive: false
services:
  api: { url: "http://127.0.0.1:8080", health: /healthz, dependsOn: [db, cache] }
  db: { kind: postgres, url: "postgres://app@127.0.0.1:5432/app", exposure: internal }
  cache: { kind: redis, url: "redis://127.0.0.1:6379", exposure: internal }
performance:
  target: api
  stages: [{ name: base, connections: 5, duration: 10s }]
  thresholds: ["p(99)<500ms"]
scoring:
  waivers:
    - { check: loadStagesWithinThresholds, reason: "no load in this test", approvedBy: "a@example.com", expires: 2099-01-01 }
`;

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-startup-"));
  cleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs the built CLI with the hook; returns its stdout and every URL the loader resolved. */
async function loadedBy(args: string[], cwd: string): Promise<{ stdout: string; urls: string[] }> {
  const log = path.join(cwd, "resolved.txt");
  writeFileSync(log, "");
  const { stdout } = await run(process.execPath, ["--import", HOOK, BIN, ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: "1", GAUNTLET_RESOLVE_LOG: log },
  });
  return { stdout, urls: readFileSync(log, "utf8").split("\n").filter(Boolean) };
}

const loadedHeavy = (urls: string[]) =>
  HEAVY.filter((fragment) => urls.some((url) => url.includes(fragment)));

describe("CLI start-up imports", () => {
  it("validate loads the spec loader and none of the engines", async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, "gauntlet.yaml"), SPEC);
    const { stdout, urls } = await loadedBy(["validate", "gauntlet.yaml"], dir);
    expect(stdout).toMatch(/gauntlet\.yaml is valid: 3 services, 1 stage, 1 threshold, 1 waiver/);
    expect(urls.some((url) => url.endsWith(SPEC_LOADER))).toBe(true);
    expect(loadedHeavy(urls), "validate must import these only inside the commands that use them").toEqual(
      [],
    );
  });

  it("--version loads neither the spec loader nor any engine", async () => {
    const dir = tempDir();
    const { stdout, urls } = await loadedBy(["--version"], dir);
    const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string };
    expect(stdout.trim()).toBe(pkg.version);
    expect(urls.some((url) => url.endsWith("/dist/cli/main.js"))).toBe(true);
    const loaded = [...HEAVY, SPEC_LOADER, "/node_modules/zod/", "/node_modules/yaml/"].filter((fragment) =>
      urls.some((url) => url.includes(fragment)),
    );
    expect(loaded, "--version must not import these").toEqual([]);
  });
});
