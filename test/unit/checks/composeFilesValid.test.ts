// biome-ignore-all lint/suspicious/noTemplateCurlyInString: compose's ${VAR} references are part of the inputs under test.
// composeFilesValid on real files through observe() and judge(): the compose files named by deployment.compose (or
// found in the repository as compose finds them), findings at file:line:col. PATH holds no compose tool here, so no
// referee runs (test/integration/checks/composeFilesValid.test.ts runs them).
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import check from "../../../src/checks/deployment/composeFilesValid.js";
import { specSchema } from "../../../src/spec/schema.js";
import { makeCheckContext } from "../../support/checkContext.js";

const FIXTURES = path.resolve(import.meta.dirname, "../../fixtures/compose");
const NO_TOOLS = { PATH: "/nonexistent-gauntlet-test-path" };
const scratch: string[] = [];
afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

function folder(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "gauntlet-compose-check-"));
  scratch.push(dir);
  return dir;
}

async function run(compose: string[] | undefined, specDir: string, env: NodeJS.ProcessEnv = NO_TOOLS) {
  const { ctx, readEvidence } = makeCheckContext(
    { deployment: compose ? { compose } : {} },
    { specDir, env, checkId: "composeFilesValid" },
  );
  const observation = await check.observe(ctx);
  return { observation, findings: check.judge(observation, ctx.spec), readEvidence };
}

const rows = (
  findings: { subject?: string; status: string; messageId: string; location?: { line?: number } }[],
) => findings.map((f) => [f.subject, f.status, f.messageId, f.location?.line ?? null]);

describe("composeFilesValid meta", () => {
  it("is a high-risk deployment check that always applies (observe finds the compose files)", () => {
    expect(check.meta).toMatchObject({ id: "composeFilesValid", category: "deployment", risk: "high" });
    const spec = specSchema.parse({ version: 1, system: { name: "t" } });
    expect(check.applies(spec, { allowDestructive: false })).toBe(true);
  });
});

describe("composeFilesValid run", () => {
  it("passes every docker/awesome-compose project listed in deployment.compose", async () => {
    const entries = [
      "flask-redis",
      "nginx-golang-postgres",
      "react-rust-postgres",
      "wasmedge-kafka-mysql",
    ].map((name) => `awesome-compose/${name}/compose.y*ml`);
    const { findings, observation } = await run(entries, FIXTURES);
    expect(rows(findings)).toEqual([
      ["awesome-compose/flask-redis/compose.yaml", "PASS", "valid", null],
      ["awesome-compose/nginx-golang-postgres/compose.yaml", "PASS", "valid", null],
      ["awesome-compose/react-rust-postgres/compose.yaml", "PASS", "valid", null],
      ["awesome-compose/wasmedge-kafka-mysql/compose.yml", "PASS", "valid", null],
    ]);
    expect(observation.projects.every((p) => p.referees.length === 0)).toBe(true);
  });

  it("fails each broken file at its broken line, with the column", async () => {
    const { findings } = await run(["broken/*/compose.yaml"], FIXTURES);
    const failed = findings.filter((f) => f.status === "FAIL");
    expect(failed).toHaveLength(5);
    for (const finding of failed) {
      const file = path.join(FIXTURES, finding.location!.path);
      const broken =
        readFileSync(file, "utf8")
          .split("\n")
          .findIndex((l) => l.includes("# broken")) + 1;
      expect(finding.location!.line, finding.message).toBe(broken);
      expect(finding.location!.column).toBeGreaterThan(1);
      expect(finding.message).toMatch(new RegExp(`^${finding.location!.path}:${broken}:\\d+: `));
    }
    expect(failed.map((f) => f.messageId).sort()).toEqual([
      "badValue",
      "undefinedService",
      "unknownKey",
      "wrongType",
      "yamlError",
    ]);
    expect(failed.find((f) => f.messageId === "unknownKey")!.data).toMatchObject({
      suggestion: "healthcheck",
    });
  });

  it("validates the current spec: name, include, develop, models, overrides", async () => {
    const { findings } = await run(["current-spec/*/compose.yaml"], FIXTURES);
    expect(findings.every((f) => f.status === "PASS")).toBe(true);
    // override/ is one project of two files (compose.override.yaml is picked up as docker compose does); include
    // and extends files are validated as part of their project.
    expect(findings.map((f) => [f.subject, f.data?.role])).toEqual([
      ["current-spec/develop-watch/compose.yaml", "file"],
      ["current-spec/include-name/compose.yaml", "file"],
      ["current-spec/include-name/db/compose.yaml", "include"],
      ["current-spec/models-extends/compose.yaml", "file"],
      ["current-spec/models-extends/common.yaml", "extends"],
      ["current-spec/override/compose.yaml", "file"],
      ["current-spec/override/compose.override.yaml", "file"],
    ]);
  });

  it("an entry that matches nothing fails", async () => {
    const dir = folder();
    const { findings } = await run(["docker-compose.yml"], dir);
    expect(rows(findings)).toEqual([["docker-compose.yml", "FAIL", "missingFile", null]]);
  });

  it("without deployment.compose, judges the compose file docker compose would find in the repository", async () => {
    const dir = folder();
    cpSync(path.join(FIXTURES, "broken", "bad-enum", "compose.yaml"), path.join(dir, "docker-compose.yml"));
    const { findings } = await run(undefined, dir);
    expect(rows(findings)).toEqual([["docker-compose.yml", "FAIL", "badValue", 10]]);
  });

  it("is N/A when there is no compose file at all", async () => {
    const { findings } = await run(undefined, folder());
    expect(rows(findings)).toEqual([[undefined, "NA", "noComposeFile", null]]);
  });

  it("warns for a ${VAR:?} the environment does not set, and passes once it is set", async () => {
    const dir = folder();
    writeFileSync(path.join(dir, "compose.yaml"), "services:\n  web:\n    image: nginx:${TAG:?set TAG}\n");
    expect(rows((await run(["compose.yaml"], dir)).findings)).toEqual([
      ["compose.yaml", "WARN", "requiredVariableMissing", 3],
    ]);
    expect(rows((await run(["compose.yaml"], dir, { ...NO_TOOLS, TAG: "1.27" })).findings)).toEqual([
      ["compose.yaml", "PASS", "valid", null],
    ]);
  });

  it("writes the problems as evidence, without values taken from the environment", async () => {
    const dir = folder();
    writeFileSync(
      path.join(dir, "compose.yaml"),
      "services:\n  web:\n    image: nginx:1.27\n    restart: ${MODE}\n",
    );
    const value = `not-a-policy-${Math.random().toString(36).slice(2)}`;
    const { findings, readEvidence } = await run(["compose.yaml"], dir, { ...NO_TOOLS, MODE: value });
    expect(rows(findings)).toEqual([["compose.yaml", "FAIL", "badValue", 4]]);
    const evidence = readEvidence(findings[0]!.evidence![0]!);
    expect(JSON.parse(evidence).projects[0].problems[0]).toMatchObject({ kind: "badValue", line: 4 });
    expect(evidence + JSON.stringify(findings)).not.toContain(value);
  });
});
