// The installed compose tools as referees (Debian's docker-compose 1.29 and podman-compose, from
// scripts/install-test-deps.sh), run for real on the same files Gauntlet judges. docker-compose 1.29 agrees with
// Gauntlet on docker/awesome-compose except the file with a top-level `name` (newer than 1.29), refuses four of the
// five broken files (it lets `restart: sometimes` through: the engine only refuses it at `up`), and refuses every
// file that uses the current spec. That is why the referees' verdict is evidence and never the judge.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadComposeProject } from "../../../src/engines/compose/composeProject.js";
import { type RefereeVerdict, runReferees } from "../../../src/engines/compose/composeReferee.js";
import { which } from "../../../src/engines/shell/run.js";

const FIXTURES = path.resolve(import.meta.dirname, "../../fixtures/compose");
let work: string;

beforeAll(async () => {
  if (!(await which("docker-compose")))
    throw new Error("docker-compose is not installed: run scripts/install-test-deps.sh");
  work = mkdtempSync(path.join(os.tmpdir(), "gauntlet-referee-"));
});
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/**
 * A copy of a fixture folder with the build contexts its services name (docker-compose 1.29 refuses a build path
 * that does not exist; the fixtures hold the compose files only).
 */
async function copyWithContexts(from: string, name: string): Promise<string> {
  const dir = path.join(work, name);
  cpSync(from, dir, { recursive: true });
  const file = ["compose.yaml", "compose.yml"].map((f) => path.join(dir, f)).find((f) => existsSync(f))!;
  const project = await loadComposeProject(file, { root: dir });
  for (const service of project.services) {
    if (service.build?.context) mkdirSync(path.join(dir, service.build.context), { recursive: true });
  }
  return file;
}

const legacy = (verdicts: RefereeVerdict[]) => verdicts.find((v) => v.tool === "docker-compose")!;
const referee = (file: string) =>
  runReferees([file], { env: { PATH: process.env.PATH }, timeoutMs: 30_000, redact: (t) => t });

async function inBatches<T, R>(items: T[], size: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size)
    out.push(...(await Promise.all(items.slice(i, i + size).map(run))));
  return out;
}

describe("docker-compose 1.29 as a referee", () => {
  it("accepts docker/awesome-compose but for the project with a top-level name", async () => {
    const root = path.join(FIXTURES, "awesome-compose");
    const names = readdirSync(root, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    const results = await inBatches(names, 8, async (name) => {
      const file = await copyWithContexts(path.join(root, name), `awesome-${name}`);
      const gauntlet = await loadComposeProject(file, { root: work });
      return {
        name,
        verdict: legacy(await referee(file)),
        errors: gauntlet.problems.filter((p) => p.severity === "error"),
      };
    });
    expect(results.filter((r) => r.errors.length > 0)).toEqual([]);
    const rejected = results.filter((r) => r.verdict.accepted !== true);
    expect(rejected.map((r) => r.name)).toEqual(["react-rust-postgres"]);
    expect(rejected[0]!.verdict).toMatchObject({ accepted: false, exitCode: 1 });
    expect(rejected[0]!.verdict.output).toMatch(/'name' does not match/);
    expect(results[0]!.verdict).toMatchObject({ tool: "docker-compose", version: "1.29.2" });
    expect(results[0]!.verdict.command).toMatch(/^docker-compose -f compose\.ya?ml config -q$/);
  }, 180_000);

  it("refuses four of the five broken files; restart: sometimes only fails at up", async () => {
    const verdicts: Record<string, boolean | null> = {};
    for (const name of readdirSync(path.join(FIXTURES, "broken")).filter((n) => !n.endsWith(".md"))) {
      const file = await copyWithContexts(path.join(FIXTURES, "broken", name), `broken-${name}`);
      verdicts[name] = legacy(await referee(file)).accepted;
    }
    expect(verdicts).toEqual({
      "bad-enum": true,
      "bad-indentation": false,
      "unknown-depends-on": false,
      "unknown-key": false,
      "wrong-type": false,
    });
  }, 60_000);

  it("refuses every file that uses the current spec, which Gauntlet accepts", async () => {
    for (const name of ["include-name", "develop-watch", "models-extends"]) {
      const file = await copyWithContexts(path.join(FIXTURES, "current-spec", name), `current-${name}`);
      expect(legacy(await referee(file)), name).toMatchObject({ accepted: false });
      const gauntlet = await loadComposeProject(file, { root: work });
      expect(gauntlet.problems, name).toEqual([]);
    }
    const dir = path.join(work, "current-override");
    cpSync(path.join(FIXTURES, "current-spec", "override"), dir, { recursive: true });
    const files = [path.join(dir, "compose.yaml"), path.join(dir, "compose.override.yaml")];
    const verdicts = await runReferees(files, { env: { PATH: process.env.PATH }, redact: (t) => t });
    expect(legacy(verdicts)).toMatchObject({ accepted: false });
    expect(legacy(verdicts).output).toMatch(/!override/);
    expect((await loadComposeProject(files, { root: work })).problems).toEqual([]);
  }, 60_000);

  it("keeps stderr only, redacted, never the resolved file on stdout", async () => {
    const file = await copyWithContexts(path.join(FIXTURES, "broken", "unknown-key"), "redacted-unknown-key");
    const verdicts = await runReferees([file], {
      env: { PATH: process.env.PATH },
      redact: (t) => t.replaceAll("helthcheck", "[REDACTED]"),
    });
    expect(legacy(verdicts).output).toContain("[REDACTED]");
    expect(legacy(verdicts).output).not.toContain("helthcheck");
  }, 30_000);
});

describe("podman-compose as a referee", () => {
  it("is asked too, and says so when it has no config command", async () => {
    if (!(await which("podman-compose")))
      throw new Error("podman-compose is not installed: run scripts/install-test-deps.sh");
    const file = await copyWithContexts(
      path.join(FIXTURES, "awesome-compose", "flask-redis"),
      "podman-flask-redis",
    );
    const verdict = (await referee(file)).find((v) => v.tool === "podman-compose")!;
    expect(verdict).toBeDefined();
    // Debian's 1.0.3 has no `config`; a newer one judges the file like the others.
    if (verdict.accepted === null) expect(verdict.note).toBe("this podman-compose has no config command");
    else expect(verdict.accepted).toBe(true);
  }, 30_000);
});
