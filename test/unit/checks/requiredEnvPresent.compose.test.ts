// biome-ignore-all lint/suspicious/noTemplateCurlyInString: compose's ${VAR} references are part of the inputs under test.
// requiredEnvPresent's compose part: every variable a compose file interpolates without a default must be documented
// in deployment.env.example, reported at the compose file:line of its first use.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import check from "../../../src/checks/deployment/requiredEnvPresent.js";
import { specSchema } from "../../../src/spec/schema.js";
import { makeCheckContext } from "../../support/checkContext.js";
import { recordObservation } from "../../support/judgeFixtures.js";

const AWESOME = path.resolve(import.meta.dirname, "../../fixtures/compose/awesome-compose");
const scratch: string[] = [];
afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "gauntlet-envdoc-"));
  scratch.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

async function run(
  dir: string,
  deployment: Record<string, unknown>,
  env: NodeJS.ProcessEnv = {},
  record?: string,
) {
  const { ctx } = makeCheckContext({ deployment }, { specDir: dir, env });
  const observation = await check.observe(ctx);
  if (record) recordObservation("requiredEnvPresent", record, observation, { deployment });
  return { observation, findings: check.judge(observation, ctx.spec) };
}

const rows = (
  findings: { subject?: string; status: string; messageId: string; location?: { line?: number } }[],
) => findings.map((f) => [f.subject, f.status, f.messageId, f.location?.line ?? null]);

const COMPOSE = [
  "services:",
  "  api:",
  "    image: acme/api:${API_TAG:-1.0.0}",
  "    environment:",
  "      DATABASE_URL: postgres://app:${DB_PASSWORD}@db/app",
  "      REGION: $REGION",
  "      MODE: ${MODE:?set MODE}",
  "      OPTIONAL: ${UNSET:+x}",
  "      LITERAL: $$NOT_A_VARIABLE",
  "  worker:",
  "    image: acme/worker:1.0.0",
  '    environment: ["PASSWORD=${DB_PASSWORD}"]',
  "",
].join("\n");

describe("requiredEnvPresent and compose files", () => {
  it("applies when deployment.compose lists a file, even with no required variable", () => {
    const spec = (deployment: unknown) => specSchema.parse({ version: 1, system: { name: "t" }, deployment });
    expect(check.applies(spec({ compose: ["compose.yaml"] }), { allowDestructive: false })).toBe(true);
    expect(check.applies(spec({}), { allowDestructive: false })).toMatchObject({ applies: false });
  });

  it("warns for each variable without a default that the example misses, at its first use", async () => {
    const dir = folder({ "compose.yaml": COMPOSE, ".env.example": "DB_PASSWORD=\n# REGION=eu\n" });
    const { findings, observation } = await run(
      dir,
      { compose: ["compose.yaml"], env: { example: ".env.example" } },
      {},
      "ng.compose-undocumented",
    );
    expect(observation.compose!.variables.map((v) => [v.variable, v.line, v.documented])).toEqual([
      ["DB_PASSWORD", 5, true],
      ["REGION", 6, false],
      ["MODE", 7, false],
    ]);
    expect(rows(findings)).toEqual([
      ["compose.yaml", "WARN", "composeVariableUndocumented", 6],
      ["compose.yaml", "WARN", "composeVariableUndocumented", 7],
    ]);
    expect(findings[0]!.location).toMatchObject({ path: "compose.yaml", column: 15 });
  });

  it("passes when the example documents them all, alongside the required-variable findings", async () => {
    const dir = folder({ "compose.yaml": COMPOSE, ".env.example": "DB_PASSWORD=\nREGION=eu\nMODE=prod\n" });
    const secret = `s3-${Math.random().toString(36).slice(2)}`;
    const { findings } = await run(
      dir,
      { compose: ["compose.yaml"], env: { required: ["DB_PASSWORD"], example: ".env.example" } },
      { DB_PASSWORD: secret },
      "ok.compose-documented",
    );
    expect(rows(findings)).toEqual([
      ["DB_PASSWORD", "PASS", "set", null],
      [".env.example", "PASS", "exampleComplete", null],
      [".env.example", "PASS", "composeVariablesDocumented", null],
    ]);
    expect(JSON.stringify(findings)).not.toContain(secret);
  });

  it("warns once, listing them, when no example file is named", async () => {
    const { findings } = await run(folder({ "compose.yaml": COMPOSE }), { compose: ["compose.yaml"] });
    expect(rows(findings)).toEqual([["compose.yaml", "WARN", "composeVariablesNoExample", 5]]);
    expect(findings[0]!.data).toMatchObject({ variable: "DB_PASSWORD, REGION, MODE" });
  });

  it("the real docker/awesome-compose postgresql-pgadmin against its own .env as the example", async () => {
    const dir = folder({});
    cpSync(path.join(AWESOME, "postgresql-pgadmin"), dir, { recursive: true });
    const documented = await run(dir, { compose: ["compose.yaml"], env: { example: ".env" } });
    expect(rows(documented.findings)).toEqual([[".env", "PASS", "composeVariablesDocumented", null]]);
    writeFileSync(path.join(dir, ".env.example"), "POSTGRES_USER=\nPOSTGRES_PW=\n");
    const partial = await run(dir, { compose: ["compose.yaml"], env: { example: ".env.example" } });
    expect(partial.findings.map((f) => f.data?.variable)).toEqual([
      "POSTGRES_DB",
      "PGADMIN_MAIL",
      "PGADMIN_PW",
    ]);
  });

  it("a compose file that does not parse is unverified, not a pass", async () => {
    const dir = folder({
      "compose.yaml": "services:\n  a:\n    image: x:${TAG}\n   ports: []\n",
      ".env.example": "",
    });
    const { findings } = await run(dir, { compose: ["compose.yaml"], env: { example: ".env.example" } });
    expect(rows(findings)).toEqual([["compose.yaml", "UNVERIFIED", "composeUnreadable", null]]);
  });

  it("an unreadable example is said once, not once per part", async () => {
    const { findings } = await run(folder({ "compose.yaml": COMPOSE }), {
      compose: ["compose.yaml"],
      env: { example: "missing.env" },
    });
    expect(rows(findings)).toEqual([["missing.env", "WARN", "exampleUnreadable", null]]);
    expect(findings[0]!.data?.variable).toBe("DB_PASSWORD, REGION, MODE");
  });
});
