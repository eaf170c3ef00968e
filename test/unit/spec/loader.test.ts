// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} references are the subject under test.
// Fixtures whose YAML is broken on purpose end in .yaml.txt, so Biome (which parses .yaml) leaves them alone.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REDACTED } from "../../../src/secrets/redactor.js";
import { loadSpec } from "../../../src/spec/loader.js";
import { type Problem, SpecError } from "../../../src/spec/problems.js";

const FIXTURES = resolve(import.meta.dirname, "../../fixtures/specs");
const fixture = (name: string) => join(FIXTURES, name);
const CHECK_IDS = ["alertRulesValid", "healthEndpointsRespond", "tlsModern"];

/** Loads a fixture that must fail and returns its problems. */
async function problemsOf(
  name: string,
  env: NodeJS.ProcessEnv = {},
  checkIds?: string[],
): Promise<Problem[]> {
  const error = await loadSpec(fixture(name), { env, ...(checkIds ? { checkIds } : {}) }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SpecError);
  return (error as SpecError).problems;
}

function at(problems: Problem[], line: number, column: number): Problem {
  const found = problems.find((p) => p.line === line && p.column === column);
  if (!found)
    throw new Error(`no problem at ${line}:${column}; got ${problems.map((p) => `${p.line}:${p.column}`)}`);
  return found;
}

describe("loadSpec: a valid spec", () => {
  it("loads the DESIGN.md example with every key and converts units", async () => {
    const loaded = await loadSpec(fixture("valid-full.yaml"), {
      env: { DB_PASSWORD: "full-spec-pw" },
      checkIds: CHECK_IDS,
    });
    expect(loaded.path).toBe(fixture("valid-full.yaml"));
    expect(loaded.dir).toBe(FIXTURES);
    expect(loaded.text).toContain("version: 1");
    const { spec } = loaded;
    expect(Object.keys(spec.services)).toEqual(["api", "db", "cache", "worker"]);
    expect(spec.services.db!.url).toBe("postgres://app:full-spec-pw@127.0.0.1:5432/app");
    expect(spec.services.api!.control?.process?.env).toEqual({
      PORT: "8080",
      DEBUG: "false",
      API_TOKEN: "dev-token-123",
    });
    expect(spec.deployment?.deploy?.timeout).toBe(120_000);
    expect(spec.performance?.stages?.[1]).toMatchObject({ rate: 500, duration: 60_000, rampUp: 10_000 });
    expect(spec.performance?.endurance).toEqual({ duration: 600_000, maxMemoryGrowth: 100 * 1024 ** 2 });
    expect(spec.slos?.[0]).toMatchObject({ objective: 99.9, window: 30 * 86_400_000 });
    expect(spec.recovery?.backups?.[0]?.maxAge).toBe(86_400_000);
    expect(spec.scoring.waivers[0]).toMatchObject({ check: "tlsModern", expires: "2027-03-01" });
    expect(spec.certificate.validFor).toBe(90 * 86_400_000);
  });
});

describe("loadSpec: problems point at the line and column", () => {
  it("reports a typo'd key at the key, with a suggestion from the schema", async () => {
    const problems = await problemsOf("typo-key.yaml");
    const helth = at(problems, 7, 5);
    expect(helth.message).toContain('"helth"');
    expect(helth.message).toContain("services.api");
    expect(helth.fix).toContain('did you mean "health"?');
    expect(at(problems, 8, 5).fix).toContain('"dependsOn"');
    expect(at(problems, 12, 1).fix).toContain('"services"');
    expect(new SpecError(problems).format(FIXTURES)).toContain(
      'typo-key.yaml:7:5: unknown key "helth" in services.api — did you mean "health"?',
    );
  });

  it("lists the allowed keys when nothing is close", async () => {
    const dir = await mkdtemp(join(tmpdir(), "gauntlet-spec-"));
    try {
      await writeFile(join(dir, "gauntlet.yaml"), "version: 1\nsystem: { name: a, colour: blue }\n");
      const error = (await loadSpec(join(dir, "gauntlet.yaml")).catch((e: unknown) => e)) as SpecError;
      expect(error.problems).toHaveLength(1);
      expect(error.problems[0]).toMatchObject({ line: 2, column: 20 });
      expect(error.problems[0]!.fix).toMatch(/name, version, owner, repo/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("keeps the unit parser's words for a bad duration, at the value", async () => {
    const [problem, ...rest] = await problemsOf("bad-duration.yaml");
    expect(rest).toEqual([]);
    expect(problem).toMatchObject({ line: 10, column: 17 });
    expect(problem!.message).toContain('"30 seconds" is not a duration');
    expect(problem!.fix).toMatch(/^write a number with a unit/);
  });

  it("reports an unset variable at its scalar, with the export fix", async () => {
    const problems = await problemsOf("missing-env.yaml");
    // The URL is a quoted scalar; the command a plain one. Both are reported, and nothing else (no knock-on "empty").
    expect(problems.map((p) => [p.line, p.column])).toEqual([
      [6, 10],
      [9, 18],
    ]);
    expect(problems[0]!.message).toBe("environment variable DB_PASSWORD is not set");
    expect(problems[0]!.fix).toBe("export DB_PASSWORD=… or write ${DB_PASSWORD:-default}");
    expect(problems[1]!.message).toContain("DB_COMMAND");
  });

  it("says what was expected and what was found for a wrong type, in plain words", async () => {
    const problems = await problemsOf("wrong-type.yaml");
    expect(at(problems, 3, 14).message).toContain("expected true or false, found a string");
    const protectedList = at(problems, 7, 16);
    expect(protectedList.message).toContain("expected a list, found a string");
    expect(protectedList.fix).toContain("[/admin]");
    expect(at(problems, 8, 16).message).toContain("expected a list, found a string");
    const window = at(problems, 15, 13);
    expect(window.message).toContain("expected a duration, found a list");
    expect(window.fix).toMatch(/30s/);
    for (const p of problems) expect(p.message).not.toMatch(/Invalid input|received|expected string/);
  });

  it("lists the allowed values of an enum and suggests the closest", async () => {
    const problems = await problemsOf("wrong-type.yaml");
    const kind = at(problems, 10, 11);
    expect(kind.message).toContain('"postgresql" is not one of http, postgres, redis');
    expect(kind.fix).toBe('did you mean "postgres"?');
  });

  it("reports a YAML syntax error at its position", async () => {
    const [problem, ...rest] = await problemsOf("yaml-syntax.yaml.txt");
    expect(rest).toEqual([]);
    expect(problem).toMatchObject({ line: 7, column: 1 });
    expect(problem!.message).toMatch(/tab/i);
    expect(problem!.fix).toMatch(/spaces/);
  });

  it("tells how to quote ${VAR} inside a flow mapping", async () => {
    const [problem] = await problemsOf("flow-unquoted.yaml.txt");
    expect(problem!.line).toBe(4);
    expect(problem!.fix).toContain('"${HEALTH_PATH}"');
  });

  it("reports a duplicate key at the second occurrence and names the first", async () => {
    const [problem, ...rest] = await problemsOf("duplicate-key.yaml");
    expect(rest).toEqual([]);
    expect(problem).toMatchObject({ line: 8, column: 5 });
    expect(problem!.message).toContain('duplicate key "health"');
    expect(problem!.message).toContain("line 7");
    expect(problem!.fix).toBeTruthy();
  });

  it("reports an unknown service in dependsOn at the list item, with a suggestion", async () => {
    const [problem, ...rest] = await problemsOf("unknown-dependency.yaml");
    expect(rest).toEqual([]);
    expect(problem).toMatchObject({ line: 6, column: 21 });
    expect(problem!.message).toContain('no service named "cahce"');
    expect(problem!.fix).toBe('did you mean "cache"?');
  });

  it("reports waivers for unknown check ids when the ids are given", async () => {
    const problems = await problemsOf("unknown-waiver-check.yaml", {}, CHECK_IDS);
    expect(problems.map((p) => [p.line, p.column])).toEqual([
      [5, 14],
      [9, 14],
    ]);
    expect(problems[0]!.fix).toBe('did you mean "tlsModern"?');
    expect(problems[1]!.fix).toContain("gauntlet checks");
    // Without ids the same file is valid.
    await expect(loadSpec(fixture("unknown-waiver-check.yaml"), { env: {} })).resolves.toBeTruthy();
  });

  it("reports a missing required key at the parent mapping", async () => {
    const problems = await problemsOf("many-problems.yaml");
    const name = at(problems, 3, 3);
    expect(name.message).toContain('missing required key "name" in system');
    expect(name.fix).toContain("name:");
  });

  it("reports every problem at once, sorted by line", async () => {
    const problems = await problemsOf("many-problems.yaml", {}, CHECK_IDS);
    expect(problems.length).toBeGreaterThanOrEqual(10);
    const lines = problems.map((p) => p.line);
    expect(lines).toEqual([...lines].sort((a, b) => a - b));
    expect(at(problems, 1, 10).fix).toContain("version: 1");
    expect(at(problems, 7, 15).fix).toBe('did you mean "public"?');
    expect(at(problems, 8, 13).message).toContain("is empty");
    expect(at(problems, 15, 17).fix).toBe('did you mean "GET"?');
    expect(at(problems, 15, 28).fix).toContain("/api/items");
    expect(at(problems, 19, 14).fix).toContain("100");
    expect(at(problems, 21, 66).fix).toContain("YYYY-MM-DD");
    for (const p of problems) expect(p.file).toBe(fixture("many-problems.yaml"));
  });

  it("reports an empty file and a file of comments as empty", async () => {
    for (const name of ["empty.yaml", "comments-only.yaml"]) {
      const [problem, ...rest] = await problemsOf(name);
      expect(rest).toEqual([]);
      expect(problem).toMatchObject({ line: 1, column: 1, message: "the file is empty" });
      expect(problem!.fix).toContain("version: 1");
    }
  });

  it("reports a top level that is not a mapping", async () => {
    const [problem] = await problemsOf("not-mapping.yaml");
    expect(problem).toMatchObject({ line: 1, column: 1 });
    expect(problem!.message).toContain("found a list");
    expect(problem!.fix).toBeTruthy();
  });
});

describe("loadSpec: the file itself", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "gauntlet-spec-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reports a missing file in one line with a fix", async () => {
    const error = (await loadSpec(join(dir, "nope.yaml")).catch((e: unknown) => e)) as SpecError;
    expect(error).toBeInstanceOf(SpecError);
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]!.message).toContain("not found");
    expect(error.problems[0]!.fix).toBeTruthy();
    expect(error.format().split("\n")).toHaveLength(1);
  });

  it("reports a directory and points at the gauntlet.yaml inside it", async () => {
    await writeFile(join(dir, "gauntlet.yaml"), "version: 1\nsystem: { name: a }\n");
    const error = (await loadSpec(dir).catch((e: unknown) => e)) as SpecError;
    expect(error).toBeInstanceOf(SpecError);
    expect(error.problems[0]!.message).toContain("directory");
    expect(error.problems[0]!.fix).toContain("gauntlet.yaml");
  });
});

describe("loadSpec: ${VAR} interpolation", () => {
  it("applies defaults, env values and $${ escapes, and types plain scalars", async () => {
    const { spec } = await loadSpec(fixture("interpolation.yaml"), {
      env: { TEAM: "payments", UNSET_OR_EMPTY: "" },
    });
    expect(spec.system.name).toBe("orders");
    expect(spec.system.owner).toBe("team-payments");
    expect(spec.services.api!.url).toBe("http://127.0.0.1:8080");
    expect(spec.services.api!.health).toBe("/healthz?token=${NOT_A_VAR}");
    expect(spec.services.api!.control?.process?.command).toBe("echo $HOME costs $5 and ${literal}");
    expect(spec.services.api!.control?.process?.env).toEqual({ PORT: "8080", EMPTY_DEFAULT: "fallback" });
    // `connections: ${CONNECTIONS:-10}` is a number, as if 10 had been written there.
    expect(spec.performance?.stages?.[0]).toMatchObject({ connections: 10, duration: 30_000 });
  });

  it("prefers the environment over the default", async () => {
    const { spec } = await loadSpec(fixture("interpolation.yaml"), {
      env: { TEAM: "t", SYSTEM_NAME: "billing", PORT: "9000", CONNECTIONS: "25" },
    });
    expect(spec.system.name).toBe("billing");
    expect(spec.services.api!.url).toBe("http://127.0.0.1:9000");
    expect(spec.performance?.stages?.[0]?.connections).toBe(25);
  });
});

describe("loadSpec: secrets", () => {
  it("registers interpolated passwords, secret-named variables and literal URL passwords, not ordinary values", async () => {
    const env = {
      DB_PW: "pg-pass-4711",
      SESSION_SECRET: "session-secret-value",
      CACHE_PASSWORD: "redis-pass-9000",
    };
    const { spec, secrets } = await loadSpec(fixture("secrets.yaml"), { env });
    expect(spec.services.db!.url).toContain("pg-pass-4711");
    const text = [
      spec.services.db!.url,
      spec.services.cache!.url,
      spec.services.api!.url,
      spec.services.api!.control!.process!.command,
      JSON.stringify(spec.services.api!.control!.process!.env),
    ].join("\n");
    const redacted = secrets.redact(text);
    expect(redacted).toContain(`postgres://app:${REDACTED}@127.0.0.1`); // (b) password position, name not secret
    expect(redacted).toContain(`redis://:${REDACTED}@`);
    expect(redacted).toContain(`reporter:${REDACTED}@`); // (c) written literally
    expect(redacted).not.toContain("session-secret-value"); // (a) secret-looking name
    expect(redacted).toContain("http://127.0.0.1:8080"); // ${PORT:-8080} is not a secret
    expect(redacted).toContain("debug-verbose");
  });

  it("never prints a secret in a problem", async () => {
    const dir = await mkdtemp(join(tmpdir(), "gauntlet-spec-"));
    try {
      const file = join(dir, "gauntlet.yaml");
      await writeFile(
        file,
        'version: 1\nsystem: { name: a }\nmonitoring: { prometheus: "tcp://u:${PROM_PW}@h" }\n',
      );
      const error = (await loadSpec(file, { env: { PROM_PW: "prom-pass-123" } }).catch(
        (e: unknown) => e,
      )) as SpecError;
      expect(error.problems[0]).toMatchObject({ line: 3, column: 27 });
      expect(error.format()).not.toContain("prom-pass-123");
      expect(error.problems[0]!.message).not.toContain("prom-pass-123");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("SpecError.format", () => {
  it("prints file:line:col: message — fix, relative to the cwd, one line per problem, no stack", async () => {
    const error = (await loadSpec(fixture("many-problems.yaml")).catch((e: unknown) => e)) as SpecError;
    const text = error.format(resolve(FIXTURES, "../../.."));
    const lines = text.split("\n");
    expect(lines).toHaveLength(error.problems.length);
    for (const line of lines)
      expect(line).toMatch(/^test\/fixtures\/specs\/many-problems\.yaml:\d+:\d+: .+ — .+$/);
    expect(text).not.toContain("    at ");
    expect(error.message).not.toContain("    at ");
  });

  it("prints the absolute path for a file outside the cwd", async () => {
    const error = (await loadSpec(fixture("bad-duration.yaml")).catch((e: unknown) => e)) as SpecError;
    expect(error.format("/somewhere/else")).toMatch(new RegExp(`^${fixture("bad-duration.yaml")}:10:17: `));
  });
});
